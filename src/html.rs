//! The reports as web pages for people: a run's report and the parity matrix, each one
//! self-contained file (inline style and script, nothing fetched) so that a CI artifact opens
//! from disk as it is. Filters live in the URL fragment (`#status=fail&operation=AssumeRole`)
//! so a filtered view can be linked. Every piece of report text is escaped on its way into
//! the page; the script only reads data attributes and shows or hides rows, so without
//! script the page shows everything.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Display, Write as _};

use crate::deviation::Level;
use crate::report::{Agreement, CaseReport, Judged, Matrix, RunReport, SHOWN_DEVIATIONS};

/// Report text made safe for element content and quoted attribute values alike, control
/// characters shown as the other renderings show them ([`crate::report::visible`]).
struct Esc<'a>(&'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = crate::report::visible(self.0);
        let mut rest: &str = &shown;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// What became of each case, in the order people read them, with the words for their
/// counts: a run's outcomes, with the failures its baseline lists apart as `baselined`.
const OUTCOMES: [(&str, &str); 6] = [
    ("pass", "passed"),
    ("fail", "failed"),
    ("baselined", "only known deviations"),
    ("incomplete", "incomplete"),
    ("missing", "missing a snapshot"),
    ("error", "errors"),
];

/// The cells of the matrix, with the words a select offers for them.
const CELLS: [(&str, &str); 7] = [
    ("pass", "pass"),
    ("fail", "fail"),
    ("baselined", "baselined"),
    ("incomplete", "incomplete"),
    ("missing", "missing"),
    ("error", "error"),
    ("none", "not run"),
];

/// One row of a side-by-side diff.
#[derive(Debug, PartialEq)]
enum Row<'a> {
    /// A hunk header (`@@ -1,3 +1,3 @@`): where the next rows are in each text.
    Hunk(&'a str),
    /// A line both texts hold, with its line number in each.
    Same(usize, usize, &'a str),
    /// A line that differs: the expected one, the actual one, or a pair of them.
    Change(Option<(usize, &'a str)>, Option<(usize, &'a str)>),
    /// Anything else the diff says, such as `\ No newline at end of file`.
    Note(&'a str),
}

/// The start lines of a hunk header, `@@ -OLD[,n] +NEW[,n] @@`.
fn hunk_starts(header: &str) -> Option<(usize, usize)> {
    let mut parts = header.trim_start_matches('@').split_whitespace();
    let start = |p: Option<&str>, sign: char| -> Option<usize> {
        p?.strip_prefix(sign)?.split(',').next()?.parse().ok()
    };
    Some((start(parts.next(), '-')?, start(parts.next(), '+')?))
}

/// Pairs the removals and additions of one run of changes, in order, into rows.
fn flush<'a>(
    rows: &mut Vec<Row<'a>>,
    removed: &mut Vec<(usize, &'a str)>,
    added: &mut Vec<(usize, &'a str)>,
) {
    let n = removed.len().max(added.len());
    let (mut r, mut a) = (removed.drain(..), added.drain(..));
    for _ in 0..n {
        rows.push(Row::Change(r.next(), a.next()));
    }
}

/// Reads a unified diff as rows of two columns: removed lines on the left, added lines on the
/// right, context on both; each run of changes pairs its removals with its additions in
/// order, so a changed line sits beside what replaced it.
fn side_by_side(diff: &str) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let (mut old_no, mut new_no) = (1, 1);
    let mut removed: Vec<(usize, &str)> = Vec::new();
    let mut added: Vec<(usize, &str)> = Vec::new();
    let mut in_hunk = false;
    for line in diff.lines() {
        // `--- snapshot` and `+++ actual` name the texts; inside a hunk the same characters
        // are a removed `--` line or an added `++` one.
        if !in_hunk && (line.starts_with("--- ") || line.starts_with("+++ ")) {
            continue;
        }
        if let Some(text) = line.strip_prefix('-') {
            removed.push((old_no, text));
            old_no += 1;
            continue;
        }
        if let Some(text) = line.strip_prefix('+') {
            added.push((new_no, text));
            new_no += 1;
            continue;
        }
        flush(&mut rows, &mut removed, &mut added);
        if line.starts_with("@@") {
            in_hunk = true;
            if let Some((o, n)) = hunk_starts(line) {
                (old_no, new_no) = (o, n);
            }
            rows.push(Row::Hunk(line));
        } else if let Some(text) = line.strip_prefix(' ').or(line.is_empty().then_some("")) {
            rows.push(Row::Same(old_no, new_no, text));
            old_no += 1;
            new_no += 1;
        } else {
            rows.push(Row::Note(line));
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

/// Where two lines stop agreeing: the byte lengths of their common start and common end
/// (never overlapping), so only the middle is marked.
fn common_ends(a: &str, b: &str) -> (usize, usize) {
    let start: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let end: usize = a[start..]
        .chars()
        .rev()
        .zip(b[start..].chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    (start, end)
}

/// A changed line with its differing middle in `<mark>`.
fn marked(line: &str, start: usize, end: usize) -> String {
    let mid_end = line.len() - end;
    if start >= mid_end {
        return Esc(line).to_string();
    }
    format!(
        "{}<mark>{}</mark>{}",
        Esc(&line[..start]),
        Esc(&line[start..mid_end]),
        Esc(&line[mid_end..])
    )
}

fn diff_table(out: &mut String, diff: &str) {
    out.push_str(
        "<table class=\"sbs\"><colgroup><col class=\"ln\"><col><col class=\"ln\"><col></colgroup>\
         <thead><tr><th colspan=\"2\">expected (snapshot)</th><th colspan=\"2\">actual</th></tr></thead><tbody>\n",
    );
    for row in side_by_side(diff) {
        match row {
            Row::Hunk(h) => {
                let _ = writeln!(
                    out,
                    "<tr class=\"hunk\"><td colspan=\"4\">{}</td></tr>",
                    Esc(h)
                );
            }
            Row::Note(n) => {
                let _ = writeln!(
                    out,
                    "<tr class=\"note\"><td colspan=\"4\">{}</td></tr>",
                    Esc(n)
                );
            }
            Row::Same(o, n, text) => {
                let _ = writeln!(
                    out,
                    "<tr class=\"same\"><td class=\"ln\">{o}</td><td class=\"old\">{t}</td><td class=\"ln\">{n}</td><td class=\"new\">{t}</td></tr>",
                    t = Esc(text)
                );
            }
            Row::Change(old, new) => {
                let (class, left, right) = match (old, new) {
                    (Some((_, a)), Some((_, b))) => {
                        let (s, e) = common_ends(a, b);
                        ("changed", marked(a, s, e), marked(b, s, e))
                    }
                    (Some((_, a)), None) => ("removed", Esc(a).to_string(), String::new()),
                    (None, Some((_, b))) => ("added", String::new(), Esc(b).to_string()),
                    (None, None) => continue,
                };
                let no = |side: Option<(usize, &str)>| side.map(|(n, _)| n.to_string());
                let _ = writeln!(
                    out,
                    "<tr class=\"{class}\"><td class=\"ln\">{}</td><td class=\"old\">{left}</td><td class=\"ln\">{}</td><td class=\"new\">{right}</td></tr>",
                    no(old).unwrap_or_default(),
                    no(new).unwrap_or_default()
                );
            }
        }
    }
    out.push_str("</tbody></table>\n");
}

const STYLE: &str = include_str!("html/page.css");

/// Shows the rows (`.case`) whose `data-*` attributes match the filters' selects, keeps the
/// selection in the URL fragment both ways, and counts what is shown. `data-status` may hold
/// several statuses (a matrix row has one per target); `not-pass` matches any but `pass`.
const SCRIPT: &str = include_str!("html/filters.js");

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

/// The target's not-judged rules, each with the number of deviations it left out.
fn not_judged_list(out: &mut String, r: &RunReport) {
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
    let mut groups: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
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
        let get = |o: &str| counts.get(o).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\"><meter min=\"0\" max=\"{all}\" value=\"{pass}\"></meter>{pass}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{all}</td></tr>",
            Esc(group),
            get("fail"),
            get("baselined"),
            get("incomplete"),
            get("missing"),
            get("error"),
            pass = get("pass"),
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
    let count = |status: &str| r.cases.iter().filter(|c| c.status() == status).count();
    for (outcome, words) in OUTCOMES {
        // Known deviations only where a baseline judged the run.
        if outcome == "baselined" && count(outcome) == 0 {
            continue;
        }
        let _ = write!(
            out,
            "<li class=\"{outcome}\"><b>{}</b>{words}</li>",
            count(outcome)
        );
    }
    let others = r
        .cases
        .len()
        .saturating_sub(OUTCOMES.iter().map(|(o, _)| count(o)).sum::<usize>());
    if others > 0 {
        let _ = write!(out, "<li><b>{others}</b>other outcomes</li>");
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
        std::iter::once(("not-pass", "not passing")).chain(OUTCOMES.iter().map(|(o, _)| (*o, *o))),
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
            Esc(c.status()),
            st = Esc(c.status()),
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
        std::iter::once(("not-pass", "not passing")).chain(CELLS),
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
        let cells: Vec<(&str, String)> = (0..m.runs.len())
            .map(|t| match (m.cell(t, name), m.grade(t, name)) {
                ("-", _) => ("none", "not run".to_owned()),
                ("pass", _) => ("pass", "pass".to_owned()),
                (c, Some(g)) => (c, format!("{c} ({g})")),
                (c, None) => (c, format!("{c} (none)")),
            })
            .collect();
        let statuses: BTreeSet<&str> = cells.iter().map(|(c, _)| *c).collect();
        let _ = write!(
            out,
            "<tr class=\"case\" data-operation=\"{}\" data-status=\"{}\"><td>{}</td>",
            Esc(operation_of(name)),
            statuses.into_iter().collect::<Vec<_>>().join(" "),
            Esc(name)
        );
        for (t, (class, text)) in cells.into_iter().enumerate() {
            // A baselined cell says why on hover: the baseline's one-line reason.
            match m.reason(t, name).filter(|_| class == "baselined") {
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
    use crate::deviation::{Deviation, Kind};
    use crate::report::{CaseOutcome, JudgedDeviation, SCHEMA};

    /// A case; a failing one has one deviation, judged `judged`.
    fn judged_case(name: &str, outcome: &str, diff: Option<&str>, judged: Judged) -> CaseReport {
        let mut parts = name.split("::");
        let outcome = match outcome {
            "pass" => CaseOutcome::Pass,
            "fail" => CaseOutcome::Fail,
            "error" => CaseOutcome::Error,
            other => panic!("{other}"),
        };
        let mut c = CaseReport {
            name: name.into(),
            service: parts.next().unwrap_or_default().into(),
            operation: parts.next().unwrap_or_default().into(),
            kind: "limit".into(),
            provenance: "documented".into(),
            outcome,
            stop: None,
            diff: diff.map(str::to_owned),
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
        };
        c.regrade();
        c
    }

    fn case(name: &str, outcome: &str, diff: Option<&str>) -> CaseReport {
        judged_case(name, outcome, diff, Judged::New)
    }

    fn run(target: &str, cases: Vec<CaseReport>) -> RunReport {
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
        let diff = "--- snapshot\n+++ actual\n@@ -1,2 +1,2 @@\n <a href=\"x\">&amp;</a>\n-<i>\n+<script>b</script>\n";
        let mut r = run(
            "<img src=x onerror=y>",
            vec![
                case(evil, "fail", Some(diff)),
                case("sts::GetCallerIdentity::x", "error", None),
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
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
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
            runs: &[run("<b>emu</b>", vec![case(evil, "pass", None)])],
        });
        assert_eq!(m.matches("<script>").count(), 1, "{m}");
        assert!(m.contains("<th>&lt;b&gt;emu&lt;/b&gt;</th>"), "{m}");
    }

    #[test]
    fn a_unified_diff_pairs_removals_with_additions() {
        let diff = "--- snapshot\n+++ actual\n@@ -3,5 +3,5 @@\n a\n-b\n-c\n+B\n d\n+e\n-f\n--- g\n\\ No newline at end of file\n";
        assert_eq!(
            side_by_side(diff),
            [
                Row::Hunk("@@ -3,5 +3,5 @@"),
                Row::Same(3, 3, "a"),
                Row::Change(Some((4, "b")), Some((4, "B"))),
                Row::Change(Some((5, "c")), None),
                Row::Same(6, 5, "d"),
                Row::Change(Some((7, "f")), Some((6, "e"))),
                // Inside a hunk, `--- g` is the removed line `-- g`.
                Row::Change(Some((8, "-- g")), None),
                Row::Note("\\ No newline at end of file"),
            ]
        );
        // Whatever the text, no panic: a diff without headers still numbers from 1.
        assert_eq!(side_by_side("+x"), [Row::Change(None, Some((1, "x")))]);
        assert_eq!(
            side_by_side("@@ garbage @@\n y"),
            [Row::Hunk("@@ garbage @@"), Row::Same(1, 1, "y")]
        );
    }

    #[test]
    fn a_changed_line_marks_only_what_differs() {
        let (s, e) = common_ends("equal to 2 chars", "equal to 3 chars");
        assert_eq!(
            marked("equal to 2 chars", s, e),
            "equal to <mark>2</mark> chars"
        );
        // Multi-byte characters are cut at their boundaries, and a repeated character at the
        // seam is not counted twice.
        let (s, e) = common_ends("aé", "aéé");
        assert_eq!((s, e), (3, 0));
        assert_eq!(marked("aéé", s, e), "aé<mark>é</mark>");
        assert_eq!(marked("aé", s, e), "aé");
        let html = report(&run(
            "t",
            vec![case(
                "sts::AssumeRole::x",
                "fail",
                Some("@@ -1 +1 @@\n-<v>2</v>\n+<v>3</v>\n"),
            )],
        ));
        assert!(
            html.contains("<tr class=\"changed\"><td class=\"ln\">1</td><td class=\"old\">&lt;v&gt;<mark>2</mark>&lt;/v&gt;</td><td class=\"ln\">1</td><td class=\"new\">&lt;v&gt;<mark>3</mark>&lt;/v&gt;</td></tr>"),
            "{html}"
        );
    }

    #[test]
    fn rows_carry_what_the_filters_read_and_the_counter_starts_at_all() {
        let html = report(&run(
            "moto",
            vec![
                case("sts::AssumeRole::a", "pass", None),
                case("sts::AssumeRole::b", "fail", Some("@@ -1 +1 @@\n-x\n+y\n")),
                case("sts::GetCallerIdentity::c", "error", None),
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
    fn the_matrix_colours_cells_and_lists_each_rows_statuses() {
        let a = run(
            "aws",
            vec![
                case("sts::AssumeRole::a", "pass", None),
                case("sts::AssumeRole::b", "pass", None),
            ],
        );
        let mut known = judged_case("sts::AssumeRole::b", "fail", None, Judged::Known);
        known.known = Some("answers <200> & no error".into());
        let b = run(
            "emu",
            vec![case("sts::AssumeRole::a", "fail", Some("-x\n+y\n")), known],
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

    #[test]
    fn a_known_deviation_shows_its_reason_and_folds_its_diff() {
        let mut known = judged_case(
            "sts::AssumeRole::k",
            "fail",
            Some("-a\n+b\n"),
            Judged::Known,
        );
        known.known = Some("answers <200> & no error".into());
        let html = report(&run(
            "emu",
            vec![known, case("sts::AssumeRole::n", "fail", Some("-a\n+c\n"))],
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
