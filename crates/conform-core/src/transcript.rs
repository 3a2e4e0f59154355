//! The transcript: what a case's checked steps answered, as the text snapshots hold. The
//! runner and `normalize` write it with the pieces here; the comparison, the replay server,
//! coverage and the consistency check read it back with [`steps`], so the format lives in one
//! place.
//!
//! ```text
//! === step N: <title>
//! HTTP <status> <reason>          (or `error: ...` when the step got no answer)
//! content-type: <type or (none)>
//! <canonical XML> | body: (empty) | body (not XML, <why>):\n<text>
//! ```
//! Steps are separated by an empty line.

const HEADER: &str = "=== step ";

/// A step's header line, with its newline.
pub fn header(number: usize, title: &str) -> String {
    format!("{HEADER}{number}: {title}\n")
}

/// The body line of an empty answer.
pub const EMPTY_BODY: &str = "body: (empty)";

/// The line that introduces a body that is not XML, with its newline.
pub fn not_xml(why: &str) -> String {
    format!("body (not XML, {why}):\n")
}

/// Whether a line is a step header (`fallback` comparisons count them).
pub fn is_header(line: &str) -> bool {
    line.starts_with(HEADER)
}

/// One step of a transcript: the part of a snapshot or of a run's transcript between two
/// headers.
#[derive(Debug)]
pub struct Step<'a> {
    /// The whole step, header included, without trailing whitespace.
    pub text: &'a str,
    pub title: &'a str,
    /// `HTTP 200 OK`, or `error: ...` when the step got no answer.
    pub status_line: &'a str,
    pub content_type: Option<&'a str>,
    pub body: Body<'a>,
}

#[derive(Debug)]
pub enum Body<'a> {
    Empty,
    Xml(&'a str),
    /// Not XML: the text after the `body (not XML, ...):` line.
    Text(&'a str),
}

impl Step<'_> {
    /// The HTTP status, when the step got an answer.
    pub fn status(&self) -> Option<u16> {
        self.status_line
            .strip_prefix("HTTP ")?
            .split(' ')
            .next()?
            .parse()
            .ok()
    }

    /// The content type, `None` for `(none)` or no answer.
    pub fn answered_content_type(&self) -> Option<&str> {
        self.content_type.filter(|c| *c != "(none)")
    }

    /// The body as text: empty, the canonical XML, or the text that is not XML.
    pub fn body_text(&self) -> &str {
        match self.body {
            Body::Empty => "",
            Body::Xml(t) | Body::Text(t) => t,
        }
    }
}

/// The parts of an error document (`ErrorResponse/Error`) a step answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    pub code: String,
    pub message: String,
    /// The error document's `xmlns`.
    pub namespace: String,
}

impl Step<'_> {
    /// The error the step answered with, when its body is an error document with a code.
    pub fn error(&self) -> Option<ErrorAnswer> {
        let Body::Xml(body) = self.body else {
            return None;
        };
        // An element named Error has the word in its tag: a body without it (most answers
        // are successes) is not parsed, which was most of what reading a suite's answers cost.
        if !body.contains("Error") {
            return None;
        }
        let root = crate::xml::parse(body).ok()?;
        // awsQuery wraps it in ErrorResponse; REST-XML services answer `<Error>` bare.
        let error = if root.local_name() == "Error" {
            &root
        } else {
            root.elements().find(|e| e.local_name() == "Error")?
        };
        let text = |name: &str| {
            error
                .elements()
                .find(|e| e.local_name() == name)
                .map(|e| e.text())
        };
        Some(ErrorAnswer {
            code: text("Code")?,
            message: text("Message").unwrap_or_default(),
            namespace: root
                .attrs
                .iter()
                .find(|(k, _)| k == "xmlns")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        })
    }
}

/// Splits a transcript into its steps. A header only counts at the start or after an empty
/// line, as the runner writes them, so a body line that happens to start like a header does
/// not split a step.
pub fn steps(text: &str) -> Vec<Step<'_>> {
    let mut starts: Vec<usize> = Vec::new();
    if text.starts_with(HEADER) {
        starts.push(0);
    }
    starts.extend(text.match_indices("\n\n=== step ").map(|(i, _)| i + 2));
    let mut out = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        out.push(step(&text[s..end]));
    }
    out
}

fn step(chunk: &str) -> Step<'_> {
    let chunk = chunk.trim_end();
    let (head, rest) = chunk.split_once('\n').unwrap_or((chunk, ""));
    let title = head
        .trim_start_matches(HEADER)
        .split_once(": ")
        .map_or("", |(_, t)| t);
    let (status_line, rest) = rest.split_once('\n').unwrap_or((rest, ""));
    let (content_type, body) = match rest.strip_prefix("content-type: ") {
        Some(r) => {
            let (ct, b) = r.split_once('\n').unwrap_or((r, ""));
            (Some(ct), b)
        }
        None => (None, rest),
    };
    let body = if body.is_empty() || body == EMPTY_BODY {
        Body::Empty
    } else if body.starts_with("body (not XML") {
        Body::Text(body.split_once('\n').map_or("", |(_, t)| t))
    } else {
        Body::Xml(body)
    };
    Step {
        text: chunk,
        title,
        status_line,
        content_type,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let mut t = header(1, "AssumeRole");
        t.push_str("HTTP 200 OK\ncontent-type: text/xml\n<A>\n  <B>x</B>\n</A>\n\n");
        t.push_str(&header(2, "raw POST /"));
        t.push_str("HTTP 500 Internal Server Error\ncontent-type: text/html\n");
        t.push_str(&not_xml("not well-formed XML: x"));
        t.push_str("<html>\n=== step 9: inside a body, not a header\n\n");
        t.push_str(&header(3, "X"));
        t.push_str(&format!(
            "HTTP 204 No Content\ncontent-type: (none)\n{EMPTY_BODY}\n\n"
        ));
        t.push_str(&header(4, "Y"));
        t.push_str("error: timed out\n");
        let s = steps(&t);
        assert_eq!(s.len(), 4);
        assert_eq!((s[0].title, s[0].status()), ("AssumeRole", Some(200)));
        assert_eq!(s[0].body_text(), "<A>\n  <B>x</B>\n</A>");
        assert_eq!(s[1].answered_content_type(), Some("text/html"));
        assert!(matches!(s[1].body, Body::Text(b) if b.ends_with("not a header")));
        assert!(matches!(s[2].body, Body::Empty));
        assert_eq!(s[2].answered_content_type(), None);
        assert_eq!(
            (s[3].status(), s[3].status_line),
            (None, "error: timed out")
        );
        assert!(is_header("=== step 1: A") && !is_header("== step"));
    }
}
