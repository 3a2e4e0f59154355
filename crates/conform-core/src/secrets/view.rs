//! A text read with its escapes undone (percent, XML and HTML references, JSON escapes),
//! remembering where each decoded byte came from, so a secret found in the decoded text
//! masks the escaped span it was spelled with.

/// The text with its escapes decoded, and where each decoded piece came from.
pub(super) struct View {
    pub(super) bytes: Vec<u8>,
    /// Sorted by position: `(decoded start, decoded length, source start, source length)`.
    escapes: Vec<(usize, usize, usize, usize)>,
}

impl View {
    /// `None` when nothing in the text is an escape (the view would be the text itself).
    pub(super) fn of(text: &[u8]) -> Option<View> {
        let mut view = View {
            bytes: Vec::new(),
            escapes: Vec::new(),
        };
        let mut i = 0;
        let mut copied = 0;
        // Most texts hold few escapes or none: jumping between them (several bytes a step)
        // costs far less than looking at every byte.
        while let Some(skip) = memchr::memchr3(b'%', b'&', b'\\', &text[i..]) {
            i += skip;
            let b = text[i];
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
    pub(super) fn source(&self, start: usize, end: usize) -> (usize, usize) {
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
