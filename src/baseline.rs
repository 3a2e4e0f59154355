//! Known deviations of a target (`baselines/<target>.toml`), named one by one: for each case,
//! the deviations that are known in it (step, kind, path, and the expected and actual values
//! where they do not change from run to run), with a reason that covers them or one of their
//! own. The gate fails on any deviation not listed, also in a case that lists others, and on
//! a listed one that no longer occurs, so the list only shrinks deviation by deviation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use crate::deviation::{self, Deviation, Kind, NotJudgedSet};
use crate::report::{CaseOutcome, Judged, RunReport};
use crate::runner::StopKind;

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

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Not TOML, or not the shape of a baseline: at the line and column.
    #[error("{}", .0.render_inline())]
    Parse(Box<crate::diagnostic::Diagnostic>),
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "case")]
    cases: Vec<RawCase>,
    /// The first format: `[[deviation]] case = ..., reason = ...`.
    #[serde(default, rename = "deviation")]
    whole: Vec<RawWholeCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: toml::Spanned<String>,
    reason: String,
    #[serde(default)]
    deviations: Vec<Known>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWholeCase {
    case: toml::Spanned<String>,
    reason: String,
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Baseline {
    /// A missing file is an empty baseline: a new target starts with one.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        if !path.exists() {
            return Ok(Baseline::default());
        }
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, path: &str) -> Result<Baseline, BaselineError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let source = std::sync::Arc::from(text);
            let d = crate::diagnostic::toml_error(Path::new(path), source, &e)
                .with_help("a baseline lists [[case]] entries of name, reason and deviations; `--update-baseline` writes one");
            BaselineError::Parse(Box::new(d))
        })?;
        let invalid = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
            BaselineError::Invalid {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        };
        if !raw.cases.is_empty() && !raw.whole.is_empty() {
            let first = &raw.whole[0].case;
            return Err(invalid(
                first.span(),
                "this file mixes [[case]] entries with whole-case [[deviation]] entries; run --update-baseline to convert it whole".into(),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut cases = Vec::new();
        let whole_cases = !raw.whole.is_empty();
        let entries = raw
            .cases
            .into_iter()
            .map(|c| (c.name, c.reason, Some(c.deviations)))
            .chain(raw.whole.into_iter().map(|w| (w.case, w.reason, None)));
        for (name, reason, deviations) in entries {
            let span = name.span();
            let name = name.into_inner();
            if !seen.insert(name.clone()) {
                return Err(invalid(
                    span,
                    format!("{name} is listed twice; merge its entries"),
                ));
            }
            if deviations.as_ref().is_some_and(Vec::is_empty) {
                return Err(invalid(
                    span,
                    format!(
                        "{name} lists no deviation: list what is known in it, or remove the entry"
                    ),
                ));
            }
            cases.push(KnownCase {
                name,
                reason,
                deviations: deviations.unwrap_or_default(),
            });
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Baseline { cases, whole_cases })
    }

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
                },
            );
        }
        Baseline {
            cases: out.into_values().collect(),
            whole_cases: false,
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

    /// One `[[case]]` table per case, its deviations one inline table a line.
    pub fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut s = String::from(
            "# Known deviations of this target, named one by one. The gate fails on a deviation not\n\
             # listed here (also in a case that lists others) and on a listed one that no longer occurs.\n\
             # A deviation matches by step, kind and path, and by its expected and actual values where\n\
             # they are written (values that change from run to run are left out). Its reason is its own\n\
             # `reason`, or else the case's. Rewrite with the command the gate prints, which keeps the\n\
             # reasons; then sharpen the ones it wrote.\n",
        );
        for c in &self.cases {
            let _ = write!(
                s,
                "\n[[case]]\nname = {}\nreason = {}\ndeviations = [\n",
                q(&c.name),
                q(&c.reason)
            );
            for k in &c.deviations {
                let _ = write!(s, "  {{ step = {}, kind = {}", k.step, q(k.kind.name()));
                if !k.path.is_empty() {
                    let _ = write!(s, ", path = {}", q(&k.path));
                }
                for (key, v) in [
                    ("expected", &k.expected),
                    ("actual", &k.actual),
                    ("reason", &k.reason),
                ] {
                    if let Some(v) = v {
                        let _ = write!(s, ", {key} = {}", q(v));
                    }
                }
                s.push_str(" },\n");
            }
            s.push_str("]\n");
        }
        s
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
    use super::*;
    use crate::report::{CaseReport, JudgedDeviation, SCHEMA};

    fn dev(step: usize, kind: Kind, path: &str, e: Option<&str>, a: Option<&str>) -> Deviation {
        Deviation {
            step,
            kind,
            path: path.into(),
            expected: e.map(str::to_owned),
            actual: a.map(str::to_owned),
        }
    }

    fn case(name: &str, outcome: CaseOutcome, devs: &[Deviation]) -> CaseReport {
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
        };
        c.regrade();
        c
    }

    fn report(cases: Vec<CaseReport>) -> RunReport {
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

    const BASELINE: &str = r#"
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

    fn status() -> Deviation {
        dev(1, Kind::Status, "", Some("400"), Some("200"))
    }

    fn request_id(actual: &str) -> Deviation {
        dev(
            1,
            Kind::ValueShape,
            "R/ResponseMetadata/RequestId",
            Some("[request-id]"),
            Some(actual),
        )
    }

    fn judged(b: &Baseline, mut r: RunReport) -> (RunReport, Gate) {
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
        assert_eq!(a.status(), "baselined");
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
        assert_eq!(r.cases[0].status(), "fail");
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
        assert_eq!(r.cases[0].status(), "pass");
        assert_eq!(r.cases[0].grade, Some(crate::deviation::Level::Values));
        assert!(b.updated(&r).is_empty());
    }

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
    fn values_with_quotes_and_control_characters_survive_the_file() {
        let odd = "a \"quoted\" \\ value\nwith a line and \u{1}";
        let b = Baseline {
            cases: vec![KnownCase {
                name: "x".into(),
                reason: "it's \"odd\"".into(),
                deviations: vec![Known::from_run(
                    &dev(
                        2,
                        Kind::ErrorMessage,
                        "E/Error/Message",
                        Some(odd),
                        Some(odd),
                    ),
                    None,
                )],
            }],
            whole_cases: false,
        };
        assert_eq!(Baseline::parse(&b.to_toml(), "x.toml").unwrap(), b);
    }

    #[test]
    fn the_first_format_is_read_and_asks_for_a_conversion() {
        let old = "[[deviation]]\ncase = \"a\"\nreason = \"limits not enforced\"\n";
        let b = Baseline::parse(old, "old.toml").unwrap();
        assert!(b.whole_cases);
        let run = report(vec![case("a", CaseOutcome::Fail, &[status()])]);
        let (r, g) = judged(&b, run.clone());
        assert_eq!(r.cases[0].status(), "baselined");
        assert!(g.whole_cases && !g.passed());
        let u = b.updated(&r);
        assert!(!u.whole_cases);
        assert_eq!(u.cases[0].reason, "limits not enforced");
        assert_eq!(u.cases[0].deviations, [Known::from_run(&status(), None)]);
        assert!(judged(&u, run).1.passed());
    }

    #[test]
    fn mistakes_in_the_file_name_their_line() {
        let err = |t: &str| Baseline::parse(t, "b.toml").unwrap_err().to_string();
        let e = err("[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = []\n");
        assert!(e.starts_with("b.toml:2:8: a lists no deviation"), "{e}");
        let e = err(
            "[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = [{ step = 1, kind = \"status\" }]\n[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = [{ step = 1, kind = \"status\" }]\n",
        );
        assert!(e.starts_with("b.toml:6:8: a is listed twice"), "{e}");
        let e = err(
            "[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = [{ step = 1, kind = \"colour\" }]\n",
        );
        assert!(
            e.starts_with("b.toml:4:34: ") && e.contains("colour"),
            "{e}"
        );
        let e = err(
            "[[case]]\nname = \"a\"\nreason = \"r\"\ndeviations = [{ step = 1, kind = \"status\", pth = \"x\" }]\n",
        );
        assert!(e.starts_with("b.toml:4:") && e.contains("pth"), "{e}");
        assert!(
            e.contains("4 │ deviations = ["),
            "the line, with a caret under it: {e}"
        );
    }
}
