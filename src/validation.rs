//! Model validation as AWS's query services answer it: every constraint of an operation's
//! input checked against the decoded parameters, in model order, each violation named by its
//! lowerCamel wire path. The STS reference answers with it and `generate` writes the expected
//! answers of limit cases from it, and the replay server refuses with it what no case
//! expects, so none of them can disagree.

use crate::coverage::pattern_matches;
use crate::facts::Violation;
use crate::model::{Model, Shape, ShapeKind};

/// Decoded parameters, looked up by wire name.
struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    fn has_prefix(&self, p: &str) -> bool {
        self.0.iter().any(|(n, _)| {
            n.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    fn list(&self, prefix: &str) -> Option<Vec<usize>> {
        list_indices(self.0, prefix)
    }
}

/// Indices `N` of `prefix.member.N...` among decoded parameters, sorted; `Some(vec![])` for
/// `prefix=` (an empty list), None when the list is not sent.
pub fn list_indices(pairs: &[(String, String)], prefix: &str) -> Option<Vec<usize>> {
    let head = format!("{prefix}.member.");
    let mut idx: Vec<usize> = pairs
        .iter()
        .filter_map(|(n, _)| n.strip_prefix(&head))
        .filter_map(|rest| rest.split('.').next()?.parse().ok())
        .collect();
    idx.sort_unstable();
    idx.dedup();
    if !idx.is_empty() {
        Some(idx)
    } else if pairs.iter().any(|(n, _)| n == prefix) {
        Some(Vec::new())
    } else {
        None
    }
}

/// Every constraint of the structure `input` that the decoded parameters `pairs` break, in
/// model order.
pub fn violations(model: &Model, input: &str, pairs: &[(String, String)]) -> Vec<Violation> {
    let mut out = Vec::new();
    structure(model, input, &Params(pairs), "", "", &mut out);
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
    p: &Params<'_>,
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
        // The wire uses the model's `locationName` where it has one; messages the member's.
        let key = m.location_name.as_deref().unwrap_or(name);
        let wire_name = if wire.is_empty() {
            key.to_owned()
        } else {
            format!("{wire}.{key}")
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
    p: &Params<'_>,
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

    #[test]
    fn messages_use_lower_camel_member_paths() {
        assert_eq!(lower_camel("RoleSessionName"), "roleSessionName");
        assert_eq!(lower_camel("SAMLAssertion"), "sAMLAssertion");
    }
}
