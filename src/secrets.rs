//! The last line of defence: every secret a run handles (the target's secret key and
//! session token, secrets captured from answers) is scrubbed from anything the harness
//! writes or prints, in its raw and percent-encoded forms.

use std::sync::{Arc, RwLock};

const MASK: &str = "[redacted-secret]";

/// Shared, growing set of secrets for one run.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    inner: Arc<RwLock<Vec<String>>>,
}

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret. Very short values are ignored: masking them would mangle
    /// ordinary text and they protect nothing.
    pub fn add(&self, secret: &str) {
        if secret.len() < 8 {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        for enc in [
            form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            percent_encode_all(secret),
        ] {
            if !forms.contains(&enc) {
                forms.push(enc);
            }
        }
        let mut set = self.inner.write().unwrap_or_else(|e| e.into_inner());
        for f in forms {
            if !set.contains(&f) {
                set.push(f);
            }
        }
        // Longest first, so a secret that contains another is masked whole.
        set.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// The text with every known secret masked.
    pub fn scrub(&self, text: &str) -> String {
        let set = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Option<String> = None;
        for s in set.iter() {
            let cur = out.as_deref().unwrap_or(text);
            if cur.contains(s.as_str()) {
                out = Some(cur.replace(s.as_str(), MASK));
            }
        }
        out.unwrap_or_else(|| text.to_owned())
    }

    /// True when the text holds a known secret (used to refuse writing a file).
    pub fn leaks_into(&self, text: &str) -> bool {
        let set = self.inner.read().unwrap_or_else(|e| e.into_inner());
        set.iter().any(|s| text.contains(s.as_str()))
    }
}

/// `%XX` for every byte outside the unreserved set, as SigV4 canonical forms write it.
fn percent_encode_all(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_encoded_forms_are_masked() {
        let s = Secrets::new();
        s.add("CANARY/secret+value=");
        let text = "a CANARY/secret+value= b CANARY%2Fsecret%2Bvalue%3D c";
        assert_eq!(s.scrub(text), "a [redacted-secret] b [redacted-secret] c");
        assert!(s.leaks_into(text));
        assert!(!s.leaks_into(&s.scrub(text)));
        s.add("short");
        assert_eq!(s.scrub("short"), "short");
    }
}
