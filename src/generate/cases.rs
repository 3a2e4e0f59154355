//! Which limit cases an operation gets: one for each refused side of a constraint that no
//! hand-written case covers (coverage says which), its parameters filled so that only that
//! constraint is broken.

use std::collections::BTreeSet;

use crate::coverage::pattern_matches;
use crate::coverage::{Check, OperationCoverage};
use crate::model::{Model, Operation, Shape, ShapeKind};
use crate::template::Vars;

use super::value::{
    PLAIN, Style, Value, breaking_pattern, fitting, items, outside_enum, stem_of, text_fitting,
};

/// The longest text a case sends: a value past a bound of megabytes (a SAML metadata
/// document may hold 10,000,000 characters) makes a request most endpoints refuse for its
/// size before any check of its members, the replay server at 1 MiB.
const LONGEST: u64 = 256 * 1024;

/// A case to write.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub id: String,
    pub description: String,
    /// The rule that produced the case, for its `source`.
    pub rule: String,
    pub params: Vec<(String, Value)>,
    /// The member and the check, for a note if the case is dropped.
    pub member: String,
    pub check: String,
}

/// A refused side no case covers that nothing could be generated for, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    pub service: String,
    pub operation: String,
    pub member: String,
    pub check: String,
    pub why: String,
}

/// The cases for `op`'s uncovered refused sides; `taken` holds the ids other cases use.
pub(super) fn for_operation(
    model: &Model,
    op: &Operation,
    coverage: &OperationCoverage,
    taken: &BTreeSet<String>,
    vars: &Vars,
    echoes: bool,
    skipped: &mut Vec<Skipped>,
) -> Vec<Planned> {
    let Some(input) = op.input.as_deref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for member in &coverage.members {
        for check in member
            .checks
            .iter()
            .filter(|c| !c.accepted && c.cases.is_empty())
        {
            let skip = |why: &str| Skipped {
                service: model.service.clone(),
                operation: op.name.clone(),
                member: member.path.clone(),
                check: check.label.clone(),
                why: why.to_owned(),
            };
            let pieces: Vec<&str> = member.path.split('.').collect();
            let Some((shape, hidden)) = shape_at(model, input, &pieces, false) else {
                skipped.push(skip("the member's shape is not a plain structure path"));
                continue;
            };
            if matches!(check.check, Check::Length(n) | Check::Items(n) if n > LONGEST) {
                skipped.push(skip("the value would make a request of megabytes"));
                continue;
            }
            let id = unique_id(
                &format!(
                    "{}_{}_{}",
                    snake(&op.name),
                    snake(&member.path),
                    suffix(&check.check, shape)
                ),
                taken,
                &out,
            );
            let style = PLAIN.tagged(&id);
            let Some(broken) = breaking(model, shape, &check.check, style.hidden(hidden), echoes)
            else {
                skipped.push(skip("no printable value breaks only this constraint"));
                continue;
            };
            let Some(params) = fields(model, input, &pieces, &broken, vars, style, 0) else {
                skipped.push(skip("another member's shape admits no value made here"));
                continue;
            };
            out.push(Planned {
                id,
                description: describe(&member.path, shape, &check.check, &broken),
                rule: format!("{} of {} ({})", check.label, member.path, rule_of(shape)),
                params: match params {
                    Value::Fields(f) => f,
                    _ => Vec::new(),
                },
                member: member.path.clone(),
                check: check.label.clone(),
            });
        }
    }
    out
}

/// What the broken member gets: a value, or nothing at all.
#[derive(Debug, Clone)]
enum Broken {
    Left,
    Sent(Value),
}

/// `echoes`: the service repeats a refused value in its message.
fn breaking(
    model: &Model,
    shape: &Shape,
    check: &Check,
    style: Style,
    echoes: bool,
) -> Option<Broken> {
    let text = |t: Option<String>| t.map(|t| Broken::Sent(Value::Text(t)));
    match check {
        Check::Missing => Some(Broken::Left),
        Check::Length(n) => {
            let n = *n as usize;
            let plain = Shape {
                enum_values: Vec::new(),
                ..shape.clone()
            };
            text(text_fitting(&plain, Some(n), style).or_else(|| Some(stem_of(n, style))))
        }
        Check::Value(n) => Some(Broken::Sent(Value::Number(*n))),
        Check::Items(n) => {
            let ShapeKind::List { member } = &shape.kind else {
                return None;
            };
            let list = if *n == 0 {
                Vec::new()
            } else {
                items(model, &member.shape, *n as usize, 0, style)?
            };
            Some(Broken::Sent(Value::List(list)))
        }
        Check::PatternBroken => text(breaking_pattern(shape, style, !echoes)),
        Check::NotInEnum => text(outside_enum(shape)),
    }
}

/// The shape at a coverage path (`Tags[].Key`, `PolicyArns[].arn`, `Outer.Inner`), and
/// whether it or a shape above it is sensitive.
fn shape_at<'m>(
    model: &'m Model,
    structure: &str,
    pieces: &[&str],
    hidden: bool,
) -> Option<(&'m Shape, bool)> {
    let (head, rest) = pieces.split_first()?;
    let hidden = hidden || model.shape(structure).sensitive;
    let (name, item) = match head.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (*head, false),
    };
    let ShapeKind::Structure { members, .. } = &model.shape(structure).kind else {
        return None;
    };
    let mut shape_name = members.get(name)?.shape.as_str();
    let mut hidden = hidden || model.shape(shape_name).sensitive;
    if item {
        let ShapeKind::List { member } = &model.shape(shape_name).kind else {
            return None;
        };
        shape_name = member.shape.as_str();
        hidden = hidden || model.shape(shape_name).sensitive;
    }
    if rest.is_empty() {
        Some((model.shape(shape_name), hidden))
    } else {
        shape_at(model, shape_name, rest, hidden)
    }
}

/// The members of `structure`: the required ones filled, the path's one broken (or left out).
fn fields(
    model: &Model,
    structure: &str,
    pieces: &[&str],
    broken: &Broken,
    vars: &Vars,
    style: Style,
    depth: usize,
) -> Option<Value> {
    let ShapeKind::Structure {
        members,
        required,
        order,
    } = &model.shape(structure).kind
    else {
        return None;
    };
    let (head, rest) = pieces.split_first()?;
    let (target, item) = match head.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (*head, false),
    };
    let mut out = Vec::new();
    for name in order {
        let shape_name = &members[name].shape;
        if name == target {
            let value = if item {
                let ShapeKind::List { member } = &model.shape(shape_name).kind else {
                    return None;
                };
                let one = if rest.is_empty() {
                    match broken {
                        Broken::Sent(v) => v.clone(),
                        Broken::Left => return None,
                    }
                } else {
                    fields(model, &member.shape, rest, broken, vars, style, depth + 1)?
                };
                Some(Value::List(vec![one]))
            } else if rest.is_empty() {
                match broken {
                    Broken::Sent(v) => Some(v.clone()),
                    Broken::Left => None,
                }
            } else {
                Some(fields(
                    model,
                    shape_name,
                    rest,
                    broken,
                    vars,
                    style,
                    depth + 1,
                )?)
            };
            if let Some(v) = value {
                out.push((name.clone(), v));
            }
        } else if required.contains(name) {
            let shape = model.shape(shape_name);
            let value = match variable_for(name, shape, vars) {
                Some(v) => v,
                None => fitting(
                    model,
                    shape,
                    depth + 1,
                    style.hidden(model.shape(structure).sensitive),
                )?,
            };
            out.push((name.clone(), value));
        }
    }
    Some(Value::Fields(out))
}

/// The target variable named like the member (`RoleArn` → `{{role_arn}}`), when its default
/// fits the shape: a real target's value then stands where a made-up one could be refused
/// for something else before the constraint under test is reached.
fn variable_for(name: &str, shape: &Shape, vars: &Vars) -> Option<Value> {
    let var = snake(name);
    let value = vars.get(&var)?;
    let len = value.chars().count() as f64;
    let fits = matches!(shape.kind, ShapeKind::String)
        && shape.min.is_none_or(|m| len >= m)
        && shape.max.is_none_or(|m| len <= m)
        && shape
            .pattern
            .as_deref()
            .is_none_or(|p| pattern_matches(p, value));
    fits.then(|| Value::Text(format!("{{{{{var}}}}}")))
}

/// `AssumeRoleWithSAML` → `assume_role_with_saml`; `Tags[].Key` → `tags_key`.
pub(super) fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower);
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out.trim_end_matches('_').to_owned()
}

fn suffix(check: &Check, shape: &Shape) -> &'static str {
    let under = |n: f64| shape.min.is_some_and(|m| n < m);
    match check {
        Check::Missing => "missing",
        Check::Length(n) if under(*n as f64) => "too_short",
        Check::Length(_) => "too_long",
        Check::Value(n) if under(*n as f64) => "too_small",
        Check::Value(_) => "too_large",
        Check::Items(n) if under(*n as f64) => "too_few",
        Check::Items(_) => "too_many",
        Check::PatternBroken => "pattern_broken",
        Check::NotInEnum => "not_in_enum",
    }
}

/// What every id generated for `op` starts with: only a case id that does can clash.
pub(super) fn id_prefix(op: &Operation) -> String {
    format!("{}_", snake(&op.name)).chars().take(96).collect()
}

/// Ids are at most 100 characters and unique in the suite: a long one is cut and a clash
/// gets a number.
fn unique_id(want: &str, taken: &BTreeSet<String>, planned: &[Planned]) -> String {
    let base: String = want.chars().take(96).collect();
    let used = |id: &str| taken.contains(id) || planned.iter().any(|p| p.id == id);
    if !used(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|id| !used(id))
        .unwrap_or(base)
}

fn rule_of(shape: &Shape) -> String {
    let mut parts = vec![shape.name.clone()];
    let num = |v: f64| (v as i64).to_string();
    if let Some(min) = shape.min {
        parts.push(format!("min {}", num(min)));
    }
    if let Some(max) = shape.max {
        parts.push(format!("max {}", num(max)));
    }
    if shape.pattern.is_some() {
        parts.push("pattern".to_owned());
    }
    if !shape.enum_values.is_empty() {
        parts.push("enum".to_owned());
    }
    format!("model {}", parts.join(" "))
}

fn describe(path: &str, shape: &Shape, check: &Check, broken: &Broken) -> String {
    let a = if path.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "An"
    } else {
        "A"
    };
    let num = |v: Option<f64>| v.map_or(String::new(), |v| (v as i64).to_string());
    let (min, max) = (num(shape.min), num(shape.max));
    let under = |n: f64| shape.min.is_some_and(|m| n < m);
    match check {
        Check::Missing => format!("A request without {path}, which the model requires."),
        Check::Length(0) => format!("An empty {path}, under the model's minimum length of {min}."),
        Check::Length(n) if under(*n as f64) => {
            format!("{a} {path} of {n} characters, one under the model's minimum length of {min}.")
        }
        Check::Length(n) => {
            format!("{a} {path} of {n} characters, one over the model's maximum length of {max}.")
        }
        Check::Value(n) if under(*n as f64) => {
            format!("{a} {path} of {n}, one under the model's minimum of {min}.")
        }
        Check::Value(n) => format!("{a} {path} of {n}, one over the model's maximum of {max}."),
        Check::Items(0) => format!("An empty {path} list, under the model's minimum of {min}."),
        Check::Items(n) if under(*n as f64) => {
            format!("{a} {path} of {n} items, one under the model's minimum of {min}.")
        }
        Check::Items(n) => {
            format!("{a} {path} of {n} items, one over the model's maximum of {max}.")
        }
        Check::PatternBroken | Check::NotInEnum => {
            let sent = match broken {
                Broken::Sent(Value::Text(t)) => t.as_str(),
                _ => "",
            };
            let what = if matches!(check, Check::PatternBroken) {
                "with a character the model's pattern refuses"
            } else {
                "outside the model's enumeration"
            };
            format!("{a} {path} of '{sent}', {what}.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_snake_case_ids() {
        assert_eq!(snake("AssumeRoleWithSAML"), "assume_role_with_saml");
        assert_eq!(
            snake("GetOpenIDConnectProvider"),
            "get_open_id_connect_provider"
        );
        assert_eq!(snake("Tags[].Key"), "tags_key");
        assert_eq!(snake("PolicyArns[].arn"), "policy_arns_arn");
        assert_eq!(snake("SAMLAssertion"), "saml_assertion");
    }
}
