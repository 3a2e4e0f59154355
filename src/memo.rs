//! A command's last passing answer about a project, kept beside the fingerprint of the inputs
//! it read: given again while the fingerprint is the same. Only a passing answer is kept, so a
//! project with something to fix is always read anew, and a kept answer never hides a finding.
//!
//! [`TextMemos`] keep smaller answers: what one file's text yields (the cases a scenario file
//! holds), so that a project where one file changed reads only that one anew.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::fingerprint::Fingerprint;

/// The first line of a memo file: a file in another form is not read as one.
const FORM: &str = "conform memo 1";

/// One memo file per command and project, in a cache directory.
#[derive(Debug, Clone)]
pub struct Memo {
    pub path: PathBuf,
}

impl Memo {
    /// The memo of `command` for the project whose inputs are `inputs`, in `cache`; the file
    /// is named after the inputs' paths, so two projects never share one.
    pub fn of(cache: &Path, command: &str, inputs: &[PathBuf]) -> Memo {
        Memo {
            path: cache.join(command).join(name_of(inputs)),
        }
    }

    /// The answer kept for exactly this fingerprint, if any. An unreadable or foreign file is
    /// no answer: the command runs.
    pub fn recall(&self, print: &Fingerprint) -> Option<String> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let rest = text.strip_prefix(FORM)?.strip_prefix('\n')?;
        let (digest, answer) = rest.split_once('\n')?;
        (digest == print.digest).then(|| answer.to_owned())
    }

    /// Keeps `answer` for `print`, replacing the file whole (a reader sees the old memo or the
    /// new one, never part of one).
    pub fn keep(&self, print: &Fingerprint, answer: &str) -> std::io::Result<()> {
        let text = format!("{FORM}\n{}\n{answer}", print.digest);
        crate::input::write_whole(&self.path, text.as_bytes())
    }

    /// Removes the memo (a failing answer must not leave an older passing one behind).
    pub fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The first line of a text memo: the form of what follows it.
const TEXT_FORM: &[u8] = b"conform text memo 1\n";

/// What single files' texts yield, one kind of answer for one project in one directory, one
/// memo per file. A memo is named after the file and holds the digest of the text it was made
/// from (and of the salt: whatever else the answer depends on), so it is given back for that
/// very text only: a changed file, however its times look, is read anew.
#[derive(Debug)]
pub struct TextMemos {
    dir: PathBuf,
    salt: String,
    /// The project's inputs, absolute: written beside the memos, so that those of a project
    /// gone (a test's temporary one) can be told and removed.
    inputs: Vec<PathBuf>,
    /// The memos recalled or kept so far: the others belong to files no longer read.
    used: Mutex<BTreeSet<String>>,
}

/// The file beside a project's memos naming its inputs, one per line.
const INPUTS: &str = "inputs";

/// How many projects' memos of one kind are kept: those of the projects used last.
const PROJECTS: usize = 8;

impl TextMemos {
    /// The memos of `kind` for the project whose inputs are `inputs`, in `cache`.
    pub fn of(cache: &Path, kind: &str, inputs: &[PathBuf], salt: String) -> TextMemos {
        TextMemos {
            dir: cache.join(kind).join(name_of(inputs)),
            salt,
            inputs: inputs
                .iter()
                .map(|i| std::path::absolute(i).unwrap_or_else(|_| i.clone()))
                .collect(),
            used: Mutex::new(BTreeSet::new()),
        }
    }

    /// What `text` (the file shown as `file`) was last found to yield, if a memo of it holds
    /// that. An unreadable or foreign memo is none: the caller reads the text.
    pub fn recall<T: serde::de::DeserializeOwned>(&self, file: &str, text: &str) -> Option<T> {
        let name = self.name(file);
        let bytes = std::fs::read(self.dir.join(&name)).ok()?;
        self.mark(name);
        let rest = bytes.strip_prefix(TEXT_FORM)?;
        let digest = self.digest(file, text);
        let payload = rest.strip_prefix(digest.as_slice())?;
        // All of it or nothing: a memo cut short or grown is no answer.
        match postcard::take_from_bytes(payload) {
            Ok((answer, [])) => Some(answer),
            _ => None,
        }
    }

    /// Keeps what `text` yields, replacing the file's memo whole. A memo that cannot be
    /// written only costs the next reader its time, so failures are not reported.
    pub fn keep<T: serde::Serialize>(&self, file: &str, text: &str, answer: &T) {
        let Ok(payload) = postcard::to_allocvec(answer) else {
            return;
        };
        let name = self.name(file);
        let mut bytes = Vec::with_capacity(TEXT_FORM.len() + 32 + payload.len());
        bytes.extend_from_slice(TEXT_FORM);
        bytes.extend_from_slice(&self.digest(file, text));
        bytes.extend_from_slice(&payload);
        let _ = crate::input::write_whole(&self.dir.join(&name), &bytes);
        self.mark(name);
    }

    /// Removes the memos of files neither recalled nor kept since these memos were opened:
    /// called after every file of the project was read, it keeps the directory to one memo
    /// per file there is.
    ///
    /// The memos of other projects go too when a project's inputs are gone, and beyond the
    /// eight used last: the cache holds what a few projects yield, however many
    /// were ever read.
    pub fn prune(&self) {
        let used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name != INPUTS && !name.to_str().is_some_and(|n| used.contains(n)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        // Written again on every prune: its time says when the project was read last.
        let listed: String = self
            .inputs
            .iter()
            .map(|i| format!("{}\n", i.display()))
            .collect();
        let _ = crate::input::write_whole(&self.dir.join(INPUTS), listed.as_bytes());
        let Some(kind) = self.dir.parent() else {
            return;
        };
        let mut others: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(kind).into_iter().flatten().flatten() {
            let dir = entry.path();
            if dir == self.dir {
                continue;
            }
            let inputs = dir.join(INPUTS);
            let here = std::fs::read_to_string(&inputs)
                .is_ok_and(|t| t.lines().all(|line| Path::new(line).exists()));
            match std::fs::metadata(&inputs).and_then(|m| m.modified()) {
                Ok(when) if here => others.push((when, dir)),
                _ => {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
        }
        others.sort();
        let beyond = others.len().saturating_sub(PROJECTS - 1);
        for (_, dir) in others.into_iter().take(beyond) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    fn name(&self, file: &str) -> String {
        hex(&Sha256::digest(file.as_bytes())[..12])
    }

    fn digest(&self, file: &str, text: &str) -> [u8; 32] {
        let mut d = Sha256::new();
        for part in [self.salt.as_str(), file, text] {
            d.update((part.len() as u64).to_le_bytes());
            d.update(part.as_bytes());
        }
        d.finalize().into()
    }

    fn mark(&self, name: String) {
        self.used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name);
    }
}

/// What names this build of conform for its memos: another build may judge the same files
/// otherwise. `None` when the running program cannot be found.
pub fn program() -> Option<String> {
    let exe = std::env::current_exe().and_then(std::fs::metadata).ok()?;
    Some(format!(
        "conform {} {} {:?}",
        env!("CARGO_PKG_VERSION"),
        exe.len(),
        exe.modified().ok()
    ))
}

/// The digest of the contents of `files` in order (an unreadable one counts as such).
pub fn contents_digest(files: &[PathBuf]) -> String {
    let mut d = Sha256::new();
    for f in files {
        d.update(f.as_os_str().as_encoded_bytes());
        match std::fs::read(f) {
            Ok(bytes) => {
                d.update((bytes.len() as u64).to_le_bytes());
                d.update(&bytes);
            }
            Err(_) => d.update(b"unreadable"),
        }
    }
    hex(&d.finalize())
}

/// The SHA-256 of `bytes`, in hex.
pub fn digest_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn name_of(inputs: &[PathBuf]) -> String {
    let mut key = Sha256::new();
    for input in inputs {
        let absolute = std::path::absolute(input).unwrap_or_else(|_| input.clone());
        key.update(absolute.as_os_str().as_encoded_bytes());
        key.update([0]);
    }
    hex(&key.finalize()[..12])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(digest: &str) -> Fingerprint {
        Fingerprint {
            digest: digest.into(),
            newest: None,
        }
    }

    #[test]
    fn an_answer_is_given_back_only_for_its_own_fingerprint() {
        let cache = tempfile::tempdir().unwrap();
        let memo = Memo::of(cache.path(), "check", &["/p/scenarios".into()]);
        assert_eq!(memo.recall(&print("aa")), None);
        memo.keep(&print("aa"), "12 cases\nall good\n").unwrap();
        assert_eq!(
            memo.recall(&print("aa")).as_deref(),
            Some("12 cases\nall good\n")
        );
        assert_eq!(memo.recall(&print("ab")), None);
        memo.forget();
        assert_eq!(memo.recall(&print("aa")), None);
        // Nothing but the memo itself was left in the directory.
        let left: Vec<_> = std::fs::read_dir(memo.path.parent().unwrap())
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn projects_and_commands_have_memos_of_their_own() {
        let cache = Path::new("/c");
        let a = Memo::of(cache, "check", &["/p/scenarios".into()]);
        let b = Memo::of(cache, "check", &["/q/scenarios".into()]);
        let c = Memo::of(cache, "coverage", &["/p/scenarios".into()]);
        assert_ne!(a.path, b.path);
        assert_ne!(a.path.file_name(), None);
        assert_ne!(a.path.parent(), c.path.parent());
    }

    #[test]
    fn a_foreign_file_is_no_answer() {
        let cache = tempfile::tempdir().unwrap();
        let memo = Memo::of(cache.path(), "check", &["/p".into()]);
        std::fs::create_dir_all(memo.path.parent().unwrap()).unwrap();
        std::fs::write(&memo.path, "aa\nall good\n").unwrap();
        assert_eq!(memo.recall(&print("aa")), None);
    }

    fn text_memos(cache: &Path, salt: &str) -> TextMemos {
        TextMemos::of(cache, "cases", &["/p/scenarios".into()], salt.into())
    }

    #[test]
    fn what_a_text_yields_is_given_back_for_that_text_and_salt_only() {
        let cache = tempfile::tempdir().unwrap();
        let memos = text_memos(cache.path(), "v1");
        assert_eq!(memos.recall::<Vec<String>>("a.yaml", "one"), None);
        memos.keep("a.yaml", "one", &vec!["x".to_owned(), "y".to_owned()]);
        assert_eq!(
            memos.recall::<Vec<String>>("a.yaml", "one"),
            Some(vec!["x".to_owned(), "y".to_owned()])
        );
        // Another text of the file, the same text under another name or another salt (another
        // build of conform, other models): no answer.
        assert_eq!(memos.recall::<Vec<String>>("a.yaml", "one!"), None);
        assert_eq!(memos.recall::<Vec<String>>("b.yaml", "one"), None);
        assert_eq!(
            text_memos(cache.path(), "v2").recall::<Vec<String>>("a.yaml", "one"),
            None
        );
        // Kept again for a new text: the file holds the newest only.
        memos.keep("a.yaml", "two", &vec!["z".to_owned()]);
        assert_eq!(memos.recall::<Vec<String>>("a.yaml", "one"), None);
        assert_eq!(
            memos.recall::<Vec<String>>("a.yaml", "two"),
            Some(vec!["z".to_owned()])
        );
    }

    #[test]
    fn a_damaged_text_memo_is_no_answer() {
        let cache = tempfile::tempdir().unwrap();
        let memos = text_memos(cache.path(), "v1");
        memos.keep("a.yaml", "one", &vec!["x".to_owned(); 100]);
        let file = common_file(&memos.dir);
        let whole = std::fs::read(&file).unwrap();
        // Cut short, or its form line changed: read as nothing, never as a shorter answer.
        std::fs::write(&file, &whole[..whole.len() - 5]).unwrap();
        assert_eq!(memos.recall::<Vec<String>>("a.yaml", "one"), None);
        let mut foreign = whole.clone();
        foreign[0] = b'X';
        std::fs::write(&file, &foreign).unwrap();
        assert_eq!(memos.recall::<Vec<String>>("a.yaml", "one"), None);
        let mut longer = whole.clone();
        longer.push(0);
        std::fs::write(&file, &longer).unwrap();
        assert_eq!(memos.recall::<Vec<String>>("a.yaml", "one"), None);
        std::fs::write(&file, &whole).unwrap();
        assert!(memos.recall::<Vec<String>>("a.yaml", "one").is_some());
    }

    #[test]
    fn pruning_keeps_the_memos_of_files_read_since_opening() {
        let cache = tempfile::tempdir().unwrap();
        let first = text_memos(cache.path(), "v1");
        first.keep("a.yaml", "one", &1u8);
        first.keep("b.yaml", "two", &2u8);
        let second = text_memos(cache.path(), "v1");
        assert_eq!(second.recall::<u8>("a.yaml", "one"), Some(1));
        second.keep("c.yaml", "three", &3u8);
        second.prune();
        // The two memos of files read, and the list of the project's inputs.
        assert_eq!(std::fs::read_dir(&second.dir).unwrap().count(), 3);
        assert_eq!(second.recall::<u8>("b.yaml", "two"), None);
        assert_eq!(second.recall::<u8>("c.yaml", "three"), Some(3));
    }

    #[test]
    fn the_memos_of_projects_gone_or_long_unused_are_removed() {
        let cache = tempfile::tempdir().unwrap();
        let projects = tempfile::tempdir().unwrap();
        let memos_of = |name: &str| {
            let root = projects.path().join(name);
            std::fs::create_dir_all(&root).unwrap();
            let m = TextMemos::of(cache.path(), "cases", &[root], "v1".into());
            m.keep("a.yaml", "one", &1u8);
            m.prune();
            m
        };
        let kept: Vec<TextMemos> = (0..PROJECTS + 3)
            .map(|i| memos_of(&format!("p{i}")))
            .collect();
        let dirs = || {
            std::fs::read_dir(cache.path().join("cases"))
                .unwrap()
                .count()
        };
        assert_eq!(dirs(), PROJECTS);
        // The oldest went first; the newest are there.
        assert!(!kept[0].dir.exists());
        assert!(kept[PROJECTS + 2].dir.exists());
        // A project whose files are gone loses its memos at the next prune of another.
        std::fs::remove_dir_all(projects.path().join(format!("p{}", PROJECTS + 1))).unwrap();
        kept[PROJECTS + 2].prune();
        assert!(!kept[PROJECTS + 1].dir.exists());
        assert_eq!(dirs(), PROJECTS - 1);
    }

    fn common_file(dir: &Path) -> PathBuf {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files.remove(0)
    }
}
