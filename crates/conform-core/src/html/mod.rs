//! The reports as web pages for people: a run's report and the parity matrix, each one
//! self-contained file (inline style and script, nothing fetched) so that a CI artifact opens
//! from disk as it is. Filters live in the URL fragment (`#status=fail&operation=AssumeRole`)
//! so a filtered view can be linked. Every piece of report text is escaped on its way into
//! the page; the script only reads data attributes and shows or hides rows, so without
//! script the page shows everything.

mod diff;
mod matrix;
mod report;

use std::fmt::{self, Display, Write as _};

use crate::deviation::Level;
use crate::report::Agreement;

pub use matrix::matrix;
pub use report::report;

/// Report text made safe for element content and quoted attribute values alike, control
/// characters shown as the other renderings show them ([`crate::report::visible`]).
struct Esc<'a>(&'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = crate::report::visible(self.0);
        f.write_str(&quick_xml::escape::escape(shown.as_ref()))
    }
}

const STYLE: &str = include_str!("page.css");

/// Shows the rows (`.case`) whose `data-*` attributes match the filters' selects, keeps the
/// selection in the URL fragment both ways, and counts what is shown. `data-status` may hold
/// several statuses (a matrix row has one per target); `not-pass` matches any but `pass`.
const SCRIPT: &str = include_str!("filters.js");

fn page_start(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        Esc(title)
    );
}

fn page_end(out: &mut String) {
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
}

/// A select of the filter bar: `name` is the data attribute it filters on.
fn select<'a>(
    out: &mut String,
    name: &str,
    label: &str,
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    let _ = write!(
        out,
        "<label>{label} <select name=\"{name}\"><option value=\"\">all</option>"
    );
    for (value, text) in options {
        let _ = write!(
            out,
            "<option value=\"{}\">{}</option>",
            Esc(value),
            Esc(text)
        );
    }
    out.push_str("</select></label>\n");
}

/// The operation of a test name `service::Operation::case`, which the filters use.
fn operation_of(name: &str) -> &str {
    let mut parts = name.split("::");
    match (parts.next(), parts.next()) {
        (Some(_), Some(op)) => op,
        _ => "",
    }
}

/// Agreement per level, one row per group, each share with a bar.
fn level_table(out: &mut String, title: &str, rows: impl IntoIterator<Item = (String, Agreement)>) {
    let _ = write!(
        out,
        "<table class=\"levels\"><thead><tr><th>{}</th><th>cases</th>",
        Esc(title)
    );
    for l in Level::ALL {
        let _ = write!(out, "<th>{l}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for (name, a) in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td>",
            Esc(&name),
            a.cases
        );
        for (i, _) in Level::ALL.iter().enumerate() {
            if a.cases == 0 {
                out.push_str("<td class=\"num\">-</td>");
            } else {
                let _ = write!(
                    out,
                    "<td class=\"num\"><meter min=\"0\" max=\"{}\" value=\"{}\"></meter>{}</td>",
                    a.cases,
                    a.at[i],
                    Esc(&a.share(i))
                );
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviation::{Deviation, Diff, Kind};
    use crate::report::{
        CaseOutcome, CaseReport, Judged, JudgedDeviation, Matrix, RunReport, SCHEMA,
    };

    /// A case; a failing one has one deviation, judged `judged`.
    pub(super) fn judged_case(
        name: &str,
        outcome: CaseOutcome,
        diff: Option<(&str, &str)>,
        judged: Judged,
    ) -> CaseReport {
        let mut parts = name.split("::");
        let mut c = CaseReport {
            name: name.into(),
            service: parts.next().unwrap_or_default().into(),
            operation: parts.next().unwrap_or_default().into(),
            kind: "limit".into(),
            provenance: "documented".into(),
            outcome,
            stop: None,
            diff: diff.map(|(e, a)| Diff::between(e, a)),
            message: (outcome == CaseOutcome::Error)
                .then(|| "refused: <connection> & \"more\"".into()),
            deviations: (outcome == CaseOutcome::Fail)
                .then(|| JudgedDeviation {
                    deviation: Deviation {
                        step: 1,
                        kind: Kind::ValueText,
                        path: "R/<V>".into(),
                        expected: Some("<2>".into()),
                        actual: Some("<3> & \"x\"".into()),
                    },
                    judged,
                    reason: None,
                })
                .into_iter()
                .collect(),
            grade: None,
            known: None,
            file: None,
            line: None,
            time: None,
        };
        c.regrade();
        c
    }

    pub(super) fn case(name: &str, outcome: CaseOutcome, diff: Option<(&str, &str)>) -> CaseReport {
        judged_case(name, outcome, diff, Judged::New)
    }

    pub(super) fn run(target: &str, cases: Vec<CaseReport>) -> RunReport {
        RunReport {
            schema: SCHEMA,
            target: target.into(),
            conform: "0.1.0".into(),
            target_version: None,
            shard: None,
            not_judged: Vec::new(),
            cases,
        }
    }

    #[test]
    fn report_text_is_escaped_everywhere() {
        let evil = "sts::AssumeRole::<script>alert('x')</script>";
        let diff = (
            "<a href=\"x\">&amp;</a>\n<i>",
            "<a href=\"x\">&amp;</a>\n<script>b</script>",
        );
        let mut r = run(
            "<img src=x onerror=y>",
            vec![
                case(evil, CaseOutcome::Fail, Some(diff)),
                case("sts::GetCallerIdentity::x", CaseOutcome::Error, None),
            ],
        );
        r.not_judged = vec![crate::deviation::NotJudged {
            kind: None,
            path: Some("<b>/**".into()),
            case: None,
            reason: "<i>why</i>".into(),
        }];
        let html = report(&r);
        assert!(
            html.contains("<li>paths <code>&lt;b&gt;/**</code>: &lt;i&gt;why&lt;/i&gt; <b>(0 deviations)</b></li>"),
            "{html}"
        );
        // The page's own script is the only one.
        assert_eq!(html.matches("<script>").count(), 1, "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;"),
            "{html}"
        );
        assert!(
            html.contains("refused: &lt;connection&gt; &amp; &quot;more&quot;"),
            "{html}"
        );
        assert!(html.contains("<title>conform against &lt;img src=x onerror=y&gt;</title>"));
        // Deviation values too.
        assert!(
            html.contains("<td><code>R/&lt;V&gt;</code></td><td><code>&lt;2&gt;</code></td><td><code>&lt;3&gt; &amp; &quot;x&quot;</code></td>"),
            "{html}"
        );
        let m = matrix(&Matrix {
            runs: &[run("<b>emu</b>", vec![case(evil, CaseOutcome::Pass, None)])],
        });
        assert_eq!(m.matches("<script>").count(), 1, "{m}");
        assert!(m.contains("<th>&lt;b&gt;emu&lt;/b&gt;</th>"), "{m}");
    }
}
