//! What differs between a snapshot and a run, as data: step by step, the status, the content
//! type and the XML tree are compared as structures, and each difference becomes a
//! [`Deviation`] with its step, element path, kind, and the expected and actual values. The
//! unified diff is for people; deviations are what a baseline lists, what the gate judges and
//! what the graded parity counts.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::transcript::{self, Body, Step, steps};
use crate::xml::{self, Element, Node};

/// What kind of difference a deviation is. The order is the order of [`Level`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Another HTTP status (or no answer to that step at all).
    Status,
    ContentType,
    /// XML was expected and something else came (or the other way round).
    NotXml,
    /// The snapshot has a step the run never reached (a capture failed before it).
    MissingStep,
    /// The run has a step the snapshot does not.
    UnexpectedStep,
    /// `Error/Type`: Sender or Receiver.
    ErrorType,
    /// `Error/Code`.
    ErrorCode,
    /// `Error/Message`.
    ErrorMessage,
    MissingElement,
    UnexpectedElement,
    /// An element's namespace (its `xmlns` or its prefix).
    Namespace,
    /// The same child elements in another order.
    ElementOrder,
    /// A placeholder of the wrong kind: the value did not have the shape its rule checks
    /// (`[request-id]` against a literal, `[expiration:+3600s]` against
    /// `[expiration:+3600s:subsecond]`).
    ValueShape,
    /// Other text in an element or attribute.
    ValueText,
    /// The texts differ in a way none of the kinds above describes (a safety net: a
    /// mismatch never goes without a deviation).
    Other,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Status,
        Kind::ContentType,
        Kind::NotXml,
        Kind::MissingStep,
        Kind::UnexpectedStep,
        Kind::ErrorType,
        Kind::ErrorCode,
        Kind::ErrorMessage,
        Kind::MissingElement,
        Kind::UnexpectedElement,
        Kind::Namespace,
        Kind::ElementOrder,
        Kind::ValueShape,
        Kind::ValueText,
        Kind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Status => "status",
            Kind::ContentType => "content-type",
            Kind::NotXml => "not-xml",
            Kind::MissingStep => "missing-step",
            Kind::UnexpectedStep => "unexpected-step",
            Kind::ErrorType => "error-type",
            Kind::ErrorCode => "error-code",
            Kind::ErrorMessage => "error-message",
            Kind::MissingElement => "missing-element",
            Kind::UnexpectedElement => "unexpected-element",
            Kind::Namespace => "namespace",
            Kind::ElementOrder => "element-order",
            Kind::ValueShape => "value-shape",
            Kind::ValueText => "value-text",
            Kind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == text)
    }

    pub fn level(self) -> Level {
        match self {
            Kind::Status
            | Kind::ContentType
            | Kind::NotXml
            | Kind::MissingStep
            | Kind::UnexpectedStep => Level::Status,
            Kind::ErrorType | Kind::ErrorCode => Level::Code,
            Kind::ErrorMessage => Level::Message,
            Kind::MissingElement | Kind::UnexpectedElement | Kind::Namespace => Level::Structure,
            Kind::ElementOrder => Level::Order,
            Kind::ValueShape | Kind::ValueText | Kind::Other => Level::Values,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The levels of agreement a case is graded on, from the coarsest. A case agrees at a level
/// when it has no judged deviation at that level or any level before it, so the last level
/// is a full pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// The HTTP status, content type and steps.
    Status,
    /// The error code and type.
    Code,
    /// The error message.
    Message,
    /// The same element paths, order aside (namespaces included).
    Structure,
    /// The elements in the same order.
    Order,
    /// Every value.
    Values,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Status,
        Level::Code,
        Level::Message,
        Level::Structure,
        Level::Order,
        Level::Values,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Level::Status => "status",
            Level::Code => "code",
            Level::Message => "message",
            Level::Structure => "structure",
            Level::Order => "order",
            Level::Values => "values",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The highest level at which deviations of these kinds still agree: `None` when not even
/// the status does.
pub fn grade(kinds: impl IntoIterator<Item = Kind>) -> Option<Level> {
    let first_off = kinds.into_iter().map(Kind::level).min();
    match first_off {
        None => Some(Level::Values),
        Some(Level::Status) => None,
        Some(l) => Level::ALL.into_iter().take_while(|x| *x < l).last(),
    }
}

/// One difference between a snapshot and a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deviation {
    /// The checked step, from 1.
    pub step: usize,
    pub kind: Kind,
    /// Element path from the root (`AssumeRoleResponse/AssumeRoleResult/Credentials`),
    /// `…/@name` for an attribute, `member[2]` where a name repeats; empty for the status,
    /// the content type and the body as a whole.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The snapshot's side, shortened when long (see [`shorten`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The run's side, shortened when long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl Deviation {
    fn new(
        step: usize,
        kind: Kind,
        path: &str,
        expected: Option<&str>,
        actual: Option<&str>,
    ) -> Self {
        Deviation {
            step,
            kind,
            path: path.to_owned(),
            expected: expected.map(shorten),
            actual: actual.map(shorten),
        }
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} {}", self.step, self.kind)?;
        if !self.path.is_empty() {
            write!(f, " at {}", self.path)?;
        }
        match (&self.expected, &self.actual) {
            (Some(e), Some(a)) => write!(f, ": expected `{e}`, got `{a}`"),
            (Some(e), None) => write!(f, ": expected `{e}`"),
            (None, Some(a)) => write!(f, ": got `{a}`"),
            (None, None) => Ok(()),
        }
    }
}

/// Values longer than this are kept as their start, their length and a hash, so that a
/// baseline stays readable and still tells one long value from another.
const LONG: usize = 160;

/// The value as a deviation holds it: itself, or when long its start, its length in
/// characters and a 64-bit FNV-1a hash of the whole.
pub fn shorten(value: &str) -> String {
    let n = value.chars().count();
    if n <= LONG {
        return value.to_owned();
    }
    let start: String = value.chars().take(60).collect();
    format!("{start}… ({n} chars, fnv {:016x})", fnv1a(value.as_bytes()))
}

/// 64-bit FNV-1a: stable across builds and platforms (shard assignment, long values).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Whether a run's value is likely the same in the next run: not when it holds what looks
/// generated (a long mix of letters and digits such as a request id, a time stamp, epoch
/// seconds). A baseline keeps only such stable values, so the gate does not flap.
pub fn looks_stable(value: &str) -> bool {
    static GENERATED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?P<run>[A-Za-z0-9]{20,})",
            r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}",
            r"|\b\d{9,}\b",
        ))
        .expect("a valid pattern")
    });
    !GENERATED.captures_iter(value).any(|c| match c.name("run") {
        // A long run of letters and digits is generated when it mixes them (a request id),
        // not when it is a word (`AmazonS3ReadOnlyAccess`, `AKIAIOSFODNN7EXAMPLE`).
        Some(run) => {
            let t = run.as_str();
            let digits = t.chars().filter(char::is_ascii_digit).count();
            digits >= 2 && t.len() - digits >= 2
        }
        None => true,
    })
}

/// Whether a baseline may keep a deviation's actual value: it looks stable, and for a value
/// where the snapshot marks run-dependent parts (placeholders), the run's value is redacted
/// there too. A literal where the snapshot has `[request-id]` is whatever the target
/// generated this time; an error message is the target's own text, placeholders or not.
pub fn actual_is_stable(d: &Deviation) -> bool {
    let Some(actual) = d.actual.as_deref() else {
        return true;
    };
    let value = matches!(d.kind, Kind::ValueShape | Kind::ValueText);
    let marked = match (&d.expected, value) {
        (Some(e), true) => placeholders(e).len(),
        _ => 0,
    };
    looks_stable(actual) && placeholders(actual).len() >= marked
}

/// Every deviation of `actual` (a run's transcript) from `expected` (the snapshot's text).
/// Equal texts have none; different ones always have at least one.
pub fn between(expected: &str, actual: &str) -> Vec<Deviation> {
    let (e_steps, a_steps) = (steps(expected), steps(actual));
    let mut out = Vec::new();
    for i in 0..e_steps.len().max(a_steps.len()) {
        let n = i + 1;
        match (e_steps.get(i), a_steps.get(i)) {
            (Some(e), Some(a)) => compare_step(n, e, a, &mut out),
            (Some(e), None) => out.push(Deviation::new(
                n,
                Kind::MissingStep,
                "",
                Some(e.title),
                None,
            )),
            (None, Some(a)) => out.push(Deviation::new(
                n,
                Kind::UnexpectedStep,
                "",
                None,
                Some(a.title),
            )),
            (None, None) => {}
        }
    }
    if out.is_empty() && expected.trim_end() != actual.trim_end() {
        out.push(fallback(expected, actual));
    }
    out
}

/// The first line that differs, for texts that differ where no kind looks.
fn fallback(expected: &str, actual: &str) -> Deviation {
    let (mut e, mut a) = (expected.lines(), actual.lines());
    let mut step = 1;
    let mut seen_header = false;
    loop {
        let (x, y) = (e.next(), a.next());
        if let Some(l) = y
            && transcript::is_header(l)
        {
            if seen_header {
                step += 1;
            }
            seen_header = true;
        }
        if x != y || (x.is_none() && y.is_none()) {
            return Deviation::new(step, Kind::Other, "", x, y);
        }
    }
}

fn status_code(line: &str) -> &str {
    match line.strip_prefix("HTTP ") {
        Some(rest) => rest.split(' ').next().unwrap_or(rest),
        None => "no answer",
    }
}

fn compare_step(step: usize, e: &Step<'_>, a: &Step<'_>, out: &mut Vec<Deviation>) {
    if e.text == a.text {
        return;
    }
    let (es, as_) = (status_code(e.status_line), status_code(a.status_line));
    if es != as_ {
        out.push(Deviation::new(step, Kind::Status, "", Some(es), Some(as_)));
    }
    if e.content_type != a.content_type {
        out.push(Deviation::new(
            step,
            Kind::ContentType,
            "",
            Some(e.content_type.unwrap_or("(none)")),
            Some(a.content_type.unwrap_or("(none)")),
        ));
    }
    let what = |b: &Body<'_>, tree: Option<&Element>| match (b, tree) {
        (Body::Empty, _) => "an empty body".to_owned(),
        (Body::Text(_), _) => "a body that is not XML".to_owned(),
        (Body::Xml(_), Some(t)) => format!("XML <{}>", t.name),
        (Body::Xml(_), None) => "a body that is not XML".to_owned(),
    };
    match (&e.body, &a.body) {
        (Body::Xml(x), Body::Xml(y)) => match (xml::parse(x), xml::parse(y)) {
            (Ok(ex), Ok(ac)) => compare_trees(step, &ex, &ac, out),
            (Ok(ex), Err(_)) => out.push(Deviation::new(
                step,
                Kind::NotXml,
                "",
                Some(&what(&e.body, Some(&ex))),
                Some("a body that is not XML"),
            )),
            // A snapshot that does not parse: the texts still differ, say where.
            (Err(_), _) if x != y => {
                out.push(Deviation::new(step, Kind::Other, "", Some(x), Some(y)))
            }
            (Err(_), _) => {}
        },
        (Body::Xml(x), other) | (other, Body::Xml(x)) => {
            let tree = xml::parse(x).ok();
            let (exp, act) = if matches!(e.body, Body::Xml(_)) {
                (what(&e.body, tree.as_ref()), what(other, None))
            } else {
                (what(other, None), what(&a.body, tree.as_ref()))
            };
            out.push(Deviation::new(
                step,
                Kind::NotXml,
                "",
                Some(&exp),
                Some(&act),
            ));
        }
        (Body::Text(x), Body::Text(y)) if x != y => {
            out.push(Deviation::new(step, Kind::ValueText, "", Some(x), Some(y)));
        }
        (Body::Empty, Body::Text(y)) => {
            out.push(Deviation::new(step, Kind::ValueText, "", Some(""), Some(y)));
        }
        (Body::Text(x), Body::Empty) => {
            out.push(Deviation::new(step, Kind::ValueText, "", Some(x), Some("")));
        }
        _ => {}
    }
}

fn compare_trees(step: usize, e: &Element, a: &Element, out: &mut Vec<Deviation>) {
    if e.local_name() != a.local_name() {
        out.push(Deviation::new(
            step,
            Kind::MissingElement,
            e.local_name(),
            None,
            None,
        ));
        out.push(Deviation::new(
            step,
            Kind::UnexpectedElement,
            a.local_name(),
            None,
            None,
        ));
        return;
    }
    // An explicit stack: an answer nested thousands deep must not exhaust the thread's stack.
    let mut work: Vec<(String, &Element, &Element)> = vec![(e.local_name().to_owned(), e, a)];
    while let Some((path, e, a)) = work.pop() {
        compare_element(step, &path, e, a, out);
        let (ek, ak) = (keyed(e), keyed(a));
        if ek.is_empty() && ak.is_empty() {
            continue;
        }
        // A name that occurs more than once among the children, on either side, is indexed
        // in paths. Few children are scanned; many get a map, so the cost stays linear.
        const FEW: usize = 16;
        let many: Option<HashMap<&str, usize>> = (ek.len() + ak.len() > FEW).then(|| {
            let mut counts = HashMap::with_capacity(ek.len().max(ak.len()));
            for k in ek.iter().chain(&ak) {
                let c = counts.entry(k.0).or_insert(0);
                *c = std::cmp::max(*c, k.1);
            }
            counts
        });
        let repeated = |name: &str| match &many {
            Some(counts) => counts.get(name).is_some_and(|c| *c > 1),
            None => ek.iter().chain(&ak).any(|k| k.0 == name && k.1 > 1),
        };
        let child_path = |(name, occ): (&str, usize)| {
            if repeated(name) {
                format!("{path}/{name}[{occ}]")
            } else {
                format!("{path}/{name}")
            }
        };
        let mut pairs = Vec::new();
        // The usual case, the same children in the same order: equal leaves cost nothing.
        if ek.len() == ak.len() && ek.iter().zip(&ak).all(|(x, y)| x.0 == y.0) {
            for (x, y) in ek.iter().zip(&ak) {
                let leaves = is_leaf(x.2) && is_leaf(y.2);
                if !(leaves && x.2 == y.2) {
                    pairs.push((child_path((x.0, x.1)), x.2, y.2));
                }
            }
            work.extend(pairs.into_iter().rev());
            continue;
        }
        let a_index: HashMap<(&str, usize), usize> = ak
            .iter()
            .enumerate()
            .map(|(i, k)| ((k.0, k.1), i))
            .collect();
        let e_index: HashMap<(&str, usize), usize> = ek
            .iter()
            .enumerate()
            .map(|(i, k)| ((k.0, k.1), i))
            .collect();
        let mut common_in_e = Vec::new();
        for k in &ek {
            match a_index.get(&(k.0, k.1)) {
                Some(&j) => {
                    common_in_e.push((k.0, k.1));
                    pairs.push((child_path((k.0, k.1)), k.2, ak[j].2));
                }
                None => out.push(Deviation::new(
                    step,
                    Kind::MissingElement,
                    &child_path((k.0, k.1)),
                    leaf_text(k.2).as_deref(),
                    None,
                )),
            }
        }
        let mut common_in_a = Vec::new();
        for k in &ak {
            if e_index.contains_key(&(k.0, k.1)) {
                common_in_a.push((k.0, k.1));
            } else {
                out.push(Deviation::new(
                    step,
                    Kind::UnexpectedElement,
                    &child_path((k.0, k.1)),
                    None,
                    leaf_text(k.2).as_deref(),
                ));
            }
        }
        if common_in_e != common_in_a {
            let names = |v: &[(&str, usize)]| {
                v.iter()
                    .map(|&(n, o)| {
                        if repeated(n) {
                            format!("{n}[{o}]")
                        } else {
                            n.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(Deviation::new(
                step,
                Kind::ElementOrder,
                &path,
                Some(&names(&common_in_e)),
                Some(&names(&common_in_a)),
            ));
        }
        // Reversed, so that deviations come out in document order.
        work.extend(pairs.into_iter().rev());
    }
}

/// Child elements keyed by local name and occurrence (from 1).
fn keyed(e: &Element) -> Vec<(&str, usize, &Element)> {
    let mut out: Vec<(&str, usize, &Element)> = Vec::with_capacity(e.children.len());
    let mut seen: Option<HashMap<&str, usize>> = (e.children.len() > 16).then(HashMap::new);
    for c in e.elements() {
        let name = c.local_name();
        let n = match &mut seen {
            Some(map) => {
                let n = map.entry(name).or_insert(0);
                *n += 1;
                *n
            }
            None => 1 + out.iter().filter(|k| k.0 == name).count(),
        };
        out.push((name, n, c));
    }
    out
}

fn is_leaf(e: &Element) -> bool {
    e.children.iter().all(|n| matches!(n, Node::Text(_)))
}

/// The text of an element without child elements.
fn leaf_text(e: &Element) -> Option<String> {
    is_leaf(e).then(|| e.text())
}

fn compare_element(step: usize, path: &str, e: &Element, a: &Element, out: &mut Vec<Deviation>) {
    if e.name != a.name {
        out.push(Deviation::new(
            step,
            Kind::Namespace,
            path,
            Some(&e.name),
            Some(&a.name),
        ));
    }
    let is_ns = |k: &str| k == "xmlns" || k.starts_with("xmlns:");
    for (k, v) in &e.attrs {
        let other = a
            .attrs
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.as_str());
        let kind = if is_ns(k) {
            Kind::Namespace
        } else {
            Kind::ValueText
        };
        match other {
            Some(o) if o == v => {}
            Some(o) => out.push(Deviation::new(
                step,
                kind,
                &format!("{path}/@{k}"),
                Some(v),
                Some(o),
            )),
            None if is_ns(k) => out.push(Deviation::new(
                step,
                kind,
                &format!("{path}/@{k}"),
                Some(v),
                None,
            )),
            None => out.push(Deviation::new(
                step,
                Kind::MissingElement,
                &format!("{path}/@{k}"),
                Some(v),
                None,
            )),
        }
    }
    for (k, v) in &a.attrs {
        if e.attrs.iter().any(|(x, _)| x == k) {
            continue;
        }
        let kind = if is_ns(k) {
            Kind::Namespace
        } else {
            Kind::UnexpectedElement
        };
        out.push(Deviation::new(
            step,
            kind,
            &format!("{path}/@{k}"),
            None,
            Some(v),
        ));
    }
    let mixed = |x: &Element| x.elements().next().is_some();
    let (et, at) = (e.text(), a.text());
    let (et, at) = if mixed(e) || mixed(a) {
        (et.trim().to_owned(), at.trim().to_owned())
    } else {
        (et, at)
    };
    if et != at {
        out.push(Deviation::new(
            step,
            text_kind(path, &et, &at),
            path,
            Some(&et),
            Some(&at),
        ));
    }
}

/// The placeholders the redaction rules put in a text (`[name]`, `[name:qualifier...]`), as
/// (start, end, name, qualifiers) with byte offsets.
fn placeholders(text: &str) -> Vec<(usize, usize, &str, Vec<&str>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('[').map(|i| from + i) {
        let Some(close) = text[open..].find(']').map(|i| open + i) else {
            break;
        };
        let inner = &text[open + 1..close];
        let mut parts = inner.split(':');
        let name = parts.next().unwrap_or("");
        let quals: Vec<&str> = parts.collect();
        let name_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let quals_ok = quals
            .iter()
            .all(|q| !q.is_empty() && !q.contains(char::is_whitespace));
        if name_ok && quals_ok {
            out.push((open, close + 1, name, quals));
            from = close + 1;
        } else {
            from = open + 1;
        }
    }
    out
}

/// The text with each placeholder rewritten by `f`.
fn rewrite(text: &str, f: impl Fn(&str, &[&str]) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, name, quals) in placeholders(text) {
        out.push_str(&text[last..start]);
        out.push_str(&f(name, &quals));
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

fn text_kind(path: &str, expected: &str, actual: &str) -> Kind {
    let mut segments = path.rsplit('/');
    let (last, parent) = (segments.next().unwrap_or(""), segments.next().unwrap_or(""));
    if parent == "Error" {
        match last {
            "Type" => return Kind::ErrorType,
            "Code" => return Kind::ErrorCode,
            "Message" => return Kind::ErrorMessage,
            _ => {}
        }
    }
    let marks = placeholders(expected);
    if marks.is_empty() {
        return Kind::ValueText;
    }
    // Placeholders reduced to their names, and with their numbers dropped: equal names with
    // other qualifiers are a shape; equal all but the numbers an identity (value).
    let names = |t: &str| rewrite(t, |n, _| format!("[{n}]"));
    let unnumbered = |t: &str| {
        rewrite(t, |n, quals| {
            let keep = match quals.last() {
                Some(l) if l.chars().all(|c| c.is_ascii_digit()) => &quals[..quals.len() - 1],
                _ => quals,
            };
            let mut s = format!("[{n}");
            for q in keep {
                s.push(':');
                s.push_str(q);
            }
            s.push(']');
            s
        })
    };
    let whole = marks.len() == 1 && marks[0].0 == 0 && marks[0].1 == expected.len();
    if unnumbered(expected) == unnumbered(actual) {
        Kind::ValueText
    } else if whole || names(expected) == names(actual) {
        Kind::ValueShape
    } else {
        Kind::ValueText
    }
}

/// What a target declares it is not judged on (`not_judged` in its targets-file entry), like
/// LocalStack's `skip_snapshot_verify`: deviations of that kind, at those paths, in those
/// cases. Reports count and show them as not judged; the gate and the grades leave them out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotJudged {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// A glob over element paths: `*` within one element name, `**` across several
    /// (`*Response/*Result`, `**/RequestId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A glob over case names (`sts::AssumeRoleWithSAML::*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Why: what is not known or not comparable.
    pub reason: String,
}

impl NotJudged {
    /// A rule must narrow something: one that excuses everything would excuse every regression.
    pub fn check(&self) -> Result<(), String> {
        if self.kind.is_none() && self.path.is_none() && self.case.is_none() {
            return Err("a not-judged rule names a kind, a path or a case (or several); one with none would judge nothing".into());
        }
        if self.reason.trim().is_empty() {
            return Err("a not-judged rule says why in `reason`".into());
        }
        for g in self.path.iter().chain(&self.case) {
            glob(g)?;
        }
        Ok(())
    }
}

fn glob(pattern: &str) -> Result<globset::GlobMatcher, String> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("`{pattern}` is not a glob: {e}"))
}

/// A target's not-judged rules, with their globs compiled once.
#[derive(Debug, Default)]
pub struct NotJudgedSet {
    rules: Vec<(
        NotJudged,
        Option<globset::GlobMatcher>,
        Option<globset::GlobMatcher>,
    )>,
}

impl NotJudgedSet {
    pub fn new(rules: &[NotJudged]) -> Result<Self, String> {
        let mut out = Vec::with_capacity(rules.len());
        for r in rules {
            r.check()?;
            out.push((
                r.clone(),
                r.path.as_deref().map(glob).transpose()?,
                r.case.as_deref().map(glob).transpose()?,
            ));
        }
        Ok(NotJudgedSet { rules: out })
    }

    /// The rule that leaves this deviation of this case unjudged, if one does.
    pub fn rule_for(&self, case: &str, d: &Deviation) -> Option<&NotJudged> {
        self.index_for(case, d).map(|i| &self.rules[i].0)
    }

    /// The first rule (its place in the list) that leaves this deviation unjudged.
    pub fn index_for(&self, case: &str, d: &Deviation) -> Option<usize> {
        self.rules.iter().position(|(r, path, case_glob)| {
            r.kind.is_none_or(|k| k == d.kind)
                && path.as_ref().is_none_or(|g| g.is_match(&d.path))
                && case_glob.as_ref().is_none_or(|g| g.is_match(case))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "=== step 1: AssumeRole
HTTP 200 OK
content-type: text/xml
<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::[account-id]:assumed-role/[role-name]/s</Arn>
      <AssumedRoleId>[role-id:1]:s</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>[access-key-id:ASIA:1]</AccessKeyId>
      <Expiration>[expiration:+3600s]</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>[request-id]</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
";

    const ERR: &str = "=== step 1: AssumeRole
HTTP 400 Bad Request
content-type: text/xml
<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">
  <Error>
    <Type>Sender</Type>
    <Code>ValidationError</Code>
    <Message>1 validation error detected</Message>
  </Error>
  <RequestId>[request-id]</RequestId>
</ErrorResponse>
";

    fn one(expected: &str, actual: &str) -> Deviation {
        let d = between(expected, actual);
        assert_eq!(d.len(), 1, "{d:#?}");
        d.into_iter().next().unwrap()
    }

    fn dev(step: usize, kind: Kind, path: &str, e: Option<&str>, a: Option<&str>) -> Deviation {
        Deviation::new(step, kind, path, e, a)
    }

    const CREDS: &str = "AssumeRoleResponse/AssumeRoleResult/Credentials";

    #[test]
    fn equal_transcripts_have_no_deviation() {
        assert!(between(OK, OK).is_empty());
        assert!(between(ERR, &format!("{ERR}\n\n")).is_empty());
    }

    #[test]
    fn status_content_type_and_not_xml() {
        let html = "=== step 1: AssumeRole\nHTTP 500 Internal Server Error\ncontent-type: text/html\nbody (not XML, not well-formed XML: x):\n<html>oops</html>\n";
        assert_eq!(
            between(ERR, html),
            [
                dev(1, Kind::Status, "", Some("400"), Some("500")),
                dev(
                    1,
                    Kind::ContentType,
                    "",
                    Some("text/xml"),
                    Some("text/html")
                ),
                dev(
                    1,
                    Kind::NotXml,
                    "",
                    Some("XML <ErrorResponse>"),
                    Some("a body that is not XML")
                ),
            ]
        );
        let empty =
            "=== step 1: AssumeRole\nHTTP 400 Bad Request\ncontent-type: (none)\nbody: (empty)\n";
        assert_eq!(
            between(ERR, empty)[1],
            dev(
                1,
                Kind::NotXml,
                "",
                Some("XML <ErrorResponse>"),
                Some("an empty body")
            )
        );
        // Two texts that are not XML.
        let other_html = html.replace("oops", "ouch");
        assert_eq!(
            one(html, &other_html),
            dev(
                1,
                Kind::ValueText,
                "",
                Some("<html>oops</html>"),
                Some("<html>ouch</html>")
            )
        );
    }

    #[test]
    fn error_type_code_and_message() {
        assert_eq!(
            one(ERR, &ERR.replace("<Type>Sender", "<Type>Receiver")),
            dev(
                1,
                Kind::ErrorType,
                "ErrorResponse/Error/Type",
                Some("Sender"),
                Some("Receiver")
            )
        );
        assert_eq!(
            one(
                ERR,
                &ERR.replace("ValidationError", "InvalidParameterValue")
            ),
            dev(
                1,
                Kind::ErrorCode,
                "ErrorResponse/Error/Code",
                Some("ValidationError"),
                Some("InvalidParameterValue")
            )
        );
        assert_eq!(
            one(ERR, &ERR.replace("1 validation", "2 validation")).kind,
            Kind::ErrorMessage
        );
    }

    #[test]
    fn missing_unexpected_and_reordered_elements() {
        let missing = OK.replace("      <Expiration>[expiration:+3600s]</Expiration>\n", "");
        assert_eq!(
            one(OK, &missing),
            dev(
                1,
                Kind::MissingElement,
                &format!("{CREDS}/Expiration"),
                Some("[expiration:+3600s]"),
                None
            )
        );
        let extra = OK.replace(
            "  </AssumeRoleResult>",
            "    <PackedPolicySize>6</PackedPolicySize>\n  </AssumeRoleResult>",
        );
        assert_eq!(
            one(OK, &extra),
            dev(
                1,
                Kind::UnexpectedElement,
                "AssumeRoleResponse/AssumeRoleResult/PackedPolicySize",
                None,
                Some("6")
            )
        );
        // A whole subtree gone is one deviation, not one per leaf.
        let no_user = OK.replace(
            "    <AssumedRoleUser>\n      <Arn>arn:aws:sts::[account-id]:assumed-role/[role-name]/s</Arn>\n      <AssumedRoleId>[role-id:1]:s</AssumedRoleId>\n    </AssumedRoleUser>\n",
            "",
        );
        assert_eq!(
            one(OK, &no_user),
            dev(
                1,
                Kind::MissingElement,
                "AssumeRoleResponse/AssumeRoleResult/AssumedRoleUser",
                None,
                None
            )
        );
        let swapped = OK.replace(
            "      <AccessKeyId>[access-key-id:ASIA:1]</AccessKeyId>\n      <Expiration>[expiration:+3600s]</Expiration>\n",
            "      <Expiration>[expiration:+3600s]</Expiration>\n      <AccessKeyId>[access-key-id:ASIA:1]</AccessKeyId>\n",
        );
        assert_eq!(
            one(OK, &swapped),
            dev(
                1,
                Kind::ElementOrder,
                CREDS,
                Some("AccessKeyId, Expiration"),
                Some("Expiration, AccessKeyId")
            )
        );
        // Another root: the expected document is missing, another one is there.
        let d = between(ERR, &OK.replace("HTTP 200 OK", "HTTP 400 Bad Request"));
        assert_eq!(
            d,
            [
                dev(1, Kind::MissingElement, "ErrorResponse", None, None),
                dev(1, Kind::UnexpectedElement, "AssumeRoleResponse", None, None),
            ]
        );
    }

    #[test]
    fn namespaces_by_declaration_and_by_prefix() {
        assert_eq!(
            one(ERR, &ERR.replace("2011-06-15/", "2011-06-15")),
            dev(
                1,
                Kind::Namespace,
                "ErrorResponse/@xmlns",
                Some("https://sts.amazonaws.com/doc/2011-06-15/"),
                Some("https://sts.amazonaws.com/doc/2011-06-15")
            )
        );
        let prefixed = ERR.replace(
            "<Code>ValidationError</Code>",
            "<a:Code xmlns:a=\"urn:x\">ValidationError</a:Code>",
        );
        let d = between(ERR, &prefixed);
        assert_eq!(
            d,
            [
                dev(
                    1,
                    Kind::Namespace,
                    "ErrorResponse/Error/Code",
                    Some("Code"),
                    Some("a:Code")
                ),
                dev(
                    1,
                    Kind::Namespace,
                    "ErrorResponse/Error/Code/@xmlns:a",
                    None,
                    Some("urn:x")
                ),
            ]
        );
    }

    #[test]
    fn values_by_shape_and_by_text() {
        let req = "AssumeRoleResponse/ResponseMetadata/RequestId";
        assert_eq!(
            one(
                OK,
                &OK.replace(
                    "[request-id]",
                    "76t9sRO1M2onaGPQnM0r9Q8luH9BgMtma0tDCKGrd7Imks"
                )
            ),
            dev(
                1,
                Kind::ValueShape,
                req,
                Some("[request-id]"),
                Some("76t9sRO1M2onaGPQnM0r9Q8luH9BgMtma0tDCKGrd7Imks")
            )
        );
        assert_eq!(
            one(OK, &OK.replace("+3600s]", "+3600s:subsecond]")).kind,
            Kind::ValueShape
        );
        assert_eq!(
            one(
                OK,
                &OK.replace("[access-key-id:ASIA:1]", "[access-key-id:AKIA:1]")
            )
            .kind,
            Kind::ValueShape
        );
        // Another number: the same role id is no longer the same (an identity, a value).
        assert_eq!(
            one(OK, &OK.replace("[role-id:1]:s", "[role-id:2]:s")),
            dev(
                1,
                Kind::ValueText,
                "AssumeRoleResponse/AssumeRoleResult/AssumedRoleUser/AssumedRoleId",
                Some("[role-id:1]:s"),
                Some("[role-id:2]:s")
            )
        );
        assert_eq!(
            one(
                OK,
                &OK.replace("assumed-role/[role-name]/s", "assumed-role/other/s")
            )
            .kind,
            Kind::ValueText
        );
        // Attributes other than namespaces are values.
        let with_attr = ERR.replace("<Code>", "<Code lang=\"en\">");
        assert_eq!(
            one(ERR, &with_attr),
            dev(
                1,
                Kind::UnexpectedElement,
                "ErrorResponse/Error/Code/@lang",
                None,
                Some("en")
            )
        );
        assert_eq!(
            one(&with_attr, &with_attr.replace("\"en\"", "\"fr\"")).kind,
            Kind::ValueText
        );
    }

    #[test]
    fn repeated_names_are_indexed() {
        let list = |a: &str, b: &str| {
            format!(
                "=== step 1: X\nHTTP 200 OK\ncontent-type: text/xml\n<R>\n  <member>{a}</member>\n  <member>{b}</member>\n</R>\n"
            )
        };
        assert_eq!(
            one(&list("a", "b"), &list("a", "c")),
            dev(1, Kind::ValueText, "R/member[2]", Some("b"), Some("c"))
        );
        let three = list("a", "b").replace("</R>", "  <member>c</member>\n</R>");
        assert_eq!(
            one(&list("a", "b"), &three),
            dev(1, Kind::UnexpectedElement, "R/member[3]", None, Some("c"))
        );
        // Many children take the map, with the same paths.
        let long = |changed: usize| {
            let mut t = String::from("=== step 1: X\nHTTP 200 OK\ncontent-type: text/xml\n<R>\n");
            for i in 1..=5000 {
                let v = if i == changed {
                    "x".to_owned()
                } else {
                    i.to_string()
                };
                t.push_str(&format!("  <member>{v}</member>\n"));
            }
            t + "</R>\n"
        };
        assert_eq!(
            one(&long(0), &long(2500)),
            dev(
                1,
                Kind::ValueText,
                "R/member[2500]",
                Some("2500"),
                Some("x")
            )
        );
    }

    #[test]
    fn steps_missing_and_unexpected() {
        let two = format!("{OK}\n{}", ERR.replace("step 1", "step 2"));
        assert_eq!(
            one(&two, OK),
            dev(2, Kind::MissingStep, "", Some("AssumeRole"), None)
        );
        assert_eq!(
            one(OK, &two),
            dev(2, Kind::UnexpectedStep, "", None, Some("AssumeRole"))
        );
        // Step 2's deviations say step 2.
        let two_changed = two.replace("ValidationError", "Other");
        assert_eq!(one(&two, &two_changed).step, 2);
    }

    #[test]
    fn a_difference_no_kind_describes_is_still_a_deviation() {
        let d = one(
            OK,
            &OK.replace("=== step 1: AssumeRole", "=== step 1: AssumeRole (renamed)"),
        );
        assert_eq!(d.kind, Kind::Other);
        assert_eq!(d.expected.as_deref(), Some("=== step 1: AssumeRole"));
    }

    #[test]
    fn deep_answers_do_not_exhaust_the_stack() {
        let deep = |depth: usize, leaf: &str| {
            format!("{}{leaf}{}", "<a>".repeat(depth), "</a>".repeat(depth))
        };
        // As deep as `parse` builds trees: compared without recursion.
        let (e, a) = (
            xml::parse(&deep(xml::MAX_DEPTH, "x")).unwrap(),
            xml::parse(&deep(xml::MAX_DEPTH, "y")).unwrap(),
        );
        let mut out = Vec::new();
        compare_trees(1, &e, &a, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, Kind::ValueText);
        assert_eq!(out[0].path.split('/').count(), xml::MAX_DEPTH);

        // Deeper than that, on either side of a comparison: never a tree, still a deviation.
        let step = |body: &str| {
            format!("=== step 1: GetCallerIdentity\nHTTP 200 OK\ncontent-type: text/xml\n{body}\n")
        };
        let hostile = step(&deep(100_000, "x"));
        let fine = step(&deep(3, "x"));
        let d = between(&fine, &hostile);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, Kind::NotXml);
        let d = between(&hostile, &step(&deep(100_000, "y")));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, Kind::Other);
        assert!(between(&hostile, &hostile).is_empty());
    }

    #[test]
    fn long_values_are_shortened_with_a_hash_and_generated_ones_are_not_stable() {
        let long = "x".repeat(500);
        let s = shorten(&long);
        assert!(
            s.starts_with(&"x".repeat(60)) && s.contains("(500 chars, fnv "),
            "{s}"
        );
        assert_ne!(s, shorten(&format!("{}y", "x".repeat(499))));
        assert_eq!(shorten("short"), "short");
        for generated in [
            "76t9sRO1M2onaGPQnM0r9Q8luH9BgMtma0tDCKGrd7ImksC84w25",
            "c6104cbe-af31-11e0-8154-cbc7ccf896c7",
            "expired at 2026-11-30T06:34:26Z",
            "token expired at date/time 1764484466",
        ] {
            assert!(!looks_stable(generated), "{generated}");
        }
        for stable in [
            "[request-id]",
            "ARO123EXAMPLE123:w",
            "1 validation error detected: Value 'w' at 'roleSessionName'",
            "AssumeRoleResponse/AssumeRoleResult/Credentials",
            "[expiration:+43200s:subsecond]",
        ] {
            assert!(looks_stable(stable), "{stable}");
        }
    }

    #[test]
    fn any_two_texts_compare_without_panic_and_a_difference_is_never_lost() {
        // Fragments of transcripts, glued at random: broken headers, half tags, multi-byte
        // characters, placeholders and brackets where they do not belong.
        const PIECES: [&str; 16] = [
            "=== step 1: A\n",
            "\n\n=== step 2: B\n",
            "HTTP 200 OK\n",
            "HTTP 400 Bad Request\n",
            "content-type: text/xml\n",
            "body: (empty)\n",
            "body (not XML, x):\n",
            "<R xmlns=\"u\">",
            "</R>",
            "<A>[request-id]</A>",
            "<A>[role-id:1]:é</A>",
            "<Error><Code>X</Code></Error>",
            "[a:[b]]]",
            "é€😀",
            "\n",
            "<",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let mut texts = [String::new(), String::new()];
            for t in &mut texts {
                for _ in 0..(next() % 12) {
                    t.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
                }
            }
            let d = between(&texts[0], &texts[1]);
            if texts[0].trim_end() != texts[1].trim_end() {
                assert!(!d.is_empty(), "{texts:?}");
            }
        }
    }

    #[test]
    fn a_literal_where_the_snapshot_has_a_placeholder_is_never_kept() {
        let stable = |kind: Kind, e: Option<&str>, a: &str| {
            actual_is_stable(&dev(1, kind, "R/A", e, Some(a)))
        };
        // moto's request ids: random letters and digits, sometimes without a single digit.
        let rid = "WxrsxkIjEccBYQsdVrtgeIhIGatgHtQVurttcXWEsIBZCmnITuhT";
        assert!(!stable(Kind::ValueShape, Some("[request-id]"), rid));
        assert!(!stable(
            Kind::ValueText,
            Some("[role-id:1]:wi"),
            "ARO123EXAMPLE123:wi"
        ));
        assert!(stable(
            Kind::ValueShape,
            Some("[expiration:+3600s]"),
            "[expiration:+3600s:subsecond]"
        ));
        assert!(stable(
            Kind::ValueText,
            Some("[role-id:1]:s"),
            "[role-id:2]:s"
        ));
        assert!(stable(
            Kind::ErrorCode,
            Some("ValidationError"),
            "InvalidInput"
        ));
        // A message is the target's text, whatever placeholders the snapshot's has.
        assert!(stable(
            Kind::ErrorMessage,
            Some("account:[account-id]."),
            "Invalid SAML assertion"
        ));
        assert!(stable(Kind::UnexpectedElement, None, "6"));
    }

    #[test]
    fn grades_are_cumulative() {
        assert_eq!(grade([]), Some(Level::Values));
        assert_eq!(grade([Kind::ValueShape]), Some(Level::Order));
        assert_eq!(
            grade([Kind::ElementOrder, Kind::ValueText]),
            Some(Level::Structure)
        );
        assert_eq!(grade([Kind::ErrorMessage]), Some(Level::Code));
        assert_eq!(
            grade([Kind::ErrorCode, Kind::ValueText]),
            Some(Level::Status)
        );
        assert_eq!(grade([Kind::Status, Kind::ValueText]), None);
        assert_eq!(grade([Kind::MissingStep]), None);
    }

    #[test]
    fn not_judged_rules_match_by_kind_path_glob_and_case() {
        let rules = [
            NotJudged {
                kind: Some(Kind::ElementOrder),
                path: Some("*Response/*Result".into()),
                case: None,
                reason: "order of results not recorded".into(),
            },
            NotJudged {
                kind: None,
                path: Some("**/RequestId".into()),
                case: Some("sts::GetCallerIdentity::*".into()),
                reason: "r".into(),
            },
        ];
        let set = NotJudgedSet::new(&rules).unwrap();
        let order = dev(
            1,
            Kind::ElementOrder,
            "AssumeRoleResponse/AssumeRoleResult",
            None,
            None,
        );
        assert_eq!(set.rule_for("sts::AssumeRole::a", &order), Some(&rules[0]));
        // `*` stays within one name: the order inside Credentials is still judged.
        let deeper = dev(
            1,
            Kind::ElementOrder,
            "AssumeRoleResponse/AssumeRoleResult/Credentials",
            None,
            None,
        );
        assert_eq!(set.rule_for("sts::AssumeRole::a", &deeper), None);
        let rid = dev(
            1,
            Kind::ValueShape,
            "GetCallerIdentityResponse/ResponseMetadata/RequestId",
            None,
            None,
        );
        assert_eq!(
            set.rule_for("sts::GetCallerIdentity::x", &rid),
            Some(&rules[1])
        );
        assert_eq!(set.rule_for("sts::AssumeRole::x", &rid), None);
        // A rule that narrows nothing, or has no reason, or a broken glob, is refused.
        let bad = |k: Option<Kind>, p: Option<&str>, reason: &str| NotJudged {
            kind: k,
            path: p.map(str::to_owned),
            case: None,
            reason: reason.into(),
        };
        assert!(NotJudgedSet::new(&[bad(None, None, "why")]).is_err());
        assert!(NotJudgedSet::new(&[bad(Some(Kind::Status), None, " ")]).is_err());
        assert!(
            NotJudgedSet::new(&[bad(None, Some("a/[b"), "why")])
                .unwrap_err()
                .contains("not a glob")
        );
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
    }
}
