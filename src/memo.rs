//! A command's last passing answer about a project, kept beside the fingerprint of the inputs
//! it read: given again while the fingerprint is the same. Only a passing answer is kept, so a
//! project with something to fix is always read anew, and a kept answer never hides a finding.

use std::path::{Path, PathBuf};

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
        let mut key = Sha256::new();
        for input in inputs {
            let absolute = std::path::absolute(input).unwrap_or_else(|_| input.clone());
            key.update(absolute.as_os_str().as_encoded_bytes());
            key.update([0]);
        }
        let name: String = key
            .finalize()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect();
        Memo {
            path: cache.join(command).join(name),
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
}
