//! insta `.snap` files under `snapshots/<service>/<operation>/<case-id>.snap`: loaded once
//! per run, compared with what a run produced, and diffed for people.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod file;
mod yaml;

use crate::deviation::Diff;
use crate::scenario::Case;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot directory {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a readable insta snapshot: {message}")]
    Parse { path: PathBuf, message: String },
}

/// Every stored snapshot of a suite, by its path relative to the snapshots root.
#[derive(Debug, Default)]
pub struct SnapshotStore {
    pub root: PathBuf,
    /// By relative path written with `/` ([`key`]): hashing a string, not a path's
    /// components, for the several lookups each case makes.
    stored: HashMap<String, String>,
    /// Snapshots left on disk, read when their case is judged (`read_expected`).
    on_disk: std::collections::HashSet<String>,
    /// `.snap.new` files waiting for review.
    pending: Vec<PathBuf>,
    /// Per service, what a snapshot holding a result says of its element order when that
    /// order is only documented (from the service's facts).
    pub order_notes: HashMap<String, String>,
    /// The `description:` of each stored snapshot, by relative path, and whether its header
    /// is written as insta writes one.
    headers: HashMap<String, (String, bool)>,
}

/// How a run's output compares with the stored snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Match,
    /// No snapshot yet.
    Missing,
    /// The snapshot against the run, line by line.
    Mismatch {
        diff: Diff,
    },
}

impl SnapshotStore {
    /// The header line for a snapshot of `case` holding `contents`: the case's own
    /// description, and a word on element order where the service's is only documented.
    pub fn description(&self, case: &Case, contents: &str) -> String {
        let mut d = description(case);
        if let Some(note) = self.order_note(case, contents) {
            d.push_str(note);
        }
        d
    }

    /// `; order: ...` when `contents` holds a result of a service whose order is documented.
    pub fn order_note(&self, case: &Case, contents: &str) -> Option<&str> {
        self.order_notes
            .get(&case.service)
            .filter(|_| contents.contains("Result>") || contents.contains("Result/>"))
            .map(String::as_str)
    }

    /// Every stored snapshot below `root`, and the pending reviews.
    pub fn load(root: &Path) -> Result<SnapshotStore, SnapshotError> {
        SnapshotStore::load_where(root, |_| true, |_| true, true)
    }

    /// The stored snapshots whose path relative to `root` `wanted` accepts (the others are
    /// not read), and the pending reviews, in the directories whose relative path `descend`
    /// accepts (a run of named cases lists no other operation's directory). With `read`
    /// false they are only listed, and each is read when asked for (`read_expected`).
    pub fn load_where(
        root: &Path,
        descend: impl Fn(&Path) -> bool,
        wanted: impl Fn(&Path) -> bool,
        read: bool,
    ) -> Result<SnapshotStore, SnapshotError> {
        let mut store = SnapshotStore {
            root: root.to_owned(),
            ..Default::default()
        };
        if !root.exists() {
            return Ok(store);
        }
        // Each directory with its path below the root, so no entry's is worked out again.
        let mut stack = vec![(root.to_owned(), PathBuf::new())];
        while let Some((dir, below)) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|source| SnapshotError::ReadDir {
                path: dir.clone(),
                source,
            })?;
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let name = file_name.to_str().unwrap_or("");
                // The entry's own type comes with the directory listing; asking the file
                // system per file was most of a one-case run's system time. A link is
                // followed, as before.
                let is_dir = match entry.file_type() {
                    Ok(t) if t.is_symlink() => entry.path().is_dir(),
                    Ok(t) => t.is_dir(),
                    Err(_) => entry.path().is_dir(),
                };
                if is_dir {
                    let rel = below.join(&file_name);
                    if descend(&rel) {
                        stack.push((entry.path(), rel));
                    }
                } else if name.ends_with(".snap") {
                    let rel = below.join(&file_name);
                    match (wanted(&rel), read) {
                        (false, _) => {}
                        (true, true) => store.add(root, &entry.path())?,
                        (true, false) => {
                            store.on_disk.insert(key_of(&rel));
                        }
                    }
                } else if name.ends_with(".snap.new") {
                    store.pending.push(entry.path());
                }
            }
        }
        store.pending.sort();
        Ok(store)
    }

    fn add(&mut self, root: &Path, path: &Path) -> Result<(), SnapshotError> {
        let stored = file::read(path)?;
        let rel = key_of(path.strip_prefix(root).unwrap_or(path));
        self.headers
            .insert(rel.clone(), (stored.description, stored.insta_form));
        self.stored.insert(rel, stored.contents);
        Ok(())
    }

    /// `<service>/<operation>/<case-id>.snap`, relative to the root.
    pub fn relative_path(case: &Case) -> PathBuf {
        PathBuf::from(&case.service)
            .join(&case.operation)
            .join(format!("{}.snap", case.id))
    }

    pub fn path_of(&self, case: &Case) -> PathBuf {
        self.root.join(Self::relative_path(case))
    }

    /// The snapshot of `case` when it was read at load (`None` for one left on disk: see
    /// `read_expected`).
    pub fn expected(&self, case: &Case) -> Option<&str> {
        self.stored.get(&key(case)).map(String::as_str)
    }

    /// The snapshot of `case`, read now if it was left on disk.
    pub fn read_expected(&self, case: &Case) -> Result<Option<Cow<'_, str>>, SnapshotError> {
        let rel = key(case);
        if let Some(s) = self.stored.get(&rel) {
            return Ok(Some(Cow::Borrowed(s)));
        }
        if !self.on_disk.contains(&rel) {
            return Ok(None);
        }
        Ok(Some(Cow::Owned(file::read(&self.path_of(case))?.contents)))
    }

    pub fn compare(&self, case: &Case, actual: &str) -> Verdict {
        compare(self.expected(case), actual)
    }

    /// Snapshots whose header no longer says what their case says (its line moved, its
    /// provenance or source changed) or is not written as insta writes one, with the
    /// description each should have. A header that record mode wrote for AWS's answer names
    /// the recording: its words are kept, only its form is made insta's.
    pub fn stale_headers<'c>(&self, cases: &'c [Case]) -> Vec<(&'c Case, String)> {
        cases
            .iter()
            .filter_map(|c| {
                let rel = key(c);
                let (have, insta_form) = self.headers.get(&rel)?;
                let contents = self.stored.get(&rel)?;
                let want = if have.contains("recorded against") {
                    have.clone()
                } else {
                    self.description(c, contents)
                };
                (*have != want || !insta_form).then_some((c, want))
            })
            .collect()
    }

    /// The `description:` of `case`'s snapshot, when it was read at load.
    pub fn header(&self, case: &Case) -> Option<&str> {
        self.headers
            .get(&key(case))
            .map(|(description, _)| description.as_str())
    }

    /// Rewrites the header of `case`'s snapshot, its contents untouched.
    pub fn rewrite_header(&self, case: &Case, description: &str) -> Result<PathBuf, WriteError> {
        let contents = self.expected(case).unwrap_or_default();
        write_file(&self.path_of(case), case, description, contents, |_| false)
    }

    /// Stored snapshots no case produces.
    pub fn orphans<'a>(&'a self, cases: &[Case]) -> Vec<&'a Path> {
        let wanted: std::collections::HashSet<String> = cases.iter().map(key).collect();
        let mut out: Vec<&Path> = self
            .stored
            .keys()
            .chain(&self.on_disk)
            .filter(|p| !wanted.contains(*p))
            .map(Path::new)
            .collect();
        out.sort();
        out
    }

    /// Cases with no stored snapshot.
    pub fn missing<'a>(&self, cases: &'a [Case]) -> Vec<&'a Case> {
        cases
            .iter()
            .filter(|c| {
                let rel = key(c);
                !self.stored.contains_key(&rel) && !self.on_disk.contains(&rel)
            })
            .collect()
    }

    pub fn pending(&self) -> &[PathBuf] {
        &self.pending
    }

    pub fn len(&self) -> usize {
        self.stored.len() + self.on_disk.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// insta's own rule: trailing whitespace and CRLF do not count.
pub fn normalize_contents(s: &str) -> String {
    s.trim_end().replace("\r\n", "\n")
}

pub fn compare(expected: Option<&str>, actual: &str) -> Verdict {
    let Some(expected) = expected else {
        return Verdict::Missing;
    };
    let actual = normalize_contents(actual);
    if expected == actual {
        Verdict::Match
    } else {
        Verdict::Mismatch {
            diff: Diff::between(expected, &actual),
        }
    }
}

/// `<service>/<operation>/<case-id>.snap`: a case's snapshot as the store's maps name it.
fn key(case: &Case) -> String {
    format!("{}/{}/{}.snap", case.service, case.operation, case.id)
}

/// A relative path as the store's maps name it, its parts joined by `/`.
fn key_of(rel: &Path) -> String {
    let parts: Vec<std::borrow::Cow<'_, str>> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    parts.join("/")
}

/// The header line that says where a snapshot's truth comes from.
pub fn description(case: &Case) -> String {
    let mut d = format!(
        "{} {}, provenance: {}, scenario: {}:{}",
        case.kind, case.id, case.provenance, case.file, case.line
    );
    if let Some(src) = &case.source {
        d.push_str(", source: ");
        d.push_str(src);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_are_unified_and_trailing_space_does_not_count() {
        assert_eq!(compare(Some("a\nb"), "a\nb\n\n"), Verdict::Match);
        assert_eq!(compare(None, "a"), Verdict::Missing);
        let Verdict::Mismatch { diff } = compare(Some("a\nb\nc"), "a\nB\nc") else {
            panic!("expected a mismatch")
        };
        assert_eq!(
            diff.to_string(),
            "--- snapshot\n+++ actual\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("refused to write {path}: it would hold a secret of this run")]
    Secret { path: PathBuf },
}

/// Writes `<case>.snap.new` beside where the case's snapshot lives, in insta's format, so
/// `cargo insta review` can accept or reject it. Atomic: a temp file renamed into place,
/// and never written when `leaks` says the text holds a secret.
pub fn write_new(
    store: &SnapshotStore,
    case: &Case,
    contents: &str,
    leaks: impl Fn(&str) -> bool,
) -> Result<PathBuf, WriteError> {
    let path = store.path_of(case).with_extension("snap.new");
    write_file(
        &path,
        case,
        &store.description(case, contents),
        contents,
        leaks,
    )
}

/// Writes a snapshot file in insta's format at `path`, atomically (a temp file renamed into
/// place), and never when `leaks` says the text holds a secret.
pub fn write_file(
    path: &Path,
    case: &Case,
    description: &str,
    contents: &str,
    leaks: impl Fn(&str) -> bool,
) -> Result<PathBuf, WriteError> {
    let text = file_text(case, description, contents);
    if leaks(&text) {
        return Err(WriteError::Secret {
            path: path.to_owned(),
        });
    }
    let io = |source| WriteError::Io {
        path: path.to_owned(),
        source,
    };
    crate::input::write_whole(path, text.as_bytes()).map_err(io)?;
    Ok(path.to_owned())
}

/// A snapshot file's whole text in insta's format: the header, then the contents.
pub fn file_text(case: &Case, description: &str, contents: &str) -> String {
    format!(
        "---\nsource: {}\ndescription: {}\n---\n{}\n",
        yaml_scalar(&case.file),
        yaml_scalar(description),
        normalize_contents(contents)
    )
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn yaml_scalar(s: &str) -> String {
    yaml::scalar(s)
}
