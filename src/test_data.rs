//! Where the tests find their reference files: compiled only for `cargo test`, into the unit
//! tests (`mod test_data` in `lib.rs`) and into the integration binary (`tests/it/main.rs`
//! includes this file by path), so both follow one rule.
//!
//! Files copied into the repository (`tests/data/`, provenance in `tests/data/README.md`) are
//! always there. Files that live only in the read-only reference folder `../shared` beside the
//! repository (the cloudPhysicsIO traces) may be absent on a clone: a test that needs one asks
//! [`shared_only`] and, when `../shared` is missing, returns early after a visible skip line.
//! Owns no test of its own; must not be used outside `#[cfg(test)]` code.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file under the repository's `tests/data/` folder.
pub(crate) fn repo_data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

/// A file under `../shared` beside the repository, or `None` when `../shared` is absent. Then
/// it writes `<test>: skipped: ../shared absent (needs ../shared/<relative>)` straight to
/// stderr, which libtest does not capture, so the skip shows in every `cargo test` run. When
/// `../shared` exists the path is returned even if the file is missing, so the test fails
/// with the read error instead of hiding a broken reference folder.
pub(crate) fn shared_only(test: &str, relative: &str) -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if shared.is_dir() {
        return Some(shared.join(relative));
    }
    // A failed write to stderr cannot be reported anywhere better; the skip stands.
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped: ../shared absent (needs ../shared/{relative})"
    );
    None
}
