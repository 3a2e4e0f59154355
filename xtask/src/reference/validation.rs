//! Model validation as STS documents it: every constraint of the input checked, in model
//! order, each violation named by its lowerCamel wire path.

use conform::coverage::pattern_matches;
use conform::facts::Violation;
use conform::model::{Model, Shape, ShapeKind};

use super::params::Params;

/// Every constraint of `input` the request breaks, in model order.
pub(super) fn violations(model: &Model, input: &str, p: &Params) -> Vec<Violation> {
    let mut out = Vec::new();
    structure(model, input, p, "", "", &mut out);
    out
}

fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn violation(
    member: &str,
    value: &str,
    rule: &'static str,
    args: [(&'static str, String); 1],
) -> Violation {
    Violation {
        member: member.into(),
        value: Some(value.into()),
        rule,
        args: args.into(),
    }
}

/// `wire` is the parameter name on the wire (`Tags.member.1.Key`), `msg` the path messages
/// use (`tags.1.member.key`).
fn structure(
    model: &Model,
    shape: &str,
    p: &Params,
    wire: &str,
    msg: &str,
    out: &mut Vec<Violation>,
) {
    let ShapeKind::Structure {
        members,
        required,
        order,
    } = &model.shape(shape).kind
    else {
        return;
    };
    for name in order {
        let m = &members[name];
        let wire_name = if wire.is_empty() {
            name.clone()
        } else {
            format!("{wire}.{name}")
        };
        let msg_name = if msg.is_empty() {
            lower_camel(name)
        } else {
            format!("{msg}.{}", lower_camel(name))
        };
        let s = model.shape(&m.shape);
        let present = match s.kind {
            ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. } => {
                p.has_prefix(&wire_name)
            }
            _ => p.get(&wire_name).is_some(),
        };
        if !present {
            if required.contains(name) {
                out.push(Violation {
                    member: msg_name,
                    value: None,
                    rule: "",
                    args: Vec::new(),
                });
            }
            continue;
        }
        value(model, s, &m.shape, p, &wire_name, &msg_name, out);
    }
}

fn value(
    model: &Model,
    s: &Shape,
    shape: &str,
    p: &Params,
    wire: &str,
    msg: &str,
    out: &mut Vec<Violation>,
) {
    match &s.kind {
        ShapeKind::Structure { .. } => structure(model, shape, p, wire, msg, out),
        ShapeKind::List { member } => {
            let idx = p.list(wire).unwrap_or_default();
            let items: Vec<&str> = idx
                .iter()
                .map(|i| p.get(&format!("{wire}.member.{i}")).unwrap_or(""))
                .collect();
            let shown = format!("[{}]", items.join(", "));
            let rules = ["min_length", "max_length"];
            range(s, idx.len() as f64, msg, &shown, rules, out);
            let item = model.shape(&member.shape);
            for i in idx {
                let w = format!("{wire}.member.{i}");
                let m = format!("{msg}.{i}.member");
                value(model, item, &member.shape, p, &w, &m, out);
            }
        }
        ShapeKind::String => {
            let v = p.get(wire).unwrap_or("");
            let rules = ["min_length", "max_length"];
            range(s, v.chars().count() as f64, msg, v, rules, out);
            if let Some(pat) = &s.pattern
                && !pattern_matches(pat, v)
            {
                out.push(violation(msg, v, "pattern", [("pattern", pat.clone())]));
            }
            if !s.enum_values.is_empty() && !s.enum_values.iter().any(|e| e == v) {
                let values = s.enum_values.join(", ");
                out.push(violation(msg, v, "enum", [("values", values)]));
            }
        }
        ShapeKind::Integer | ShapeKind::Long => {
            let raw = p.get(wire).unwrap_or("");
            if let Ok(v) = raw.parse::<f64>() {
                range(s, v, msg, raw, ["min_value", "max_value"], out);
            }
        }
        _ => {}
    }
}

/// A size (a length, a count or a number) under the shape's minimum or over its maximum,
/// with the rules that word each.
fn range(
    s: &Shape,
    size: f64,
    member: &str,
    value: &str,
    [under, over]: [&'static str; 2],
    out: &mut Vec<Violation>,
) {
    if let Some(min) = s.min.filter(|m| size < *m) {
        out.push(violation(member, value, under, [("min", min.to_string())]));
    }
    if let Some(max) = s.max.filter(|m| size > *m) {
        out.push(violation(member, value, over, [("max", max.to_string())]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::tests::{ask, message, reference};

    #[test]
    fn validation_lists_every_violation_in_model_order() {
        let r = reference();
        let long = "s".repeat(65) + ":";
        let a = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                ("RoleSessionName", &long),
                ("DurationSeconds", "899"),
            ],
        );
        assert_eq!(a.status, 400);
        assert_eq!(
            message(&a),
            format!(
                "4 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; \
                 Value '{long}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64; \
                 Value '{long}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; \
                 Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
            )
        );
    }

    #[test]
    fn nested_members_are_named_by_their_wire_path() {
        let r = reference();
        let a = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                (
                    "RoleArn",
                    "arn:aws:iam::123456789012:role/conform-test-role",
                ),
                ("RoleSessionName", "ab"),
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "a*b"),
            ],
        );
        assert_eq!(
            message(&a),
            "1 validation error detected: Value 'a*b' at 'tags.1.member.value' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
        );
    }

    #[test]
    fn messages_use_lower_camel_member_paths() {
        assert_eq!(lower_camel("RoleSessionName"), "roleSessionName");
        assert_eq!(lower_camel("SAMLAssertion"), "sAMLAssertion");
    }
}
