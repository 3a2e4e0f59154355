//! The corpus a `conform` binary carries (scenarios, snapshots, models, baselines, the
//! targets file and the install scripts its recipes run), as the gzipped tar archive the
//! `conform-corpus` crate builds. Written out whole, into a directory the user names
//! (`conform export`) or once into a cache directory named after the archive's digest, from
//! which a run in a directory without scenarios loads it like any project.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::Digest;

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("the corpus built into conform is unreadable ({0}); rebuild conform")]
    Archive(std::io::Error),
    #[error("{path} exists; export into an empty directory (or a new one), nothing was written")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One file of the corpus.
#[derive(Debug)]
pub struct File {
    /// Relative to the project root (`snapshots/sts/AssumeRole/...snap`).
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Whether it is a script meant to be run (Unix mode 0755).
    pub executable: bool,
}

/// The archive built into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Corpus {
    archive: &'static [u8],
}

impl Corpus {
    pub fn new(archive: &'static [u8]) -> Corpus {
        Corpus { archive }
    }

    /// The first 16 hex digits of the archive's SHA-256: a binary built from another
    /// corpus unpacks into another cache directory.
    pub fn digest(&self) -> String {
        let hash = sha2::Sha256::digest(self.archive);
        hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// The archive's size in bytes, compressed.
    pub fn archive_len(&self) -> usize {
        self.archive.len()
    }

    /// Every file, in the archive's order (sorted by path).
    pub fn files(&self) -> Result<Vec<File>, CorpusError> {
        let gz = flate2::read::GzDecoder::new(self.archive);
        let mut archive = tar::Archive::new(gz);
        let mut files = Vec::new();
        for entry in archive.entries().map_err(CorpusError::Archive)? {
            let mut entry = entry.map_err(CorpusError::Archive)?;
            let path = entry.path().map_err(CorpusError::Archive)?.into_owned();
            // Built by our own build script, but a path must still stay below the directory
            // it is written into.
            if !path.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(CorpusError::Archive(std::io::Error::other(format!(
                    "{} leaves the corpus directory",
                    path.display()
                ))));
            }
            let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(CorpusError::Archive)?;
            files.push(File {
                path,
                bytes,
                executable,
            });
        }
        Ok(files)
    }

    /// Writes every file under `dir`, which may exist but must not hold any of them: an
    /// export never overwrites (a checked-out project's files are the user's).
    pub fn export(&self, dir: &Path) -> Result<usize, CorpusError> {
        let files = self.files()?;
        if let Some(f) = files.iter().find(|f| dir.join(&f.path).exists()) {
            return Err(CorpusError::Exists {
                path: dir.join(&f.path),
            });
        }
        write_all(dir, &files)?;
        Ok(files.len())
    }

    /// The corpus unpacked in `cache/corpus-<digest>`, written there the first time (into a
    /// directory of its own, renamed into place when whole, so a run started beside another
    /// never reads half a corpus). Returns that directory.
    pub fn unpacked_in(&self, cache: &Path) -> Result<PathBuf, CorpusError> {
        let dir = cache.join(format!("corpus-{}", self.digest()));
        if dir.is_dir() {
            return Ok(dir);
        }
        let write = |path: &Path| {
            let path = path.to_owned();
            move |source| CorpusError::Write { path, source }
        };
        std::fs::create_dir_all(cache).map_err(write(cache))?;
        let partial = cache.join(format!(
            ".corpus-{}.{}.partial",
            self.digest(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&partial);
        write_all(&partial, &self.files()?)?;
        if let Err(e) = std::fs::rename(&partial, &dir) {
            let _ = std::fs::remove_dir_all(&partial);
            // Another run put it there first.
            if !dir.is_dir() {
                return Err(write(&dir)(e));
            }
        }
        Ok(dir)
    }
}

fn write_all(dir: &Path, files: &[File]) -> Result<(), CorpusError> {
    for f in files {
        let path = dir.join(&f.path);
        let write = |source| CorpusError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write)?;
        }
        std::fs::write(&path, &f.bytes).map_err(write)?;
        #[cfg(unix)]
        if f.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(write)?;
        }
    }
    Ok(())
}
