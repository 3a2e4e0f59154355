//! Text from an endpoint as every output shows it: control characters spelled out
//! ([`visible`]), long text cut with a note of what was left out and where the whole is
//! ([`cut`]), and the numbers such notes use.

use std::fmt::Write as _;

/// Text that came from an endpoint, safe for a terminal and for Markdown, HTML and XML
/// reports: every control character but tab and newline (C0, DEL, C1, and a carriage
/// return not followed by a newline) is written as `\u{1b}`. That spelling is ASCII, so
/// it survives every terminal, font and report format; it covers C1 and DEL, which have
/// no control pictures; and it names the code point exactly, as Rust and JSON do.
/// Applying it twice changes nothing.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char, next: Option<char>| match c {
        '\t' | '\n' => false,
        '\r' => next != Some('\n'),
        c => c.is_control(),
    };
    let mut chars = text.char_indices().peekable();
    let first = loop {
        let Some((i, c)) = chars.next() else {
            return std::borrow::Cow::Borrowed(text);
        };
        if hidden(c, chars.peek().map(|&(_, n)| n)) {
            break i;
        }
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    let mut chars = text[first..].chars().peekable();
    while let Some(c) = chars.next() {
        if hidden(c, chars.peek().copied()) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` cut after `max_lines` lines or `max_bytes` bytes, whichever comes first, with a
/// last line saying how much was left out and where the whole of it is (`whole`).
pub fn cut<'a>(
    text: &'a str,
    max_lines: usize,
    max_bytes: usize,
    whole: &str,
) -> std::borrow::Cow<'a, str> {
    let mut end = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if n == max_lines || end + line.len() > max_bytes {
            break;
        }
        end += line.len();
    }
    if end == text.len() {
        return std::borrow::Cow::Borrowed(text);
    }
    if end == 0 {
        // One line longer than the whole budget: keep what fits of it.
        end = max_bytes.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
    }
    let (kept, rest) = text.split_at(end);
    let lines = rest.lines().count();
    let mut out = String::with_capacity(end + 160);
    out.push_str(kept);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&left_out(lines, rest.len(), whole));
    std::borrow::Cow::Owned(out)
}

/// The note that ends a cut text: `... 99,600 more lines (1.0 MB) not shown; {whole}`.
pub fn left_out(lines: usize, bytes: usize, whole: &str) -> String {
    format!(
        "... {} more {} ({}) not shown; {whole}",
        thousands(lines),
        if lines == 1 { "line" } else { "lines" },
        size(bytes)
    )
}

/// `98,765`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `812 bytes`, `64.0 KB`, `12.3 MB`.
pub fn size(bytes: usize) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        let raw = "a\u{1b}[31mred\u{7}\u{8}x\ry\r\nz\tw\u{7f}\u{9b}é";
        let shown = visible(raw);
        assert_eq!(
            shown,
            "a\\u{1b}[31mred\\u{7}\\u{8}x\\u{d}y\r\nz\tw\\u{7f}\\u{9b}é"
        );
        assert_eq!(visible(&shown), shown, "a second pass changes nothing");
        assert!(matches!(
            visible("plain\ttext\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn long_texts_are_cut_with_what_was_left_out_and_where() {
        let text: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        let out = cut(&text, 400, 64 * 1024, "see x.snap.new");
        assert_eq!(out.lines().count(), 401);
        assert!(out.starts_with("line 0\nline 1\n"));
        assert!(
            out.ends_with("\n... 99,600 more lines (1.0 MB) not shown; see x.snap.new"),
            "{}",
            &out[out.len() - 100..]
        );
        // The byte budget cuts first when lines are long; one huge line keeps what fits.
        let wide = "é".repeat(100_000);
        let out = cut(&wide, 400, 1001, "gone");
        assert!(out.starts_with(&"é".repeat(500)));
        assert!(
            out.ends_with("... 1 more line (194.3 KB) not shown; gone"),
            "{out}"
        );
        assert!(matches!(
            cut("short\n", 400, 1024, "-"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
