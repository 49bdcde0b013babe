//! The run folder: creates it (refusing to overwrite without `--force`) and writes each file
//! atomically (a temporary name in the same folder, then a rename), so an interrupted run never
//! leaves a half-written file under a final name.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An output folder being written.
pub struct RunFolder {
    dir: PathBuf,
    written: Vec<String>,
}

impl RunFolder {
    /// Creates `dir` (and its parents). An existing non-empty folder is an error unless
    /// `force`, in which case files in it are replaced one by one.
    pub fn create(dir: &Path, force: bool) -> io::Result<RunFolder> {
        if dir.exists() {
            let non_empty = fs::read_dir(dir)?.next().is_some();
            if non_empty && !force {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} already holds a run; pass --force to overwrite it or --out to pick another folder",
                        dir.display()
                    ),
                ));
            }
        }
        fs::create_dir_all(dir)?;
        Ok(RunFolder {
            dir: dir.to_path_buf(),
            written: Vec::new(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names of the files written so far, in order.
    pub fn written(&self) -> &[String] {
        &self.written
    }

    /// Writes `name` atomically.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        write_atomic(&self.dir.join(name), bytes)?;
        self.written.push(name.to_string());
        Ok(())
    }
}

/// Writes `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}
