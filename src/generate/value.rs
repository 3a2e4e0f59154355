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

/// How filled texts look: what they start from, what pads them, and whether a pattern's
/// classes are walked through (so a value of one class does not repeat one character).
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    stem: &'static str,
    pad: char,
    vary: bool,
    /// Letters from the case's id after the stem: an emulator that wrongly accepts a value
    /// and creates what it names must not find it again in another case of the run.
    tag: Option<[char; 4]>,
}

impl Style {
    pub(super) fn tagged(self, id: &str) -> Style {
        // FNV-1a: stable across runs and platforms, so generating again writes the same.
        let mut h: u32 = 0x811c_9dc5;
        for b in id.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        let letter = |i: u32| char::from(b'a' + ((h >> (i * 4)) & 0xf) as u8);
        Style {
            tag: Some([letter(0), letter(1), letter(2), letter(3)]),
            ..self
        }
    }

    fn stem_len(&self) -> usize {
        self.stem.len() + self.tag.map_or(0, |t| t.len())
    }

    /// The style for a value below a sensitive shape or not, with this one's tag.
    pub(super) fn hidden(self, hidden: bool) -> Style {
        let base = if hidden { HIDDEN } else { PLAIN };
        Style {
            tag: self.tag,
            ..base
        }
    }
}

/// Ordinary members.
pub(super) const PLAIN: Style = Style {
    stem: "conform",
    pad: 'x',
    vary: false,
    tag: None,
};

/// Members the model marks sensitive. The runner scrubs their values (8 characters and
/// more) from everything it writes, in every case of the run: a text no other member gets
/// keeps that scrubbing from reaching another case's answer.
pub(super) const HIDDEN: Style = Style {
    stem: "hiddenvalue",
    pad: 'z',
    vary: true,
    tag: None,
};

/// Characters tried, in turn, to break a pattern: printable ASCII that identifier, name and
/// ARN patterns leave out, so the value stays readable in a snapshot.
const BREAKERS: [char; 10] = ['!', '#', ' ', '*', '^', '|', '~', '`', '<', '%'];

/// A value `shape` accepts, or None when none can be made (a pattern nothing here matches).
/// `style` says how texts look; it turns hidden below a sensitive shape.
pub(super) fn fitting(model: &Model, shape: &Shape, depth: usize, style: Style) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let style = if shape.sensitive {
        style.hidden(true)
    } else {
        style
    };
    match &shape.kind {
        ShapeKind::String => text_fitting(shape, None, style).map(Value::Text),
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
        ShapeKind::Blob => Some(Value::Text(style.stem.to_owned())),
        ShapeKind::List { member } => {
            let n = shape.min.map_or(1, |m| m.max(1.0) as usize);
            items(model, &member.shape, n, depth, style).map(Value::List)
        }
        ShapeKind::Map { key, value } => {
            let k = text_fitting(model.shape(&key.shape), None, style)?;
            let v = fitting(model, model.shape(&value.shape), depth + 1, style)?;
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
                fields.push((name.clone(), fitting(model, s, depth + 1, style)?));
            }
            // A structure with nothing required would send nothing at all (a list of them
            // would look empty): its first member that can be filled stands in.
            if fields.is_empty() {
                let first = order.iter().find_map(|name| {
                    let s = model.shape(&members[name].shape);
                    Some((name.clone(), fitting(model, s, depth + 1, style)?))
                });
                fields.extend(first);
            }
            Some(Value::Fields(fields))
        }
    }
}

/// `n` items of the list member shape `item`.
pub(super) fn items(
    model: &Model,
    item: &str,
    n: usize,
    depth: usize,
    style: Style,
) -> Option<Vec<Value>> {
    let one = fitting(model, model.shape(item), depth + 1, style)?;
    Some(vec![one; n])
}

/// A text `shape` accepts, of exactly `len` characters when given.
pub(super) fn text_fitting(shape: &Shape, len: Option<usize>, style: Style) -> Option<String> {
    if len.is_none()
        && let Some(first) = shape.enum_values.first()
    {
        return Some(first.clone());
    }
    let min = shape.min.map_or(0, |m| m as usize);
    let max = shape.max.map_or(usize::MAX, |m| m as usize);
    let want = len.unwrap_or_else(|| style.stem_len().clamp(min, max));
    let stem = stem_of(want, style);
    let Some(pattern) = &shape.pattern else {
        return Some(stem);
    };
    if pattern_matches(pattern, &stem) {
        return Some(stem);
    }
    let hir = regex_syntax::Parser::new().parse(&as_regex(pattern)).ok()?;
    if let Some(v) = sampled(&hir, want, pattern, style.vary) {
        return Some(v);
    }
    // The pattern's shortest text is longer than wanted: any length the shape allows will do.
    let mut shortest = String::new();
    let fits = len.is_none()
        && sample(&hir, &mut 0, &mut turn(style.vary), &mut shortest)
        && (min..=max).contains(&shortest.chars().count())
        && pattern_matches(pattern, &shortest);
    fits.then_some(shortest)
}

/// Where a varying style is in its walk through a class's characters.
fn turn(vary: bool) -> Option<usize> {
    vary.then_some(0)
}

/// The style's stem cut or padded to `len` characters.
pub(super) fn stem_of(len: usize, style: Style) -> String {
    style
        .stem
        .chars()
        .chain(style.tag.into_iter().flatten())
        .chain(std::iter::repeat(style.pad))
        .take(len)
        .collect()
}

/// A text of exactly `len` characters that the pattern's syntax tree yields and the pattern
/// accepts: the shortest form, its first open-ended repetitions grown until the length fits.
/// The length grows with the repetitions spent, so the count is searched by halves: a value
/// of 131,073 characters takes a few dozen texts, not one per character.
fn sampled(hir: &Hir, len: usize, pattern: &str, vary: bool) -> Option<String> {
    let make = |extra: usize| {
        let mut out = String::new();
        let mut budget = extra;
        sample(hir, &mut budget, &mut turn(vary), &mut out).then(|| {
            let n = out.chars().count();
            (out, n, budget)
        })
    };
    let (shortest, n0, _) = make(0)?;
    let found = if n0 == len {
        Some(shortest)
    } else if n0 > len {
        None
    } else {
        // Each repetition spent adds at least one character: `len - n0` is enough.
        let (mut low, mut high) = (1, len - n0);
        let mut hit = None;
        while low <= high {
            let mid = low + (high - low) / 2;
            let (out, n, left) = make(mid)?;
            if n == len {
                hit = Some(out);
                break;
            }
            // Repetitions left unspent: the pattern cannot grow any more.
            if n < len && left > 0 {
                break;
            }
            if n < len {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        hit
    };
    found.filter(|v| pattern_matches(pattern, v))
}

/// Appends the shortest text `h` matches, with `budget` more repetitions spent on the first
/// repetitions that allow them. False when a part matches no printable character.
fn sample(h: &Hir, budget: &mut usize, turn: &mut Option<usize>, out: &mut String) -> bool {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => {
                out.push_str(s);
                true
            }
            Err(_) => false,
        },
        HirKind::Class(c) => match class_char(c, turn) {
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
            (0..r.min as usize + more).all(|_| sample(&r.sub, budget, turn, out))
        }
        HirKind::Capture(c) => sample(&c.sub, budget, turn, out),
        HirKind::Concat(parts) => parts.iter().all(|p| sample(p, budget, turn, out)),
        HirKind::Alternation(alts) => alts.iter().any(|a| {
            let (mark, saved) = (out.len(), *budget);
            sample(a, budget, turn, out) || {
                out.truncate(mark);
                *budget = saved;
                false
            }
        }),
    }
}

/// The class's most readable member (a lower-case letter, a digit, else its first
/// printable), or, walking (`turn`), its next printable member in turn.
fn class_char(c: &Class, turn: &mut Option<usize>) -> Option<char> {
    let printable = || -> Box<dyn Iterator<Item = char> + '_> {
        match c {
            Class::Unicode(u) => Box::new(
                u.ranges()
                    .iter()
                    .flat_map(|r| (r.start()..=r.end()).take(64))
                    .filter(|ch| !ch.is_control())
                    .take(64),
            ),
            Class::Bytes(b) => Box::new(
                b.ranges()
                    .iter()
                    .flat_map(|r| (r.start()..=r.end()).take(64))
                    .map(char::from)
                    .filter(|ch| ch.is_ascii() && !ch.is_control())
                    .take(64),
            ),
        }
    };
    if let Some(t) = turn {
        let n = printable().count().max(1);
        let ch = printable().nth(*t % n);
        *t += 1;
        return ch;
    }
    let has = |want: char| match c {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .any(|r| r.start() <= want && want <= r.end()),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .any(|r| char::from(r.start()) <= want && want <= char::from(r.end())),
    };
    ['a', 'x', '0']
        .into_iter()
        .find(|ch| has(*ch))
        .or_else(|| printable().next())
}

/// A text the pattern refuses whose length fits the shape: an accepted value with one
/// character swapped for one the pattern leaves out. `control`: a control character may be
/// that one, where the service does not repeat the value (no answer would have to carry it).
pub(super) fn breaking_pattern(shape: &Shape, style: Style, control: bool) -> Option<String> {
    let pattern = shape.pattern.as_deref()?;
    let base = text_fitting(
        &Shape {
            enum_values: Vec::new(),
            ..shape.clone()
        },
        None,
        style,
    )
    .filter(|b| !b.is_empty())
    .unwrap_or_else(|| stem_of(shape.min.map_or(1, |m| (m as usize).max(1)), style));
    let rest: String = base.chars().skip(1).collect();
    let control = control.then_some('\u{1}');
    BREAKERS
        .into_iter()
        .chain(control)
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
        assert_eq!(text_fitting(&name, None, PLAIN).as_deref(), Some("conform"));
        assert_eq!(text_fitting(&name, Some(65), PLAIN).unwrap().len(), 65);
        let arn = string(
            Some(20.0),
            Some(2048.0),
            Some(r"arn:[\w+=/,.@-]+:iam::[0-9]{12}:policy/[\w+=/,.@-]+"),
        );
        let v = text_fitting(&arn, None, PLAIN).unwrap();
        assert!(pattern_matches(arn.pattern.as_deref().unwrap(), &v), "{v}");
        assert_eq!(v, "arn:a:iam::000000000000:policy/a");
        let digits = string(Some(5.0), Some(8.0), Some("^[0-9]+$"));
        assert_eq!(
            text_fitting(&digits, None, PLAIN).as_deref(),
            Some("0000000")
        );
        assert_eq!(
            text_fitting(&digits, Some(4), PLAIN).as_deref(),
            Some("0000")
        );
        let impossible = string(None, None, Some("[\u{1}-\u{2}]+"));
        assert_eq!(text_fitting(&impossible, None, PLAIN), None);
        // Sensitive values walk the class, so no run of one digit is scrubbed elsewhere.
        assert_eq!(
            text_fitting(&digits, Some(8), HIDDEN).as_deref(),
            Some("01234567")
        );
        assert_eq!(
            text_fitting(&name, None, HIDDEN).as_deref(),
            Some("hiddenvalue")
        );
        // A case's own tag keeps its names apart from every other case's.
        let tagged = PLAIN.tagged("create_user_path_too_long");
        let other = PLAIN.tagged("create_user_path_too_short");
        let a = text_fitting(&name, None, tagged).unwrap();
        let b = text_fitting(&name, None, other).unwrap();
        assert!(
            a.starts_with("conform") && a.len() == 11 && a != b,
            "{a} {b}"
        );
    }

    #[test]
    fn broken_patterns_keep_the_length_and_fail_the_pattern() {
        let name = string(Some(2.0), Some(64.0), Some(r"[\w+=,.@-]*"));
        let v = breaking_pattern(&name, PLAIN, false).unwrap();
        assert_eq!(v, "!onform");
        assert!(!pattern_matches(name.pattern.as_deref().unwrap(), &v));
        let anything = string(
            None,
            None,
            Some(r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD]+"),
        );
        assert_eq!(
            breaking_pattern(&anything, PLAIN, false),
            None,
            "printable ASCII all allowed"
        );
        assert_eq!(
            breaking_pattern(&anything, PLAIN, true).as_deref(),
            Some("\u{1}onform"),
            "where the value is not repeated, a control character breaks it"
        );
    }

    #[test]
    fn values_outside_an_enumeration_respect_its_length() {
        let mut status = string(None, Some(8.0), None);
        status.enum_values = vec!["Active".into(), "Inactive".into()];
        assert_eq!(outside_enum(&status).as_deref(), Some("conform-"));
        assert_eq!(
            text_fitting(&status, None, PLAIN).as_deref(),
            Some("Active")
        );
    }
}
