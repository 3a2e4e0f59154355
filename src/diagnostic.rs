//! User-facing load errors: a message anchored at file:line:col, with the offending source
//! line and a caret when rendered (through miette), and a hint that says what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource, SourceSpan};

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
    source_text: Arc<str>,
    named: NamedSource<Arc<str>>,
}

impl Diagnostic {
    pub fn new(file: &Path, source_text: Arc<str>, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_owned(),
            span,
            message: message.into(),
            help: None,
            named: NamedSource::new(file.display().to_string(), source_text.clone()),
            source_text,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
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
}

impl miette::Diagnostic for Diagnostic {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.named)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let offset = self.span.offset.min(self.source_text.len());
        let len = self.span.len.min(self.source_text.len() - offset);
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(
                Some("here".into()),
                SourceSpan::new(offset.into(), len),
            ),
        )))
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
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
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
}
