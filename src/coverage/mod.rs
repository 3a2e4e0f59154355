//! Which constraints and errors of each operation the scenarios exercise. Nothing is
//! declared by hand: a case covers a bound when one of its calls sends a value at or just
//! past it, and an error code when its snapshot holds that code.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use regex::Regex;

use crate::model::{Model, Shape, ShapeKind};
use crate::scenario::{Case, Kind, ParamValue, Provenance, Request};
use crate::template::{Template, Vars};

/// One thing a member's constraints ask the corpus to try.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    /// The member left out.
    Missing,
    /// A text of exactly this many characters.
    Length(u64),
    /// A number of exactly this value.
    Value(i64),
    /// A list of exactly this many items.
    Items(u64),
    /// A text the pattern rejects.
    PatternBroken,
    /// A text outside the enumeration.
    NotInEnum,
}

#[derive(Debug, Clone)]
pub struct CheckCoverage {
    pub check: Check,
    /// What the check means, for people: `length 2 (the minimum)`.
    pub label: String,
    /// Whether AWS should accept such a value.
    pub accepted: bool,
    pub cases: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct MemberCoverage {
    /// `RoleSessionName`, `Tags[].Key`, `TaskPolicyArn.arn`.
    pub path: String,
    pub checks: Vec<CheckCoverage>,
}

#[derive(Debug, Clone)]
pub struct ErrorCoverage {
    pub code: String,
    pub status: Option<u16>,
    pub modeled: bool,
    pub cases: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct OperationCoverage {
    pub operation: String,
    pub members: Vec<MemberCoverage>,
    pub errors: Vec<ErrorCoverage>,
    /// Cases that call the operation at all.
    pub cases: BTreeSet<String>,
    /// The cases of the operation's directory by where their expected answers come from.
    pub provenances: BTreeMap<Provenance, usize>,
}

#[derive(Debug, Clone)]
pub struct ServiceCoverage {
    pub service: String,
    pub operations: Vec<OperationCoverage>,
    /// Cases by kind and by provenance.
    pub kinds: BTreeMap<Kind, usize>,
    pub provenances: BTreeMap<Provenance, usize>,
}

/// What a case's call sent for one member.
#[derive(Debug, Clone)]
enum Seen {
    Text(String),
    Number(i64),
    Items(u64),
    Missing,
}

impl ServiceCoverage {
    /// Coverage of `model` by the cases, with `snapshots` (by case id) for error codes.
    /// `vars` renders templates that use target variables (their defaults will do: only
    /// lengths matter).
    pub fn compute(
        model: &Model,
        cases: &[Case],
        snapshot_of: &dyn Fn(&Case) -> Option<String>,
        vars: &Vars,
    ) -> ServiceCoverage {
        let mut seen: BTreeMap<(String, String), Vec<(Seen, String)>> = BTreeMap::new();
        let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut codes: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        let mut kinds = BTreeMap::new();
        let mut provenances = BTreeMap::new();
        let mut by_operation: BTreeMap<&str, BTreeMap<Provenance, usize>> = BTreeMap::new();
        for case in cases.iter().filter(|c| c.service == model.service) {
            *kinds.entry(case.kind).or_insert(0) += 1;
            *provenances.entry(case.provenance).or_insert(0) += 1;
            *by_operation
                .entry(case.operation.as_str())
                .or_default()
                .entry(case.provenance)
                .or_insert(0) += 1;
            for step in case.steps.iter().filter(|s| s.service == model.service) {
                if let Request::Call { operation, params } = &step.request {
                    calls
                        .entry(operation.clone())
                        .or_default()
                        .insert(case.id.clone());
                    if let Some(input) = model.operation(operation).and_then(|o| o.input.as_deref())
                    {
                        let mut out = Vec::new();
                        observe_structure(model, input, params, "", vars, &mut out);
                        for (path, s) in out {
                            seen.entry((operation.clone(), path))
                                .or_default()
                                .push((s, case.id.clone()));
                        }
                    }
                }
            }
            if let Some(snap) = snapshot_of(case) {
                for (op, code) in error_codes(&snap, &case.operation) {
                    codes.entry((op, code)).or_default().insert(case.id.clone());
                }
            }
        }
        let mut operations = Vec::new();
        for op in model.operations.values() {
            let mut members = Vec::new();
            if let Some(input) = op.input.as_deref() {
                let mut specs = Vec::new();
                member_specs(model, input, "", &mut specs, 0);
                for (path, shape, required) in specs {
                    let observed = seen.get(&(op.name.clone(), path.clone()));
                    let checks = checks_for(shape, required)
                        .into_iter()
                        .map(|(check, label, accepted)| {
                            let cases = observed
                                .into_iter()
                                .flatten()
                                .filter(|(s, _)| satisfies(s, &check, shape))
                                .map(|(_, id)| id.clone())
                                .collect();
                            CheckCoverage {
                                check,
                                label,
                                accepted,
                                cases,
                            }
                        })
                        .collect::<Vec<_>>();
                    if !checks.is_empty() {
                        members.push(MemberCoverage { path, checks });
                    }
                }
            }
            let mut errors: Vec<ErrorCoverage> = model
                .errors_of(op)
                .filter_map(|s| s.error.as_ref())
                .map(|e| ErrorCoverage {
                    code: e.code.clone(),
                    status: Some(e.status),
                    modeled: true,
                    cases: codes
                        .remove(&(op.name.clone(), e.code.clone()))
                        .unwrap_or_default(),
                })
                .collect();
            // Codes the model does not list but the corpus meets (ValidationError, AccessDenied).
            let extra: Vec<(String, String)> = codes
                .keys()
                .filter(|(o, _)| *o == op.name)
                .cloned()
                .collect();
            for key in extra {
                let cases = codes.remove(&key).unwrap_or_default();
                errors.push(ErrorCoverage {
                    code: key.1,
                    status: None,
                    modeled: false,
                    cases,
                });
            }
            operations.push(OperationCoverage {
                operation: op.name.clone(),
                members,
                errors,
                cases: calls.remove(&op.name).unwrap_or_default(),
                provenances: by_operation.remove(op.name.as_str()).unwrap_or_default(),
            });
        }
        ServiceCoverage {
            service: model.service.clone(),
            operations,
            kinds,
            provenances,
        }
    }

    /// Constrained members no case touches at all: `conform check` refuses these.
    pub fn uncovered_members(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for op in &self.operations {
            for m in &op.members {
                if m.checks.iter().all(|c| c.cases.is_empty()) {
                    out.push((op.operation.clone(), m.path.clone()));
                }
            }
        }
        out
    }

    /// The Markdown table kept in `scenarios/<service>/COVERAGE.md`.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# {} scenario coverage\n", self.service.to_uppercase());
        let _ = writeln!(
            md,
            "Generated by `conform coverage` from the scenarios, the model and the snapshots: do not edit.\n\
             A case covers a bound when one of its calls sends a value at it (accepted) or just past it\n\
             (rejected), and an error when its snapshot holds that code. **missing** marks what no case tries yet.\n"
        );
        let total: usize = self.kinds.values().sum();
        let list = |m: Vec<(String, usize)>| {
            m.into_iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            md,
            "{total} cases: {}.\nBy provenance: {}.\n",
            list(
                self.kinds
                    .iter()
                    .map(|(k, n)| (k.to_string(), *n))
                    .collect()
            ),
            list(
                self.provenances
                    .iter()
                    .map(|(k, n)| (k.to_string(), *n))
                    .collect()
            )
        );
        let _ = writeln!(
            md,
            "Expected answers: how many of the operation's own cases (its directory) rest on a recording of AWS, on documents only, or on inference (see the `source` of each).\n"
        );
        let _ = writeln!(
            md,
            "| operation | cases | recorded | documented | inferred | checks covered | modeled errors covered |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
        for op in &self.operations {
            let total: usize = op.members.iter().map(|m| m.checks.len()).sum();
            let covered: usize = op
                .members
                .iter()
                .map(|m| m.checks.iter().filter(|c| !c.cases.is_empty()).count())
                .sum();
            let modeled: Vec<_> = op.errors.iter().filter(|e| e.modeled).collect();
            let errs = modeled.iter().filter(|e| !e.cases.is_empty()).count();
            let n = |p| op.provenances.get(&p).copied().unwrap_or(0);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {covered}/{total} | {errs}/{} |",
                op.operation,
                op.cases.len(),
                n(Provenance::Recorded),
                n(Provenance::Documented),
                n(Provenance::Inferred),
                modeled.len()
            );
        }
        for op in &self.operations {
            let _ = writeln!(md, "\n## {}\n", op.operation);
            if op.members.is_empty() {
                let _ = writeln!(md, "No constrained members.\n");
            } else {
                let _ = writeln!(md, "| member | check | AWS should | cases |");
                let _ = writeln!(md, "|---|---|---|---|");
                for m in &op.members {
                    for c in &m.checks {
                        let verdict = if c.accepted { "accept" } else { "reject" };
                        let _ = writeln!(
                            md,
                            "| {} | {} | {verdict} | {} |",
                            m.path,
                            c.label,
                            case_list(&c.cases)
                        );
                    }
                }
            }
            if !op.errors.is_empty() {
                let _ = writeln!(md, "\n| error code | status | modeled | cases |");
                let _ = writeln!(md, "|---|---|---|---|");
                for e in &op.errors {
                    let status = e.status.map_or_else(|| "".to_owned(), |s| s.to_string());
                    let modeled = if e.modeled { "yes" } else { "no" };
                    let _ = writeln!(
                        md,
                        "| {} | {status} | {modeled} | {} |",
                        e.code,
                        case_list(&e.cases)
                    );
                }
            }
        }
        md
    }
}

/// A constraint check that one call of a case meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Which of the case's checked steps (0-based, among those the snapshot holds).
    pub step: usize,
    pub operation: String,
    pub member: String,
    /// `length 19 (under the minimum)`: names the member's bound, so equal labels of one
    /// member are the same rule.
    pub label: String,
    pub accepted: bool,
}

/// The constraint checks the case's checked calls of `model`'s service meet.
pub fn hits(model: &Model, case: &Case, vars: &Vars) -> Vec<Hit> {
    let mut out = Vec::new();
    let checked = case
        .steps
        .iter()
        .filter(|s| s.role == crate::scenario::Role::Check);
    for (i, step) in checked.enumerate() {
        let Request::Call { operation, params } = &step.request else {
            continue;
        };
        if step.service != model.service {
            continue;
        }
        let Some(input) = model.operation(operation).and_then(|o| o.input.as_deref()) else {
            continue;
        };
        let mut specs = Vec::new();
        member_specs(model, input, "", &mut specs, 0);
        let mut seen = Vec::new();
        observe_structure(model, input, params, "", vars, &mut seen);
        for (path, s) in seen {
            let Some((_, shape, required)) = specs.iter().find(|(p, _, _)| *p == path) else {
                continue;
            };
            for (check, label, accepted) in checks_for(shape, *required) {
                if satisfies(&s, &check, shape) {
                    out.push(Hit {
                        step: i,
                        operation: operation.clone(),
                        member: path.clone(),
                        label,
                        accepted,
                    });
                }
            }
        }
    }
    out
}

fn case_list(cases: &BTreeSet<String>) -> String {
    if cases.is_empty() {
        return "**missing**".to_owned();
    }
    let mut v: Vec<String> = cases.iter().take(4).map(|c| format!("`{c}`")).collect();
    if cases.len() > 4 {
        v.push(format!("and {} more", cases.len() - 4));
    }
    v.join(", ")
}

/// Constrained members of a structure, depth first: `(path, shape, required)`.
fn member_specs<'a>(
    model: &'a Model,
    shape: &str,
    prefix: &str,
    out: &mut Vec<(String, &'a Shape, bool)>,
    depth: usize,
) {
    let s = model.shape(shape);
    let ShapeKind::Structure {
        members, required, ..
    } = &s.kind
    else {
        return;
    };
    if depth > 4 {
        return;
    }
    for (name, m) in members {
        let path = format!("{prefix}{name}");
        let ms = model.shape(&m.shape);
        out.push((path.clone(), ms, required.contains(name)));
        match &ms.kind {
            ShapeKind::Structure { .. } => {
                member_specs(model, &m.shape, &format!("{path}."), out, depth + 1)
            }
            ShapeKind::List { member } => {
                let item = model.shape(&member.shape);
                if matches!(item.kind, ShapeKind::Structure { .. }) {
                    member_specs(model, &member.shape, &format!("{path}[]."), out, depth + 1);
                } else {
                    out.push((format!("{path}[]"), item, false));
                }
            }
            _ => {}
        }
    }
}

fn checks_for(shape: &Shape, required: bool) -> Vec<(Check, String, bool)> {
    let mut out = Vec::new();
    if required {
        out.push((Check::Missing, "left out (required)".to_owned(), false));
    }
    let bound = |v: Option<f64>| v.map(|x| x as i64);
    match shape.kind {
        ShapeKind::String => {
            if let Some(min) = bound(shape.min).filter(|m| *m > 0) {
                out.push((
                    Check::Length(min as u64),
                    format!("length {min} (the minimum)"),
                    true,
                ));
                out.push((
                    Check::Length(min as u64 - 1),
                    format!("length {} (under the minimum)", min - 1),
                    false,
                ));
            }
            if let Some(max) = bound(shape.max) {
                out.push((
                    Check::Length(max as u64),
                    format!("length {max} (the maximum)"),
                    true,
                ));
                out.push((
                    Check::Length(max as u64 + 1),
                    format!("length {} (over the maximum)", max + 1),
                    false,
                ));
            }
            if shape.pattern.is_some() {
                out.push((
                    Check::PatternBroken,
                    "a character the pattern forbids".to_owned(),
                    false,
                ));
            }
            if !shape.enum_values.is_empty() {
                out.push((
                    Check::NotInEnum,
                    "a value outside the enumeration".to_owned(),
                    false,
                ));
            }
        }
        ShapeKind::Integer | ShapeKind::Long => {
            if let Some(min) = bound(shape.min) {
                out.push((
                    Check::Value(min),
                    format!("value {min} (the minimum)"),
                    true,
                ));
                out.push((
                    Check::Value(min - 1),
                    format!("value {} (under the minimum)", min - 1),
                    false,
                ));
            }
            if let Some(max) = bound(shape.max) {
                out.push((
                    Check::Value(max),
                    format!("value {max} (the maximum)"),
                    true,
                ));
                out.push((
                    Check::Value(max + 1),
                    format!("value {} (over the maximum)", max + 1),
                    false,
                ));
            }
        }
        ShapeKind::List { .. } => {
            if let Some(min) = bound(shape.min).filter(|m| *m > 0) {
                out.push((
                    Check::Items(min as u64),
                    format!("{min} items (the minimum)"),
                    true,
                ));
                out.push((
                    Check::Items(min as u64 - 1),
                    format!("{} items (under the minimum)", min - 1),
                    false,
                ));
            }
            if let Some(max) = bound(shape.max) {
                out.push((
                    Check::Items(max as u64),
                    format!("{max} items (the maximum)"),
                    true,
                ));
                out.push((
                    Check::Items(max as u64 + 1),
                    format!("{} items (over the maximum)", max + 1),
                    false,
                ));
            }
        }
        _ => {}
    }
    out
}

fn satisfies(seen: &Seen, check: &Check, shape: &Shape) -> bool {
    match (seen, check) {
        (Seen::Missing, Check::Missing) => true,
        (Seen::Text(t), Check::Length(n)) => t.chars().count() as u64 == *n,
        (Seen::Text(t), Check::PatternBroken) => shape
            .pattern
            .as_deref()
            .is_some_and(|p| !pattern_matches(p, t)),
        (Seen::Text(t), Check::NotInEnum) => !shape.enum_values.iter().any(|e| e == t),
        (Seen::Number(v), Check::Value(n)) => v == n,
        (Seen::Items(v), Check::Items(n)) => v == n,
        _ => false,
    }
}

/// A model pattern as AWS applies it: the whole value must match, and `\w`/`\d` are ASCII.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    // A pattern we cannot read proves nothing either way.
    with_pattern(pattern, |re| re.is_none_or(|re| re.is_match(value)))
}

pub fn compile_pattern(pattern: &str) -> Option<Regex> {
    with_pattern(pattern, |re| re.cloned())
}

/// Runs `f` with the pattern compiled once per process. A model has a few dozen patterns and
/// every case is checked against them: compiling each once keeps `conform check` linear in
/// the cases, and matching through the one stored regex reuses its search caches, which a
/// clone would build again.
fn with_pattern<T>(pattern: &str, f: impl FnOnce(Option<&Regex>) -> T) -> T {
    static COMPILED: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<String, Option<Regex>>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    let re = compiled
        .entry(pattern.to_owned())
        .or_insert_with(|| compile_uncached(pattern));
    f(re.as_ref())
}

fn compile_uncached(pattern: &str) -> Option<Regex> {
    let mut p = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '[' => in_class = true,
            ']' => in_class = false,
            _ => {}
        }
        if c != '\\' {
            p.push(c);
            continue;
        }
        let ascii = |class: &str| {
            if in_class {
                class.to_owned()
            } else {
                format!("[{class}]")
            }
        };
        match chars.next() {
            Some('w') => p.push_str(&ascii("0-9A-Za-z_")),
            Some('d') => p.push_str(&ascii("0-9")),
            Some('u') => {
                // Java-style escapes with 4 to 6 hex digits (`\u10FFFF`).
                let mut hex = String::new();
                while hex.len() < 6 && chars.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    hex.push(chars.next().unwrap_or('0'));
                }
                p.push_str(&format!("\\x{{{hex}}}"));
            }
            Some(other) => {
                p.push('\\');
                p.push(other);
            }
            None => p.push('\\'),
        }
    }
    Regex::new(&format!("^(?:{p})$")).ok()
}

fn render(t: &Template, vars: &Vars) -> Option<String> {
    t.as_literal()
        .map(str::to_owned)
        .or_else(|| t.render(vars).ok())
}

/// What one call sends for every member path below `shape`.
fn observe_structure(
    model: &Model,
    shape: &str,
    params: &[(String, ParamValue)],
    prefix: &str,
    vars: &Vars,
    out: &mut Vec<(String, Seen)>,
) {
    let ShapeKind::Structure {
        members, required, ..
    } = &model.shape(shape).kind
    else {
        return;
    };
    for r in required {
        if !params.iter().any(|(n, _)| n == r) {
            out.push((format!("{prefix}{r}"), Seen::Missing));
        }
    }
    for (name, value) in params {
        if let Some(m) = members.get(name) {
            observe(
                model,
                &m.shape,
                value,
                &format!("{prefix}{name}"),
                vars,
                out,
            );
        }
    }
}

fn observe(
    model: &Model,
    shape: &str,
    value: &ParamValue,
    path: &str,
    vars: &Vars,
    out: &mut Vec<(String, Seen)>,
) {
    let s = model.shape(shape);
    match (&s.kind, value) {
        (ShapeKind::Structure { .. }, ParamValue::Map(entries)) => {
            let params: Vec<(String, ParamValue)> = entries
                .iter()
                .filter_map(|(k, v)| k.as_literal().map(|k| (k.to_owned(), v.clone())))
                .collect();
            observe_structure(model, shape, &params, &format!("{path}."), vars, out);
        }
        (ShapeKind::List { member }, ParamValue::List(items)) => {
            out.push((path.to_owned(), Seen::Items(items.len() as u64)));
            let item_path = format!("{path}[]");
            for v in items {
                observe(model, &member.shape, v, &item_path, vars, out);
            }
        }
        (_, ParamValue::Str(t)) => {
            if let Some(text) = render(t, vars) {
                match s.kind {
                    ShapeKind::Integer | ShapeKind::Long => {
                        if let Ok(n) = text.parse() {
                            out.push((path.to_owned(), Seen::Number(n)));
                        }
                    }
                    _ => out.push((path.to_owned(), Seen::Text(text))),
                }
            }
        }
        (_, ParamValue::Int(n)) => out.push((path.to_owned(), Seen::Number(*n))),
        _ => {}
    }
}

/// `(operation, code)` for every error in a snapshot: each `=== step N: Op` section names
/// its operation; a raw step counts for the case's own operation.
pub fn error_codes(snapshot: &str, case_operation: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for step in crate::transcript::steps(snapshot) {
        let first = step.title.split_whitespace().next().unwrap_or("");
        let op = if first == "raw" || first.is_empty() {
            case_operation
        } else {
            first
        };
        if let Some(e) = step.error() {
            out.push((op.to_owned(), e.code));
        }
    }
    out
}

/// Each service of a loaded suite that has cases, with where its COVERAGE.md lives. Computed
/// with the default variables, as the snapshots were written.
pub fn of_suite(suite: &crate::suite::Suite) -> Vec<(std::path::PathBuf, ServiceCoverage)> {
    let vars = crate::target::default_vars("us-east-1");
    let snapshot_of = |c: &Case| suite.snapshots.expected(c).map(str::to_owned);
    suite
        .models
        .values()
        .filter(|m| suite.cases.iter().any(|c| c.service == m.service))
        .map(|m| {
            let path = suite.layout.scenarios.join(&m.service).join("COVERAGE.md");
            (
                path,
                ServiceCoverage::compute(m, &suite.cases, &snapshot_of, &vars),
            )
        })
        .collect()
}

/// What `conform coverage` did with one service's COVERAGE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    UpToDate,
    /// Out of date, and left so (a check only).
    Stale,
    Written,
}

/// One service's coverage file after `refresh`.
#[derive(Debug)]
pub struct CoverageFile {
    pub path: std::path::PathBuf,
    pub service: String,
    pub state: FileState,
    /// Constrained members without a case.
    pub gaps: usize,
}

/// Brings every COVERAGE.md up to date, or (`check_only`) says which are not.
pub fn refresh(
    suite: &crate::suite::Suite,
    check_only: bool,
) -> Result<Vec<CoverageFile>, (std::path::PathBuf, std::io::Error)> {
    let mut files = Vec::new();
    for (path, cov) in of_suite(suite) {
        let md = cov.to_markdown();
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        let state = if current == md {
            FileState::UpToDate
        } else if check_only {
            FileState::Stale
        } else {
            std::fs::write(&path, md).map_err(|e| (path.clone(), e))?;
            FileState::Written
        };
        files.push(CoverageFile {
            gaps: cov.uncovered_members().len(),
            service: cov.service.clone(),
            path,
            state,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_patterns_are_full_matches_with_ascii_word_characters() {
        let p = r"[\w+=,.@-]*";
        assert!(pattern_matches(p, "Session1"));
        assert!(!pattern_matches(p, "Session1:2"));
        assert!(!pattern_matches(p, "sessioné"), "\\w is ASCII only");
        assert!(pattern_matches(r"[\d]*", "123456"));
        assert!(!pattern_matches(r"[\d]*", "12345a"));
        let any =
            r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+";
        assert!(pattern_matches(any, "arn:aws:iam::123456789012:role/demo"));
        assert!(pattern_matches(any, "😀"));
        assert!(!pattern_matches(any, "a\u{1}b"));
        let tags = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
        assert!(pattern_matches(tags, "Cost-Center é 1"));
        assert!(!pattern_matches(tags, "a*b"));
        assert!(!pattern_matches(r"\w+", "é") && pattern_matches(r"\w+", "a_1"));
    }

    #[test]
    fn error_codes_are_attributed_to_their_step() {
        let snap = "=== step 1: AssumeRole\nHTTP 400 Bad Request\ncontent-type: text/xml\n<ErrorResponse>\n  <Error>\n    <Code>ValidationError</Code>\n  </Error>\n</ErrorResponse>\n\n=== step 2: raw POST /\nHTTP 400 Bad Request\ncontent-type: text/xml\n<ErrorResponse>\n  <Error>\n    <Code>InvalidAction</Code>\n  </Error>\n</ErrorResponse>\n";
        assert_eq!(
            error_codes(snap, "GetCallerIdentity"),
            [
                ("AssumeRole".to_owned(), "ValidationError".to_owned()),
                ("GetCallerIdentity".to_owned(), "InvalidAction".to_owned())
            ]
        );
    }
}
