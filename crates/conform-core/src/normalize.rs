//! Answers in, snapshot text out: the status line, the content type and the body, with the
//! body in canonical XML form and run-dependent values turned into placeholders. A body that
//! is not XML (an HTML error page, nothing at all) is kept as text: it is what the endpoint
//! said, not a failure of the harness.

use std::time::SystemTime;

use crate::http::HttpResponse;
use crate::redact::Redactor;
use crate::xml::{self, Element};

/// The normalized answer of one step, and its parsed tree for captures.
pub struct Normalized {
    pub text: String,
    pub document: Option<Element>,
}

pub fn response(
    resp: &HttpResponse,
    redactor: &mut Redactor<'_>,
    sent_at: SystemTime,
) -> Normalized {
    let mut text = String::with_capacity(resp.body.len() + 64);
    text.push_str(&format!("HTTP {} {}\n", resp.status, resp.reason));
    text.push_str(&format!(
        "content-type: {}\n",
        resp.content_type.as_deref().unwrap_or("(none)")
    ));
    let body = resp.body.trim();
    if body.is_empty() {
        text.push_str(crate::transcript::EMPTY_BODY);
        text.push('\n');
        return Normalized {
            text,
            document: None,
        };
    }
    match xml::parse(body) {
        Ok(doc) => {
            let canonical =
                xml::canonical(&doc, &mut |path, t| redactor.element_text(path, t, sent_at));
            text.push_str(&canonical);
            Normalized {
                text,
                document: Some(doc),
            }
        }
        Err(e) => {
            text.push_str(&crate::transcript::not_xml(&e.to_string()));
            text.push_str(&redactor.values(body));
            text.push('\n');
            Normalized {
                text,
                document: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Rules;
    use std::collections::HashMap;

    fn resp(status: u16, ct: Option<&str>, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            reason: http::StatusCode::from_u16(status)
                .unwrap()
                .canonical_reason()
                .unwrap_or("")
                .into(),
            content_type: ct.map(str::to_owned),
            body: body.into(),
            headers: Vec::new(),
        }
    }

    #[test]
    fn html_and_empty_bodies_are_text_not_errors() {
        let rules = Rules::default();
        let vars = HashMap::new();
        let mut r = Redactor::new(&rules, &vars);
        let n = response(
            &resp(500, Some("text/html"), "<html><body>oops</p></html>"),
            &mut r,
            SystemTime::now(),
        );
        assert!(n.document.is_none());
        assert!(
            n.text.starts_with(
                "HTTP 500 Internal Server Error\ncontent-type: text/html\nbody (not XML"
            ),
            "{}",
            n.text
        );
        assert!(n.text.ends_with("<html><body>oops</p></html>\n"));
        let n = response(&resp(502, None, ""), &mut r, SystemTime::now());
        assert_eq!(
            n.text,
            "HTTP 502 Bad Gateway\ncontent-type: (none)\nbody: (empty)\n"
        );
    }

    #[test]
    fn an_answer_nested_too_deep_is_text_that_says_so_and_stays_its_size() {
        let rules = Rules::default();
        let vars = HashMap::new();
        let mut r = Redactor::new(&rules, &vars);
        for depth in [5_000, 100_000] {
            let body = format!("{}x{}", "<a>".repeat(depth), "</a>".repeat(depth));
            let n = response(
                &resp(200, Some("text/xml"), &body),
                &mut r,
                SystemTime::now(),
            );
            assert!(n.document.is_none());
            let first = n.text.lines().nth(2).unwrap();
            assert_eq!(
                first,
                format!(
                    "body (not XML, elements nest {depth} levels deep, more than the {} levels an answer may have):",
                    crate::xml::MAX_DEPTH
                )
            );
            // What the endpoint said, once: no indentation growing with the depth.
            assert!(n.text.len() < body.len() + 200, "{}", n.text.len());
        }
    }
}
