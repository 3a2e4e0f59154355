//! The baseline that accepts a run, keeping the reasons people wrote.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Baseline, Known, KnownCase, refusal_text};
use crate::deviation::{self, Deviation, Kind};
use crate::outcome::StopKind;
use crate::report::{CaseOutcome, Judged, RunReport};

impl Baseline {
    /// The baseline that accepts this run. Listed deviations that still occur keep their
    /// reasons; one whose values changed keeps its reason and loses the values that changed
    /// (they vary from run to run); new ones are added with the values that look stable,
    /// and a reason to sharpen; ones that no longer occur are dropped. Cases the run did not
    /// run, or could not judge, stay as they are. Not-judged deviations are never listed.
    pub fn updated(&self, report: &RunReport) -> Baseline {
        let mut out: BTreeMap<String, KnownCase> = self
            .cases
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect();
        for c in &report.cases {
            match c.outcome {
                // A setup step the target refuses (an operation it lacks) is listed as such;
                // other stops say nothing of the target's answers and leave the entry be.
                CaseOutcome::Error if c.stop == Some(StopKind::Setup) => {
                    let refused = refusal_text(c.message.as_deref().unwrap_or("")).to_owned();
                    out.insert(
                        c.name.clone(),
                        KnownCase {
                            name: c.name.clone(),
                            reason: self.case(&c.name).map_or_else(
                                || "the target refuses what the case sets up".to_owned(),
                                |e| e.reason.clone(),
                            ),
                            deviations: Vec::new(),
                            setup_refused: Some(refused),
                        },
                    );
                    continue;
                }
                CaseOutcome::Error | CaseOutcome::Missing => continue,
                CaseOutcome::Pass | CaseOutcome::Fail | CaseOutcome::Incomplete => {}
            }
            let old = self.case(&c.name).filter(|_| !self.whole_cases);
            let run: Vec<&Deviation> = c
                .deviations
                .iter()
                .filter(|d| d.judged != Judged::NotJudged)
                .map(|d| &d.deviation)
                .collect();
            if run.is_empty() {
                out.remove(&c.name);
                continue;
            }
            let mut deviations = Vec::with_capacity(run.len());
            for d in &run {
                let listed = old.and_then(|o| o.deviations.iter().find(|k| k.matches(d)));
                let moved = old.and_then(|o| o.deviations.iter().find(|k| k.same_place(d)));
                deviations.push(match (listed, moved) {
                    // Listed values are held to today's rule of what is stable.
                    (Some(k), _) => Known {
                        actual: k
                            .actual
                            .clone()
                            .filter(|_| deviation::actual_is_stable(&k.as_deviation())),
                        ..k.clone()
                    },
                    (None, Some(k)) => Known {
                        expected: k
                            .expected
                            .clone()
                            .filter(|e| Some(e) == d.expected.as_ref()),
                        actual: k.actual.clone().filter(|a| Some(a) == d.actual.as_ref()),
                        ..k.clone()
                    },
                    (None, None) if old.is_some() => {
                        Known::from_run(d, Some(format!("new: {}", describe_one(d))))
                    }
                    (None, None) => Known::from_run(d, None),
                });
            }
            // Two run deviations that a value-less entry both matches would list it twice.
            deviations.dedup();
            let reason = match self.case(&c.name) {
                Some(e) => e.reason.clone(),
                None => describe(&run),
            };
            out.insert(
                c.name.clone(),
                KnownCase {
                    name: c.name.clone(),
                    reason,
                    deviations,
                    setup_refused: None,
                },
            );
        }
        Baseline {
            cases: out.into_values().collect(),
            whole_cases: false,
        }
    }
}

/// The last element of a path (`Expiration`), or the path when it has one element.
fn last(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A few words for one deviation, for reasons the update writes.
fn describe_one(d: &Deviation) -> String {
    let e = d.expected.as_deref().unwrap_or("");
    let a = d.actual.as_deref().unwrap_or("");
    match d.kind {
        Kind::Status => format!("HTTP {a} instead of {e}"),
        Kind::ErrorCode => format!("{a} instead of {e}"),
        Kind::MissingElement => format!("no {}", last(&d.path)),
        Kind::UnexpectedElement => format!("an extra {}", last(&d.path)),
        Kind::ElementOrder => format!("{} in another order", last(&d.path)),
        Kind::ValueShape => format!("{} of another shape", last(&d.path)),
        Kind::MissingStep => format!("step {} never ran", d.step),
        k if d.path.is_empty() => k.to_string(),
        k => format!("{k} at {}", last(&d.path)),
    }
}

/// A first reason for a newly listed case: what its first deviations are.
fn describe(run: &[&Deviation]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for d in run {
        let p = describe_one(d);
        if !parts.contains(&p) {
            parts.push(p);
        }
    }
    let more = parts.len().saturating_sub(4);
    parts.truncate(4);
    let mut s = parts.join("; ");
    if more > 0 {
        let _ = write!(s, "; and {more} more");
    }
    s
}

#[cfg(test)]
mod tests {
    use crate::baseline::tests::{BASELINE, case, dev, judged, report, request_id, status};
    use crate::baseline::{Baseline, Known};
    use crate::deviation::Kind;
    use crate::report::{CaseOutcome, Status};

    #[test]
    fn updating_keeps_reasons_drops_varying_values_and_round_trips() {
        let b = Baseline::parse(BASELINE, "b.toml").unwrap();
        let extra = dev(
            1,
            Kind::ErrorCode,
            "R/Error/Code",
            Some("ValidationError"),
            Some("InvalidInput"),
        );
        let run = report(vec![
            // a: the status now differs in its actual value, and a new deviation.
            case(
                "a",
                CaseOutcome::Fail,
                &[
                    dev(1, Kind::Status, "", Some("400"), Some("500")),
                    request_id("x"),
                    extra,
                ],
            ),
            // b passes now; c is new, with a generated request id.
            case("b", CaseOutcome::Pass, &[]),
            case(
                "c",
                CaseOutcome::Fail,
                &[request_id("76t9sRO1M2onaGPQnM0r9Q8luH9BgMtma0tDCKGrd7Imks")],
            ),
        ]);
        let u = b.updated(&run);
        let names: Vec<&str> = u.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        let a = &u.cases[0];
        assert_eq!(a.reason, "limits not enforced");
        assert_eq!(a.deviations[0].expected.as_deref(), Some("400"));
        assert_eq!(
            a.deviations[0].actual, None,
            "the value that changed is left out"
        );
        assert_eq!(a.deviations[0].reason, None);
        assert_eq!(
            a.deviations[1].reason.as_deref(),
            Some("request ids are not UUIDs")
        );
        assert_eq!(
            a.deviations[2].reason.as_deref(),
            Some("new: InvalidInput instead of ValidationError")
        );
        let c = &u.cases[1];
        assert_eq!(c.reason, "RequestId of another shape");
        assert_eq!(
            c.deviations[0].actual, None,
            "a generated value is not listed"
        );
        // The update passes its own run, and reads back as written.
        let (_, g) = judged(&u, run.clone());
        assert!(g.passed(), "{g:?}");
        let back = Baseline::parse(&u.to_toml(), "u.toml").unwrap();
        assert_eq!(back, u);
    }

    #[test]
    fn the_first_format_is_read_and_asks_for_a_conversion() {
        let old = "[[deviation]]\ncase = \"a\"\nreason = \"limits not enforced\"\n";
        let b = Baseline::parse(old, "old.toml").unwrap();
        assert!(b.whole_cases);
        let run = report(vec![case("a", CaseOutcome::Fail, &[status()])]);
        let (r, g) = judged(&b, run.clone());
        assert_eq!(r.cases[0].status(), Status::Baselined);
        assert!(g.whole_cases && !g.passed());
        let u = b.updated(&r);
        assert!(!u.whole_cases);
        assert_eq!(u.cases[0].reason, "limits not enforced");
        assert_eq!(u.cases[0].deviations, [Known::from_run(&status(), None)]);
        assert!(judged(&u, run).1.passed());
    }
}
