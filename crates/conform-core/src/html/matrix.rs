//! The parity matrix as a page.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::report::not_judged_list;
use super::{Esc, level_table, operation_of, page_end, page_start, select};
use crate::report::{Matrix, Status};

/// The parity matrix as one self-contained HTML page: pass rates per operation and overall
/// for each target, then every case with what each target did (pass, fail, baselined, not
/// run), filterable by operation and by cell.
pub fn matrix(m: &Matrix) -> String {
    let mut out = String::new();
    page_start(&mut out, "conform parity matrix");
    let names = m.names();
    let targets: Vec<&str> = m.runs.iter().map(|r| r.target.as_str()).collect();
    let _ = write!(
        out,
        "<header>\n<h1>conform parity matrix</h1>\n<p class=\"meta\">{} cases · {} targets</p>\n</header>\n\
         <h2>Agreement by level</h2>\n<p class=\"meta\">The share of cases that agree with the snapshots at each level; each level includes those before it, so <code>values</code> is the share that pass.</p>\n",
        names.len(),
        targets.len()
    );
    level_table(
        &mut out,
        "target",
        m.runs.iter().map(|r| {
            let name = match &r.target_version {
                Some(v) => format!("{} ({v})", r.target),
                None => r.target.clone(),
            };
            (name, r.agreement(""))
        }),
    );
    for r in m.runs {
        let _ = writeln!(out, "<h3>{}</h3>", Esc(&r.target));
        let _ = writeln!(
            out,
            "<p class=\"meta\">{} {}</p>",
            Esc(&crate::report::summary_line(&r.counts())),
            Esc(&crate::report::deviations_line(&r.counts()))
        );
        let rows = r
            .operations()
            .into_iter()
            .map(|op| (op.trim_end_matches(':').to_owned(), r.agreement(&op)));
        level_table(&mut out, "operation", rows);
        not_judged_list(&mut out, r);
    }
    out.push_str("<h2>Cases</h2>\n<form id=\"filters\" class=\"filters\" hidden>\n");
    let operations: BTreeSet<&str> = names.iter().map(|n| operation_of(n)).collect();
    select(
        &mut out,
        "operation",
        "operation",
        operations.iter().map(|o| (*o, *o)),
    );
    select(
        &mut out,
        "status",
        "any target",
        std::iter::once(("not-pass", "not passing"))
            .chain(Status::ALL.iter().map(|s| (s.name(), s.name())))
            .chain([("none", "not run")]),
    );
    let _ = write!(
        out,
        "</form>\n<p id=\"shown\" class=\"shown\">{n} of {n} cases shown</p>\n\
         <table class=\"grid\"><thead><tr><th>case</th>",
        n = names.len()
    );
    for t in &targets {
        let _ = write!(out, "<th>{}</th>", Esc(t));
    }
    out.push_str("</tr></thead><tbody>\n");
    for name in &names {
        let cells: Vec<(Option<Status>, String)> = (0..m.runs.len())
            .map(|t| {
                let cell = m.cell(t, name);
                let text = match (cell, m.grade(t, name)) {
                    (None, _) => "not run".to_owned(),
                    (Some(Status::Pass), _) => "pass".to_owned(),
                    (Some(c), Some(g)) => format!("{c} ({g})"),
                    (Some(c), None) => format!("{c} (none)"),
                };
                (cell, text)
            })
            .collect();
        let class = |cell: Option<Status>| cell.map_or("none", Status::name);
        let statuses: BTreeSet<&str> = cells.iter().map(|(c, _)| class(*c)).collect();
        let _ = write!(
            out,
            "<tr class=\"case\" data-operation=\"{}\" data-status=\"{}\"><td>{}</td>",
            Esc(operation_of(name)),
            statuses.into_iter().collect::<Vec<_>>().join(" "),
            Esc(name)
        );
        for (t, (cell, text)) in cells.into_iter().enumerate() {
            let class = class(cell);
            // A baselined cell says why on hover: the baseline's one-line reason.
            match m
                .reason(t, name)
                .filter(|_| cell == Some(Status::Baselined))
            {
                Some(why) => {
                    let _ = write!(
                        out,
                        "<td class=\"cell {class}\" title=\"{}\">{}</td>",
                        Esc(why),
                        Esc(&text)
                    );
                }
                None => {
                    let _ = write!(out, "<td class=\"cell {class}\">{}</td>", Esc(&text));
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    page_end(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::{case, judged_case, run};
    use crate::report::{CaseOutcome, Judged};

    #[test]
    fn the_matrix_colours_cells_and_lists_each_rows_statuses() {
        let a = run(
            "aws",
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Pass, None),
                case("sts::AssumeRole::b", CaseOutcome::Pass, None),
            ],
        );
        let mut known = judged_case("sts::AssumeRole::b", CaseOutcome::Fail, None, Judged::Known);
        known.known = Some("answers <200> & no error".into());
        let b = run(
            "emu",
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Fail, Some(("x", "y"))),
                known,
            ],
        );
        let runs = [a, b];
        let html = matrix(&Matrix { runs: &runs });
        // The cell says the status and the last level agreed at (a value differs: order).
        assert!(
            html.contains("<tr class=\"case\" data-operation=\"AssumeRole\" data-status=\"fail pass\"><td>sts::AssumeRole::a</td><td class=\"cell pass\">pass</td><td class=\"cell fail\">fail (order)</td></tr>"),
            "{html}"
        );
        assert!(
            html.contains("<td class=\"cell baselined\" title=\"answers &lt;200&gt; &amp; no error\">baselined (order)</td>"),
            "{html}"
        );
        // Per level: both of emu's cases agree up to the order, neither in values.
        assert!(
            html.contains("<td>emu</td><td class=\"num\">2</td><td class=\"num\"><meter min=\"0\" max=\"2\" value=\"2\"></meter>100% (2)</td>"),
            "{html}"
        );
        assert!(
            html.contains("value=\"0\"></meter>0% (0)</td></tr>"),
            "{html}"
        );
        assert!(html.contains("2 of 2 cases shown"), "{html}");
    }
}
