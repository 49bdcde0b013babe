//! Build script: records the git commit the crate is built from in `CACHEPLAN_GIT_COMMIT`
//! (empty outside a git checkout), so that `--version` and the run manifest name the commit
//! without spawning git at run time, and a binary run from another folder still names its own.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=CACHEPLAN_GIT_COMMIT={commit}");
    // Build again when HEAD moves: a checkout, a commit (the branch's ref), a gc (packed
    // refs). Only paths that exist are named: cargo reruns a script whose path is missing on
    // every build.
    let mut watched = vec!["build.rs".to_string()];
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        watched.push(format!("{dir}/HEAD"));
    }
    if let Some(dir) = git(&["rev-parse", "--git-common-dir"]) {
        watched.push(format!("{dir}/refs/heads"));
        watched.push(format!("{dir}/packed-refs"));
    }
    for path in watched {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
