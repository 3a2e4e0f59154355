//! Scenarios x targets: the parity matrix of several runs.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::markdown::{deviations_line, level_table, not_judged_section, summary_line};
use super::{CaseReport, RunReport, Status};
use crate::deviation::Level;

/// Scenarios x targets: what each target did with each case, and per target and operation
/// the share of cases that agree at each level.
pub struct Matrix<'a> {
    pub runs: &'a [RunReport],
}

impl Matrix<'_> {
    fn case(&self, t: usize, name: &str) -> Option<&CaseReport> {
        self.runs[t].cases.iter().find(|c| c.name == name)
    }

    /// What target `t` made of the case; `None` when it did not run it.
    pub(crate) fn cell(&self, t: usize, name: &str) -> Option<Status> {
        self.case(t, name).map(CaseReport::status)
    }

    /// The case's grade at target `t`.
    pub(crate) fn grade(&self, t: usize, name: &str) -> Option<Level> {
        self.case(t, name).and_then(|c| c.grade)
    }

    /// Why target `t`'s baseline lists `name`.
    pub(crate) fn reason(&self, t: usize, name: &str) -> Option<&str> {
        self.case(t, name)?.known.as_deref()
    }

    pub(crate) fn names(&self) -> BTreeSet<&str> {
        self.runs
            .iter()
            .flat_map(|r| r.cases.iter().map(|c| c.name.as_str()))
            .collect()
    }

    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        // Which version of each target the numbers are about.
        let versions: Vec<String> = self
            .runs
            .iter()
            .filter_map(|r| Some(format!("{}: {}", r.target, r.target_version.as_ref()?)))
            .collect();
        if !versions.is_empty() {
            let _ = writeln!(md, "Versions: {}.\n", versions.join("; "));
        }
        let _ = writeln!(
            md,
            "Share of cases that agree with the snapshots at each level; each level includes \
             those before it (status, then error code and type, message, structure, element \
             order, values), so `values` is the share that pass.\n"
        );
        level_table(
            &mut md,
            "target",
            self.runs
                .iter()
                .map(|r| (r.target.clone(), r.agreement(""))),
        );
        // With several services, each target's figures per service: an emulator may be
        // close on one and far on another, which the overall share hides.
        let services: BTreeSet<&str> = self
            .names()
            .into_iter()
            .filter_map(|n| n.split_once("::").map(|(s, _)| s))
            .collect();
        if services.len() > 1 {
            let _ = writeln!(md, "By service:\n");
            let rows = self.runs.iter().flat_map(|r| {
                services.iter().map(move |s| {
                    (
                        format!("{} · {s}", r.target),
                        r.agreement(&format!("{s}::")),
                    )
                })
            });
            level_table(&mut md, "target · service", rows);
        }
        for r in self.runs {
            let _ = writeln!(md, "### {}\n", r.target);
            let n = r.counts();
            let _ = writeln!(md, "{} {}\n", summary_line(&n), deviations_line(&n));
            let ops = r
                .operations()
                .into_iter()
                .map(|op| (op.trim_end_matches(':').to_owned(), r.agreement(&op)));
            level_table(&mut md, "operation", ops);
            not_judged_section(&mut md, r, "####");
        }
        let heads: Vec<&str> = self.runs.iter().map(|r| r.target.as_str()).collect();
        let _ = writeln!(
            md,
            "<details><summary>Every case (in parentheses: the last level it agrees at)</summary>\n"
        );
        let _ = writeln!(md, "| case | {} |", heads.join(" | "));
        let _ = writeln!(md, "|---|{}", "---|".repeat(heads.len()));
        for n in self.names() {
            let cells: Vec<String> = (0..self.runs.len())
                .map(|t| match (self.cell(t, n), self.grade(t, n)) {
                    (Some(Status::Pass), _) => "pass".to_owned(),
                    (None, _) => "-".to_owned(),
                    (Some(c), Some(g)) => format!("{c} ({g})"),
                    (Some(c), None) => format!("{c} (none)"),
                })
                .collect();
            let _ = writeln!(md, "| {n} | {} |", cells.join(" | "));
        }
        let _ = writeln!(md, "\n</details>");
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviation::Kind;
    use crate::report::fixtures::{case, report};
    use crate::report::{CaseOutcome, Judged};

    #[test]
    fn the_matrix_shows_levels_per_target_and_operation() {
        let a = report(
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Pass, &[]),
                case("sts::AssumeRole::b", CaseOutcome::Pass, &[]),
            ],
            "1/1",
        );
        let mut b = report(
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Pass, &[]),
                case("sts::AssumeRole::b", CaseOutcome::Fail, &[Kind::ErrorCode]),
            ],
            "1/1",
        );
        b.target = "emu".into();
        b.target_version = Some("emu 1.2.3".into());
        b.cases[1].deviations[0].judged = Judged::Known;
        b.cases[1].known = Some("why".into());
        let runs = [a, b];
        let md = Matrix { runs: &runs }.to_markdown();
        assert!(md.starts_with("Versions: emu: emu 1.2.3.\n"), "{md}");
        assert!(
            md.contains(
                "| target | cases | status | code | message | structure | order | values |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| emu | 2 | 100% (2) | 50% (1) | 50% (1) | 50% (1) | 50% (1) | 50% (1) |"),
            "{md}"
        );
        assert!(
            md.contains("| sts::AssumeRole::b | pass | baselined (status) |"),
            "{md}"
        );
        assert!(
            !md.contains("By service"),
            "one service: no table of its own\n{md}"
        );
    }

    #[test]
    fn with_several_services_each_target_is_shown_per_service() {
        let runs = [report(
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Pass, &[]),
                case("iam::CreateUser::b", CaseOutcome::Fail, &[Kind::Status]),
                case("iam::CreateUser::c", CaseOutcome::Pass, &[]),
            ],
            "1/1",
        )];
        let md = Matrix { runs: &runs }.to_markdown();
        assert!(md.contains("By service:"), "{md}");
        assert!(
            md.contains("| moto · iam | 2 | 50% (1) |")
                && md.contains("| moto · sts | 1 | 100% (1) |"),
            "{md}"
        );
    }
}
