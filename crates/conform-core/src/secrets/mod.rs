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
//! All those forms of all secrets go into one index keyed by their last eight bytes, and a
//! scan reads every eight-byte window of a view once, asking a bit set first and the index
//! only where the bit is set. Adding a secret only inserts its forms, so the cost of a run
//! stays linear in the secrets it meets (a run against an endpoint handing out fresh keys on
//! every case met thousands), and a scan costs the same whatever their number. A hit is
//! confirmed by the length and a 64-bit hash of the whole form ending there, so a thousand
//! bytes of session token cost sixteen bytes of memory per form.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

const MASK: &str = "[redacted-secret]";

/// Values shorter than this are not secrets worth masking: masking them would mangle
/// ordinary text and they protect nothing.
const SHORTEST: usize = 8;

/// Shared, growing set of secrets for one run.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    inner: Arc<RwLock<Set>>,
}

/// How many bytes end each form in the index: every secret is at least this long, and so is
/// nearly every form (a view of a secret full of escapes may be shorter: `short`).
const ANCHOR: usize = 8;

/// A form as the index remembers it: enough to confirm a hit without keeping its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Form {
    len: usize,
    hash: u64,
}

#[derive(Debug, Default)]
struct Set {
    known: std::collections::HashSet<String, BuildHasherDefault<Mix>>,
    /// Per anchor (a form's last eight bytes, read as a number): the forms ending with it.
    by_anchor: HashMap<u64, Vec<Form>, BuildHasherDefault<Mix>>,
    /// One bit per anchor hash, so that most windows of a text cost no lookup; it grows
    /// with the index to keep few bits set.
    bits: Vec<u64>,
    /// Forms shorter than an anchor, searched whole (rare: none for ordinary keys).
    short: Vec<Box<[u8]>>,
}

/// Multiplies the one number it hashes by an odd constant: anchors are bytes of secrets,
/// spread well enough, and SipHash per window of every text would cost more than the rest of the scan.
#[derive(Debug, Default)]
struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        fmix(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = chunked(self.0, bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(SPREAD);
    }
}

/// Eight bytes a step: a byte at a time, hashing every secret (tokens of a thousand bytes,
/// each in a dozen forms) cost more than all the rest of adding it.
fn chunked(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(23) ^ anchor_of(c)).wrapping_mul(SPREAD);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    (h.rotate_left(23) ^ u64::from_le_bytes(tail) ^ bytes.len() as u64).wrapping_mul(SPREAD)
}

/// Murmur3's finalizer: every input bit reaches every output bit.
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

fn anchor_of(window: &[u8]) -> u64 {
    let mut a = [0u8; ANCHOR];
    a.copy_from_slice(&window[..ANCHOR]);
    u64::from_le_bytes(a)
}

/// The whole-form hash, computed only where an anchor hit. Equal bytes hash equal, so no
/// secret is missed; two different texts of one length and anchor colliding would only mask
/// more than needed.
fn hash_of(bytes: &[u8]) -> u64 {
    fmix(chunked(0, bytes))
}

impl Set {
    fn bit(&self, anchor: u64) -> usize {
        // The top bits of the spread anchor, as many as the set has bits.
        let width = (self.bits.len() * 64).trailing_zeros();
        (anchor.wrapping_mul(SPREAD) >> (64 - width)) as usize
    }

    fn set_bit(&mut self, anchor: u64) {
        let b = self.bit(anchor);
        self.bits[b / 64] |= 1 << (b % 64);
    }

    fn has_bit(&self, anchor: u64) -> bool {
        let b = self.bit(anchor);
        self.bits[b / 64] & (1 << (b % 64)) != 0
    }

    fn insert(&mut self, form: &[u8]) {
        if form.len() < ANCHOR {
            if !self.short.iter().any(|f| **f == *form) {
                self.short.push(form.into());
            }
            return;
        }
        let anchor = anchor_of(&form[form.len() - ANCHOR..]);
        let entry = Form {
            len: form.len(),
            hash: hash_of(form),
        };
        let forms = self.by_anchor.entry(anchor).or_default();
        if forms.contains(&entry) {
            return;
        }
        forms.push(entry);
        // At least 32 bits per anchor keep false lookups rare; doubling the set when it
        // fills amortizes rebuilding it to a constant per anchor.
        let want = (self.by_anchor.len() * 32).next_power_of_two().max(4096) / 64;
        if self.bits.len() < want {
            self.bits = vec![0; want];
            let anchors: Vec<u64> = self.by_anchor.keys().copied().collect();
            for a in anchors {
                self.set_bit(a);
            }
        } else {
            self.set_bit(anchor);
        }
    }

    /// Every span of `haystack` that is a whole form of a secret; `each` returns true to
    /// stop.
    fn find(&self, haystack: &[u8], each: &mut dyn FnMut(usize, usize) -> bool) -> bool {
        if !self.bits.is_empty() {
            for (i, window) in haystack.windows(ANCHOR).enumerate() {
                let anchor = anchor_of(window);
                if !self.has_bit(anchor) {
                    continue;
                }
                let Some(forms) = self.by_anchor.get(&anchor) else {
                    continue;
                };
                let end = i + ANCHOR;
                for f in forms {
                    if let Some(start) = end.checked_sub(f.len)
                        && hash_of(&haystack[start..end]) == f.hash
                        && each(start, end)
                    {
                        return true;
                    }
                }
            }
        }
        for form in &self.short {
            let mut from = 0;
            while let Some(at) = haystack[from..]
                .windows(form.len())
                .position(|w| w == &**form)
            {
                let start = from + at;
                if each(start, start + form.len()) {
                    return true;
                }
                from = start + 1;
            }
        }
        false
    }
}

/// The URL-safe spelling of standard base64 (the two alphabets differ in two characters).
fn url_safe(standard: &[u8]) -> Vec<u8> {
    standard
        .iter()
        .map(|&b| match b {
            b'+' => b'-',
            b'/' => b'_',
            b => b,
        })
        .collect()
}

/// What is searched for a secret: itself as the decoded view reads it, and its base64
/// spellings.
fn forms(secret: &str) -> Vec<Box<[u8]>> {
    let bytes = secret.as_bytes();
    let mut out: Vec<Vec<u8>> = vec![bytes.to_vec()];
    if secret.contains(' ') {
        out.push(secret.replace(' ', "+").into_bytes());
    }
    for i in 0..out.len() {
        if let Some(view) = View::of(&out[i]) {
            out.push(view.bytes);
        }
    }
    // One encoding each, the other alphabet and the unpadded spelling derived from it: a
    // session token of a thousand bytes was encoded ten times per secret before.
    let padded = STANDARD.encode(bytes).into_bytes();
    let unpadded =
        padded[..padded.len() - padded.iter().rev().take_while(|&&b| b == b'=').count()].to_vec();
    out.push(url_safe(&padded));
    out.push(url_safe(&unpadded));
    out.push(padded);
    out.push(unpadded);
    // Inside a larger blob the secret starts at some byte offset; depending on that offset
    // modulo 3, the first 0, 1 or 2 of its bytes share a base64 group with bytes before it.
    // From there on, every whole group of three is its own four characters.
    for skip in 0..3 {
        let rest = &bytes[skip.min(bytes.len())..];
        let whole = rest.len() / 3 * 3;
        if whole >= 6 {
            let standard = STANDARD_NO_PAD.encode(&rest[..whole]).into_bytes();
            out.push(url_safe(&standard));
            out.push(standard);
        }
    }
    out.into_iter().map(Vec::into_boxed_slice).collect()
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
        if !set.known.insert(secret.to_owned()) {
            return;
        }
        for form in forms(secret) {
            set.insert(&form);
        }
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
        if self.known.is_empty() {
            return found;
        }
        let view = View::of(text.as_bytes());
        let haystack = view.as_ref().map_or(text.as_bytes(), |v| &v.bytes);
        let stop = self.find(haystack, &mut |s, e| {
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

/// The text with its escapes decoded, and where each decoded piece came from.
struct View {
    bytes: Vec<u8>,
    /// Sorted by position: `(decoded start, decoded length, source start, source length)`.
    escapes: Vec<(usize, usize, usize, usize)>,
}

impl View {
    /// `None` when nothing in the text is an escape (the view would be the text itself).
    fn of(text: &[u8]) -> Option<View> {
        let mut view = View {
            bytes: Vec::new(),
            escapes: Vec::new(),
        };
        let mut i = 0;
        let mut copied = 0;
        while i < text.len() {
            let b = text[i];
            if !matches!(b, b'%' | b'&' | b'\\') {
                i += 1;
                continue;
            }
            let mut buf = [0u8; 4];
            let decoded: Option<(&[u8], usize)> = match b {
                b'%' => percent(&text[i..]).map(|(b, n)| {
                    buf[0] = b;
                    (&buf[..1], n)
                }),
                b'&' => entity(&text[i..])
                    .map(|(c, n)| (c.encode_utf8(&mut buf).as_bytes() as &[u8], n)),
                b'\\' => json_escape(&text[i..])
                    .map(|(c, n)| (c.encode_utf8(&mut buf).as_bytes() as &[u8], n)),
                _ => None,
            };
            let Some((bytes, len)) = decoded else {
                i += 1;
                continue;
            };
            if view.bytes.capacity() == 0 {
                view.bytes.reserve(text.len());
            }
            view.bytes.extend_from_slice(&text[copied..i]);
            view.escapes.push((view.bytes.len(), bytes.len(), i, len));
            view.bytes.extend_from_slice(bytes);
            i += len;
            copied = i;
        }
        if view.escapes.is_empty() {
            return None;
        }
        view.bytes.extend_from_slice(&text[copied..]);
        Some(view)
    }

    /// The source span of the decoded span `start..end`: an escape is masked whole when
    /// any of what it decodes to is part of a secret.
    fn source(&self, start: usize, end: usize) -> (usize, usize) {
        (self.source_of(start).0, self.source_of(end - 1).1)
    }

    /// Where decoded byte `d` came from: its escape, or the one source byte it is.
    fn source_of(&self, d: usize) -> (usize, usize) {
        let k = self.escapes.partition_point(|e| e.0 <= d);
        let Some(&(dec, dec_len, src, src_len)) = k.checked_sub(1).map(|k| &self.escapes[k]) else {
            return (d, d + 1);
        };
        if d < dec + dec_len {
            (src, src + src_len)
        } else {
            let p = src + src_len + (d - dec - dec_len);
            (p, p + 1)
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `%XX` in either case.
fn percent(s: &[u8]) -> Option<(u8, usize)> {
    let (h, l) = (hex(*s.get(1)?)?, hex(*s.get(2)?)?);
    Some((h << 4 | l, 3))
}

/// An XML or HTML reference: the five named ones, `&#NNN;`, `&#xHH;` (either case).
fn entity(s: &[u8]) -> Option<(char, usize)> {
    // The longest reference worth reading: `&#x10FFFF;` or `&#1114111;`.
    let end = s.iter().take(11).position(|&b| b == b';')?;
    let name = std::str::from_utf8(&s[1..end]).ok()?;
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

/// What JSON writers escape in a string: `\/`, `\\`, `\"` and `\uXXXX`.
fn json_escape(s: &[u8]) -> Option<(char, usize)> {
    match *s.get(1)? {
        b'/' => Some(('/', 2)),
        b'\\' => Some(('\\', 2)),
        b'"' => Some(('"', 2)),
        b'u' => {
            let digits = std::str::from_utf8(s.get(2..6)?).ok()?;
            let code = u32::from_str_radix(digits, 16).ok()?;
            Some((char::from_u32(code)?, 6))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
