//! Whether a project's inputs are as they were: one digest over what the file system says of
//! every file below some paths (relative path, kind, size, modification and change times,
//! inode), never their contents. Taking it costs a directory walk, a few milliseconds for the
//! corpus's 5,500 files, where reading and parsing them costs hundreds; so a command whose
//! answer depends on those files alone can give its last answer again when nothing changed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// How long a file must have been left alone before an answer about it is kept. A file
/// changed twice within one tick of the file system's clock, to the same size, would keep its
/// times: such a recent file is never vouched for, so the next command reads it again.
pub const SETTLE: Duration = Duration::from_secs(2);

/// The digest of a set of inputs, and when the newest of them last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub digest: String,
    pub newest: Option<SystemTime>,
}

impl Fingerprint {
    /// The fingerprint of everything below each of `inputs` (a file, a directory walked in
    /// name order, or a path that does not exist, which counts as such), and of `salt`: what
    /// else the answer depends on, such as the program giving it.
    pub fn of(inputs: &[PathBuf], salt: &str) -> std::io::Result<Fingerprint> {
        // Each input is walked on a thread of its own (the snapshots are half of the
        // corpus's files), then their digests are taken in order.
        let walked: Vec<std::io::Result<Walk>> = std::thread::scope(|scope| {
            let walk = |input: &PathBuf| {
                let mut walk = Walk {
                    hash: Sha256::new(),
                    newest: None,
                };
                walk.entry(input, "").map(|()| walk)
            };
            let later: Vec<_> = inputs
                .iter()
                .skip(1)
                .map(|input| scope.spawn(move || walk(input)))
                .collect();
            let mut out: Vec<_> = inputs.first().map(walk).into_iter().collect();
            out.extend(
                later
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
            );
            out
        });
        let mut hash = Sha256::new();
        hash.update(salt.as_bytes());
        hash.update([0]);
        let mut newest = None;
        for (i, (input, walk)) in inputs.iter().zip(walked).enumerate() {
            let walk = walk?;
            hash.update(format!("input {i} {}\0", input.display()));
            hash.update(walk.hash.finalize());
            newest = newest.max(walk.newest);
        }
        Ok(Fingerprint {
            digest: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            newest,
        })
    }

    /// True when no input changed within [`SETTLE`] before `started`: an answer about them
    /// may be kept.
    pub fn settled(&self, started: SystemTime) -> bool {
        match (self.newest, started.checked_sub(SETTLE)) {
            (Some(newest), Some(before)) => newest < before,
            _ => true,
        }
    }
}

struct Walk {
    hash: Sha256,
    newest: Option<SystemTime>,
}

impl Walk {
    fn entry(&mut self, path: &Path, rel: &str) -> std::io::Result<()> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.hash.update(format!("{rel}\0absent\0"));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.stamp(rel, &meta);
        if meta.is_dir() {
            self.children(path, rel)?;
        }
        Ok(())
    }

    /// A directory's entries in name order. Each is looked at through the directory already
    /// open (a path looked up from the root each time was most of a walk's cost), but a
    /// symbolic link is followed, as for the inputs themselves.
    fn children(&mut self, path: &Path, rel: &str) -> std::io::Result<()> {
        let mut entries: Vec<std::fs::DirEntry> =
            std::fs::read_dir(path)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let child = format!("{rel}/{}", entry.file_name().to_string_lossy());
            if entry.file_type()?.is_symlink() {
                self.entry(&entry.path(), &child)?;
                continue;
            }
            let meta = match entry.metadata() {
                Ok(m) => m,
                // Gone since the directory was listed: as if it had not been there.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    self.hash.update(format!("{child}\0absent\0"));
                    continue;
                }
                Err(e) => return Err(e),
            };
            self.stamp(&child, &meta);
            if meta.is_dir() {
                self.children(&entry.path(), &child)?;
            }
        }
        Ok(())
    }

    fn stamp(&mut self, rel: &str, meta: &std::fs::Metadata) {
        let kind = if meta.is_dir() { 'd' } else { 'f' };
        let modified = meta.modified().ok();
        let mut times: Vec<SystemTime> = modified.into_iter().collect();
        let line = format!("{rel}\0{kind} {} {:?}", meta.len(), modified);
        self.hash.update(line.as_bytes());
        #[cfg(unix)]
        {
            // The change time moves whenever the inode does, also when a tool puts an old
            // modification time back (`cp -p`, `touch -d`, an unpacked archive).
            use std::os::unix::fs::MetadataExt;
            let (secs, nanos) = (meta.ctime(), meta.ctime_nsec());
            let line = format!(" {} {secs}.{nanos} {}", meta.ino(), meta.dev());
            self.hash.update(line.as_bytes());
            times.extend(SystemTime::UNIX_EPOCH.checked_add(Duration::new(
                secs.max(0) as u64,
                nanos.clamp(0, 999_999_999) as u32,
            )));
        }
        self.newest = times.into_iter().chain(self.newest).max();
        self.hash.update([b'\n']);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/one.yaml"), "one").unwrap();
        std::fs::write(dir.path().join("a/two.yaml"), "two").unwrap();
        dir
    }

    fn of(dir: &Path) -> Fingerprint {
        Fingerprint::of(&[dir.join("a"), dir.join("missing.toml")], "v1").unwrap()
    }

    #[test]
    fn the_same_files_give_the_same_digest() {
        let dir = project();
        assert_eq!(of(dir.path()), of(dir.path()));
    }

    #[test]
    fn every_kind_of_change_moves_the_digest() {
        let dir = project();
        let before = of(dir.path()).digest;
        // Same size, new contents.
        std::fs::write(dir.path().join("a/b/one.yaml"), "eno").unwrap();
        let rewritten = of(dir.path()).digest;
        assert_ne!(before, rewritten);
        // A file added in a subdirectory, then removed again.
        std::fs::write(dir.path().join("a/b/three.snap.new"), "").unwrap();
        let added = of(dir.path()).digest;
        assert_ne!(rewritten, added);
        std::fs::remove_file(dir.path().join("a/b/three.snap.new")).unwrap();
        // An input that appears.
        std::fs::write(dir.path().join("missing.toml"), "").unwrap();
        let appeared = of(dir.path()).digest;
        assert_ne!(added, appeared);
        // Another salt (another program).
        let salted = Fingerprint::of(&[dir.path().join("a")], "v2").unwrap();
        assert_ne!(
            salted,
            Fingerprint::of(&[dir.path().join("a")], "v1").unwrap()
        );
    }

    #[test]
    fn an_old_time_put_back_still_moves_the_digest() {
        let dir = project();
        let file = dir.path().join("a/two.yaml");
        let old = std::fs::metadata(&file).unwrap().modified().unwrap();
        let before = of(dir.path()).digest;
        std::fs::write(&file, "owt").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), old);
        assert_ne!(before, of(dir.path()).digest);
    }

    #[test]
    fn files_just_written_are_not_settled() {
        let dir = project();
        let print = of(dir.path());
        assert!(!print.settled(SystemTime::now()));
        assert!(print.settled(SystemTime::now() + SETTLE + Duration::from_secs(1)));
    }
}
