//! An output directory that appears whole or not at all.
//!
//! Files are written into a hidden sibling `.<name>.partial-<pid>`, synced, and the
//! folder is swapped into place only when every file is complete. A run killed at any
//! moment leaves the previous complete folder (or none) under the final name; what it
//! leaves behind is a `.partial` folder, which the next run removes; a run that fails or
//! panics removes its own.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    #[error("cannot write output folder `{path}`: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("output folder `{0}` has no parent folder")]
    NoParent(PathBuf),
}

pub struct OutDir {
    target: PathBuf,
    partial: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutDirError + '_ {
    move |source| OutDirError::Io {
        path: path.to_owned(),
        source,
    }
}

impl OutDir {
    /// Starts a new output for `target`, clearing partial folders of earlier killed runs.
    pub fn create(target: &Path) -> Result<OutDir, OutDirError> {
        let name = target
            .file_name()
            .ok_or_else(|| OutDirError::NoParent(target.to_owned()))?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let prefix = format!(".{}.partial-", name.to_string_lossy());
        for entry in fs::read_dir(&parent).map_err(io_err(&parent))?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let partial = parent.join(format!("{prefix}{}", std::process::id()));
        fs::create_dir(&partial).map_err(io_err(&partial))?;
        Ok(OutDir {
            target: target.to_owned(),
            partial,
        })
    }

    /// The path of `file` inside the partial folder, for writers that open it themselves.
    pub fn path(&self, file: &str) -> PathBuf {
        self.partial.join(file)
    }

    /// Writes `file` through `write` and syncs it to disk.
    pub fn write(
        &self,
        file: &str,
        write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
    ) -> Result<(), OutDirError> {
        let path = self.path(file);
        let f = File::create(&path).map_err(io_err(&path))?;
        let mut w = BufWriter::new(f);
        write(&mut w).map_err(io_err(&path))?;
        let f = w.into_inner().map_err(|e| OutDirError::Io {
            path: path.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(io_err(&path))
    }

    /// Syncs a file written through [`OutDir::path`].
    pub fn sync(&self, file: &str) -> Result<(), OutDirError> {
        let path = self.path(file);
        File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(io_err(&path))
    }

    /// Puts the complete folder in place of the target: on Linux by one atomic exchange,
    /// so that at every instant the target is either the previous folder or the new one.
    pub fn commit(self) -> Result<PathBuf, OutDirError> {
        if self.target.exists() {
            swap(&self.partial, &self.target).map_err(io_err(&self.target))?;
            // `partial` now holds the previous folder.
            fs::remove_dir_all(&self.partial).map_err(io_err(&self.partial))?;
        } else {
            fs::rename(&self.partial, &self.target).map_err(io_err(&self.target))?;
        }
        if let Some(parent) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Make the rename itself durable.
            let _ = File::open(parent).and_then(|d| d.sync_all());
        }
        Ok(self.target.clone())
    }
}

/// A run that fails, or panics, drops its `OutDir` without committing: the partial folder
/// goes with it. After a commit there is nothing left under that name.
impl Drop for OutDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.partial);
    }
}

#[cfg(target_os = "linux")]
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

/// Elsewhere: two renames, with a moment in which the target is absent.
#[cfg(not(target_os = "linux"))]
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    let aside = a.with_extension("previous");
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(&aside, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_dropped_before_its_commit_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let out = OutDir::create(&target).unwrap();
        out.write("pushes.csv", |w| {
            use std::io::Write;
            w.write_all(b"enterprise_id,measure_id\n")
        })
        .unwrap();
        // A failed or panicking run drops its OutDir without committing.
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _out = out;
            panic!("a bug mid-run");
        }));
        assert!(dropped.is_err());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);

        let out = OutDir::create(&target).unwrap();
        out.write("pushes.csv", |_| Ok(())).unwrap();
        out.commit().unwrap();
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"], "only the committed folder");
        assert!(target.join("pushes.csv").exists());
    }
}
