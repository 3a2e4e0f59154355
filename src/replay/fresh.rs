//! Fresh values for the placeholders of a stored answer (`[access-key-id:ASIA:1]`), made
//! from what the redaction rules say the values look like: a value drawn from the rule's
//! shape (its regex) matches that shape again, so a run against the replay redacts it to the
//! same placeholder. What a shape does not say well (a fixed text, how long a token runs, a
//! clock) comes from the service's replay file.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use regex_syntax::hir::{Class, Hir, HirKind};

use crate::redact::Look;
use crate::stand_in::{Fresh as Spec, StandIn};

/// How often an open-ended part of a shape (`+`, `*`) repeats unless the replay file says.
const REPEAT: u32 = 16;

/// Clocks look at most this many steps back (an expiry that passed some hours ago).
const CLOCK_STEPS: i64 = 10;

/// A small, fast generator (xorshift), seeded from a text and the clock, so that every
/// answer gets values of its own. Not for secrets anybody relies on: these stand in for
/// recorded ones.
pub(super) struct Rng(fastrand::Rng);

impl Rng {
    pub fn new(seed: &str) -> Rng {
        Rng::of_bytes(seed.as_bytes())
    }

    /// Seeded from a number, with no text made of it (one per answer).
    pub fn numbered(n: u64) -> Rng {
        Rng::of_bytes(&n.to_le_bytes())
    }

    fn of_bytes(seed: &[u8]) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in seed {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng(fastrand::Rng::with_seed(h ^ nanos))
    }

    fn next(&mut self) -> u64 {
        self.0.u64(..)
    }

    /// A number below `n`.
    fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n.max(1))
    }
}

/// A shape turned into a recipe for values that match it.
#[derive(Debug, Clone)]
enum Recipe {
    Text(String),
    /// Characters to draw from: plain ones listed (one draw, one index), else the class's
    /// inclusive code point ranges and how many there are.
    Chars(Vec<char>),
    Class(Vec<(u32, u32)>, u64),
    Repeat {
        min: u32,
        max: Option<u32>,
        sub: Box<Recipe>,
    },
    /// A `keep` group: the placeholder carries its value (`ASIA` in `[access-key-id:ASIA:1]`).
    Keep(Box<Recipe>),
    Seq(Vec<Recipe>),
}

/// Characters that read well in XML text and need no escaping: preferred wherever a class
/// allows any of them.
fn plain(c: u32) -> bool {
    (0x21..=0x7e).contains(&c) && !matches!(char::from_u32(c), Some('<' | '>' | '&'))
}

impl Recipe {
    fn of(hir: &Hir) -> Recipe {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Recipe::Seq(Vec::new()),
            HirKind::Literal(l) => Recipe::Text(String::from_utf8_lossy(&l.0).into_owned()),
            HirKind::Class(Class::Unicode(c)) => Recipe::class(
                c.ranges()
                    .iter()
                    .map(|r| (u32::from(r.start()), u32::from(r.end()))),
            ),
            // Bytes past ASCII are no characters on their own: only the ASCII part is drawn.
            HirKind::Class(Class::Bytes(c)) => Recipe::class(
                c.ranges()
                    .iter()
                    .filter(|r| r.start() < 0x80)
                    .map(|r| (u32::from(r.start()), u32::from(r.end().min(0x7f)))),
            ),
            HirKind::Repetition(r) => Recipe::Repeat {
                min: r.min,
                max: r.max,
                sub: Box::new(Recipe::of(&r.sub)),
            },
            HirKind::Capture(c) if c.name.as_deref() == Some("keep") => {
                Recipe::Keep(Box::new(Recipe::of(&c.sub)))
            }
            HirKind::Capture(c) => Recipe::of(&c.sub),
            HirKind::Concat(parts) => Recipe::Seq(parts.iter().map(Recipe::of).collect()),
            // The first branch: the same shape always gives the same kind of value.
            HirKind::Alternation(branches) => {
                branches.first().map_or(Recipe::Seq(Vec::new()), Recipe::of)
            }
        }
    }

    fn class(ranges: impl Iterator<Item = (u32, u32)>) -> Recipe {
        let all: Vec<(u32, u32)> = ranges.collect();
        let plain: Vec<char> = all
            .iter()
            .flat_map(|&(a, b)| (a.max(0x21)..=b.min(0x7e)).filter(|c| plain(*c)))
            .filter_map(char::from_u32)
            .collect();
        if !plain.is_empty() {
            return Recipe::Chars(plain);
        }
        let total = all.iter().map(|(a, b)| u64::from(b - a) + 1).sum();
        Recipe::Class(all, total)
    }

    fn has_keep(&self) -> bool {
        match self {
            Recipe::Keep(_) => true,
            Recipe::Repeat { sub, .. } => sub.has_keep(),
            Recipe::Seq(parts) => parts.iter().any(Recipe::has_keep),
            Recipe::Text(_) | Recipe::Chars(_) | Recipe::Class(..) => false,
        }
    }

    fn draw(&self, rng: &mut Rng, kept: Option<&str>, repeat: u32, out: &mut String) {
        match self {
            Recipe::Text(t) => out.push_str(t),
            Recipe::Chars(chars) => out.push(chars[rng.below(chars.len())]),
            Recipe::Class(ranges, total) => {
                let mut i = rng.below(*total as usize) as u64;
                for &(a, b) in ranges {
                    let n = u64::from(b - a) + 1;
                    if i < n {
                        let c = a + i as u32;
                        out.push(char::from_u32(c).or(char::from_u32(a)).unwrap_or('x'));
                        return;
                    }
                    i -= n;
                }
            }
            Recipe::Repeat { min, max, sub } => {
                let times = match max {
                    Some(max) => (*min).max(1).min(*max),
                    None => (*min).max(repeat),
                };
                // Most shapes repeat one class (`[A-Z0-9]{16}`): drawn in one loop.
                if let Recipe::Chars(chars) = sub.as_ref() {
                    out.reserve(times as usize);
                    for _ in 0..times {
                        out.push(chars[rng.below(chars.len())]);
                    }
                    return;
                }
                for _ in 0..times {
                    sub.draw(rng, kept, repeat, out);
                }
            }
            Recipe::Keep(sub) => match kept {
                Some(k) => out.push_str(k),
                None => sub.draw(rng, None, repeat, out),
            },
            Recipe::Seq(parts) => {
                for p in parts {
                    p.draw(rng, kept, repeat, out);
                }
            }
        }
    }
}

/// The recipe of a pattern, or of the part its group `v` marks when `within`.
fn recipe(pattern: &str, within: bool) -> Option<Recipe> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    if within && let Some(v) = group(&hir, "v") {
        return Some(Recipe::of(v));
    }
    Some(Recipe::of(&hir))
}

/// The pattern of the capture group of this name.
fn group<'a>(hir: &'a Hir, name: &str) -> Option<&'a Hir> {
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some(name) => Some(&c.sub),
        HirKind::Capture(c) => group(&c.sub, name),
        HirKind::Repetition(r) => group(&r.sub, name),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().find_map(|h| group(h, name)),
        _ => None,
    }
}

/// How one placeholder's values are made.
#[derive(Debug, Clone)]
enum Maker {
    Text(String),
    Clock(i64),
    RelativeTime,
    Shape {
        recipe: Recipe,
        repeat: u32,
        /// The shape has a `keep` group, whose value the placeholder carries.
        keeps: bool,
    },
}

/// How every placeholder of the suite's rules is made fresh.
#[derive(Debug, Clone, Default)]
pub(super) struct Makers {
    makers: HashMap<String, Maker>,
    /// Placeholders whose value stays the same across the steps of a case, by the service
    /// whose replay file says so: only that service's answers keep it (IAM keeps the access
    /// key a user was given; STS hands out a new one on every call, whatever the case).
    stable: HashSet<(String, String)>,
}

impl Makers {
    /// From every service's rules and replay file; the first service that says wins.
    pub fn new<'a>(
        services: impl Iterator<Item = (&'a str, Vec<(&'a str, Look<'a>)>, Option<&'a StandIn>)>,
    ) -> Makers {
        let mut out = Makers::default();
        for (service, looks, stand_in) in services {
            for (name, look) in looks {
                if out.makers.contains_key(name) {
                    continue;
                }
                let spec = stand_in.and_then(|s| s.fresh.get(name));
                let maker = match (spec, look) {
                    (Some(Spec::Text(t)), _) => Maker::Text(t.clone()),
                    (Some(Spec::Clock(step)), _) => Maker::Clock(*step),
                    (_, Look::RelativeTime) => Maker::RelativeTime,
                    (spec, Look::Shape(re) | Look::Within(re)) => {
                        let within = matches!(look, Look::Within(_));
                        let Some(recipe) = recipe(re.as_str(), within) else {
                            continue;
                        };
                        let repeat = match spec {
                            Some(Spec::Repeat(n)) => *n,
                            _ => REPEAT,
                        };
                        Maker::Shape {
                            keeps: recipe.has_keep(),
                            recipe,
                            repeat,
                        }
                    }
                };
                out.makers.insert(name.to_owned(), maker);
            }
            if let Some(s) = stand_in {
                out.stable
                    .extend(s.stable.iter().map(|n| (service.to_owned(), n.clone())));
            }
        }
        out
    }

    pub fn is_stable(&self, service: &str, name: &str) -> bool {
        self.stable.contains(&(service.to_owned(), name.to_owned()))
    }

    /// A fresh value for the placeholder `[name:arg]`, as XML text; None when nothing says
    /// how to make one (it stays as it is).
    pub fn make(&self, name: &str, arg: &str, rng: &mut Rng) -> Option<String> {
        let value = match self.makers.get(name)? {
            Maker::Text(t) => t.clone(),
            Maker::Clock(step) => {
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let n: i64 = arg
                    .split(':')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                (now + step * (n - 1).clamp(0, CLOCK_STEPS)).to_string()
            }
            Maker::RelativeTime => expiration(arg),
            Maker::Shape {
                recipe,
                repeat,
                keeps,
            } => {
                // The redactor writes a kept part first, before any number.
                let kept = arg
                    .split(':')
                    .next()
                    .filter(|p| *keeps && !p.is_empty() && p.parse::<u64>().is_err())
                    .filter(|p| *p != "unexpected-shape");
                // A value of the wrong shape was recorded: one as long, for the same diff.
                let length = arg
                    .split(':')
                    .find_map(|p| p.strip_suffix("-chars").and_then(|n| n.parse().ok()));
                let mut v = String::new();
                recipe.draw(rng, kept, *repeat, &mut v);
                if let Some(n) = length {
                    while v.chars().count() < n {
                        recipe.draw(rng, kept, *repeat, &mut v);
                    }
                    v = v.chars().take(n).collect();
                }
                v
            }
        };
        Some(if value.contains(['&', '<', '>']) {
            escape(&value)
        } else {
            value
        })
    }
}

/// `+3600s` (and `:subsecond`) back into an ISO 8601 time that far from now.
pub(super) fn expiration(arg: &str) -> String {
    let mut parts = arg.split(':');
    let offset = parts
        .next()
        .and_then(|p| p.strip_suffix('s'))
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(3600);
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset);
    let base = crate::query::iso8601(t);
    if parts.any(|p| p == "subsecond") {
        base.replace('Z', ".500Z")
    } else {
        base
    }
}

/// A request id of the server's own answers (errors, the response header): a version 4 UUID,
/// as AWS's are.
pub(super) fn request_id(seed: &str) -> String {
    let mut rng = Rng::new(seed);
    let bytes = (u128::from(rng.next()) << 64 | u128::from(rng.next())).to_le_bytes();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

pub(super) fn escape(s: &str) -> String {
    quick_xml::escape::partial_escape(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Rules;

    const RULES: &str = r#"
elements:
  - element: RequestId
    placeholder: request-id
    shape: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
  - element: AccessKeyId
    placeholder: access-key-id
    shape: '(?P<keep>[A-Z]{4})[A-Z0-9]{16}'
  - element: SecretAccessKey
    placeholder: secret-access-key
    shape: '[A-Za-z0-9/+]{40}'
    secret: true
  - element: SessionToken
    placeholder: session-token
    shape: '[A-Za-z0-9/+=]+'
  - element: Expiration
    placeholder: expiration
    relative_time: true
  - element: Name
    placeholder: name
    shape: '\w+ \w+'
  - element: Caller
    placeholder: caller
    variable: caller_arn
values:
  - pattern: 'consumes (?P<v>[0-9]+)% of'
    placeholder: percent
  - pattern: 'AROA[A-Z0-9]{17}'
    placeholder: role-id
  - pattern: 'at (?P<v>[0-9]{9,11})\b'
    placeholder: unix-time
"#;

    fn makers(stand_in: Option<&StandIn>) -> (Rules, Makers) {
        let rules = Rules::parse(RULES, "r").unwrap();
        let m = Makers::new(std::iter::once(("sts", rules.looks(), stand_in)));
        (rules, m)
    }

    #[test]
    fn values_drawn_from_a_shape_have_that_shape() {
        let (rules, m) = makers(None);
        let mut rng = Rng::new("t");
        for (name, look) in rules.looks() {
            let Look::Shape(re) = look else { continue };
            for _ in 0..50 {
                let v = m.make(name, "ASIA:1", &mut rng).unwrap();
                assert!(re.is_match(&v), "{name}: {v} against {}", re.as_str());
            }
        }
        let key = m.make("access-key-id", "ASIA:1", &mut rng).unwrap();
        assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
        // Without a kept part, the group's own shape.
        let key = m.make("access-key-id", "2", &mut rng).unwrap();
        assert!(key.len() == 20 && !key.starts_with("2"), "{key}");
        // Unicode classes draw from their plain ASCII part.
        let name = m.make("name", "1", &mut rng).unwrap();
        assert!(name.is_ascii() && name.contains(' '), "{name}");
        assert_ne!(
            m.make("secret-access-key", "", &mut rng),
            m.make("secret-access-key", "", &mut rng),
            "every draw is new"
        );
    }

    #[test]
    fn a_pattern_with_a_v_group_gives_only_that_part() {
        let (_, m) = makers(None);
        let mut rng = Rng::new("t");
        let p = m.make("percent", "", &mut rng).unwrap();
        assert!(
            p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty(),
            "{p}"
        );
        let id = m.make("role-id", "1", &mut rng).unwrap();
        assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
        // Variables have their value elsewhere; placeholders of no rule stay.
        assert_eq!(m.make("caller", "", &mut rng), None);
        assert_eq!(m.make("redacted-secret", "", &mut rng), None);
    }

    #[test]
    fn a_recorded_wrong_shape_comes_back_as_long() {
        let (rules, m) = makers(None);
        let mut rng = Rng::new("t");
        let v = m
            .make("secret-access-key", "unexpected-shape:41-chars", &mut rng)
            .unwrap();
        assert_eq!(v.chars().count(), 41);
        let shape = rules
            .looks()
            .into_iter()
            .find_map(|(n, l)| match l {
                Look::Shape(re) if n == "secret-access-key" => Some(re),
                _ => None,
            })
            .unwrap();
        assert!(!shape.is_match(&v));
    }

    #[test]
    fn the_replay_file_says_what_a_shape_cannot() {
        let stand_in = StandIn {
            fresh: [
                ("session-token".to_owned(), Spec::Repeat(300)),
                ("name".to_owned(), Spec::Text("a <b>".to_owned())),
                ("unix-time".to_owned(), Spec::Clock(-3600)),
            ]
            .into(),
            stable: vec!["role-id".into()],
            ..StandIn::default()
        };
        let (_, m) = makers(Some(&stand_in));
        let mut rng = Rng::new("t");
        assert_eq!(m.make("session-token", "", &mut rng).unwrap().len(), 300);
        assert_eq!(m.make("name", "1", &mut rng).unwrap(), "a &lt;b&gt;");
        let first: i64 = m.make("unix-time", "1", &mut rng).unwrap().parse().unwrap();
        let second: i64 = m.make("unix-time", "2", &mut rng).unwrap().parse().unwrap();
        assert!(
            (0..=2).contains(&(first - second - 3600)),
            "{first} {second}"
        );
        assert!(m.is_stable("sts", "role-id") && !m.is_stable("sts", "access-key-id"));
        assert!(
            !m.is_stable("iam", "role-id"),
            "only the service that says so"
        );
    }

    #[test]
    fn expirations_and_request_ids_are_computed() {
        let (_, m) = makers(None);
        let e = m.make("expiration", "+3600s", &mut Rng::new("t")).unwrap();
        let t = time::OffsetDateTime::parse(&e, &time::format_description::well_known::Rfc3339)
            .unwrap();
        let ahead = (t - time::OffsetDateTime::now_utc()).whole_seconds();
        assert!((3590..=3600).contains(&ahead), "{e}");
        assert!(!e.contains('.'), "{e}");
        assert!(expiration("+900s:subsecond").ends_with(".500Z"));
        let id = request_id("x");
        assert_eq!(id.len(), 36);
        assert!(
            id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
            "{id}"
        );
    }
}
