//! Values for generated cases: ones a member's shape accepts (to fill what a case does not
//! test) and ones that break exactly one of its constraints. Deterministic, so generating
//! again writes the same files.

use regex_syntax::hir::{Class, Hir, HirKind};

use crate::coverage::{as_regex, pattern_matches};
use crate::model::{Model, Shape, ShapeKind};

/// A parameter value as a scenario writes it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Text(String),
    Number(i64),
    Bool(bool),
    List(Vec<Value>),
    /// A structure's members or a map's entries, in the order written.
    Fields(Vec<(String, Value)>),
}

/// How deep filling nests: a model's recursive shapes stop here.
const MAX_DEPTH: usize = 6;

/// The text every filled string starts from, cut or padded to fit.
const STEM: &str = "conform";

/// Characters tried, in turn, to break a pattern: printable ASCII that identifier, name and
/// ARN patterns leave out, so the value stays readable in a snapshot.
const BREAKERS: [char; 10] = ['!', '#', ' ', '*', '^', '|', '~', '`', '<', '%'];

/// A value `shape` accepts, or None when none can be made (a pattern nothing here matches).
pub(super) fn fitting(model: &Model, shape: &Shape, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    match &shape.kind {
        ShapeKind::String => text_fitting(shape, None).map(Value::Text),
        ShapeKind::Integer | ShapeKind::Long => {
            let low = shape.min.map_or(1, |m| m as i64);
            Some(Value::Number(match shape.max {
                Some(max) => low.min(max as i64),
                None => low,
            }))
        }
        ShapeKind::Float | ShapeKind::Double => {
            Some(Value::Number(shape.min.map_or(1, |m| m.ceil() as i64)))
        }
        ShapeKind::Boolean => Some(Value::Bool(true)),
        ShapeKind::Timestamp => Some(Value::Text("2026-01-01T00:00:00Z".to_owned())),
        ShapeKind::Blob => Some(Value::Text(STEM.to_owned())),
        ShapeKind::List { member } => {
            let n = shape.min.map_or(1, |m| m.max(1.0) as usize);
            items(model, &member.shape, n, depth).map(Value::List)
        }
        ShapeKind::Map { key, value } => {
            let k = text_fitting(model.shape(&key.shape), None)?;
            let v = fitting(model, model.shape(&value.shape), depth + 1)?;
            Some(Value::Fields(vec![(k, v)]))
        }
        ShapeKind::Structure {
            members,
            required,
            order,
        } => {
            let mut fields = Vec::new();
            for name in order.iter().filter(|n| required.contains(n)) {
                let s = model.shape(&members[name].shape);
                fields.push((name.clone(), fitting(model, s, depth + 1)?));
            }
            Some(Value::Fields(fields))
        }
    }
}

/// `n` items of the list member shape `item`.
pub(super) fn items(model: &Model, item: &str, n: usize, depth: usize) -> Option<Vec<Value>> {
    let one = fitting(model, model.shape(item), depth + 1)?;
    Some(vec![one; n])
}

/// A text `shape` accepts, of exactly `len` characters when given.
pub(super) fn text_fitting(shape: &Shape, len: Option<usize>) -> Option<String> {
    if len.is_none()
        && let Some(first) = shape.enum_values.first()
    {
        return Some(first.clone());
    }
    let min = shape.min.map_or(0, |m| m as usize);
    let max = shape.max.map_or(usize::MAX, |m| m as usize);
    let want = len.unwrap_or_else(|| STEM.len().clamp(min, max));
    let stem = stem_of(want);
    let Some(pattern) = &shape.pattern else {
        return Some(stem);
    };
    if pattern_matches(pattern, &stem) {
        return Some(stem);
    }
    let hir = regex_syntax::Parser::new().parse(&as_regex(pattern)).ok()?;
    if let Some(v) = sampled(&hir, want, pattern) {
        return Some(v);
    }
    // The pattern's shortest text is longer than wanted: any length the shape allows will do.
    let mut shortest = String::new();
    let fits = len.is_none()
        && sample(&hir, &mut 0, &mut shortest)
        && (min..=max).contains(&shortest.chars().count())
        && pattern_matches(pattern, &shortest);
    fits.then_some(shortest)
}

/// `conform` cut or padded with `x` to `len` characters.
fn stem_of(len: usize) -> String {
    STEM.chars()
        .chain(std::iter::repeat('x'))
        .take(len)
        .collect()
}

/// A text of exactly `len` characters that the pattern's syntax tree yields and the pattern
/// accepts: the shortest form, its first open-ended repetition grown until the length fits.
fn sampled(hir: &Hir, len: usize, pattern: &str) -> Option<String> {
    let mut extra = 0;
    // Each added repetition adds at least one character, so this ends by `len` tries.
    loop {
        let mut out = String::new();
        let mut budget = extra;
        if !sample(hir, &mut budget, &mut out) {
            return None;
        }
        let n = out.chars().count();
        if n == len {
            return pattern_matches(pattern, &out).then_some(out);
        }
        if n > len || budget > 0 {
            return None;
        }
        extra += 1;
    }
}

/// Appends the shortest text `h` matches, with `budget` more repetitions spent on the first
/// repetitions that allow them. False when a part matches no printable character.
fn sample(h: &Hir, budget: &mut usize, out: &mut String) -> bool {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => {
                out.push_str(s);
                true
            }
            Err(_) => false,
        },
        HirKind::Class(c) => match class_char(c) {
            Some(ch) => {
                out.push(ch);
                true
            }
            None => false,
        },
        HirKind::Repetition(r) => {
            let room = r.max.map_or(usize::MAX, |m| (m - r.min) as usize);
            let more = (*budget).min(room);
            *budget -= more;
            (0..r.min as usize + more).all(|_| sample(&r.sub, budget, out))
        }
        HirKind::Capture(c) => sample(&c.sub, budget, out),
        HirKind::Concat(parts) => parts.iter().all(|p| sample(p, budget, out)),
        HirKind::Alternation(alts) => alts.iter().any(|a| {
            let (mark, saved) = (out.len(), *budget);
            sample(a, budget, out) || {
                out.truncate(mark);
                *budget = saved;
                false
            }
        }),
    }
}

/// The class's most readable member: a lower-case letter, a digit, else its first printable.
fn class_char(c: &Class) -> Option<char> {
    let printable = |ch: char| !ch.is_control();
    match c {
        Class::Unicode(u) => {
            let has = |ch: char| u.ranges().iter().any(|r| r.start() <= ch && ch <= r.end());
            ['a', 'x', '0'].into_iter().find(|&ch| has(ch)).or_else(|| {
                u.ranges()
                    .iter()
                    .flat_map(|r| (r.start()..=r.end()).take(64))
                    .find(|&ch| printable(ch))
            })
        }
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .flat_map(|r| (r.start()..=r.end()).take(64))
            .map(char::from)
            .find(|&ch| ch.is_ascii() && printable(ch)),
    }
}

/// A text the pattern refuses whose length fits the shape: an accepted value with one
/// character swapped for one the pattern leaves out.
pub(super) fn breaking_pattern(shape: &Shape) -> Option<String> {
    let pattern = shape.pattern.as_deref()?;
    let base = text_fitting(
        &Shape {
            enum_values: Vec::new(),
            ..shape.clone()
        },
        None,
    )
    .filter(|b| !b.is_empty())
    .unwrap_or_else(|| stem_of(shape.min.map_or(1, |m| (m as usize).max(1))));
    let rest: String = base.chars().skip(1).collect();
    BREAKERS
        .into_iter()
        .map(|c| format!("{c}{rest}"))
        .find(|v| !pattern_matches(pattern, v))
}

/// A text outside the shape's enumeration, as long as its length allows.
pub(super) fn outside_enum(shape: &Shape) -> Option<String> {
    let max = shape.max.map_or(usize::MAX, |m| m as usize);
    let v: String = "conform-not-listed".chars().take(max).collect();
    (!v.is_empty() && !shape.enum_values.contains(&v)).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(min: Option<f64>, max: Option<f64>, pattern: Option<&str>) -> Shape {
        Shape {
            name: "s".into(),
            kind: ShapeKind::String,
            min,
            max,
            pattern: pattern.map(str::to_owned),
            enum_values: Vec::new(),
            flattened: false,
            sensitive: false,
            error: None,
        }
    }

    #[test]
    fn texts_fit_lengths_and_patterns_exactly() {
        let name = string(Some(1.0), Some(64.0), Some(r"[\w+=,.@-]+"));
        assert_eq!(text_fitting(&name, None).as_deref(), Some("conform"));
        assert_eq!(text_fitting(&name, Some(65)).unwrap().len(), 65);
        let arn = string(
            Some(20.0),
            Some(2048.0),
            Some(r"arn:[\w+=/,.@-]+:iam::[0-9]{12}:policy/[\w+=/,.@-]+"),
        );
        let v = text_fitting(&arn, None).unwrap();
        assert!(pattern_matches(arn.pattern.as_deref().unwrap(), &v), "{v}");
        assert_eq!(v, "arn:a:iam::000000000000:policy/a");
        let digits = string(Some(5.0), Some(8.0), Some("^[0-9]+$"));
        assert_eq!(text_fitting(&digits, None).as_deref(), Some("0000000"));
        assert_eq!(text_fitting(&digits, Some(4)).as_deref(), Some("0000"));
        let impossible = string(None, None, Some("[\u{1}-\u{2}]+"));
        assert_eq!(text_fitting(&impossible, None), None);
    }

    #[test]
    fn broken_patterns_keep_the_length_and_fail_the_pattern() {
        let name = string(Some(2.0), Some(64.0), Some(r"[\w+=,.@-]*"));
        let v = breaking_pattern(&name).unwrap();
        assert_eq!(v, "!onform");
        assert!(!pattern_matches(name.pattern.as_deref().unwrap(), &v));
        let anything = string(
            None,
            None,
            Some(r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD]+"),
        );
        assert_eq!(
            breaking_pattern(&anything),
            None,
            "printable ASCII all allowed"
        );
    }

    #[test]
    fn values_outside_an_enumeration_respect_its_length() {
        let mut status = string(None, Some(8.0), None);
        status.enum_values = vec!["Active".into(), "Inactive".into()];
        assert_eq!(outside_enum(&status).as_deref(), Some("conform-"));
        assert_eq!(text_fitting(&status, None).as_deref(), Some("Active"));
    }
}
