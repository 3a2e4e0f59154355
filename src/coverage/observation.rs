//! What one call of a case sends for each member path, read from its parameters with the
//! templates rendered.

use crate::model::{Model, ShapeKind};
use crate::scenario::ParamValue;
use crate::template::{Template, Vars};

/// What a case's call sent for one member.
#[derive(Debug, Clone)]
pub(super) enum Seen {
    Text(String),
    Number(i64),
    Items(u64),
    Missing,
}

fn render(t: &Template, vars: &Vars) -> Option<String> {
    t.as_literal()
        .map(str::to_owned)
        .or_else(|| t.render(vars).ok())
}

/// What one call sends for every member path below `shape`.
pub(super) fn observe_structure(
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
