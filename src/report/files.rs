//! Output folders, all or nothing. Every command that writes a folder (`run`, `size`, `sweep`,
//! `merge`) writes it as a *partial folder* beside the target, `.<name>.partial-<pid>`, and
//! renames it to the target's name only when it is complete ([`Staging`]): an interrupted
//! command never leaves anything under the final name.
//!
//! - **One writer per target.** While a command stages a target it holds an advisory lock on
//!   `.<name>.lock` beside it (`File::try_lock`); a second command writing to the same target
//!   fails at once (exit code 2 at the CLI). The lock file is removed when the command ends; a
//!   killed command leaves it behind unlocked, which is harmless.
//! - **Leftovers.** Since every writer of a target holds its lock, the partial (and `.old-`)
//!   folders of that target found by the lock holder belong to dead processes: they are removed
//!   (or, for a resumable sweep, adopted: [`Staging::begin`]'s `adopt`).
//! - **Replacing.** `rename(2)` puts a directory in place of an absent or empty one; a target
//!   holding files is replaced only when the caller allows it (`--force`, or the same sweep),
//!   and only if it holds cacheplan output ([`inspect`]): it is moved aside to
//!   `.<name>.old-<pid>`, the partial folder renamed in, and the old one removed.
//!
//! Also the run folder itself ([`RunFolder`]) and atomic file writes ([`write_atomic`]). Owns no
//! file format; must not decide what a folder's contents mean beyond [`Contents`].

use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A problem with an output folder: the message names the path and says what to do. Always a
/// matter of the `--out` path (exit code 2 at the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutError {
    /// What is wrong, with the path and a hint.
    pub message: String,
}

impl OutError {
    fn new(message: impl Into<String>) -> OutError {
        OutError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for OutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OutError {}

/// The hint of every failed write into an output folder.
fn write_failed(what: &str, path: &Path, e: &io::Error) -> OutError {
    OutError::new(format!(
        "cannot {what} {}: {e}\n  hint: check the free space and the permissions there, or \
         pick another --out",
        path.display()
    ))
}

/// What an output target holds, as far as cacheplan is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    /// Nothing under that name.
    Absent,
    /// An empty folder.
    Empty,
    /// A run folder (`manifest.json`).
    Run,
    /// A sweep, part or merged folder (`sweep.json`).
    Sweep,
    /// A capacity search folder (`size.csv`).
    SizeSearch,
    /// A folder with entries cacheplan did not write (their count and the first names).
    Unrelated {
        /// Number of entries.
        count: usize,
        /// Up to three entry names, sorted.
        names: Vec<String>,
    },
    /// Something that is not a folder (a file, a symbolic link...).
    NotAFolder(&'static str),
}

impl Contents {
    /// What the target holds, for messages: "a run (manifest.json)".
    pub fn noun(&self) -> String {
        match self {
            Contents::Absent => "nothing".into(),
            Contents::Empty => "an empty folder".into(),
            Contents::Run => "a run (manifest.json)".into(),
            Contents::Sweep => "a sweep (sweep.json)".into(),
            Contents::SizeSearch => "a capacity search (size.csv)".into(),
            Contents::Unrelated { count, names } => {
                let more = if *count > names.len() { ", ..." } else { "" };
                format!(
                    "{count} entr{} cacheplan did not write ({}{more})",
                    if *count == 1 { "y" } else { "ies" },
                    names.join(", ")
                )
            }
            Contents::NotAFolder(kind) => kind.to_string(),
        }
    }

    /// Whether the target holds finished cacheplan output (which `--force` may replace).
    pub fn is_output(&self) -> bool {
        matches!(self, Contents::Run | Contents::Sweep | Contents::SizeSearch)
    }
}

/// Looks at `target`: absent, empty, cacheplan output (by its marker file) or anything else.
pub fn inspect(target: &Path) -> Result<Contents, OutError> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Contents::Absent),
        Err(e) => {
            return Err(OutError::new(format!(
                "cannot use {} as the output folder: {e}\n  hint: pick another --out",
                target.display()
            )))
        }
    };
    if meta.file_type().is_symlink() {
        return Ok(Contents::NotAFolder("a symbolic link"));
    }
    if !meta.is_dir() {
        return Ok(Contents::NotAFolder("a file"));
    }
    let entries = fs::read_dir(target).map_err(|e| {
        OutError::new(format!(
            "cannot read the output folder {}: {e}\n  hint: check its permissions, or pick \
             another --out",
            target.display()
        ))
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let has = |n: &str| names.iter().any(|x| x == n);
    Ok(if names.is_empty() {
        Contents::Empty
    } else if has("manifest.json") {
        Contents::Run
    } else if has("sweep.json") {
        Contents::Sweep
    } else if has("size.csv") {
        Contents::SizeSearch
    } else {
        Contents::Unrelated {
            count: names.len(),
            names: names.into_iter().take(3).collect(),
        }
    })
}

/// Refuses a target that holds anything but `--force`-replaceable cacheplan output (or nothing):
/// the shared rule of `run` and `size`. `force` allows replacing cacheplan output.
pub fn check_target(target: &Path, force: bool) -> Result<Contents, OutError> {
    let contents = inspect(target)?;
    match &contents {
        Contents::Absent | Contents::Empty => {}
        c if c.is_output() => {
            if !force {
                return Err(OutError::new(format!(
                    "{} already holds {}\n  hint: pass --force to replace it (once the new \
                     output is complete), or pick another --out",
                    target.display(),
                    c.noun()
                )));
            }
        }
        other => return Err(refusal(target, other)),
    }
    Ok(contents)
}

/// The message for a target that cacheplan will not write over, even with `--force`.
pub fn refusal(target: &Path, contents: &Contents) -> OutError {
    let hint = match contents {
        Contents::NotAFolder(_) => "give a folder path to --out",
        _ => {
            "cacheplan only replaces folders it wrote, even with --force: empty the folder, or \
              pick another --out"
        }
    };
    OutError::new(format!(
        "{} holds {}, not cacheplan output\n  hint: {hint}",
        target.display(),
        contents.noun()
    ))
}

/// How a [`Staging`] ends.
#[derive(Clone, Copy, Debug, Default)]
pub struct StageOptions {
    /// [`Staging::commit`] may replace a target holding cacheplan output (`--force`, or the
    /// same sweep resumed); otherwise a target that is not empty by then is an error.
    pub replace: bool,
    /// A staging dropped without a commit (a failure) keeps its partial folder, so the next
    /// command can adopt it (a sweep's finished cells); otherwise it is removed.
    pub keep_partial: bool,
}

/// A target folder being written as a partial folder beside it, under the target's lock.
pub struct Staging {
    target: PathBuf,
    partial: PathBuf,
    options: StageOptions,
    lock: Option<TargetLock>,
    committed: bool,
    /// Leftover folders of dead writers of this target that were removed.
    pub cleaned: Vec<PathBuf>,
    /// The leftover partial folder adopted (under its old name), if any.
    pub adopted: Option<PathBuf>,
}

impl Staging {
    /// Starts writing `target`: creates its parent folders, takes its lock (another command
    /// holding it is an error naming the target), removes the leftovers of dead writers of the
    /// target (`.<name>.partial-<pid>`, `.<name>.old-<pid>`), except the first partial folder
    /// `adopt` accepts, which becomes this staging's partial folder; otherwise an empty partial
    /// folder is created. Does not look at the target's contents: see [`check_target`].
    pub fn begin(
        target: &Path,
        options: StageOptions,
        adopt: Option<&dyn Fn(&Path) -> bool>,
    ) -> Result<Staging, OutError> {
        let (parent, name) = split_target(target)?;
        fs::create_dir_all(&parent).map_err(|e| {
            OutError::new(format!(
                "cannot create the folder {} for --out {}: {e}\n  hint: pick a --out under a \
                 folder you can write to",
                parent.display(),
                target.display()
            ))
        })?;
        let lock = TargetLock::acquire(&parent.join(format!(".{name}.lock")), target)?;
        let pid = std::process::id();
        let partial = parent.join(format!(".{name}.partial-{pid}"));
        let mut cleaned = Vec::new();
        let mut adopted = None;
        for (leftover, is_partial) in leftovers(&parent, &name) {
            if adopted.is_none() && is_partial && adopt.is_some_and(|f| f(&leftover)) {
                if leftover != partial {
                    fs::rename(&leftover, &partial)
                        .map_err(|e| write_failed("take over", &leftover, &e))?;
                }
                adopted = Some(leftover);
                continue;
            }
            fs::remove_dir_all(&leftover)
                .map_err(|e| write_failed("remove the leftover folder", &leftover, &e))?;
            cleaned.push(leftover);
        }
        if adopted.is_none() {
            fs::create_dir(&partial).map_err(|e| write_failed("create", &partial, &e))?;
        }
        Ok(Staging {
            target: target.to_path_buf(),
            partial,
            options,
            lock: Some(lock),
            committed: false,
            cleaned,
            adopted,
        })
    }

    /// The partial folder, where everything is written.
    pub fn dir(&self) -> &Path {
        &self.partial
    }

    /// The final folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Puts the complete partial folder in place of the target: a rename when the target is
    /// absent or empty; when it holds cacheplan output and replacing is allowed, the old folder
    /// is moved aside, the new one renamed in and the old one removed. Anything else is an
    /// error, and the partial folder is kept (its path is in the message).
    pub fn commit(mut self) -> Result<(), OutError> {
        if fs::rename(&self.partial, &self.target).is_ok() {
            self.committed = true;
            return Ok(());
        }
        let contents = inspect(&self.target)?;
        let (partial, target) = (self.partial.clone(), self.target.clone());
        let kept = |why: String| {
            OutError::new(format!(
                "{why}\n  hint: the complete output is in {}; move it where you want it (the \
                 next command writing to {} removes it)",
                partial.display(),
                target.display()
            ))
        };
        if !contents.is_output() {
            self.options.keep_partial = true;
            return Err(kept(format!(
                "cannot put the output in place: {} now holds {}",
                self.target.display(),
                contents.noun()
            )));
        }
        if !self.options.replace {
            self.options.keep_partial = true;
            return Err(kept(format!(
                "{} was filled with {} by another process while this one ran",
                self.target.display(),
                contents.noun()
            )));
        }
        let (parent, name) = split_target(&self.target)?;
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        fs::rename(&self.target, &old)
            .map_err(|e| write_failed("move aside the old folder", &self.target, &e))?;
        if let Err(e) = fs::rename(&self.partial, &self.target) {
            let _ = fs::rename(&old, &self.target);
            self.options.keep_partial = true;
            return Err(kept(format!(
                "cannot rename {} to {}: {e}",
                self.partial.display(),
                self.target.display()
            )));
        }
        self.committed = true;
        // A failure here leaves `.<name>.old-<pid>`, removed by the next writer of the target.
        let _ = fs::remove_dir_all(&old);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed && !self.options.keep_partial {
            let _ = fs::remove_dir_all(&self.partial);
        }
        if let Some(lock) = self.lock.take() {
            lock.release();
        }
    }
}

/// The parent folder (`.` for a bare name) and the last name of a target.
fn split_target(target: &Path) -> Result<(PathBuf, String), OutError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            OutError::new(format!(
                "--out {} names no folder\n  hint: give a folder path ending in a name, e.g. \
                 --out output/try",
                target.display()
            ))
        })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// The leftover folders of `name` in `parent`: `(path, is a partial folder)`, sorted by name.
fn leftovers(parent: &Path, name: &str) -> Vec<(PathBuf, bool)> {
    let partial = format!(".{name}.partial-");
    let old = format!(".{name}.old-");
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, bool)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let pid_of = |prefix: &str| {
                n.strip_prefix(prefix)
                    .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
            };
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if !is_dir {
                None
            } else if pid_of(&partial) {
                Some((e.path(), true))
            } else if pid_of(&old) {
                Some((e.path(), false))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

/// The advisory lock of one target, on `.<name>.lock` beside it.
struct TargetLock {
    path: PathBuf,
    file: fs::File,
}

impl TargetLock {
    /// Takes the lock without waiting. The lock file may be removed by a finishing holder
    /// between our open and our lock: then the locked file is no longer the one under that
    /// name, and we try again with the new one.
    fn acquire(path: &Path, target: &Path) -> Result<TargetLock, OutError> {
        let failed = |e: &io::Error| {
            OutError::new(format!(
                "cannot write --out {}: its lock file {} cannot be opened or locked: {e}\n  \
                 hint: pick a --out in a folder you can write to",
                target.display(),
                path.display()
            ))
        };
        loop {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| failed(&e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let who = match holder.trim().parse::<u32>() {
                        Ok(pid) => format!("another cacheplan process (pid {pid})"),
                        Err(_) => "another cacheplan process".to_string(),
                    };
                    return Err(OutError::new(format!(
                        "{who} is writing {} right now\n  hint: wait for it to finish, or pick \
                         another --out",
                        target.display()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => return Err(failed(&e)),
            }
            if !same_file(&file, path) {
                continue;
            }
            let _ = file.set_len(0);
            let _ = file.seek(io::SeekFrom::Start(0));
            let _ = writeln!(file, "{}", std::process::id());
            return Ok(TargetLock {
                path: path.to_path_buf(),
                file,
            });
        }
    }

    /// Removes the lock file while still holding the lock, then unlocks (closing the file).
    fn release(self) {
        let _ = fs::remove_file(&self.path);
        drop(self.file);
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &fs::File, path: &Path) -> bool {
    path.exists()
}

/// A run or capacity-search folder being written: a [`Staging`] of the target plus the names
/// of the files written, for the manifest.
pub struct RunFolder {
    staging: Staging,
    written: Vec<String>,
}

impl RunFolder {
    /// Starts writing `target`: refused when it holds anything but cacheplan output, or
    /// cacheplan output without `force` ([`check_target`]); then staged ([`Staging::begin`]).
    pub fn create(target: &Path, force: bool) -> Result<RunFolder, OutError> {
        check_target(target, force)?;
        let staging = Staging::begin(
            target,
            StageOptions {
                replace: force,
                keep_partial: false,
            },
            None,
        )?;
        Ok(RunFolder {
            staging,
            written: Vec::new(),
        })
    }

    /// The folder being written (the partial folder).
    pub fn dir(&self) -> &Path {
        self.staging.dir()
    }

    /// The final folder.
    pub fn target(&self) -> &Path {
        self.staging.target()
    }

    /// Leftover folders of interrupted writers that were removed.
    pub fn cleaned(&self) -> &[PathBuf] {
        &self.staging.cleaned
    }

    /// Names of the files written so far, in order.
    pub fn written(&self) -> &[String] {
        &self.written
    }

    /// Writes `name` (a path relative to the folder, its subfolders created as needed).
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), OutError> {
        let path = self.staging.dir().join(name);
        if let Some(sub) = path.parent() {
            fs::create_dir_all(sub).map_err(|e| write_failed("create", sub, &e))?;
        }
        write_atomic(&path, bytes).map_err(|e| write_failed("write", &path, &e))?;
        self.written.push(name.to_string());
        Ok(())
    }

    /// Puts the complete folder in place ([`Staging::commit`]).
    pub fn finish(self) -> Result<(), OutError> {
        self.staging.commit()
    }
}

/// Writes `path` through a temporary file in the same folder (unique per process and call)
/// and a rename, so the name never holds a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp{}-{n}", std::process::id()));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(label: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("cacheplan-files-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_staged_folder_appears_only_on_commit_and_leaves_nothing_beside_it() {
        let d = temp("commit");
        let target = d.join("out");
        let s = Staging::begin(&target, StageOptions::default(), None).unwrap();
        fs::write(s.dir().join("a.csv"), "x").unwrap();
        assert!(!target.exists());
        let pid = std::process::id();
        assert_eq!(
            names(&d),
            [".out.lock".to_string(), format!(".out.partial-{pid}")]
        );
        s.commit().unwrap();
        assert_eq!(names(&d), ["out"]);
        assert_eq!(names(&target), ["a.csv"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
        let d = temp("lock");
        let target = d.join("out");
        let first = Staging::begin(&target, StageOptions::default(), None).unwrap();
        let e = Staging::begin(&target, StageOptions::default(), None)
            .err()
            .expect("refused");
        assert!(e.message.contains("is writing"), "{e}");
        assert!(e.message.contains(&target.display().to_string()), "{e}");
        drop(first);
        assert!(names(&d).is_empty(), "{:?}", names(&d));
        // Once released, the next writer gets it.
        Staging::begin(&target, StageOptions::default(), None)
            .unwrap()
            .commit()
            .unwrap();
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn leftovers_of_this_target_are_removed_or_adopted_and_others_kept() {
        let d = temp("leftovers");
        let target = d.join("out");
        for n in [
            ".out.partial-1",
            ".out.partial-2",
            ".out.old-3",
            ".outer.partial-4",
            ".out.partial-x",
        ] {
            fs::create_dir(d.join(n)).unwrap();
        }
        fs::write(d.join(".out.partial-2/cell"), "kept").unwrap();
        let adopt = |p: &Path| p.join("cell").exists();
        let s = Staging::begin(&target, StageOptions::default(), Some(&adopt)).unwrap();
        assert_eq!(s.adopted, Some(d.join(".out.partial-2")));
        assert_eq!(s.cleaned, [d.join(".out.old-3"), d.join(".out.partial-1")]);
        assert_eq!(fs::read_to_string(s.dir().join("cell")).unwrap(), "kept");
        s.commit().unwrap();
        assert_eq!(names(&d), [".out.partial-x", ".outer.partial-4", "out"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_target_with_output_is_replaced_only_when_allowed_and_other_files_never() {
        let d = temp("replace");
        let target = d.join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("manifest.json"), "old").unwrap();
        let s = Staging::begin(&target, StageOptions::default(), None).unwrap();
        fs::write(s.dir().join("manifest.json"), "new").unwrap();
        let e = s.commit().unwrap_err();
        assert!(e.message.contains("was filled with a run"), "{e}");
        assert_eq!(
            fs::read_to_string(target.join("manifest.json")).unwrap(),
            "old"
        );
        let replace = StageOptions {
            replace: true,
            keep_partial: false,
        };
        let s = Staging::begin(&target, replace, None).unwrap();
        fs::write(s.dir().join("manifest.json"), "new").unwrap();
        s.commit().unwrap();
        assert_eq!(
            fs::read_to_string(target.join("manifest.json")).unwrap(),
            "new"
        );
        assert_eq!(names(&d), ["out"]);
        // A folder of someone else's files is never replaced.
        fs::remove_file(target.join("manifest.json")).unwrap();
        fs::write(target.join("notes.txt"), "mine").unwrap();
        let s = Staging::begin(&target, replace, None).unwrap();
        let e = s.commit().unwrap_err();
        assert!(
            e.message
                .contains("1 entry cacheplan did not write (notes.txt)"),
            "{e}"
        );
        assert_eq!(
            fs::read_to_string(target.join("notes.txt")).unwrap(),
            "mine"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn targets_are_described_by_what_they_hold() {
        let d = temp("inspect");
        assert_eq!(inspect(&d.join("none")).unwrap(), Contents::Absent);
        fs::write(d.join("file"), "x").unwrap();
        assert_eq!(
            inspect(&d.join("file")).unwrap(),
            Contents::NotAFolder("a file")
        );
        let e = check_target(&d.join("file"), true).unwrap_err();
        assert!(
            e.message.contains("holds a file, not cacheplan output"),
            "{e}"
        );
        fs::create_dir(d.join("dir")).unwrap();
        assert_eq!(inspect(&d.join("dir")).unwrap(), Contents::Empty);
        fs::write(d.join("dir/size.csv"), "x").unwrap();
        assert_eq!(inspect(&d.join("dir")).unwrap(), Contents::SizeSearch);
        let e = check_target(&d.join("dir"), false).unwrap_err();
        assert!(e.message.contains("already holds a capacity search"), "{e}");
        assert!(check_target(&d.join("dir"), true).is_ok());
        fs::remove_dir_all(&d).unwrap();
    }
}
