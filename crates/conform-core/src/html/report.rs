//! A run's report as a page.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::diff::diff_table;
use super::{Esc, level_table, page_end, page_start, select};
use crate::report::{CaseReport, Judged, RunReport, SHOWN_DEVIATIONS, Status};

/// What became of each case, in the order people read them, with the words for their
/// counts: a run's outcomes, with the failures its baseline lists apart as `baselined`.
const OUTCOMES: [(Status, &str); 6] = [
    (Status::Pass, "passed"),
    (Status::Fail, "failed"),
    (Status::Baselined, "only known deviations"),
    (Status::Incomplete, "incomplete"),
    (Status::Missing, "missing a snapshot"),
    (Status::Error, "errors"),
];

/// The target's not-judged rules, each with the number of deviations it left out.
pub(super) fn not_judged_list(out: &mut String, r: &RunReport) {
    if r.not_judged.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<div class=\"not-judged\"><h3>Not judged ({})</h3><ul>",
        Esc(&r.target)
    );
    for (rule, count) in r.not_judged_counts() {
        let _ = write!(
            out,
            "<li>{}: {} <b>({count} deviations)</b></li>",
            crate::report::rule_parts(rule)
                .iter()
                .map(|(what, p)| format!("{what} <code>{}</code>", Esc(p)))
                .collect::<Vec<_>>()
                .join(", "),
            Esc(&rule.reason)
        );
    }
    out.push_str("</ul></div>\n");
}

/// A case's deviations, one row each, with how each was judged.
fn deviations_table(out: &mut String, c: &CaseReport) {
    out.push_str(
        "<table class=\"deviations\"><thead><tr><th>step</th><th>kind</th><th>path</th><th>expected</th><th>actual</th><th>judged</th></tr></thead><tbody>\n",
    );
    for d in c.deviations.iter().take(SHOWN_DEVIATIONS) {
        let v = &d.deviation;
        let (class, judged) = match d.judged {
            Judged::New => ("new", "new".to_owned()),
            Judged::Known => ("known", "known".to_owned()),
            Judged::NotJudged => ("not-judged", "not judged".to_owned()),
        };
        let title = d
            .reason
            .as_deref()
            .map(|r| format!(" title=\"{}\"", Esc(r)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td{title}>{judged}</td></tr>",
            v.step,
            v.kind,
            Esc(&v.path),
            Esc(v.expected.as_deref().unwrap_or("")),
            Esc(v.actual.as_deref().unwrap_or("")),
        );
    }
    let more = c.deviations.len().saturating_sub(SHOWN_DEVIATIONS);
    if more > 0 {
        let _ = writeln!(
            out,
            "<tr class=\"note\"><td colspan=\"6\">... {} more deviations not shown; the JSON report lists every one</td></tr>",
            crate::report::thousands(more)
        );
    }
    out.push_str("</tbody></table>\n");
}

/// A table of passed-of-cases per group (kind, operation), with a bar and the other outcomes.
fn tally_table(
    out: &mut String,
    title: &str,
    cases: &[CaseReport],
    key: fn(&CaseReport) -> String,
) {
    let mut groups: BTreeMap<String, BTreeMap<Status, usize>> = BTreeMap::new();
    for c in cases {
        *groups
            .entry(key(c))
            .or_default()
            .entry(c.status())
            .or_default() += 1;
    }
    let _ = writeln!(
        out,
        "<table class=\"tally\"><thead><tr><th>{title}</th><th>passed</th><th>failed</th><th>known</th><th>incomplete</th><th>missing</th><th>errors</th><th>cases</th></tr></thead><tbody>"
    );
    for (group, counts) in &groups {
        let all: usize = counts.values().sum();
        let get = |o: Status| counts.get(&o).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\"><meter min=\"0\" max=\"{all}\" value=\"{pass}\"></meter>{pass}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{all}</td></tr>",
            Esc(group),
            get(Status::Fail),
            get(Status::Baselined),
            get(Status::Incomplete),
            get(Status::Missing),
            get(Status::Error),
            pass = get(Status::Pass),
        );
    }
    out.push_str("</tbody></table>\n");
}

/// A run's report as one self-contained HTML page: counts, tallies by kind and operation,
/// every case with its status, and a side-by-side diff (or the message) for each case that
/// did not pass.
pub fn report(r: &RunReport) -> String {
    let mut out = String::new();
    page_start(&mut out, &format!("conform against {}", r.target));
    let _ = writeln!(out, "<header>\n<h1>conform against {}</h1>", Esc(&r.target));
    let _ = write!(
        out,
        "<p class=\"meta\">conform {} · {} cases",
        Esc(&r.conform),
        r.cases.len()
    );
    if let Some(v) = &r.target_version {
        let _ = write!(out, " · target {}", Esc(v));
    }
    if let Some(s) = &r.shard {
        let _ = write!(out, " · shard {}", Esc(s));
    }
    out.push_str("</p>\n<ul class=\"counts\">");
    let count = |status: Status| r.cases.iter().filter(|c| c.status() == status).count();
    for (outcome, words) in OUTCOMES {
        // Known deviations only where a baseline judged the run.
        if outcome == Status::Baselined && count(outcome) == 0 {
            continue;
        }
        let _ = write!(
            out,
            "<li class=\"{outcome}\"><b>{}</b>{words}</li>",
            count(outcome)
        );
    }
    let n = r.counts();
    let _ = write!(
        out,
        "</ul>\n<p class=\"meta\">{}</p>\n</header>\n<h2>Agreement by level</h2>\n\
         <p class=\"meta\">Each level includes those before it; <code>values</code> is a full pass.</p>\n",
        Esc(&crate::report::deviations_line(&n))
    );
    let mut rows = vec![("all".to_owned(), r.agreement(""))];
    rows.extend(
        r.operations()
            .into_iter()
            .map(|op| (op.trim_end_matches(':').to_owned(), r.agreement(&op))),
    );
    level_table(&mut out, "operation", rows);
    not_judged_list(&mut out, r);
    out.push_str("<h2>By kind and by operation</h2>\n<div class=\"tallies\">\n");
    tally_table(&mut out, "kind", &r.cases, |c| c.kind.clone());
    tally_table(&mut out, "operation", &r.cases, |c| {
        format!("{}::{}", c.service, c.operation)
    });
    out.push_str("</div>\n<h2>Cases</h2>\n<form id=\"filters\" class=\"filters\" hidden>\n");
    let operations: BTreeSet<&str> = r.cases.iter().map(|c| c.operation.as_str()).collect();
    let kinds: BTreeSet<&str> = r.cases.iter().map(|c| c.kind.as_str()).collect();
    select(
        &mut out,
        "operation",
        "operation",
        operations.iter().map(|o| (*o, *o)),
    );
    select(&mut out, "kind", "kind", kinds.iter().map(|k| (*k, *k)));
    select(
        &mut out,
        "status",
        "status",
        std::iter::once(("not-pass", "not passing"))
            .chain(OUTCOMES.iter().map(|(o, _)| (o.name(), o.name()))),
    );
    let _ = write!(
        out,
        "</form>\n<p id=\"shown\" class=\"shown\">{n} of {n} cases shown</p>\n\
         <table class=\"cases\"><thead><tr><th>status</th><th>case</th><th>kind</th><th>provenance</th></tr></thead>\n",
        n = r.cases.len()
    );
    for c in &r.cases {
        // One tbody per case, so the filter hides a case's row and its diff together.
        let _ = write!(
            out,
            "<tbody class=\"case\" data-operation=\"{}\" data-kind=\"{}\" data-status=\"{}\">\n\
             <tr class=\"summary\"><td><span class=\"status {st}\">{st}</span></td><td>",
            Esc(&c.operation),
            Esc(&c.kind),
            Esc(c.status().name()),
            st = Esc(c.status().name()),
        );
        match c.name.rsplit_once("::") {
            Some((op, id)) => {
                let _ = write!(out, "<span class=\"op\">{}::</span>{}", Esc(op), Esc(id));
            }
            None => {
                let _ = write!(out, "{}", Esc(&c.name));
            }
        }
        let _ = writeln!(
            out,
            "</td><td>{}</td><td>{}</td></tr>",
            Esc(&c.kind),
            Esc(&c.provenance)
        );
        if c.message.is_some() || c.diff.is_some() || !c.deviations.is_empty() {
            out.push_str("<tr class=\"detail\"><td colspan=\"4\">\n");
            if let Some(k) = &c.known {
                let _ = writeln!(out, "<p class=\"known\">Known deviation: {}</p>", Esc(k));
            }
            if let Some(m) = &c.message {
                let _ = writeln!(out, "<p class=\"message\">{}</p>", Esc(m));
            }
            if !c.deviations.is_empty() {
                deviations_table(&mut out, c);
            }
            if let Some(d) = &c.diff {
                // A diff starts folded unless the case has new deviations, so those stand out.
                let open = if c.judged(Judged::New).next().is_some() {
                    " open"
                } else {
                    ""
                };
                let _ = writeln!(out, "<details{open}><summary>diff</summary>");
                diff_table(&mut out, d);
                out.push_str("</details>\n");
            }
            out.push_str("</td></tr>\n");
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
    page_end(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::{case, judged_case, run};
    use crate::report::CaseOutcome;

    #[test]
    fn rows_carry_what_the_filters_read_and_the_counter_starts_at_all() {
        let html = report(&run(
            "moto",
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Pass, None),
                case("sts::AssumeRole::b", CaseOutcome::Fail, Some(("x", "y"))),
                case("sts::GetCallerIdentity::c", CaseOutcome::Error, None),
            ],
        ));
        assert!(
            html.contains("<p id=\"shown\" class=\"shown\">3 of 3 cases shown</p>"),
            "{html}"
        );
        assert!(
            html.contains("<tbody class=\"case\" data-operation=\"AssumeRole\" data-kind=\"limit\" data-status=\"fail\">"),
            "{html}"
        );
        assert_eq!(html.matches("<tbody class=\"case\"").count(), 3);
        for option in [
            "<option value=\"GetCallerIdentity\">",
            "<option value=\"limit\">",
            "<option value=\"not-pass\">",
        ] {
            assert!(html.contains(option), "{option}\n{html}");
        }
        assert!(
            html.contains("<li class=\"fail\"><b>1</b>failed</li>"),
            "{html}"
        );
        // Nothing leaves the file.
        for external in ["src=", "href=\"http", "@import", "url("] {
            assert!(!html.contains(external), "{external}");
        }
    }

    #[test]
    fn a_known_deviation_shows_its_reason_and_folds_its_diff() {
        let mut known = judged_case(
            "sts::AssumeRole::k",
            CaseOutcome::Fail,
            Some(("a", "b")),
            Judged::Known,
        );
        known.known = Some("answers <200> & no error".into());
        let html = report(&run(
            "emu",
            vec![
                known,
                case("sts::AssumeRole::n", CaseOutcome::Fail, Some(("a", "c"))),
            ],
        ));
        assert!(
            html.contains("data-status=\"baselined\">\n<tr class=\"summary\"><td><span class=\"status baselined\">baselined</span>"),
            "{html}"
        );
        assert!(
            html.contains("<p class=\"known\">Known deviation: answers &lt;200&gt; &amp; no error</p>\n<table class=\"deviations\">"),
            "{html}"
        );
        assert!(
            html.contains(
                "<td>known</td></tr>\n</tbody></table>\n<details><summary>diff</summary>"
            ),
            "{html}"
        );
        // The new failure's diff is open, and the counts keep the two apart.
        assert!(
            html.contains("<details open><summary>diff</summary>"),
            "{html}"
        );
        assert!(
            html.contains("<li class=\"fail\"><b>1</b>failed</li><li class=\"baselined\"><b>1</b>only known deviations</li>"),
            "{html}"
        );
    }
}
