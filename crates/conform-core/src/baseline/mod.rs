//! Known deviations of a target (`baselines/<target>.toml`), named one by one: for each case,
//! the deviations that are known in it (step, kind, path, and the expected and actual values
//! where they do not change from run to run), with a reason that covers them or one of their
//! own. The gate fails on any deviation not listed, also in a case that lists others, and on
//! a listed one that no longer occurs, so the list only shrinks deviation by deviation.

mod file;
mod gate;
mod update;

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::deviation::{self, Deviation, Kind, NotJudgedSet};
use crate::report::{Judged, RunReport};

pub use file::BaselineError;
pub use gate::Gate;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// By case name.
    pub cases: Vec<KnownCase>,
    /// Read from the first format, which listed whole cases: judged as before, but the gate
    /// asks for a conversion (`--update-baseline` writes the deviations and keeps reasons).
    pub whole_cases: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KnownCase {
    /// The case's test name.
    pub name: String,
    /// Why: covers every deviation that has no reason of its own.
    pub reason: String,
    pub deviations: Vec<Known>,
    /// The target refuses a setup step of this case (it lacks the operation): the refusal
    /// as the run words it, without its place in the scenario file. Only that very refusal
    /// is excused; any other stop (no answer: a target that is down) still fails the gate.
    pub setup_refused: Option<String>,
}

/// What a refused setup step's message says, without the scenario place before it (which
/// moves whenever the file is edited).
pub fn refusal_text(message: &str) -> &str {
    message
        .find("setup step (")
        .map_or(message, |at| &message[at..])
}

/// One known deviation: it matches a run's deviation with the same step, kind and path, and
/// the same values where it names them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Known {
    pub step: usize,
    pub kind: Kind,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub expected: Option<String>,
    #[serde(default)]
    pub actual: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Known {
    pub fn matches(&self, d: &Deviation) -> bool {
        self.step == d.step
            && self.kind == d.kind
            && self.path == d.path
            && (self.expected.is_none() || self.expected == d.expected)
            && (self.actual.is_none() || self.actual == d.actual)
    }

    fn same_place(&self, d: &Deviation) -> bool {
        self.step == d.step && self.kind == d.kind && self.path == d.path
    }

    fn from_run(d: &Deviation, reason: Option<String>) -> Known {
        Known {
            step: d.step,
            kind: d.kind,
            path: d.path.clone(),
            expected: d.expected.clone(),
            actual: d.actual.clone().filter(|_| deviation::actual_is_stable(d)),
            reason,
        }
    }

    fn as_deviation(&self) -> Deviation {
        Deviation {
            step: self.step,
            kind: self.kind,
            path: self.path.clone(),
            expected: self.expected.clone(),
            actual: self.actual.clone(),
        }
    }
}

impl std::fmt::Display for Known {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_deviation().fmt(f)
    }
}

impl Baseline {
    pub fn case(&self, name: &str) -> Option<&KnownCase> {
        self.cases
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.cases[i])
    }

    /// Marks each deviation of the report new, known (with its reason) or not judged, and
    /// grades each case from what is judged.
    pub fn judge(&self, report: &mut RunReport, not_judged: &NotJudgedSet) {
        for c in &mut report.cases {
            let entry = self.case(&c.name);
            for d in &mut c.deviations {
                if let Some(rule) = not_judged.rule_for(&c.name, &d.deviation) {
                    d.judged = Judged::NotJudged;
                    d.reason = Some(rule.reason.clone());
                    continue;
                }
                let known = entry.and_then(|e| {
                    if self.whole_cases {
                        return Some(e.reason.clone());
                    }
                    e.deviations
                        .iter()
                        .find(|k| k.matches(&d.deviation))
                        .map(|k| k.reason.clone().unwrap_or_else(|| e.reason.clone()))
                });
                (d.judged, d.reason) = match known {
                    Some(r) => (Judged::Known, Some(r)),
                    None => (Judged::New, None),
                };
            }
            c.known = entry
                .filter(|_| c.judged(Judged::Known).next().is_some())
                .map(|e| e.reason.clone());
            c.regrade();
        }
    }

    /// Entries that name no case of `names` (a case renamed or deleted since).
    pub fn unknown_cases<'a>(
        &'a self,
        names: &'a BTreeSet<String>,
    ) -> impl Iterator<Item = &'a KnownCase> + 'a {
        self.cases.iter().filter(|d| !names.contains(&d.name))
    }

    /// How many deviations the baseline lists.
    pub fn len(&self) -> usize {
        self.cases.iter().map(|c| c.deviations.len().max(1)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    pub(super) use crate::deviation::tests::dev;
    use crate::outcome::StopKind;
    use crate::report::{CaseOutcome, CaseReport, JudgedDeviation, SCHEMA, Status};

    pub(super) fn case(name: &str, outcome: CaseOutcome, devs: &[Deviation]) -> CaseReport {
        let mut c = CaseReport {
            name: name.into(),
            service: "sts".into(),
            operation: "AssumeRole".into(),
            kind: "limit".into(),
            provenance: "documented".into(),
            outcome,
            stop: (outcome == CaseOutcome::Error).then_some(StopKind::NoAnswer),
            diff: None,
            message: (outcome == CaseOutcome::Error).then(|| "refused".into()),
            deviations: devs.iter().map(JudgedDeviation::new).collect(),
            grade: None,
            known: None,
            file: None,
            line: None,
            time: None,
        };
        c.regrade();
        c
    }

    pub(super) fn report(cases: Vec<CaseReport>) -> RunReport {
        RunReport {
            schema: SCHEMA,
            target: "emu".into(),
            conform: "0".into(),
            target_version: None,
            shard: None,
            not_judged: Vec::new(),
            cases,
        }
    }

    pub(super) const BASELINE: &str = r#"
[[case]]
name = "a"
reason = "limits not enforced"
deviations = [
  { step = 1, kind = "status", expected = "400", actual = "200" },
  { step = 1, kind = "value-shape", path = "R/ResponseMetadata/RequestId", expected = "[request-id]", reason = "request ids are not UUIDs" },
]

[[case]]
name = "b"
reason = "an extra element"
deviations = [{ step = 1, kind = "unexpected-element", path = "R/X" }]
"#;

    pub(super) fn status() -> Deviation {
        dev(1, Kind::Status, "", Some("400"), Some("200"))
    }

    pub(super) fn request_id(actual: &str) -> Deviation {
        dev(
            1,
            Kind::ValueShape,
            "R/ResponseMetadata/RequestId",
            Some("[request-id]"),
            Some(actual),
        )
    }

    pub(super) fn judged(b: &Baseline, mut r: RunReport) -> (RunReport, Gate) {
        b.judge(&mut r, &NotJudgedSet::default());
        let g = b.gate(&r);
        (r, g)
    }

    #[test]
    fn known_deviations_pass_and_reasons_come_from_the_deviation_or_the_case() {
        let b = Baseline::parse(BASELINE, "b.toml").unwrap();
        let (r, g) = judged(
            &b,
            report(vec![
                case("a", CaseOutcome::Fail, &[status(), request_id("x1y2")]),
                case(
                    "b",
                    CaseOutcome::Fail,
                    &[dev(1, Kind::UnexpectedElement, "R/X", None, Some("6"))],
                ),
            ]),
        );
        assert!(g.passed(), "{g:?}");
        assert_eq!(g.known, 3);
        let a = &r.cases[0];
        assert_eq!(a.status(), Status::Baselined);
        assert_eq!(a.known.as_deref(), Some("limits not enforced"));
        assert_eq!(
            a.deviations[0].reason.as_deref(),
            Some("limits not enforced")
        );
        assert_eq!(
            a.deviations[1].reason.as_deref(),
            Some("request ids are not UUIDs")
        );
    }

    #[test]
    fn not_judged_deviations_are_neither_new_nor_listed() {
        let b = Baseline::default();
        let set = NotJudgedSet::new(&[crate::deviation::NotJudged {
            kind: Some(Kind::ElementOrder),
            path: None,
            case: None,
            reason: "order not recorded".into(),
        }])
        .unwrap();
        let mut r = report(vec![case(
            "a",
            CaseOutcome::Fail,
            &[dev(1, Kind::ElementOrder, "R", Some("A, B"), Some("B, A"))],
        )]);
        b.judge(&mut r, &set);
        let g = b.gate(&r);
        assert!(g.passed(), "{g:?}");
        assert_eq!(g.not_judged, 1);
        assert_eq!(r.cases[0].status(), Status::Pass);
        assert_eq!(r.cases[0].grade, Some(crate::deviation::Level::Values));
        assert!(b.updated(&r).is_empty());
    }
}
