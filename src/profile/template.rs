//! Key templates from sampled key names: the `:`-separated segments that vary become
//! `{placeholders}` (numbers `{id}`, UUIDs `{uuid}`, hex hashes `{hash}`), and a hash tag
//! `{...}` is kept as a hash tag around its placeholder. Pure: a key name in, a template out.

/// The template of one key name: `quote:42:rev:{7f3a...}` -> `quote:{id}:rev:{{hash}}`.
pub fn template_of(key: &str) -> String {
    key.split(':')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(inner) => format!("{{{}}}", placeholder(inner)),
                None => placeholder(segment),
            },
        )
        .collect::<Vec<_>>()
        .join(":")
}

/// A segment's placeholder, or the segment itself when it looks like a fixed word.
fn placeholder(segment: &str) -> String {
    let is_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
        "{id}".into()
    } else if segment.len() == 36
        && segment.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && is_hex(&segment.replace('-', ""))
    {
        "{uuid}".into()
    } else if segment.len() >= 16 && is_hex(segment) {
        "{hash}".into()
    } else {
        segment.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varying_segments_become_placeholders() {
        assert_eq!(
            template_of("quote-summary:t01:quote:123:revision:4"),
            "quote-summary:t01:quote:{id}:revision:{id}"
        );
        assert_eq!(
            template_of(
                "lock:t1:quote:550e8400-e29b-41d4-a716-446655440000:preview:0123456789abcdef"
            ),
            "lock:t1:quote:{uuid}:preview:{hash}"
        );
    }

    #[test]
    fn hash_tags_are_kept() {
        assert_eq!(
            template_of("session:{42}:user:7"),
            "session:{{id}}:user:{id}"
        );
        assert_eq!(template_of("session:{t1}:user:7"), "session:{t1}:user:{id}");
    }
}
