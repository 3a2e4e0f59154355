//! What differs between a snapshot and a run, as data: step by step, the status, the content
//! type and the XML tree are compared as structures, and each difference becomes a
//! [`Deviation`] with its step, element path, kind, and the expected and actual values.
//! Deviations are what a baseline lists, what the gate judges and what the graded parity
//! counts; the line [`Diff`] made beside them is for people.

mod diff;
mod kind;
mod not_judged;
mod tree;
mod value;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::transcript::{self, Body, Step, steps};
use crate::xml::{self, Element};

pub use diff::{Cut, Diff, Hunk, Line, Span};
pub use kind::{Kind, Level, grade};
pub use not_judged::{NotJudged, NotJudgedSet};
pub use value::{actual_is_stable, fnv1a, looks_stable, shorten};

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
    pub(crate) fn new(
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
            (Ok(ex), Ok(ac)) => tree::compare_trees(step, &ex, &ac, out),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(super) const OK: &str = "=== step 1: AssumeRole
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

    pub(super) const ERR: &str = "=== step 1: AssumeRole
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

    pub(super) fn one(expected: &str, actual: &str) -> Deviation {
        let d = between(expected, actual);
        assert_eq!(d.len(), 1, "{d:#?}");
        d.into_iter().next().unwrap()
    }

    pub(crate) fn dev(
        step: usize,
        kind: Kind,
        path: &str,
        e: Option<&str>,
        a: Option<&str>,
    ) -> Deviation {
        Deviation::new(step, kind, path, e, a)
    }

    /// `n` pairs of lists of pieces, up to `most` in each, picked by a xorshift generator
    /// from `seed`: the same pairs every run.
    pub(super) fn glued_pairs<'a>(
        mut seed: u64,
        pieces: &[&'a str],
        most: u64,
        n: usize,
    ) -> Vec<[Vec<&'a str>; 2]> {
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        (0..n)
            .map(|_| {
                let mut pair = [Vec::new(), Vec::new()];
                for side in &mut pair {
                    for _ in 0..(next() % most) {
                        side.push(pieces[(next() % pieces.len() as u64) as usize]);
                    }
                }
                pair
            })
            .collect()
    }

    pub(super) const CREDS: &str = "AssumeRoleResponse/AssumeRoleResult/Credentials";

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
        for [e, a] in glued_pairs(0x9e37_79b9_7f4a_7c15, &PIECES, 12, 3000) {
            let texts = [e.concat(), a.concat()];
            let d = between(&texts[0], &texts[1]);
            if texts[0].trim_end() != texts[1].trim_end() {
                assert!(!d.is_empty(), "{texts:?}");
            }
        }
    }
}
