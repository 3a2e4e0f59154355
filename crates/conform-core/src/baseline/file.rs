//! The baseline file: parsed from its text and written back as TOML, with reading and
//! writing the file kept to two thin functions.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use super::{Baseline, Known, KnownCase};

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Not TOML, or not the shape of a baseline: at the line and column.
    #[error("{}", .0.render_inline())]
    Parse(Box<crate::diagnostic::Diagnostic>),
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "case")]
    cases: Vec<RawCase>,
    /// The first format: `[[deviation]] case = ..., reason = ...`.
    #[serde(default, rename = "deviation")]
    whole: Vec<RawWholeCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: toml::Spanned<String>,
    reason: String,
    #[serde(default)]
    setup_refused: Option<String>,
    #[serde(default)]
    deviations: Vec<Known>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWholeCase {
    case: toml::Spanned<String>,
    reason: String,
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Baseline {
    pub fn parse(text: &str, path: &str) -> Result<Baseline, BaselineError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let source = std::sync::Arc::from(text);
            let d = crate::diagnostic::toml_error(Path::new(path), source, &e)
                .with_help("a baseline lists [[case]] entries of name, reason and deviations; `--update-baseline` writes one");
            BaselineError::Parse(Box::new(d))
        })?;
        let invalid = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
            BaselineError::Invalid {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        };
        if !raw.cases.is_empty() && !raw.whole.is_empty() {
            let first = &raw.whole[0].case;
            return Err(invalid(
                first.span(),
                "this file mixes [[case]] entries with whole-case [[deviation]] entries; run --update-baseline to convert it whole".into(),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut cases = Vec::new();
        let whole_cases = !raw.whole.is_empty();
        let entries = raw
            .cases
            .into_iter()
            .map(|c| (c.name, c.reason, Some(c.deviations), c.setup_refused))
            .chain(
                raw.whole
                    .into_iter()
                    .map(|w| (w.case, w.reason, None, None)),
            );
        for (name, reason, deviations, setup_refused) in entries {
            let span = name.span();
            let name = name.into_inner();
            if !seen.insert(name.clone()) {
                return Err(invalid(
                    span,
                    format!("{name} is listed twice; merge its entries"),
                ));
            }
            if deviations.as_ref().is_some_and(Vec::is_empty) && setup_refused.is_none() {
                return Err(invalid(
                    span,
                    format!(
                        "{name} lists no deviation and no refused setup: list what is known in it, or remove the entry"
                    ),
                ));
            }
            cases.push(KnownCase {
                name,
                reason,
                deviations: deviations.unwrap_or_default(),
                setup_refused,
            });
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Baseline { cases, whole_cases })
    }

    /// One `[[case]]` table per case, its deviations one inline table a line.
    pub fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut s = String::from(
            "# Known deviations of this target, named one by one. The gate fails on a deviation not\n\
             # listed here (also in a case that lists others) and on a listed one that no longer occurs.\n\
             # A deviation matches by step, kind and path, and by its expected and actual values where\n\
             # they are written (values that change from run to run are left out). Its reason is its own\n\
             # `reason`, or else the case's. Rewrite with the command the gate prints, which keeps the\n\
             # reasons; then sharpen the ones it wrote. A case whose setup the target refuses (an\n\
             # operation it lacks) lists that refusal as `setup_refused`: the gate excuses only it.\n",
        );
        for c in &self.cases {
            let _ = write!(
                s,
                "\n[[case]]\nname = {}\nreason = {}\n",
                q(&c.name),
                q(&c.reason)
            );
            if let Some(r) = &c.setup_refused {
                let _ = writeln!(s, "setup_refused = {}", q(r));
            }
            s.push_str("deviations = [\n");
            for k in &c.deviations {
                let _ = write!(s, "  {{ step = {}, kind = {}", k.step, q(k.kind.name()));
                if !k.path.is_empty() {
                    let _ = write!(s, ", path = {}", q(&k.path));
                }
                for (key, v) in [
                    ("expected", &k.expected),
                    ("actual", &k.actual),
                    ("reason", &k.reason),
                ] {
                    if let Some(v) = v {
                        let _ = write!(s, ", {key} = {}", q(v));
                    }
                }
                s.push_str(" },\n");
            }
            s.push_str("]\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use crate::baseline::tests::dev;
    use crate::baseline::{Baseline, Known, KnownCase};
    use crate::deviation::Kind;

    #[test]
    fn values_with_quotes_and_control_characters_survive_the_file() {
        let odd = "a \"quoted\" \\ value\nwith a line and \u{1}";
        let b = Baseline {
            cases: vec![KnownCase {
                name: "x".into(),
                reason: "it's \"odd\"".into(),
                deviations: vec![Known::from_run(
                    &dev(
                        2,
                        Kind::ErrorMessage,
                        "E/Error/Message",
                        Some(odd),
                        Some(odd),
                    ),
                    None,
                )],
                setup_refused: Some(odd.into()),
            }],
            whole_cases: false,
        };
        assert_eq!(Baseline::parse(&b.to_toml(), "x.toml").unwrap(), b);
    }

    #[test]
    fn mistakes_in_the_file_name_their_line() {
        let err = |t: &str| Baseline::parse(t, "b.toml").unwrap_err().to_string();
        let e = err("[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = []\n");
        assert!(e.starts_with("b.toml:2:8: a lists no deviation"), "{e}");
        let e = err(
            "[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = [{ step = 1, kind = \"status\" }]\n[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = [{ step = 1, kind = \"status\" }]\n",
        );
        assert!(e.starts_with("b.toml:6:8: a is listed twice"), "{e}");
        let e = err(
            "[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = [{ step = 1, kind = \"colour\" }]\n",
        );
        assert!(
            e.starts_with("b.toml:4:34: ") && e.contains("colour"),
            "{e}"
        );
        let e = err(
            "[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = [{ step = 1, kind = \"status\", pth = \"x\" }]\n",
        );
        assert!(e.starts_with("b.toml:4:") && e.contains("pth"), "{e}");
        assert!(
            e.contains("4 │ deviations = ["),
            "the line, with a caret under it: {e}"
        );
    }
}
