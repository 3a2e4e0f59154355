//! User-facing load errors: a message anchored at file:line:col, with the offending source
//! line and a caret when rendered (through miette), and a hint that says what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, MietteError, MietteSpanContents, SourceCode,
    SourceSpan, SpanContents,
};

/// The longest line shown under a message, and the longest message and hint: a value
/// pasted by mistake (megabytes on one line) must not come back megabytes long, once per
/// mention.
const SHOWN_LINE_CHARS: usize = 160;
const SHOWN_MESSAGE_CHARS: usize = 240;
/// Hints may list a model's operations (IAM has 181).
const SHOWN_HELP_CHARS: usize = 6_000;

/// Where in a scenario file something was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// 1-based line and column (in characters).
    pub line: u32,
    pub col: u32,
    /// Byte offset and length in the file, for the caret.
    pub offset: usize,
    pub len: usize,
}

/// One problem in one input file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{}:{}: {message}", file.display(), span.line, span.col)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    excerpt: Excerpt,
}

impl Diagnostic {
    pub fn new(file: &Path, source_text: Arc<str>, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_owned(),
            span,
            message: cut(message.into(), SHOWN_MESSAGE_CHARS),
            help: None,
            excerpt: Excerpt::around(&file.display().to_string(), &source_text, span),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(cut(help.into(), SHOWN_HELP_CHARS));
        self
    }

    /// The full report: location, source line with a caret, and the hint. No colours, so
    /// that it reads the same in a terminal, a CI log and a snapshot.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
        if handler.render_report(&mut out, self).is_err() {
            out = self.to_string();
        }
        out
    }

    /// `file:line:col: message` on one unwrapped line, then the source lines with the caret
    /// and the hint as [`render`](Self::render) shows them: for a diagnostic that travels
    /// inside another error as text, whose printer puts its own `error: ` before it.
    pub fn render_inline(&self) -> String {
        let rendered = self.render();
        // The excerpt starts at its frame; what comes before is the (wrapped) headline.
        match rendered.lines().position(|l| l.contains("╭─[")) {
            Some(at) => {
                let rest: Vec<&str> = rendered.lines().skip(at).collect();
                format!("{self}\n{}", rest.join("\n").trim_end())
            }
            None => self.to_string(),
        }
    }
}

/// Where a YAML node was written (serde-saphyr keeps it for every `Spanned` value).
pub fn yaml_span<T>(s: &serde_saphyr::Spanned<T>) -> Span {
    let loc = s.referenced;
    let sp = loc.span();
    Span {
        line: loc.line() as u32,
        col: loc.column() as u32,
        offset: sp.byte_offset().unwrap_or(0) as usize,
        len: sp.byte_len().unwrap_or(0) as usize,
    }
}

/// The YAML parser's error at the place it names (the file's start when it names none),
/// in our words rather than the parser's. Callers add the hint that fits their file.
pub fn yaml_error(file: &Path, source: Arc<str>, e: &serde_saphyr::Error) -> Diagnostic {
    let span = match e.location() {
        Some(loc) => span_at(
            &source,
            (loc.line() as u32).max(1),
            (loc.column() as u32).max(1),
            1,
        ),
        None => span_at(&source, 1, 1, 0),
    };
    Diagnostic::new(file, source, span, yaml_message(e))
}

/// The parser's message without its own snippet: we render location and caret ourselves.
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    // The parser appends its own " at line X column Y"; the diagnostic already says where.
    let text = match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    // Say what the scenario format wanted in its own terms, not the parser's.
    let text = text.trim();
    if let Some(key) = text
        .strip_prefix("duplicate mapping key: ")
        .and_then(|rest| rest.split(", set DuplicateKeyPolicy").next())
    {
        return format!("`{key}` is written twice in one mapping");
    }
    for (parser, ours) in [
        (
            "expected sequence start",
            "expected a list here (items start with `- `)",
        ),
        (
            "expected mapping start",
            "expected a mapping here (`name: value` lines)",
        ),
        ("expected string scalar", "expected a text value here"),
    ] {
        if text == parser {
            return ours.to_owned();
        }
    }
    text.to_owned()
}

/// The TOML parser's error at the place it names, without the parser's own snippet (the
/// diagnostic shows the lines and the caret). Callers add the hint that fits their file.
pub fn toml_error(file: &Path, source: Arc<str>, e: &toml::de::Error) -> Diagnostic {
    let span = match e.span() {
        Some(range) => span_of_bytes(&source, range),
        None => span_at(&source, 1, 1, 0),
    };
    Diagnostic::new(file, source, span, e.message().trim())
}

/// Where a value of a TOML document is written: `keys` lead from the top through tables
/// (by name) and arrays (by index); where a key is missing, the last table found. For
/// values the syntax allows but their file's meaning does not.
pub fn toml_value_span(text: &str, keys: &[&str]) -> Span {
    use toml::de::{DeTable, DeValue};
    let Ok(doc) = DeTable::parse(text) else {
        return span_at(text, 1, 1, 0);
    };
    let mut span = doc.span();
    let mut here = DeValue::Table(doc.into_inner());
    for key in keys {
        let next = match &here {
            DeValue::Table(t) => t
                .iter()
                .find(|(k, _)| k.get_ref() == key)
                .map(|(_, v)| v.clone()),
            DeValue::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i).cloned()),
            _ => None,
        };
        let Some(next) = next else {
            break;
        };
        span = next.span();
        here = next.into_inner();
    }
    span_of_bytes(text, span)
}

/// A span from a byte range, for parsers that give offsets (TOML).
fn span_of_bytes(source: &str, range: std::ops::Range<usize>) -> Span {
    let mut start = range.start.min(source.len());
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    Span {
        line: source[..start].matches('\n').count() as u32 + 1,
        col: source[line_start..start].chars().count() as u32 + 1,
        offset: start,
        len: range.end.saturating_sub(start).min(source.len() - start),
    }
}

impl miette::Diagnostic for Diagnostic {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some("here".into()), self.excerpt.span),
        )))
    }
}

/// A text cut to `max` characters, saying how much was left out.
fn cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((at, _)) => {
            let left = text[at..].chars().count();
            format!("{}… ({left} more characters)", &text[..at])
        }
    }
}

/// The few lines around a span, each cut to `SHOWN_LINE_CHARS` (the span's own line around
/// the span), so that rendering costs the same for a 5 MB file as for a small one. Line and
/// column numbers stay those of the whole file.
#[derive(Debug, Clone)]
struct Excerpt {
    name: String,
    text: String,
    /// The span within `text`.
    span: SourceSpan,
    /// 0-based line of the file where `text` starts.
    first_line: usize,
    /// Characters cut from the front of the span's line, to add back to its column.
    shift: usize,
}

impl Excerpt {
    const AROUND: usize = 3;

    fn around(name: &str, source: &str, span: Span) -> Excerpt {
        let offset = span.offset.min(source.len());
        let offset = (0..=offset)
            .rev()
            .find(|o| source.is_char_boundary(*o))
            .unwrap_or(0);
        let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_index = source[..line_start].matches('\n').count();
        let before: Vec<&str> = source[..line_start]
            .strip_suffix('\n')
            .map(|b| b.rsplit('\n').take(Self::AROUND).collect())
            .unwrap_or_default();
        let first_line = line_index - before.len();
        let mut text = String::new();
        for l in before.iter().rev() {
            text.push_str(&cut_line(l, 0).0);
            text.push('\n');
        }
        let rest = &source[line_start..];
        let own = rest.split('\n').next().unwrap_or("");
        // Keep some context before the span on its line, then as much as fits.
        let col = source[line_start..offset].chars().count();
        let from = col.saturating_sub(SHOWN_LINE_CHARS / 4);
        let (shown, shift) = cut_line(own, from);
        let at = text.len()
            + shown
                .char_indices()
                .nth(col - shift + usize::from(shift > 0))
                .map_or(shown.len(), |(i, _)| i);
        let own_len = text.len() + shown.len();
        text.push_str(&shown);
        for l in rest.split('\n').skip(1).take(Self::AROUND) {
            text.push('\n');
            text.push_str(&cut_line(l, 0).0);
        }
        let mut len = span.len.min(own_len.saturating_sub(at));
        // Never into the middle of the `…` that marks a cut.
        while !text.is_char_boundary(at + len) {
            len -= 1;
        }
        Excerpt {
            name: name.to_owned(),
            text,
            span: SourceSpan::new(at.into(), len),
            first_line,
            shift: shift.saturating_sub(usize::from(shift > 0)),
        }
    }
}

/// The line from character `from`, at most `SHOWN_LINE_CHARS` long, with `…` where it was
/// cut; and how many characters were cut from the front.
fn cut_line(line: &str, from: usize) -> (String, usize) {
    let total = line.chars().count();
    if total <= SHOWN_LINE_CHARS {
        return (line.to_owned(), 0);
    }
    let from = from.min(total.saturating_sub(SHOWN_LINE_CHARS));
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(line.chars().skip(from).take(SHOWN_LINE_CHARS));
    if from + SHOWN_LINE_CHARS < total {
        out.push('…');
    }
    (out, from)
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        let line = inner.line();
        // The column only moves on the span's own line, the one that may have been cut.
        let own_line = self.text[..self.span.offset()].matches('\n').count();
        let column = if line == own_line {
            inner.column() + self.shift
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            line + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

/// Reading an input file as text.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// Not UTF-8: where the first bad byte is, as a diagnostic.
    NotUtf8(Box<Diagnostic>),
}

/// An input file's bytes as UTF-8 text; the first invalid byte is reported at its line and
/// column (`shown` is the path as the user should see it).
pub fn text_of(bytes: Vec<u8>, shown: &Path) -> Result<String, ReadError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let bad = e.as_bytes()[good];
            let before = &e.as_bytes()[..good];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            // Valid up to `good`, so the line's start is a character boundary.
            let col = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            let lossy: Arc<str> = Arc::from(String::from_utf8_lossy(e.as_bytes()).as_ref());
            let span = span_at(&lossy, line as u32, col as u32, 1);
            Err(ReadError::NotUtf8(Box::new(
                Diagnostic::new(
                    shown,
                    lossy,
                    span,
                    format!("not UTF-8: byte 0x{bad:02X} cannot start or continue a character"),
                )
                .with_help("save the file as UTF-8 (YAML files are UTF-8)"),
            )))
        }
    }
}

/// A span from 1-based line and column, for errors that only know those (the YAML parser).
pub fn span_at(source: &str, line: u32, col: u32, len: usize) -> Span {
    let mut offset = 0;
    for (i, l) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let within: usize = l
                .chars()
                .take(col.saturating_sub(1) as usize)
                .map(char::len_utf8)
                .sum();
            offset += within;
            break;
        }
        offset += l.len();
    }
    let offset = offset.min(source.len());
    let len = len.min(source.len() - offset);
    Span {
        line,
        col,
        offset,
        len,
    }
}

/// Closest candidate by edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = given.to_ascii_lowercase();
    let close_enough = |c: &str| (c.len() / 3).max(2);
    candidates
        .into_iter()
        // The distance is at least the difference in length: skipping those that differ
        // more changes no answer, and keeps a pasted megabyte from costing a minute.
        .filter(|c| given.len().abs_diff(c.len()) <= close_enough(c))
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= close_enough(c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_tolerate_case_and_typos() {
        let ops = ["AssumeRole", "GetCallerIdentity", "GetSessionToken"];
        assert_eq!(did_you_mean("AssumRole", ops), Some("AssumeRole"));
        assert_eq!(
            did_you_mean("getcalleridentity", ops),
            Some("GetCallerIdentity")
        );
        assert_eq!(did_you_mean("ListBuckets", ops), None);
    }

    #[test]
    fn renders_location_caret_and_help() {
        let src: Arc<str> = Arc::from("cases:\n  - id: x\n    kidn: limit\n");
        let d = Diagnostic::new(
            Path::new("a.yaml"),
            src.clone(),
            span_at(&src, 3, 5, 4),
            "unknown field `kidn`",
        )
        .with_help("did you mean `kind`?");
        assert_eq!(d.to_string(), "a.yaml:3:5: unknown field `kidn`");
        let r = d.render();
        assert!(r.contains("a.yaml:3:5"), "{r}");
        assert!(r.contains("kidn: limit"), "{r}");
        assert!(r.contains("did you mean `kind`?"), "{r}");
    }

    #[test]
    fn a_megabyte_line_is_shown_cut_with_its_true_line_and_column() {
        let value = "X".repeat(5_000_000);
        let src: Arc<str> = Arc::from(format!("a: 1\nb: 2\nop: {value}\nc: 3\n").as_str());
        let d = Diagnostic::new(
            Path::new("big.yaml"),
            src.clone(),
            span_at(&src, 3, 5, value.len()),
            format!("unknown operation `{value}`"),
        )
        .with_help(format!("did you mean {value}?"));
        let r = d.render();
        assert!(r.len() < 10_000, "{} bytes rendered", r.len());
        assert!(r.contains("big.yaml:3:5"), "{r}");
        assert!(r.contains("more characters"), "{r}");
        assert!(r.contains("b: 2") && r.contains("c: 3"), "{r}");
        // A span far along a long line: the shown part is around it, the column is true.
        let src: Arc<str> =
            Arc::from(format!("{}bad{}\n", "y".repeat(9_000), "z".repeat(9_000)).as_str());
        let d = Diagnostic::new(
            Path::new("l.yaml"),
            src.clone(),
            span_at(&src, 1, 9_001, 3),
            "bad",
        );
        let r = d.render();
        assert!(r.contains("l.yaml:1:9001"), "{r}");
        assert!(r.contains("ybadz"), "{r}");
        assert!(r.len() < 2_000, "{r}");
    }

    #[test]
    fn suggesting_for_a_huge_value_skips_every_candidate_at_once() {
        let huge = "A".repeat(5_000_000);
        assert_eq!(
            did_you_mean(&huge, ["AssumeRole", "GetCallerIdentity"]),
            None
        );
    }
}
