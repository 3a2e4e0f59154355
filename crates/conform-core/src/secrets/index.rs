//! Where every form of every secret is looked up while a text is read, one eight-byte
//! window at a time, at a cost that does not grow with the number of forms.
//!
//! A form is filed under its first eight bytes (its anchor): the base64 spellings of a
//! secret, padded, unpadded and embedded at the first alignment, start alike, so they share
//! one anchor, and every anchor costs the filter in front of the tables bits. Per form the
//! index keeps one number mixed from its anchor's top 32 bits (its tag), its length and a
//! 64-bit hash of its bytes, and per length of an anchor eight bytes more: a session token
//! of a thousand bytes costs at most sixteen bytes per form, and a run meeting twenty
//! thousand secrets keeps an index of a few megabytes. A window whose anchor
//! the filter has never seen (nearly all of them) costs a multiplication and one read of a
//! filter small enough to stay in the processor's cache; one it has seen is hashed once per
//! length a form with that anchor has, and each hash looked up once. Many secrets may share
//! an anchor (session tokens all start alike; a stand-in endpoint's keys may all end alike),
//! and still a window costs one lookup per length, not one per secret.

/// How many bytes start each form in the index: every secret is at least this long, and so
/// is nearly every form (a view of a secret full of escapes may be shorter: `short`).
pub(super) const ANCHOR: usize = 8;

const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

/// Filter bits per distinct anchor. Two of them are set per anchor within one 64-bit word,
/// so a window costs one read: about 2% of windows that start no form read the table.
const BITS_PER_ANCHOR: usize = 16;

/// The filter's words are picked by the top bits of an anchor's tag and its two bits by its
/// bottom twelve, so the tag's 32 bits allow this many bits for the word.
const MOST_WORD_BITS: u32 = 20;

/// The length of forms with one anchor. A slot whose `len` is 0 is empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Length {
    tag: u32,
    len: u32,
}

#[derive(Debug, Default)]
pub(super) struct Index {
    /// Every form as one number (`form_key`: its tag, length and hash mixed, never 0);
    /// open addressing, linear probing, a power of two long (or empty), at most three
    /// quarters full. Two forms of one number would only mask more than needed.
    forms: Vec<u64>,
    filed: usize,
    /// Every length of forms per tag, keyed by the tag, so those of one tag sit in one run
    /// of slots; the same layout as `forms`.
    lengths: Vec<Length>,
    measured: usize,
    anchors: usize,
    /// The filter: for each anchor, two bits of one word.
    words: Vec<u64>,
    word_shift: u32,
    /// Forms shorter than an anchor, searched whole (rare: none for ordinary keys).
    short: Vec<Box<[u8]>>,
}

fn anchor_of(window: &[u8]) -> u64 {
    let mut a = [0u8; ANCHOR];
    a.copy_from_slice(&window[..ANCHOR]);
    u64::from_le_bytes(a)
}

/// The top bits of a multiplicative hash of the anchor: anchors are bytes of secrets and of
/// texts, spread well enough, and anything slower per window of every text would cost more
/// than the rest of the scan.
fn tag_of(anchor: u64) -> u32 {
    (anchor.wrapping_mul(SPREAD) >> 32) as u32
}

/// Eight bytes a step: a byte at a time, hashing every form (tokens of a thousand bytes,
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

/// The whole-form hash, computed only where an anchor hit. Equal bytes hash equal, so no
/// secret is missed; two different texts of one length and anchor colliding would only mask
/// more than needed.
fn hash_of(bytes: &[u8]) -> u64 {
    fmix(chunked(0, bytes))
}

/// The home slot of a key in a table of `size` slots (a power of two): its top bits.
fn home(key: u64, size: usize) -> usize {
    key.checked_shr(64 - size.trailing_zeros()).unwrap_or(0) as usize
}

fn form_key(tag: u32, len: u32, hash: u64) -> u64 {
    let key = fmix(hash ^ (u64::from(tag) << 32 | u64::from(len)));
    key.max(1)
}

fn length_key(l: &Length) -> u64 {
    u64::from(l.tag) << 32
}

/// Files `item` unless an equal one is there; true when it was new. `grown` is called
/// first when the table would be more than three quarters full. Doubling amortizes moving
/// every item to a constant per item.
fn file<T: Copy + Default + PartialEq>(
    table: &mut Vec<T>,
    count: &mut usize,
    item: T,
    key: impl Fn(&T) -> u64,
    empty: impl Fn(&T) -> bool,
    mut seen: impl FnMut(&T),
) -> bool {
    if (*count + 1) * 4 > table.len() * 3 {
        let size = (table.len() * 2).max(1024);
        let old = std::mem::replace(table, vec![T::default(); size]);
        for t in old.into_iter().filter(|t| !empty(t)) {
            let mut i = home(key(&t), size);
            while !empty(&table[i]) {
                i = (i + 1) & (size - 1);
            }
            table[i] = t;
        }
    }
    let mask = table.len() - 1;
    let mut i = home(key(&item), table.len());
    while !empty(&table[i]) {
        if table[i] == item {
            return false;
        }
        seen(&table[i]);
        i = (i + 1) & mask;
    }
    table[i] = item;
    *count += 1;
    true
}

impl Index {
    /// How many forms are filed.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.filed + self.short.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.filed == 0 && self.short.is_empty()
    }

    /// The filter's word for a tag (its top bits) and the mask of its two bits (its bottom
    /// twelve, which the top bits never reach: `MOST_WORD_BITS`).
    fn filter(&self, tag: u32) -> (usize, u64) {
        (
            (tag >> self.word_shift) as usize,
            1 << (tag & 63) | 1 << (tag >> 6 & 63),
        )
    }

    /// Files a form; one already there (same anchor, length and hash) is not filed twice.
    pub(super) fn insert(&mut self, form: &[u8]) {
        if form.len() < ANCHOR {
            if !self.short.iter().any(|f| **f == *form) {
                self.short.push(form.into());
            }
            return;
        }
        let Ok(len) = u32::try_from(form.len()) else {
            // No answer is read past a few mebibytes: a longer form can never be in a text.
            return;
        };
        let tag = tag_of(anchor_of(form));
        let key = form_key(tag, len, hash_of(form));
        let (same, empty) = (|k: &u64| *k, |k: &u64| *k == 0);
        if !file(&mut self.forms, &mut self.filed, key, same, empty, |_| {}) {
            return;
        }
        let mut known_tag = false;
        let length = Length { tag, len };
        let empty = |l: &Length| l.len == 0;
        let seen = |l: &Length| known_tag |= l.tag == tag;
        let new = file(
            &mut self.lengths,
            &mut self.measured,
            length,
            length_key,
            empty,
            seen,
        );
        if !new || known_tag {
            return;
        }
        self.anchors += 1;
        let want = ((self.anchors * BITS_PER_ANCHOR)
            .next_power_of_two()
            .max(4096)
            / 64)
            .min(1 << MOST_WORD_BITS);
        if self.words.len() < want {
            self.words = vec![0; want];
            self.word_shift = 32 - want.trailing_zeros();
            for i in 0..self.lengths.len() {
                if self.lengths[i].len != 0 {
                    let (w, bits) = self.filter(self.lengths[i].tag);
                    self.words[w] |= bits;
                }
            }
        } else {
            let (w, bits) = self.filter(tag);
            self.words[w] |= bits;
        }
    }

    fn has(&self, key: u64) -> bool {
        let mask = self.forms.len() - 1;
        let mut i = home(key, self.forms.len());
        while self.forms[i] != 0 {
            if self.forms[i] == key {
                return true;
            }
            i = (i + 1) & mask;
        }
        false
    }

    /// Every span of `haystack` that is a whole form of a secret; `each` returns true to
    /// stop.
    pub(super) fn find(&self, haystack: &[u8], each: &mut dyn FnMut(usize, usize) -> bool) -> bool {
        if self.filed != 0 {
            let mask = self.lengths.len() - 1;
            for (start, window) in haystack.windows(ANCHOR).enumerate() {
                let tag = tag_of(anchor_of(window));
                let (w, bits) = self.filter(tag);
                if self.words[w] & bits != bits {
                    continue;
                }
                let mut i = home(length_key(&Length { tag, len: 0 }), self.lengths.len());
                while self.lengths[i].len != 0 {
                    let Length { tag: t, len } = self.lengths[i];
                    let end = start + len as usize;
                    if t == tag && end <= haystack.len() {
                        let hash = hash_of(&haystack[start..end]);
                        if self.has(form_key(tag, len, hash)) && each(start, end) {
                            return true;
                        }
                    }
                    i = (i + 1) & mask;
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
