//! The review's words as data: a finding's text is a sequence of spans, each plain, strong
//! (a name to notice), code (a field, a command, an invariant) or emphasised (a chart or
//! column), so the analysis says what a phrase is and never how it is marked up. `html`
//! renders a [`Text`] with maud (escaped by construction); `Display` gives the plain words
//! (what the tests read).

use maud::{html, Markup, Render};
use std::fmt;

/// What a span of text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Running text.
    Plain,
    /// A name or a verdict to notice (bold).
    Strong,
    /// A field, command, value or invariant as written in files.
    Code,
    /// A chart, table column or other part of the report.
    Emphasis,
}

/// A text of styled spans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    spans: Vec<(Style, String)>,
}

impl Text {
    /// An empty text.
    pub fn new() -> Text {
        Text::default()
    }

    /// Plain text.
    pub fn plain(s: impl Into<String>) -> Text {
        Text::new().words(s)
    }

    /// Strong text alone.
    pub fn strong_only(s: impl Into<String>) -> Text {
        Text::new().strong(s)
    }

    /// Code alone.
    pub fn code_only(s: impl Into<String>) -> Text {
        Text::new().code(s)
    }

    fn with(mut self, style: Style, s: impl Into<String>) -> Text {
        let s = s.into();
        if s.is_empty() {
            return self;
        }
        match self.spans.last_mut() {
            Some((last, text)) if *last == style => text.push_str(&s),
            _ => self.spans.push((style, s)),
        }
        self
    }

    /// Appends plain text.
    pub fn words(self, s: impl Into<String>) -> Text {
        self.with(Style::Plain, s)
    }

    /// Appends strong text.
    pub fn strong(self, s: impl Into<String>) -> Text {
        self.with(Style::Strong, s)
    }

    /// Appends code.
    pub fn code(self, s: impl Into<String>) -> Text {
        self.with(Style::Code, s)
    }

    /// Appends emphasised text.
    pub fn em(self, s: impl Into<String>) -> Text {
        self.with(Style::Emphasis, s)
    }

    /// Appends another text.
    pub fn then(mut self, other: Text) -> Text {
        for (style, s) in other.spans {
            self = self.with(style, s);
        }
        self
    }

    /// Appends another text in place.
    pub fn push(&mut self, other: Text) {
        *self = std::mem::take(self).then(other);
    }

    /// Appends plain text in place.
    pub fn push_str(&mut self, s: &str) {
        self.push(Text::plain(s));
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The spans in order.
    pub fn spans(&self) -> &[(Style, String)] {
        &self.spans
    }

    /// `parts` joined by the plain `separator`.
    pub fn join(parts: impl IntoIterator<Item = Text>, separator: &str) -> Text {
        let mut out = Text::new();
        for (i, p) in parts.into_iter().enumerate() {
            if i > 0 {
                out = out.words(separator);
            }
            out = out.then(p);
        }
        out
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::plain(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::plain(s)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (_, s) in &self.spans {
            f.write_str(s)?;
        }
        Ok(())
    }
}

impl Render for Text {
    fn render(&self) -> Markup {
        html! {
            @for (style, s) in &self.spans {
                @match style {
                    Style::Plain => (s),
                    Style::Strong => b { (s) },
                    Style::Code => code { (s) },
                    Style::Emphasis => i { (s) },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_render_escaped_and_read_plain() {
        let t = Text::plain("a <x> ")
            .words("and ")
            .strong("b&c")
            .code("")
            .then(Text::code_only("k\"1"));
        assert_eq!(t.spans().len(), 3, "equal styles merge, empty spans vanish");
        assert_eq!(t.to_string(), "a <x> and b&ck\"1");
        assert_eq!(
            t.render().into_string(),
            "a &lt;x&gt; and <b>b&amp;c</b><code>k&quot;1</code>"
        );
        let j = Text::join([Text::strong_only("p"), Text::strong_only("q")], ", ");
        assert_eq!(j.render().into_string(), "<b>p</b>, <b>q</b>");
    }
}
