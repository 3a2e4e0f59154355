//! What a run found, as data that outlives it: a JSON report with a stable schema, which
//! shards merge, and renderings for CI (JUnit XML) and people (Markdown). Each case carries
//! its deviations, each judged new, known (a baseline lists it) or not judged (the target
//! declared it is not judged on it), and its grade: the last level at which it agrees.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::deviation::{self, Deviation, Kind, Level, NotJudged};
use crate::runner::{CaseResult, Outcome, StopKind};
use crate::suite::Suite;

/// The version of the JSON schema below; bumped on any incompatible change. Schema 2 added
/// deviations, grades and not-judged rules.
pub const SCHEMA: u32 = 2;

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
    /// What the target declared it is not judged on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_judged: Vec<NotJudged>,
    pub cases: Vec<CaseReport>,
}

/// What became of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseOutcome {
    Pass,
    /// The answers differ from the snapshot.
    Fail,
    /// A step's answer lacked a value later steps need; what ran was compared.
    Incomplete,
    /// No snapshot to compare with.
    Missing,
    /// Nothing could be judged (no answer, a refused setup step, ...).
    Error,
}

impl CaseOutcome {
    pub fn name(self) -> &'static str {
        match self {
            CaseOutcome::Pass => "pass",
            CaseOutcome::Fail => "fail",
            CaseOutcome::Incomplete => "incomplete",
            CaseOutcome::Missing => "missing",
            CaseOutcome::Error => "error",
        }
    }
}

/// How a deviation was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judged {
    /// Not in the baseline (or no baseline): it fails the gate.
    New,
    /// The baseline lists it.
    Known,
    /// The target declared it is not judged on it.
    NotJudged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgedDeviation {
    #[serde(flatten)]
    pub deviation: Deviation,
    pub judged: Judged,
    /// Why it is known or not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl JudgedDeviation {
    /// A deviation nothing has excused yet.
    pub fn new(deviation: &Deviation) -> JudgedDeviation {
        JudgedDeviation {
            deviation: deviation.clone(),
            judged: Judged::New,
            reason: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    /// `<service>::<operation>::<case-id>`.
    pub name: String,
    pub service: String,
    pub operation: String,
    pub kind: String,
    pub provenance: String,
    pub outcome: CaseOutcome,
    /// Why an incomplete or erroneous case stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<JudgedDeviation>,
    /// The last level at which the case agrees with its snapshot, not-judged deviations
    /// aside; absent when not even the status does, or nothing could be judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Level>,
    /// When the run's baseline lists this case: the case's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

impl CaseReport {
    /// What people read: `pass` (also when every deviation is not judged), `baselined` (every
    /// judged deviation is known), else the outcome.
    pub fn status(&self) -> &'static str {
        match self.outcome {
            CaseOutcome::Fail | CaseOutcome::Incomplete if !self.deviations.is_empty() => {
                let judged = || {
                    self.deviations
                        .iter()
                        .filter(|d| d.judged != Judged::NotJudged)
                };
                if judged().next().is_none() {
                    "pass"
                } else if judged().all(|d| d.judged == Judged::Known) {
                    "baselined"
                } else {
                    self.outcome.name()
                }
            }
            o => o.name(),
        }
    }

    /// Deviations judged `how`.
    pub fn judged(&self, how: Judged) -> impl Iterator<Item = &JudgedDeviation> {
        self.deviations.iter().filter(move |d| d.judged == how)
    }

    /// The grade from the deviations as judged now.
    pub fn regrade(&mut self) {
        self.grade = match self.outcome {
            CaseOutcome::Pass => Some(Level::Values),
            CaseOutcome::Fail | CaseOutcome::Incomplete => deviation::grade(
                self.deviations
                    .iter()
                    .filter(|d| d.judged != Judged::NotJudged)
                    .map(|d| d.deviation.kind),
            ),
            CaseOutcome::Missing | CaseOutcome::Error => None,
        };
    }
}

/// How many cases of a group agree at each level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agreement {
    pub cases: usize,
    /// Per level, in [`Level::ALL`] order: cases agreeing at that level (and all before it).
    pub at: [usize; 6],
}

impl Agreement {
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseReport>) -> Agreement {
        let mut a = Agreement::default();
        for c in cases {
            a.cases += 1;
            if let Some(g) = c.grade {
                for (i, l) in Level::ALL.iter().enumerate() {
                    if *l <= g {
                        a.at[i] += 1;
                    }
                }
            }
        }
        a
    }

    /// `87% (315)`, or `-` for an empty group.
    pub fn share(&self, level: usize) -> String {
        if self.cases == 0 {
            return "-".into();
        }
        format!(
            "{}% ({})",
            percent(self.at[level], self.cases),
            self.at[level]
        )
    }
}

/// A whole percentage, rounded down so that 99.7% never shows as 100%.
pub fn percent(part: usize, all: usize) -> usize {
    (part * 100).checked_div(all).unwrap_or(0)
}

/// A run's counts, as summaries print them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub cases: usize,
    pub passed: usize,
    /// Cases whose judged deviations are all known.
    pub baselined: usize,
    pub failed: usize,
    pub incomplete: usize,
    pub missing: usize,
    pub errors: usize,
    pub new: usize,
    pub known: usize,
    /// Not-judged deviations by kind.
    pub not_judged: BTreeMap<Kind, usize>,
}

impl Counts {
    pub fn not_judged_total(&self) -> usize {
        self.not_judged.values().sum()
    }

    /// `12 not judged (element-order 10, value-shape 2)`, or nothing.
    pub fn not_judged_text(&self) -> Option<String> {
        let n = self.not_judged_total();
        (n > 0).then(|| {
            let parts: Vec<String> = self
                .not_judged
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            format!("{n} not judged ({})", parts.join(", "))
        })
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
    #[error(
        "a report of schema {0}; this conform reads schema {SCHEMA} (run the target again to get one)"
    )]
    Schema(u32),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(
        "a report of schema {0}; this conform reads schema {SCHEMA} (run the target again to get one)"
    )]
    Schema(u32),
    #[error("not a conform JSON report: {0}")]
    Json(#[from] serde_json::Error),
}

/// The shard (1-based) a case belongs to among `n`: a stable hash of its name, so a case
/// stays in its shard however the suite grows.
pub fn shard_of(test_name: &str, n: u32) -> u32 {
    (deviation::fnv1a(test_name.as_bytes()) % u64::from(n.max(1))) as u32 + 1
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

/// How much of a case's diff the reports and the terminal show: real AWS answers differ
/// in a few dozen lines, so these keep every real diff whole and stop a hostile or runaway
/// answer from making every output as large as itself.
pub const DIFF_LINES: usize = 400;
pub const DIFF_BYTES: usize = 64 * 1024;
/// The same for a message (why a case stopped), which may quote an answer.
pub const MESSAGE_LINES: usize = 40;
pub const MESSAGE_BYTES: usize = 8 * 1024;
/// How many deviations of one case the renderings list; the JSON keeps them all.
pub const SHOWN_DEVIATIONS: usize = 200;

/// Text that came from an endpoint, safe for a terminal and for Markdown, HTML and XML
/// reports: every control character but tab and newline (C0, DEL, C1, and a carriage
/// return not followed by a newline) is written as `\u{1b}`. That spelling is ASCII, so
/// it survives every terminal, font and report format; it covers C1 and DEL, which have
/// no control pictures; and it names the code point exactly, as Rust and JSON do.
/// Applying it twice changes nothing.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char, next: Option<char>| match c {
        '\t' | '\n' => false,
        '\r' => next != Some('\n'),
        c => c.is_control(),
    };
    let mut chars = text.char_indices().peekable();
    let first = loop {
        let Some((i, c)) = chars.next() else {
            return std::borrow::Cow::Borrowed(text);
        };
        if hidden(c, chars.peek().map(|&(_, n)| n)) {
            break i;
        }
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    let mut chars = text[first..].chars().peekable();
    while let Some(c) = chars.next() {
        if hidden(c, chars.peek().copied()) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` cut after `max_lines` lines or `max_bytes` bytes, whichever comes first, with a
/// last line saying how much was left out and where the whole of it is (`whole`).
pub fn cut<'a>(
    text: &'a str,
    max_lines: usize,
    max_bytes: usize,
    whole: &str,
) -> std::borrow::Cow<'a, str> {
    let mut end = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if n == max_lines || end + line.len() > max_bytes {
            break;
        }
        end += line.len();
    }
    if end == text.len() {
        return std::borrow::Cow::Borrowed(text);
    }
    if end == 0 {
        // One line longer than the whole budget: keep what fits of it.
        end = max_bytes.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
    }
    let (kept, rest) = text.split_at(end);
    let lines = rest.lines().count();
    let mut out = String::with_capacity(end + 160);
    out.push_str(kept);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let _ = write!(
        out,
        "... {} more {} ({}) not shown; {whole}",
        thousands(lines),
        if lines == 1 { "line" } else { "lines" },
        size(rest.len())
    );
    std::borrow::Cow::Owned(out)
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in text.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// `98,765`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `812 bytes`, `64.0 KB`, `12.3 MB`.
pub fn size(bytes: usize) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// A case's diff as every rendering shows it: control characters visible, cut when long.
fn shown_diff(diff: &str, whole: &str) -> String {
    cut(&visible(diff), DIFF_LINES, DIFF_BYTES, whole).into_owned()
}

/// A case's message as every rendering shows it.
fn shown_message(message: &str) -> String {
    cut(
        &visible(message),
        MESSAGE_LINES,
        MESSAGE_BYTES,
        "the rest of the message was not kept",
    )
    .into_owned()
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl RunReport {
    /// The report of a run, every deviation `new` until a baseline or the target's
    /// not-judged rules say otherwise.
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
                let (outcome, stop, diff, message) = match &r.outcome {
                    Outcome::Pass => (CaseOutcome::Pass, None, None, None),
                    Outcome::Fail { diff, .. } => {
                        (CaseOutcome::Fail, None, Some(diff.clone()), None)
                    }
                    Outcome::Incomplete { message, diff, .. } => (
                        CaseOutcome::Incomplete,
                        Some(StopKind::Capture),
                        Some(diff.clone()),
                        Some(message.clone()),
                    ),
                    Outcome::Missing => (
                        CaseOutcome::Missing,
                        None,
                        None,
                        Some("no snapshot".to_owned()),
                    ),
                    Outcome::Error(e) => {
                        (CaseOutcome::Error, Some(e.kind()), None, Some(e.to_string()))
                    }
                };
                let whole = format!(
                    "the whole transcript is in {} when conform writes one (not with --no-new or in CI), else it was not kept",
                    suite
                        .snapshots
                        .path_of(c)
                        .with_extension("snap.new")
                        .display()
                );
                let diff = diff.map(|d| shown_diff(&d, &whole));
                let message = message.map(|m| shown_message(&m));
                let mut report = CaseReport {
                    name: r.test_name.clone(),
                    service: c.service.clone(),
                    operation: c.operation.clone(),
                    kind: c.kind.to_string(),
                    provenance: c.provenance.to_string(),
                    outcome,
                    stop,
                    diff,
                    message,
                    deviations: r
                        .outcome
                        .deviations()
                        .iter()
                        .map(|d| {
                            let mut d = JudgedDeviation::new(d);
                            for v in [&mut d.deviation.expected, &mut d.deviation.actual]
                                .into_iter()
                                .flatten()
                            {
                                if let std::borrow::Cow::Owned(shown) = visible(v) {
                                    *v = shown;
                                }
                            }
                            d
                        })
                        .collect(),
                    grade: None,
                    known: None,
                };
                report.regrade();
                report
            })
            .collect();
        RunReport {
            schema: SCHEMA,
            target: target.to_owned(),
            conform: env!("CARGO_PKG_VERSION").to_owned(),
            target_version: None,
            shard: shard.map(|(k, n)| format!("{k}/{n}")),
            not_judged: Vec::new(),
            cases,
        }
    }

    /// A report read back from its JSON; one of another schema is refused before its fields
    /// are read, since they would mean something else.
    pub fn from_json(text: &str) -> Result<RunReport, ReadError> {
        #[derive(Deserialize)]
        struct Head {
            schema: u32,
        }
        let head: Head = serde_json::from_str(text)?;
        if head.schema != SCHEMA {
            return Err(ReadError::Schema(head.schema));
        }
        Ok(serde_json::from_str(text)?)
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

    pub fn counts(&self) -> Counts {
        let mut n = Counts {
            cases: self.cases.len(),
            ..Counts::default()
        };
        for c in &self.cases {
            match c.status() {
                "pass" => n.passed += 1,
                "baselined" => n.baselined += 1,
                "fail" => n.failed += 1,
                "incomplete" => n.incomplete += 1,
                "missing" => n.missing += 1,
                _ => n.errors += 1,
            }
            for d in &c.deviations {
                match d.judged {
                    Judged::New => n.new += 1,
                    Judged::Known => n.known += 1,
                    Judged::NotJudged => *n.not_judged.entry(d.deviation.kind).or_default() += 1,
                }
            }
        }
        n
    }

    /// The agreement of the cases whose name starts with `prefix` (`sts::AssumeRole::`).
    pub fn agreement(&self, prefix: &str) -> Agreement {
        Agreement::of(self.cases.iter().filter(|c| c.name.starts_with(prefix)))
    }

    /// The `service::operation::` prefixes of the cases.
    pub fn operations(&self) -> BTreeSet<String> {
        operations(self.cases.iter().map(|c| c.name.as_str()))
    }

    /// JUnit XML: one test suite per service, one test case per scenario. New deviations
    /// fail it (listed in the body, then the diff); a case whose deviations are all known is
    /// skipped with the baseline's reason, so a CI page counts only what got worse.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut report = Report::new(format!("conform against {}", self.target));
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        for c in &self.cases {
            let listing = |how: Judged| {
                let mut s = String::new();
                for d in c.judged(how).take(SHOWN_DEVIATIONS) {
                    let _ = writeln!(s, "{}", d.deviation);
                }
                let more = c.judged(how).count().saturating_sub(SHOWN_DEVIATIONS);
                if more > 0 {
                    let _ = writeln!(
                        s,
                        "... {} more not shown; the JSON report lists every one",
                        thousands(more)
                    );
                }
                s
            };
            let with_diff = |mut s: String| {
                if let Some(d) = &c.diff {
                    s.push('\n');
                    s.push_str(d);
                }
                s
            };
            let status = match c.status() {
                "pass" => TestCaseStatus::success(),
                "baselined" => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!(
                        "known deviations: {}",
                        c.known.as_deref().unwrap_or_default()
                    ));
                    s.set_description(with_diff(listing(Judged::Known)));
                    s
                }
                "error" => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(c.message.clone().unwrap_or_default());
                    s
                }
                "missing" => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message("no snapshot");
                    s
                }
                _ => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let new = c.judged(Judged::New).count();
                    let first = c
                        .judged(Judged::New)
                        .next()
                        .map(|d| d.deviation.to_string())
                        .unwrap_or_default();
                    let mut message = format!("{new} new deviation(s); the first: {first}");
                    if let Some(m) = &c.message {
                        message = format!("{m}; {message}");
                    }
                    s.set_message(message);
                    s.set_description(with_diff(listing(Judged::New)));
                    s
                }
            };
            let mut case = TestCase::new(c.name.clone(), status);
            case.set_classname(format!("{}::{}", c.service, c.operation));
            let unjudged = listing(Judged::NotJudged);
            if !unjudged.is_empty() {
                case.set_system_out(format!("not judged:\n{unjudged}"));
            }
            suites
                .entry(c.service.as_str())
                .or_insert_with(|| TestSuite::new(c.service.clone()))
                .add_test_case(case);
        }
        // Each service's suite carries its agreement per level, for the service and for each
        // of its operations, and what the target is not judged on.
        for (service, suite) in &mut suites {
            let prefixes = std::iter::once((format!("{service}::"), "agreement".to_owned())).chain(
                self.operations()
                    .into_iter()
                    .filter(|op| op.starts_with(&format!("{service}::")))
                    .map(|op| {
                        let name = op
                            .trim_end_matches(':')
                            .rsplit("::")
                            .next()
                            .unwrap_or("")
                            .to_owned();
                        (op, format!("agreement.{name}"))
                    }),
            );
            for (prefix, key) in prefixes {
                let a = self.agreement(&prefix);
                for (i, l) in Level::ALL.iter().enumerate() {
                    suite.add_property((
                        format!("{key}.{l}"),
                        format!("{} of {}", a.at[i], a.cases),
                    ));
                }
            }
            for (rule, count) in self.not_judged_counts() {
                suite.add_property((
                    format!("not-judged: {}", rule_scope(rule)),
                    format!("{count} deviations: {}", rule.reason),
                ));
            }
        }
        report.add_test_suites(suites.into_values());
        // XML 1.0 has no way to carry most control characters, even as references.
        visible(&report.to_string().unwrap_or_default()).into_owned()
    }

    /// A summary for a CI job or a pull request: counts, agreement by level, by operation
    /// and by kind of case, what is not judged, then each case that did not pass with its
    /// deviations and its diff.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# conform against {}\n", self.target);
        if let Some(v) = &self.target_version {
            let _ = writeln!(md, "Target version: {v}.\n");
        }
        let n = self.counts();
        let _ = writeln!(md, "{}\n", summary_line(&n));
        let _ = writeln!(md, "{}\n", deviations_line(&n));
        let _ = writeln!(
            md,
            "## Agreement by level\n\nEach level includes those before it; `values` is a full pass.\n"
        );
        level_table(&mut md, "cases", [("all".to_owned(), self.agreement(""))]);
        let ops = self
            .operations()
            .into_iter()
            .map(|op| (op.trim_end_matches(':').to_owned(), self.agreement(&op)));
        level_table(&mut md, "operation", ops);
        let kinds: BTreeSet<&str> = self.cases.iter().map(|c| c.kind.as_str()).collect();
        let by_kind = kinds.into_iter().map(|k| {
            (
                k.to_owned(),
                Agreement::of(self.cases.iter().filter(|c| c.kind == k)),
            )
        });
        level_table(&mut md, "kind", by_kind);
        not_judged_section(&mut md, self, "##");
        let open: Vec<&CaseReport> = self
            .cases
            .iter()
            .filter(|c| c.outcome != CaseOutcome::Pass)
            .collect();
        if !open.is_empty() {
            let _ = writeln!(md, "## Cases that did not pass\n");
        }
        for c in open {
            let _ = writeln!(md, "### {} ({})\n", c.name, c.status());
            if let Some(k) = &c.known {
                let _ = writeln!(md, "Known deviation: {k}\n");
            }
            if let Some(m) = &c.message {
                let _ = writeln!(md, "{m}\n");
            }
            if !c.deviations.is_empty() {
                let _ = writeln!(
                    md,
                    "| step | kind | path | expected | actual | judged |\n|---:|---|---|---|---|---|"
                );
                for d in c.deviations.iter().take(SHOWN_DEVIATIONS) {
                    let v = &d.deviation;
                    let judged = match (d.judged, &d.reason) {
                        (Judged::New, _) => "**new**".to_owned(),
                        (Judged::Known, _) => "known".to_owned(),
                        (Judged::NotJudged, Some(r)) => format!("not judged: {}", escape_cell(r)),
                        (Judged::NotJudged, None) => "not judged".to_owned(),
                    };
                    let _ = writeln!(
                        md,
                        "| {} | {} | {} | {} | {} | {judged} |",
                        v.step,
                        v.kind,
                        escape_cell(&v.path),
                        escape_cell(v.expected.as_deref().unwrap_or("")),
                        escape_cell(v.actual.as_deref().unwrap_or("")),
                    );
                }
                if let Some(more) = c.deviations.len().checked_sub(SHOWN_DEVIATIONS)
                    && more > 0
                {
                    let _ = writeln!(
                        md,
                        "\n... {} more deviations not shown; the JSON report lists every one",
                        thousands(more)
                    );
                }
                md.push('\n');
            }
            if let Some(d) = &c.diff {
                // A fence longer than any run of backticks in the diff, so an answer cannot
                // end the block and write Markdown of its own.
                let fence = "`".repeat(longest_run(d, '`').max(2) + 1);
                let _ = writeln!(md, "{fence}diff\n{}\n{fence}\n", d.trim_end());
            }
        }
        visible(&md).into_owned()
    }
}

/// `362 cases: 10 passed, 340 with only known deviations, 12 failed, ...`.
pub fn summary_line(n: &Counts) -> String {
    format!("{} cases: {}.", n.cases, outcome_counts(n))
}

/// `10 passed, 340 with only known deviations, 12 failed, ...`.
pub fn outcome_counts(n: &Counts) -> String {
    let mut parts = vec![format!("{} passed", n.passed)];
    if n.baselined > 0 {
        parts.push(format!("{} with only known deviations", n.baselined));
    }
    parts.push(format!("{} failed", n.failed));
    if n.incomplete > 0 {
        parts.push(format!("{} incomplete", n.incomplete));
    }
    parts.push(format!("{} missing a snapshot", n.missing));
    parts.push(format!("{} errors", n.errors));
    parts.join(", ")
}

/// `Deviations: 2,900 known, 3 new, 120 not judged (element-order 120).`
pub fn deviations_line(n: &Counts) -> String {
    let mut parts = vec![format!("{} new", n.new)];
    if n.known > 0 {
        parts.push(format!("{} known", n.known));
    }
    if let Some(t) = n.not_judged_text() {
        parts.push(t);
    }
    format!("Deviations: {}.", parts.join(", "))
}

/// A Markdown table of agreement per level, one row per group.
fn level_table(md: &mut String, title: &str, rows: impl IntoIterator<Item = (String, Agreement)>) {
    let heads: Vec<&str> = Level::ALL.iter().map(|l| l.name()).collect();
    let _ = writeln!(
        md,
        "| {title} | cases | {} |\n|---|---:|{}",
        heads.join(" | "),
        "---:|".repeat(heads.len())
    );
    for (name, a) in rows {
        let cells: Vec<String> = (0..Level::ALL.len()).map(|i| a.share(i)).collect();
        let _ = writeln!(md, "| {name} | {} | {} |", a.cases, cells.join(" | "));
    }
    md.push('\n');
}

impl RunReport {
    /// The target's not-judged rules, each with how many deviations it left out (a
    /// deviation counts for the first rule that matches it, as when it was judged).
    pub fn not_judged_counts(&self) -> Vec<(&NotJudged, usize)> {
        let mut counts = vec![0; self.not_judged.len()];
        if let Ok(set) = crate::deviation::NotJudgedSet::new(&self.not_judged) {
            for c in &self.cases {
                for d in c.judged(Judged::NotJudged) {
                    if let Some(i) = set.index_for(&c.name, &d.deviation) {
                        counts[i] += 1;
                    }
                }
            }
        }
        self.not_judged.iter().zip(counts).collect()
    }
}

/// What a not-judged rule narrows, as (what, pattern): `("kind", "element-order")`.
pub fn rule_parts(rule: &NotJudged) -> Vec<(&'static str, &str)> {
    let mut parts = Vec::new();
    if let Some(k) = rule.kind {
        parts.push(("kind", k.name()));
    }
    if let Some(p) = &rule.path {
        parts.push(("paths", p.as_str()));
    }
    if let Some(c) = &rule.case {
        parts.push(("cases", c.as_str()));
    }
    parts
}

/// How a not-judged rule reads in Markdown: ``kind `element-order`, paths `*Response/*Result` ``.
pub fn rule_scope(rule: &NotJudged) -> String {
    rule_parts(rule)
        .iter()
        .map(|(what, p)| format!("{what} `{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The target's not-judged rules with how many deviations each left out.
fn not_judged_section(md: &mut String, r: &RunReport, heading: &str) {
    if r.not_judged.is_empty() {
        return;
    }
    let _ = writeln!(md, "{heading} Not judged ({})\n", r.target);
    for (rule, count) in r.not_judged_counts() {
        let _ = writeln!(
            md,
            "- {}: {} ({count} deviations)",
            rule_scope(rule),
            rule.reason
        );
    }
    md.push('\n');
}

fn operations<'a>(names: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    names
        .filter_map(|n| n.rsplit_once("::").map(|(op, _)| format!("{op}::")))
        .collect()
}

/// Scenarios x targets: what each target did with each case, and per target and operation
/// the share of cases that agree at each level.
pub struct Matrix<'a> {
    pub runs: &'a [RunReport],
}

impl Matrix<'_> {
    fn case(&self, t: usize, name: &str) -> Option<&CaseReport> {
        self.runs[t].cases.iter().find(|c| c.name == name)
    }

    /// `pass`, `fail`, `baselined`, ... or `-` when the target did not run the case.
    pub(crate) fn cell(&self, t: usize, name: &str) -> &'static str {
        self.case(t, name).map_or("-", CaseReport::status)
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
                    ("pass", _) => "pass".to_owned(),
                    ("-", _) => "-".to_owned(),
                    (c, Some(g)) => format!("{c} ({g})"),
                    (c, None) => format!("{c} (none)"),
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

    #[test]
    fn control_characters_are_shown_not_sent() {
        let raw = "a\u{1b}[31mred\u{7}\u{8}x\ry\r\nz\tw\u{7f}\u{9b}é";
        let shown = visible(raw);
        assert_eq!(
            shown,
            "a\\u{1b}[31mred\\u{7}\\u{8}x\\u{d}y\r\nz\tw\\u{7f}\\u{9b}é"
        );
        assert_eq!(visible(&shown), shown, "a second pass changes nothing");
        assert!(matches!(
            visible("plain\ttext\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn long_texts_are_cut_with_what_was_left_out_and_where() {
        let text: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        let out = cut(&text, 400, 64 * 1024, "see x.snap.new");
        assert_eq!(out.lines().count(), 401);
        assert!(out.starts_with("line 0\nline 1\n"));
        assert!(
            out.ends_with("\n... 99,600 more lines (1.0 MB) not shown; see x.snap.new"),
            "{}",
            &out[out.len() - 100..]
        );
        // The byte budget cuts first when lines are long; one huge line keeps what fits.
        let wide = "é".repeat(100_000);
        let out = cut(&wide, 400, 1001, "gone");
        assert!(out.starts_with(&"é".repeat(500)));
        assert!(
            out.ends_with("... 1 more line (194.3 KB) not shown; gone"),
            "{out}"
        );
        assert!(matches!(
            cut("short\n", 400, 1024, "-"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    fn dev(kind: Kind) -> JudgedDeviation {
        JudgedDeviation {
            deviation: Deviation {
                step: 1,
                kind,
                path: "R/A".into(),
                expected: Some("a".into()),
                actual: Some("b|c".into()),
            },
            judged: Judged::New,
            reason: None,
        }
    }

    fn case(name: &str, outcome: CaseOutcome, kinds: &[Kind]) -> CaseReport {
        let mut c = CaseReport {
            name: name.into(),
            service: "sts".into(),
            operation: name.split("::").nth(1).unwrap_or("AssumeRole").into(),
            kind: "limit".into(),
            provenance: "documented".into(),
            outcome,
            stop: (outcome == CaseOutcome::Error).then_some(StopKind::NoAnswer),
            diff: (outcome == CaseOutcome::Fail)
                .then(|| "--- snapshot\n+++ actual\n-a\n+b\n".into()),
            message: (outcome == CaseOutcome::Error).then(|| "cannot connect".into()),
            deviations: kinds.iter().map(|k| dev(*k)).collect(),
            grade: None,
            known: None,
        };
        c.regrade();
        c
    }

    fn report(cases: Vec<CaseReport>, shard: &str) -> RunReport {
        RunReport {
            schema: SCHEMA,
            target: "moto".into(),
            conform: "0".into(),
            target_version: None,
            shard: Some(shard.into()),
            not_judged: Vec::new(),
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
        // The hash is FNV-1a: shards stay where earlier versions put them.
        assert_eq!(
            shard_of("sts::AssumeRole::x", 1_000_003),
            1 + (crate::deviation::fnv1a(b"sts::AssumeRole::x") % 1_000_003) as u32
        );
    }

    #[test]
    fn merging_shards_refuses_overlaps_other_targets_and_old_schemas() {
        let m = RunReport::merge(vec![
            report(vec![case("b", CaseOutcome::Pass, &[])], "2/2"),
            report(vec![case("a", CaseOutcome::Fail, &[Kind::Status])], "1/2"),
        ])
        .unwrap();
        assert_eq!(
            m.cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(m.shard, None);
        assert_eq!(
            RunReport::merge(vec![
                report(vec![case("a", CaseOutcome::Pass, &[])], "1/2"),
                report(vec![case("a", CaseOutcome::Pass, &[])], "2/2")
            ]),
            Err(MergeError::Duplicate("a".into()))
        );
        let mut other = report(vec![case("c", CaseOutcome::Pass, &[])], "2/2");
        other.target = "aws".into();
        assert!(matches!(
            RunReport::merge(vec![report(vec![], "1/2"), other]),
            Err(MergeError::Targets(..))
        ));
        assert_eq!(RunReport::merge(vec![]), Err(MergeError::Empty));
        let mut old = report(vec![], "1/1");
        old.schema = 1;
        assert_eq!(RunReport::merge(vec![old]), Err(MergeError::Schema(1)));
    }

    #[test]
    fn grades_count_per_level_and_not_judged_deviations_are_left_out() {
        let mut r = report(
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Pass, &[]),
                case("sts::AssumeRole::b", CaseOutcome::Fail, &[Kind::ValueShape]),
                case(
                    "sts::AssumeRole::c",
                    CaseOutcome::Fail,
                    &[Kind::ErrorMessage, Kind::ElementOrder],
                ),
                case(
                    "sts::GetCallerIdentity::d",
                    CaseOutcome::Fail,
                    &[Kind::Status],
                ),
                case("sts::GetCallerIdentity::e", CaseOutcome::Error, &[]),
            ],
            "1/1",
        );
        let a = r.agreement("");
        assert_eq!((a.cases, a.at), (5, [3, 3, 2, 2, 2, 1]));
        assert_eq!(a.share(0), "60% (3)");
        assert_eq!(r.agreement("sts::GetCallerIdentity::").at, [0; 6]);
        // The target is not judged on element order: c's grade stays at code (its message
        // differs), and the count of what is not judged shows.
        r.cases[2].deviations[1].judged = Judged::NotJudged;
        r.cases[2].regrade();
        assert_eq!(r.cases[2].grade, Some(Level::Code));
        let n = r.counts();
        assert_eq!(
            n.not_judged_text().as_deref(),
            Some("1 not judged (element-order 1)")
        );
        assert_eq!((n.passed, n.failed, n.errors, n.new), (1, 3, 1, 3));
    }

    #[test]
    fn a_case_whose_deviations_are_all_known_is_baselined_and_one_new_fails_it() {
        let mut c = case(
            "sts::AssumeRole::b",
            CaseOutcome::Fail,
            &[Kind::Status, Kind::ValueText],
        );
        c.deviations[0].judged = Judged::Known;
        assert_eq!(c.status(), "fail");
        c.deviations[1].judged = Judged::Known;
        assert_eq!(c.status(), "baselined");
        c.deviations[1].judged = Judged::NotJudged;
        assert_eq!(c.status(), "baselined");
        c.deviations[0].judged = Judged::NotJudged;
        assert_eq!(c.status(), "pass");
        // An error stays an error, whatever marks.
        assert_eq!(case("x", CaseOutcome::Error, &[]).status(), "error");
    }

    #[test]
    fn each_not_judged_rule_counts_what_it_left_out_even_when_reasons_repeat() {
        let rule = |path: &str| NotJudged {
            kind: Some(Kind::ElementOrder),
            path: Some(path.into()),
            case: None,
            reason: "same reason".into(),
        };
        let mut r = report(
            vec![case(
                "sts::AssumeRole::a",
                CaseOutcome::Fail,
                &[Kind::ElementOrder, Kind::ElementOrder],
            )],
            "1/1",
        );
        r.not_judged = vec![rule("R"), rule("R/**")];
        r.cases[0].deviations[1].deviation.path = "R/A/B".into();
        for d in &mut r.cases[0].deviations {
            d.judged = Judged::NotJudged;
        }
        let counts: Vec<usize> = r.not_judged_counts().into_iter().map(|(_, n)| n).collect();
        assert_eq!(counts, [0, 2]);
        assert!(
            r.to_markdown()
                .contains("- kind `element-order`, paths `R/**`: same reason (2 deviations)")
        );
    }

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
    }

    #[test]
    fn junit_and_markdown_carry_deviations_and_diffs() {
        let mut r = report(
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Pass, &[]),
                case("sts::AssumeRole::b", CaseOutcome::Fail, &[Kind::ValueText]),
                case("sts::AssumeRole::c", CaseOutcome::Error, &[]),
                case("sts::AssumeRole::k", CaseOutcome::Fail, &[Kind::Status]),
            ],
            "1/1",
        );
        r.cases[3].deviations[0].judged = Judged::Known;
        r.cases[3].known = Some("limit not enforced".into());
        let x = r.to_junit();
        assert!(x.contains("<testsuite name=\"sts\" tests=\"4\""), "{x}");
        assert!(
            x.contains("failures=\"1\"")
                && x.contains("errors=\"1\"")
                && x.contains("skipped=\"1\""),
            "{x}"
        );
        assert!(
            x.contains("1 new deviation(s); the first: step 1 value-text at R/A"),
            "{x}"
        );
        assert!(x.contains("known deviations: limit not enforced"), "{x}");
        assert!(x.contains("-a\n+b"), "{x}");
        // Agreement per level, for the service and per operation.
        assert!(
            x.contains("<property name=\"agreement.status\" value=\"2 of 4\"/>")
                && x.contains("<property name=\"agreement.AssumeRole.values\" value=\"1 of 4\"/>"),
            "{x}"
        );
        let md = r.to_markdown();
        assert!(
            md.contains("4 cases: 1 passed, 1 with only known deviations, 1 failed, 0 missing a snapshot, 1 errors."),
            "{md}"
        );
        assert!(md.contains("Deviations: 1 new, 1 known."), "{md}");
        assert!(
            md.contains("| 1 | value-text | R/A | a | b\\|c | **new** |"),
            "{md}"
        );
        assert!(
            md.contains(
                "### sts::AssumeRole::k (baselined)\n\nKnown deviation: limit not enforced"
            ),
            "{md}"
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"judged\":\"known\""), "{json}");
        assert!(json.contains("\"grade\":\"order\""), "{json}");
        assert_eq!(RunReport::from_json(&json).unwrap(), r);
        // A report of the first schema has no grades: its figures would read as 0%.
        let old = json.replacen("\"schema\":2", "\"schema\":1", 1);
        assert!(matches!(
            RunReport::from_json(&old),
            Err(ReadError::Schema(1))
        ));
        assert!(
            RunReport::from_json("{")
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }
}
