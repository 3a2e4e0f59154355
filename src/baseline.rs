//! Known deviations of a target (`baselines/<target>.toml`): the gate passes when every
//! failure is known, fails on a new one (a regression) and on a known one that now passes
//! (so the list only shrinks).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::RunReport;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    #[serde(default, rename = "deviation")]
    pub deviations: Vec<Deviation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deviation {
    /// The case's test name.
    pub case: String,
    /// One line saying what the target does instead.
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a baseline: {message}")]
    Parse { path: String, message: String },
}

/// How a run compares with its baseline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gate {
    /// Failing cases the baseline does not know: regressions.
    pub new: Vec<String>,
    /// Known deviations that now pass: remove them.
    pub fixed: Vec<String>,
    /// Failures the baseline knows.
    pub known: usize,
    /// Cases that got no answer (refused, timed out): never excused by a baseline, or a
    /// target that is down would pass the gate.
    pub errors: Vec<String>,
}

impl Gate {
    pub fn passed(&self) -> bool {
        self.new.is_empty() && self.fixed.is_empty() && self.errors.is_empty()
    }
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        if !path.exists() {
            return Ok(Baseline::default());
        }
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| BaselineError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Judges a run: only cases the run ran count (a filtered or sharded run judges its part).
    pub fn gate(&self, report: &RunReport) -> Gate {
        let known: BTreeMap<&str, &str> = self
            .deviations
            .iter()
            .map(|d| (d.case.as_str(), d.reason.as_str()))
            .collect();
        let mut g = Gate::default();
        for c in &report.cases {
            if c.outcome == "error" {
                g.errors.push(c.name.clone());
                continue;
            }
            let failing = c.outcome != "pass";
            match (failing, known.contains_key(c.name.as_str())) {
                (true, true) => g.known += 1,
                (true, false) => g.new.push(c.name.clone()),
                (false, true) => g.fixed.push(c.name.clone()),
                (false, false) => {}
            }
        }
        g
    }

    /// The baseline that accepts this run: known reasons kept, new failures explained by the
    /// first line their diff changes, fixed ones dropped. Cases the run did not run stay.
    pub fn updated(&self, report: &RunReport) -> Baseline {
        let ran: BTreeMap<&str, &crate::report::CaseReport> =
            report.cases.iter().map(|c| (c.name.as_str(), c)).collect();
        let mut out: BTreeMap<String, String> = self
            .deviations
            .iter()
            .filter(|d| ran.get(d.case.as_str()).is_none_or(|c| c.outcome != "pass"))
            .map(|d| (d.case.clone(), d.reason.clone()))
            .collect();
        // A case that got no answer says nothing about the target: not a deviation to accept.
        for c in report
            .cases
            .iter()
            .filter(|c| c.outcome != "pass" && c.outcome != "error")
        {
            out.entry(c.name.clone()).or_insert_with(|| reason_of(c));
        }
        Baseline {
            deviations: out
                .into_iter()
                .map(|(case, reason)| Deviation { case, reason })
                .collect(),
        }
    }

    /// Entries that name no case of `names` (a case renamed or deleted since).
    pub fn unknown_cases<'a>(
        &'a self,
        names: &'a std::collections::BTreeSet<String>,
    ) -> impl Iterator<Item = &'a Deviation> + 'a {
        self.deviations.iter().filter(|d| !names.contains(&d.case))
    }

    /// Writes the file whole or not at all (a temp file renamed into place), creating its
    /// directory: a new target's first baseline has nowhere to go yet.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, self.to_toml())?;
        std::fs::rename(&tmp, path)
    }

    pub fn to_toml(&self) -> String {
        let mut s = String::from(
            "# Known deviations of this target: a case listed here may fail without failing the gate.\n\
             # Regenerate with the command the gate prints; keep or sharpen the reasons.\n\n",
        );
        s.push_str(&toml::to_string(self).unwrap_or_default());
        s
    }
}

/// A first reason for a new deviation: the first line that differs, or the error.
fn reason_of(c: &crate::report::CaseReport) -> String {
    if let Some(m) = &c.message {
        return format!("{}: {m}", c.outcome);
    }
    let diff = c.diff.as_deref().unwrap_or("");
    let minus = diff
        .lines()
        .find(|l| l.starts_with('-') && !l.starts_with("---"));
    let plus = diff
        .lines()
        .find(|l| l.starts_with('+') && !l.starts_with("+++"));
    let clip = |l: &str| l[1..].trim().chars().take(100).collect::<String>();
    match (minus, plus) {
        (Some(m), Some(p)) => format!("expected `{}`, got `{}`", clip(m), clip(p)),
        (Some(m), None) => format!("missing `{}`", clip(m)),
        (None, Some(p)) => format!("extra `{}`", clip(p)),
        (None, None) => c.outcome.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CaseReport, SCHEMA};

    fn run(cases: &[(&str, &str)]) -> RunReport {
        RunReport {
            schema: SCHEMA,
            target: "moto".into(),
            conform: "0".into(),
            target_version: None,
            shard: None,
            cases: cases
                .iter()
                .map(|(n, o)| CaseReport {
                    name: (*n).into(),
                    service: "sts".into(),
                    operation: "AssumeRole".into(),
                    kind: "limit".into(),
                    provenance: "documented".into(),
                    outcome: (*o).into(),
                    diff: (*o == "fail").then(|| {
                        "--- snapshot\n+++ actual\n-HTTP 400 Bad Request\n+HTTP 200 OK\n".into()
                    }),
                    message: None,
                    known: None,
                })
                .collect(),
        }
    }

    #[test]
    fn the_gate_fails_on_new_deviations_and_on_fixed_ones() {
        let b = Baseline {
            deviations: vec![
                Deviation {
                    case: "a".into(),
                    reason: "r".into(),
                },
                Deviation {
                    case: "b".into(),
                    reason: "r".into(),
                },
            ],
        };
        let g = b.gate(&run(&[
            ("a", "fail"),
            ("b", "pass"),
            ("c", "fail"),
            ("d", "pass"),
        ]));
        assert_eq!(
            g,
            Gate {
                new: vec!["c".into()],
                fixed: vec!["b".into()],
                known: 1,
                errors: vec![],
            }
        );
        assert!(!g.passed());
        let u = b.updated(&run(&[("a", "fail"), ("b", "pass"), ("c", "fail")]));
        assert_eq!(
            u.deviations
                .iter()
                .map(|d| d.case.as_str())
                .collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert_eq!(
            u.deviations[1].reason,
            "expected `HTTP 400 Bad Request`, got `HTTP 200 OK`"
        );
        assert!(
            u.gate(&run(&[("a", "fail"), ("b", "pass"), ("c", "fail")]))
                .passed()
        );
        let back: Baseline = toml::from_str(&u.to_toml()).unwrap();
        assert_eq!(back, u);
    }

    #[test]
    fn a_target_that_does_not_answer_never_passes_the_gate() {
        let b = Baseline {
            deviations: vec![Deviation {
                case: "a".into(),
                reason: "r".into(),
            }],
        };
        let g = b.gate(&run(&[("a", "error"), ("b", "error")]));
        assert_eq!(g.errors, ["a", "b"]);
        assert_eq!((g.known, g.new.len(), g.fixed.len()), (0, 0, 0));
        assert!(!g.passed());
        // Updating keeps the known entry and accepts no error as a deviation.
        let u = b.updated(&run(&[("a", "error"), ("b", "error")]));
        assert_eq!(u, b);
    }
}
