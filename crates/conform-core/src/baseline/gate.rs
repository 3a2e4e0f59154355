//! The gate: how a judged run compares with its baseline.

use super::{Baseline, Known};
use crate::deviation::{Deviation, Kind};
use crate::outcome::StopKind;
use crate::report::{CaseOutcome, Judged, RunReport};

/// How a run compares with its baseline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gate {
    /// Deviations the baseline does not list, by case: regressions.
    pub new: Vec<(String, Deviation)>,
    /// Listed deviations that no longer occur, by case: remove them.
    pub fixed: Vec<(String, Known)>,
    /// Deviations the baseline lists that occurred.
    pub known: usize,
    /// Deviations the target is not judged on.
    pub not_judged: usize,
    /// Cases that could not be judged (no answer, a refused setup step, ...): never excused
    /// by a baseline, or a target that is down would pass the gate.
    pub stopped: Vec<(String, StopKind, String)>,
    /// Cases without a snapshot: nothing to judge them by.
    pub missing: Vec<String>,
    /// The baseline lists whole cases: convert it before it can gate.
    pub whole_cases: bool,
}

impl Gate {
    pub fn passed(&self) -> bool {
        self.new.is_empty()
            && self.fixed.is_empty()
            && self.stopped.is_empty()
            && self.missing.is_empty()
            && !self.whole_cases
    }
}

impl Baseline {
    /// Judges a report that [`Baseline::judge`] marked: only cases the run ran count (a
    /// filtered or sharded run judges its part).
    pub fn gate(&self, report: &RunReport) -> Gate {
        let mut g = Gate {
            whole_cases: self.whole_cases && !self.cases.is_empty(),
            ..Gate::default()
        };
        for c in &report.cases {
            match c.outcome {
                CaseOutcome::Error => {
                    let refused = c.stop == Some(StopKind::Setup)
                        && self.case(&c.name).is_some_and(|e| {
                            e.setup_refused.as_deref()
                                == Some(super::refusal_text(c.message.as_deref().unwrap_or("")))
                        });
                    if refused {
                        g.known += 1;
                        continue;
                    }
                    g.stopped.push((
                        c.name.clone(),
                        c.stop.unwrap_or(StopKind::NoAnswer),
                        c.message.clone().unwrap_or_default(),
                    ));
                    continue;
                }
                CaseOutcome::Missing => {
                    g.missing.push(c.name.clone());
                    continue;
                }
                CaseOutcome::Pass | CaseOutcome::Fail | CaseOutcome::Incomplete => {}
            }
            for d in &c.deviations {
                match d.judged {
                    Judged::New => g.new.push((c.name.clone(), d.deviation.clone())),
                    Judged::Known => g.known += 1,
                    Judged::NotJudged => g.not_judged += 1,
                }
            }
            let Some(entry) = self.case(&c.name) else {
                continue;
            };
            if self.whole_cases {
                if c.outcome == CaseOutcome::Pass {
                    g.fixed.push((
                        c.name.clone(),
                        Known {
                            step: 0,
                            kind: Kind::Other,
                            path: String::new(),
                            expected: None,
                            actual: None,
                            reason: Some(entry.reason.clone()),
                        },
                    ));
                }
                continue;
            }
            for k in &entry.deviations {
                if !c.deviations.iter().any(|d| k.matches(&d.deviation)) {
                    g.fixed.push((c.name.clone(), k.clone()));
                }
            }
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use crate::baseline::Baseline;
    use crate::baseline::tests::{BASELINE, case, dev, judged, report, request_id, status};
    use crate::deviation::Kind;
    use crate::outcome::StopKind;
    use crate::report::{CaseOutcome, Status};

    #[test]
    fn a_new_deviation_fails_even_in_a_case_with_known_ones() {
        let b = Baseline::parse(BASELINE, "b.toml").unwrap();
        let extra = dev(1, Kind::MissingElement, "R/Y", None, None);
        let (r, g) = judged(
            &b,
            report(vec![case(
                "a",
                CaseOutcome::Fail,
                &[status(), request_id("x"), extra.clone()],
            )]),
        );
        assert!(!g.passed());
        assert_eq!(g.new, [("a".to_owned(), extra)]);
        assert_eq!(r.cases[0].status(), Status::Fail);
        // A value that differs from the listed one is another deviation.
        let (_, g) = judged(
            &b,
            report(vec![case(
                "a",
                CaseOutcome::Fail,
                &[
                    dev(1, Kind::Status, "", Some("400"), Some("500")),
                    request_id("x"),
                ],
            )]),
        );
        assert_eq!(g.new.len(), 1);
        // ... and the listed 400 -> 200 no longer occurs.
        assert_eq!(g.fixed.len(), 1);
        assert_eq!(g.fixed[0].1.actual.as_deref(), Some("200"));
    }

    #[test]
    fn a_listed_deviation_that_no_longer_occurs_fails_as_fixed() {
        let b = Baseline::parse(BASELINE, "b.toml").unwrap();
        let (_, g) = judged(
            &b,
            report(vec![
                case("a", CaseOutcome::Fail, &[status()]),
                case("b", CaseOutcome::Pass, &[]),
            ]),
        );
        assert!(!g.passed());
        let fixed: Vec<(&str, Kind)> = g.fixed.iter().map(|(c, k)| (c.as_str(), k.kind)).collect();
        assert_eq!(
            fixed,
            [("a", Kind::ValueShape), ("b", Kind::UnexpectedElement)]
        );
    }

    #[test]
    fn unanswered_and_snapshotless_cases_are_never_excused() {
        let b = Baseline::parse(BASELINE, "b.toml").unwrap();
        let (_, g) = judged(
            &b,
            report(vec![
                case("a", CaseOutcome::Error, &[]),
                case("c", CaseOutcome::Missing, &[]),
            ]),
        );
        assert_eq!(g.stopped.len(), 1);
        assert_eq!(g.stopped[0].1, StopKind::NoAnswer);
        assert_eq!(g.missing, ["c"]);
        assert!(
            g.fixed.is_empty(),
            "an error says nothing about what is fixed"
        );
        assert!(!g.passed());
        // Updating keeps the entries of cases that could not be judged.
        assert_eq!(
            b.updated(&report(vec![case("a", CaseOutcome::Error, &[])])),
            b
        );
    }

    #[test]
    fn a_listed_setup_refusal_is_excused_and_nothing_else() {
        let refused = |message: &str| {
            let mut c = case("r", CaseOutcome::Error, &[]);
            c.stop = Some(StopKind::Setup);
            c.message = Some(message.to_owned());
            c
        };
        let first = "s.yaml:16:20: setup step (CreateThing) was refused: HTTP 500";
        // The update lists the refusal without its place in the scenario file.
        let b = Baseline::default().updated(&report(vec![refused(first)]));
        assert_eq!(
            b.cases[0].setup_refused.as_deref(),
            Some("setup step (CreateThing) was refused: HTTP 500")
        );
        let b = Baseline::parse(&b.to_toml(), "b.toml").unwrap();
        // The same refusal, the scenario edited above it: excused.
        let (_, g) = judged(
            &b,
            report(vec![refused(
                "s.yaml:19:20: setup step (CreateThing) was refused: HTTP 500",
            )]),
        );
        assert!(g.passed(), "{:?}", g.stopped);
        // Another refusal, or no answer at all (a target that is down): not excused.
        let (_, g) = judged(
            &b,
            report(vec![refused(
                "s.yaml:16:20: setup step (CreateThing) was refused: HTTP 404 NoSuchEntity",
            )]),
        );
        assert!(!g.passed());
        let (_, g) = judged(&b, report(vec![case("r", CaseOutcome::Error, &[])]));
        assert_eq!(g.stopped.len(), 1);
        assert!(!g.passed());
    }
}
