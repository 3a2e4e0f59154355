//! The last line of defence: every secret a run handles (the target's secret key and
//! session token, secrets captured from answers) is scrubbed from anything the harness
//! writes or prints, in every form an endpoint can give it back in.
//!
//! Two ideas keep this both complete and linear in the text:
//! - Escapes are undone, not enumerated. A secret can come back percent-encoded in either
//!   case, form-encoded, as XML or JSON escapes, or any per-character mixture of those; the
//!   number of spellings grows exponentially with its length. Instead the text is read once
//!   more as a decoded *view* (every `%XX`, `&...;`, `\/`, `\uXXXX` turned into what it
//!   stands for, remembering where each came from) and the secrets are searched in it;
//!   a match there masks the escaped span it came from. A secret that itself holds
//!   something that reads as an escape is searched as the view reads it too, and one with
//!   spaces also with `+` for them (form encoding), so one scan of the view finds every
//!   form. CDATA needs nothing: its content is raw.
//! - Base64 cannot be undone without knowing where a blob starts, so it is enumerated: the
//!   whole secret (standard and URL-safe, padded or not) and, for a secret embedded in a
//!   larger blob, the characters fully determined by it at each of the three byte
//!   alignments.
//!
//! All those forms of all secrets go into one index (`index`), read once per view, so the
//! cost of a run stays linear in the secrets it meets (a run against an endpoint handing out
//! fresh keys on every case met thousands) and a scan costs the same whatever their number.
//! A secret already met is recognized by a keyed 128-bit hash, not kept.

mod index;
mod view;

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use index::Index;
use view::View;

const MASK: &str = "[redacted-secret]";

/// Values shorter than this are not secrets worth masking: masking them would mangle
/// ordinary text and they protect nothing.
const SHORTEST: usize = 8;

/// Shared, growing set of secrets for one run.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    inner: Arc<RwLock<Set>>,
}

#[derive(Debug, Default)]
struct Set {
    /// What the secrets met so far hash to, with keys drawn at random for this run: an
    /// endpoint cannot aim at a collision it cannot see, and a chance one among a million
    /// secrets has odds below 2^-88. Equal secrets hash equal, so none is filed twice.
    known: HashSet<u128, BuildHasherDefault<Spread>>,
    keys: (RandomState, RandomState),
    /// The last few secrets added, whole: a run adds the same keys on every step, and
    /// comparing them costs less than hashing them twice with SipHash.
    recent: [Option<Box<str>>; RECENT],
    next: usize,
    index: Index,
}

const RECENT: usize = 8;

/// The known hashes are random already; SipHash over them again would buy nothing.
#[derive(Debug, Default)]
struct Spread(u64);

impl Hasher for Spread {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 ^= u64::from_le_bytes(w);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

impl Set {
    fn fingerprint(&self, secret: &str) -> u128 {
        let (a, b) = (self.keys.0.hash_one(secret), self.keys.1.hash_one(secret));
        u128::from(a) << 64 | u128::from(b)
    }
}

/// The URL-safe spelling of standard base64 (the two alphabets differ in two characters),
/// or None when the text has neither.
fn url_safe(standard: &[u8]) -> Option<Vec<u8>> {
    standard.iter().any(|&b| b == b'+' || b == b'/').then(|| {
        standard
            .iter()
            .map(|&b| match b {
                b'+' => b'-',
                b'/' => b'_',
                b => b,
            })
            .collect()
    })
}

/// Gives `each` what is searched for a secret: itself as the decoded view reads it, and its
/// base64 spellings. A spelling may come twice (the index files it once).
fn forms(secret: &str, each: &mut dyn FnMut(&[u8])) {
    let bytes = secret.as_bytes();
    each(bytes);
    let plus = secret
        .contains(' ')
        .then(|| secret.replace(' ', "+").into_bytes());
    if let Some(plus) = &plus {
        each(plus);
    }
    for form in std::iter::once(bytes).chain(plus.as_deref()) {
        if let Some(view) = View::of(form) {
            each(&view.bytes);
        }
    }
    // Inside a larger blob the secret starts at some byte offset; depending on that offset
    // modulo 3, the first 0, 1 or 2 of its bytes share a base64 group with bytes before it.
    // From there on, every whole group of three is its own four characters. At offset 0
    // those characters start the whole secret's encoding, so one encoding gives both.
    let padded = STANDARD.encode(bytes).into_bytes();
    let unpadded = padded.len() - padded.iter().rev().take_while(|&&b| b == b'=').count();
    let groups = bytes.len() / 3 * 4;
    let mut lengths = vec![padded.len(), unpadded];
    if groups >= 8 {
        lengths.push(groups);
    }
    lengths.dedup();
    let mut spell = |standard: &[u8], lengths: &[usize]| {
        for &n in lengths {
            each(&standard[..n]);
        }
        if let Some(url) = url_safe(standard) {
            for &n in lengths {
                each(&url[..n]);
            }
        }
    };
    spell(&padded, &lengths);
    for skip in 1..3 {
        let rest = &bytes[skip.min(bytes.len())..];
        let whole = rest.len() / 3 * 3;
        if whole >= 6 {
            let standard = STANDARD_NO_PAD.encode(&rest[..whole]).into_bytes();
            spell(&standard, &[standard.len()]);
        }
    }
}

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret. Very short values are ignored: masking them would mangle
    /// ordinary text and they protect nothing.
    pub fn add(&self, secret: &str) {
        if secret.len() < SHORTEST {
            return;
        }
        let mut set = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if set.recent.iter().flatten().any(|r| **r == *secret) {
            return;
        }
        let at = set.next;
        set.recent[at] = Some(secret.into());
        set.next = (at + 1) % RECENT;
        let fingerprint = set.fingerprint(secret);
        if !set.known.insert(fingerprint) {
            return;
        }
        forms(secret, &mut |form| set.index.insert(form));
    }

    /// The text with every known secret masked.
    pub fn scrub(&self, text: &str) -> String {
        self.masked(text).unwrap_or_else(|| text.to_owned())
    }

    /// `scrub` for a text the caller gives away: one without a secret comes back as it
    /// was, not copied (nearly every transcript).
    pub fn scrub_owned(&self, text: String) -> String {
        self.masked(&text).unwrap_or(text)
    }

    /// The text with every known secret masked, or None when it holds none.
    fn masked(&self, text: &str) -> Option<String> {
        let set = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let spans = set.spans(text, false);
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// True when the text holds a known secret (used to refuse writing a file).
    pub fn leaks_into(&self, text: &str) -> bool {
        let set = self.inner.read().unwrap_or_else(|e| e.into_inner());
        !set.spans(text, true).is_empty()
    }
}

impl Set {
    /// The byte spans of `text` that spell a secret, sorted and disjoint, each on character
    /// boundaries. With `first`, stops at the first one found.
    fn spans(&self, text: &str, first: bool) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        if self.index.is_empty() {
            return found;
        }
        let view = View::of(text.as_bytes());
        let haystack = view.as_ref().map_or(text.as_bytes(), |v| &v.bytes);
        let stop = self.index.find(haystack, &mut |s, e| {
            found.push(view.as_ref().map_or((s, e), |v| v.source(s, e)));
            first
        });
        if stop {
            return found;
        }
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        found.sort_unstable();
        for (mut s, mut e) in found {
            while !text.is_char_boundary(s) {
                s -= 1;
            }
            while !text.is_char_boundary(e) {
                e += 1;
            }
            match spans.last_mut() {
                Some(last) if s < last.1 => last.1 = last.1.max(e),
                _ => spans.push((s, e)),
            }
        }
        spans
    }
}

#[cfg(test)]
mod tests;
