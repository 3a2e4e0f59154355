//! What a run found, as data that outlives it: a JSON report with a stable schema, which
//! shards merge, and renderings for CI (JUnit XML) and people (Markdown).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::runner::{CaseResult, Outcome};
use crate::suite::Suite;

/// The version of the JSON schema below; bumped on any incompatible change.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub schema: u32,
    /// `replay`, `aws`, or the endpoint.
    pub target: String,
    pub conform: String,
    /// What the target said it is (`moto 5.2.5`), when the run was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// `K/N` when the run was one shard of N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub cases: Vec<CaseReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    /// `<service>::<operation>::<case-id>`.
    pub name: String,
    pub service: String,
    pub operation: String,
    pub kind: String,
    pub provenance: String,
    /// `pass`, `fail`, `missing` or `error`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the run's baseline lists this failing case: its reason (a known deviation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

impl CaseReport {
    /// What people read: the outcome, except that a failure the baseline lists is
    /// `baselined`.
    pub fn status(&self) -> &str {
        match (&self.known, self.outcome.as_str()) {
            (Some(_), "fail" | "missing") => "baselined",
            (_, o) => o,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("the reports are of different targets ({0} and {1}); merge shards of one run")]
    Targets(String, String),
    #[error("{0} is in more than one report: the shards overlap")]
    Duplicate(String),
    #[error("a report of schema {0}; this conform reads schema {SCHEMA}")]
    Schema(u32),
}

/// The shard (1-based) a case belongs to among `n`: a stable hash of its name, so a case
/// stays in its shard however the suite grows.
pub fn shard_of(test_name: &str, n: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in test_name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % u64::from(n.max(1))) as u32 + 1
}

/// `K/N` from text, with 1 <= K <= N.
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}` is not a shard: write K/N with 1 <= K <= N, e.g. 2/3");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u32, u32) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

impl RunReport {
    pub fn from_results(
        suite: &Suite,
        results: &[CaseResult],
        target: &str,
        shard: Option<(u32, u32)>,
    ) -> RunReport {
        let cases = results
            .iter()
            .map(|r| {
                let c = &suite.cases[r.index];
                let (outcome, diff, message) = match &r.outcome {
                    Outcome::Pass => ("pass", None, None),
                    Outcome::Fail { diff } => ("fail", Some(diff.clone()), None),
                    Outcome::Missing => ("missing", None, Some("no snapshot".to_owned())),
                    Outcome::Error { message } => ("error", None, Some(message.clone())),
                };
                CaseReport {
                    name: r.test_name.clone(),
                    service: c.service.clone(),
                    operation: c.operation.clone(),
                    kind: c.kind.to_string(),
                    provenance: c.provenance.to_string(),
                    outcome: outcome.to_owned(),
                    diff,
                    message,
                    known: None,
                }
            })
            .collect();
        RunReport {
            schema: SCHEMA,
            target: target.to_owned(),
            conform: env!("CARGO_PKG_VERSION").to_owned(),
            target_version: None,
            shard: shard.map(|(k, n)| format!("{k}/{n}")),
            cases,
        }
    }

    /// One report of the shards of one run; a case in two shards is an error.
    pub fn merge(reports: Vec<RunReport>) -> Result<RunReport, MergeError> {
        let first = reports.first().ok_or(MergeError::Empty)?.clone();
        let mut seen = BTreeSet::new();
        let mut cases = Vec::new();
        for r in reports {
            if r.schema != SCHEMA {
                return Err(MergeError::Schema(r.schema));
            }
            if r.target != first.target {
                return Err(MergeError::Targets(first.target.clone(), r.target));
            }
            for c in r.cases {
                if !seen.insert(c.name.clone()) {
                    return Err(MergeError::Duplicate(c.name));
                }
                cases.push(c);
            }
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(RunReport {
            shard: None,
            cases,
            ..first
        })
    }

    pub(crate) fn count(&self, outcome: &str) -> usize {
        self.cases.iter().filter(|c| c.outcome == outcome).count()
    }

    /// Marks the failures `baseline` lists as known, with their reasons. A case without an
    /// answer stays an error: a baseline excuses deviations, not silence.
    pub fn mark_known(&mut self, baseline: &crate::baseline::Baseline) {
        let reasons: BTreeMap<&str, &str> = baseline
            .deviations
            .iter()
            .map(|d| (d.case.as_str(), d.reason.as_str()))
            .collect();
        for c in &mut self.cases {
            if matches!(c.outcome.as_str(), "fail" | "missing") {
                c.known = reasons.get(c.name.as_str()).map(|r| (*r).to_owned());
            }
        }
    }

    /// JUnit XML: one test suite per service, one test case per scenario, the diff in the
    /// failure's body.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut report = Report::new(format!("conform against {}", self.target));
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        for c in &self.cases {
            let status = match c.outcome.as_str() {
                "pass" => TestCaseStatus::success(),
                // A known deviation is expected to fail: skipped with its reason, so a CI
                // page that counts failures shows only the new ones.
                _ if c.status() == "baselined" => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!(
                        "known deviation: {}",
                        c.known.as_deref().unwrap_or_default()
                    ));
                    if let Some(d) = &c.diff {
                        s.set_description(d.clone());
                    }
                    s
                }
                "error" => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(c.message.clone().unwrap_or_default());
                    s
                }
                _ => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(if c.outcome == "missing" {
                        "no snapshot"
                    } else {
                        "the answer differs from the snapshot"
                    });
                    if let Some(d) = &c.diff {
                        s.set_description(d.clone());
                    }
                    s
                }
            };
            let mut case = TestCase::new(c.name.clone(), status);
            case.set_classname(format!("{}::{}", c.service, c.operation));
            suites
                .entry(c.service.as_str())
                .or_insert_with(|| TestSuite::new(c.service.clone()))
                .add_test_case(case);
        }
        report.add_test_suites(suites.into_values());
        report.to_string().unwrap_or_default()
    }

    /// A summary for a CI job or a pull request: counts by kind and by operation, then each
    /// deviation with its diff.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# conform against {}\n", self.target);
        let _ = writeln!(
            md,
            "{} cases: {} passed, {} failed, {} missing a snapshot, {} errors.\n",
            self.cases.len(),
            self.count("pass"),
            self.count("fail"),
            self.count("missing"),
            self.count("error")
        );
        let known = self
            .cases
            .iter()
            .filter(|c| c.status() == "baselined")
            .count();
        if known > 0 {
            let _ = writeln!(
                md,
                "{known} of the failures are known deviations in the baseline; {} are not.\n",
                self.count("fail") + self.count("missing") - known
            );
        }
        for (title, key) in [("kind", 0), ("operation", 1)] {
            let mut rows: BTreeMap<String, (usize, usize)> = BTreeMap::new();
            for c in &self.cases {
                let k = if key == 0 {
                    c.kind.clone()
                } else {
                    format!("{}::{}", c.service, c.operation)
                };
                let e = rows.entry(k).or_default();
                e.1 += 1;
                if c.outcome == "pass" {
                    e.0 += 1;
                }
            }
            let _ = writeln!(md, "| {title} | passed | cases |\n|---|---:|---:|");
            for (k, (p, n)) in rows {
                let _ = writeln!(md, "| {k} | {p} | {n} |");
            }
            md.push('\n');
        }
        let deviations: Vec<&CaseReport> =
            self.cases.iter().filter(|c| c.outcome != "pass").collect();
        if !deviations.is_empty() {
            let _ = writeln!(md, "## Deviations\n");
        }
        for c in deviations {
            let _ = writeln!(md, "### {} ({})\n", c.name, c.status());
            if let Some(k) = &c.known {
                let _ = writeln!(md, "Known deviation: {k}\n");
            }
            if let Some(m) = &c.message {
                let _ = writeln!(md, "{m}\n");
            }
            if let Some(d) = &c.diff {
                let _ = writeln!(md, "```diff\n{}\n```\n", d.trim_end());
            }
        }
        md
    }
}

/// Scenarios x targets: what each target did with each case, with per-operation and overall
/// pass rates. `known` holds each target's baselined cases with their reasons (shown as
/// such, not as failures).
pub struct Matrix<'a> {
    pub runs: &'a [RunReport],
    pub known: &'a [BTreeMap<String, String>],
}

impl Matrix<'_> {
    pub(crate) fn cell(&self, t: usize, name: &str) -> &'static str {
        match self.runs[t]
            .cases
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.outcome.as_str())
        {
            None => "-",
            Some("pass") => "pass",
            Some(_) if self.known.get(t).is_some_and(|k| k.contains_key(name)) => "baselined",
            Some(_) => "fail",
        }
    }

    /// Why target `t`'s baseline excuses `name`.
    pub(crate) fn reason(&self, t: usize, name: &str) -> Option<&str> {
        self.known.get(t)?.get(name).map(String::as_str)
    }

    pub(crate) fn names(&self) -> BTreeSet<&str> {
        self.runs
            .iter()
            .flat_map(|r| r.cases.iter().map(|c| c.name.as_str()))
            .collect()
    }

    /// How many of target `t`'s cases under `prefix` passed, and how many it ran.
    pub(crate) fn tally(&self, t: usize, prefix: &str) -> (usize, usize) {
        self.runs[t]
            .cases
            .iter()
            .filter(|c| c.name.starts_with(prefix))
            .fold((0, 0), |(pass, all), c| {
                (pass + usize::from(c.outcome == "pass"), all + 1)
            })
    }

    pub(crate) fn rate(&self, t: usize, prefix: &str) -> String {
        let (pass, all) = self.tally(t, prefix);
        if all == 0 {
            return "-".into();
        }
        format!("{:.0}% ({pass}/{all})", 100.0 * pass as f64 / all as f64)
    }

    /// The `service::operation::` prefixes of every case's name.
    pub(crate) fn operations(&self) -> BTreeSet<String> {
        self.names()
            .iter()
            .filter_map(|n| n.rsplit_once("::").map(|(op, _)| format!("{op}::")))
            .collect()
    }

    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let heads: Vec<&str> = self.runs.iter().map(|r| r.target.as_str()).collect();
        // Which version of each target the numbers are about.
        let versions: Vec<String> = self
            .runs
            .iter()
            .filter_map(|r| Some(format!("{}: {}", r.target, r.target_version.as_ref()?)))
            .collect();
        if !versions.is_empty() {
            let _ = writeln!(md, "Versions: {}.\n", versions.join("; "));
        }
        let _ = writeln!(md, "| operation | {} |", heads.join(" | "));
        let _ = writeln!(md, "|---|{}", "---:|".repeat(heads.len()));
        for op in self.operations() {
            let cells: Vec<String> = (0..self.runs.len()).map(|t| self.rate(t, &op)).collect();
            let _ = writeln!(
                md,
                "| {} | {} |",
                op.trim_end_matches(':'),
                cells.join(" | ")
            );
        }
        let all: Vec<String> = (0..self.runs.len()).map(|t| self.rate(t, "")).collect();
        let _ = writeln!(md, "| **all** | {} |\n", all.join(" | "));
        let _ = writeln!(md, "<details><summary>Every case</summary>\n");
        let _ = writeln!(md, "| case | {} |", heads.join(" | "));
        let _ = writeln!(md, "|---|{}", "---|".repeat(heads.len()));
        for n in self.names() {
            let cells: Vec<&str> = (0..self.runs.len()).map(|t| self.cell(t, n)).collect();
            let _ = writeln!(md, "| {n} | {} |", cells.join(" | "));
        }
        let _ = writeln!(md, "\n</details>");
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, outcome: &str) -> CaseReport {
        CaseReport {
            name: name.into(),
            service: "sts".into(),
            operation: "AssumeRole".into(),
            kind: "limit".into(),
            provenance: "documented".into(),
            outcome: outcome.into(),
            diff: (outcome == "fail").then(|| "--- snapshot\n+++ actual\n-a\n+b\n".into()),
            message: (outcome == "error").then(|| "cannot connect".into()),
            known: None,
        }
    }

    fn report(cases: Vec<CaseReport>, shard: &str) -> RunReport {
        RunReport {
            schema: SCHEMA,
            target: "moto".into(),
            conform: "0".into(),
            target_version: None,
            shard: Some(shard.into()),
            cases,
        }
    }

    #[test]
    fn shards_parse_and_hash_stably() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        for bad in ["0/3", "4/3", "x/3", "3", "1/0"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let a = shard_of("sts::AssumeRole::x", 5);
        assert_eq!(a, shard_of("sts::AssumeRole::x", 5));
        assert!((1..=5).contains(&a));
    }

    #[test]
    fn merging_shards_refuses_overlaps_and_other_targets() {
        let m = RunReport::merge(vec![
            report(vec![case("b", "pass")], "2/2"),
            report(vec![case("a", "fail")], "1/2"),
        ])
        .unwrap();
        assert_eq!(
            m.cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(m.shard, None);
        assert_eq!(
            RunReport::merge(vec![
                report(vec![case("a", "pass")], "1/2"),
                report(vec![case("a", "pass")], "2/2")
            ]),
            Err(MergeError::Duplicate("a".into()))
        );
        let mut other = report(vec![case("c", "pass")], "2/2");
        other.target = "aws".into();
        assert!(matches!(
            RunReport::merge(vec![report(vec![], "1/2"), other]),
            Err(MergeError::Targets(..))
        ));
        assert_eq!(RunReport::merge(vec![]), Err(MergeError::Empty));
    }

    #[test]
    fn the_matrix_rates_targets_per_operation_and_marks_baselined_cases() {
        let a = report(
            vec![
                case("sts::AssumeRole::a", "pass"),
                case("sts::AssumeRole::b", "pass"),
            ],
            "1/1",
        );
        let mut b = report(
            vec![
                case("sts::AssumeRole::a", "pass"),
                case("sts::AssumeRole::b", "fail"),
            ],
            "1/1",
        );
        b.target = "emu".into();
        b.target_version = Some("emu 1.2.3".into());
        let runs = [a, b];
        let known = [
            BTreeMap::new(),
            [("sts::AssumeRole::b".to_owned(), "why".to_owned())].into(),
        ];
        let md = Matrix {
            runs: &runs,
            known: &known,
        }
        .to_markdown();
        assert!(
            md.contains("| sts::AssumeRole | 100% (2/2) | 50% (1/2) |"),
            "{md}"
        );
        assert!(
            md.contains("| sts::AssumeRole::b | pass | baselined |"),
            "{md}"
        );
        assert!(md.starts_with("Versions: emu: emu 1.2.3.\n"), "{md}");
    }

    #[test]
    fn junit_and_markdown_carry_the_diffs() {
        let r = report(
            vec![
                case("sts::AssumeRole::a", "pass"),
                case("sts::AssumeRole::b", "fail"),
                case("sts::AssumeRole::c", "error"),
            ],
            "1/1",
        );
        let x = r.to_junit();
        assert!(x.contains("<testsuite name=\"sts\" tests=\"3\""), "{x}");
        assert!(
            x.contains("failures=\"1\"") && x.contains("errors=\"1\""),
            "{x}"
        );
        assert!(x.contains("-a\n+b"), "{x}");
        let md = r.to_markdown();
        assert!(
            md.contains("3 cases: 1 passed, 1 failed, 0 missing a snapshot, 1 errors."),
            "{md}"
        );
        assert!(
            md.contains("### sts::AssumeRole::b (fail)\n\n```diff\n--- snapshot"),
            "{md}"
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<RunReport>(&json).unwrap(), r);
    }

    #[test]
    fn known_deviations_are_told_apart_from_new_ones() {
        let mut r = report(
            vec![
                case("sts::AssumeRole::a", "pass"),
                case("sts::AssumeRole::b", "fail"),
                case("sts::AssumeRole::c", "fail"),
                case("sts::AssumeRole::d", "error"),
            ],
            "1/1",
        );
        let baseline: crate::baseline::Baseline = toml::from_str(
            "[[deviation]]\ncase = \"sts::AssumeRole::b\"\nreason = \"limit not enforced\"\n\n\
             [[deviation]]\ncase = \"sts::AssumeRole::a\"\nreason = \"was wrong once\"\n\n\
             [[deviation]]\ncase = \"sts::AssumeRole::d\"\nreason = \"silence is no deviation\"\n",
        )
        .unwrap();
        r.mark_known(&baseline);
        let statuses: Vec<&str> = r.cases.iter().map(CaseReport::status).collect();
        // A pass stays a pass, an unanswered case an error, whatever the baseline says.
        assert_eq!(statuses, ["pass", "baselined", "fail", "error"]);
        assert_eq!(r.cases[1].known.as_deref(), Some("limit not enforced"));

        let x = r.to_junit();
        assert!(
            x.contains("failures=\"1\"") && x.contains("skipped=\"1\""),
            "{x}"
        );
        assert!(x.contains("known deviation: limit not enforced"), "{x}");
        let md = r.to_markdown();
        assert!(
            md.contains("1 of the failures are known deviations in the baseline; 1 are not."),
            "{md}"
        );
        assert!(
            md.contains(
                "### sts::AssumeRole::b (baselined)\n\nKnown deviation: limit not enforced"
            ),
            "{md}"
        );
        assert!(md.contains("### sts::AssumeRole::c (fail)"), "{md}");
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"known\":\"limit not enforced\""), "{json}");
        assert_eq!(serde_json::from_str::<RunReport>(&json).unwrap(), r);
    }
}
