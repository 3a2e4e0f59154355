//! A stored answer made live: the values a request named in place of a case's own put where
//! the answer names them, placeholders of variables turned into their values (the request's
//! binding first, then the server's), and every other placeholder into a fresh value (equal
//! placeholders equal, stable ones the same across a case). Keys it hands out are remembered
//! with whom they stand for.

use std::collections::HashMap;
use std::sync::Arc;

use super::Replay;
use super::expect::Entry;
use super::fresh::{Rng, escape};
use super::keys::{Identity, who};
use super::matching::Binding;

/// What an answer is rendered for: its case, the cases that own the keys it hands out, and
/// the operation that asked.
pub(super) struct Rendering<'a> {
    pub case: usize,
    /// The service whose answer this is, for what its replay file keeps stable.
    pub service: &'a str,
    pub owners: &'a Arc<[usize]>,
    pub op: &'a str,
}

impl<'a> Rendering<'a> {
    pub fn of(e: &'a Entry, owners: &'a Arc<[usize]>, op: &'a str) -> Rendering<'a> {
        Rendering {
            case: e.case,
            service: &e.service,
            owners,
            op,
        }
    }
}

impl Replay {
    /// A stored answer with its placeholders turned back into values.
    pub(super) fn render(&self, body: &str, binding: &Binding, to: &Rendering<'_>) -> String {
        // Copied only when a request named values in place of the case's own.
        let mut body = std::borrow::Cow::Borrowed(body);
        for (literal, value) in &binding.replaced {
            body = std::borrow::Cow::Owned(replace_named(&body, literal, &escape(value)));
        }
        let mut numbered: HashMap<String, String> = HashMap::new();
        let mut st = self.lock();
        st.counter += 1;
        let mut rng = Rng::numbered(st.counter);
        let mut issued: Vec<(String, &str)> = Vec::new();
        // The run id an answer names: its request's, else one that a value it bound
        // carries, else the newest a client sent.
        let run_id = binding.vars.get("run_id").cloned().or_else(|| {
            st.run_ids
                .iter()
                .rev()
                .find(|r| binding.vars.values().any(|v| v.contains(r.as_str())))
                .or(st.run_ids.last())
                .cloned()
        });
        let out = replace_placeholders(&body, |whole, name, arg| {
            let arg = arg.trim_start_matches(':');
            if let Some(var) = self.placeholder_vars.get(name) {
                if var == "run_id"
                    && let Some(r) = &run_id
                {
                    return escape(r);
                }
                return binding
                    .vars
                    .get(var)
                    .or_else(|| self.vars.get(var))
                    .map(|v| escape(v))
                    .unwrap_or_else(|| whole.to_owned());
            }
            let key = format!("{name}:{arg}");
            if let Some(v) = numbered.get(&key) {
                return v.clone();
            }
            let kept = self
                .makers
                .is_stable(to.service, name)
                .then(|| (to.case, run_id.clone().unwrap_or_default(), key.clone()));
            let v = match kept.as_ref().and_then(|k| st.stable.get(k)) {
                Some(v) => v.clone(),
                None => {
                    let Some(v) = self.makers.make(name, arg, &mut rng) else {
                        return whole.to_owned();
                    };
                    if let Some(k) = kept {
                        st.stable.insert(k, v.clone());
                    }
                    v
                }
            };
            // A key handed out again (a stable one, in a later step) stands for whom this
            // answer names: the request that has it now binds it.
            if let Some(service) = self.issuer_of(name) {
                issued.push((v.clone(), service));
            }
            numbered.insert(key, v.clone());
            v
        });
        let now = self.now();
        for (key, service) in issued {
            let Some(sessions) = self.sessions(service) else {
                continue;
            };
            let var = |n: &str| {
                binding
                    .vars
                    .get(n)
                    .or_else(|| self.vars.get(n))
                    .cloned()
                    .unwrap_or_default()
            };
            let (arn, user_id, account, expires) = who(&out, sessions, &var);
            st.identities.insert(
                key,
                Identity {
                    op: to.op.to_owned(),
                    service: service.to_owned(),
                    arn,
                    user_id,
                    account,
                    expires,
                    binding: binding.clone(),
                    cases: Arc::clone(to.owners),
                },
                now,
            );
        }
        out
    }
}

/// The text with every placeholder (`[name]` or `[name:argument]`: a lower-case letter,
/// then lower-case letters, digits and `-`; an argument without `]` or white space) replaced
/// by what `value` makes of it, given the whole, the name and the argument with its `:`.
/// Hand-written: a regex cost a tenth of the server's time per answer.
fn replace_placeholders(text: &str, mut value: impl FnMut(&str, &str, &str) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut done = 0;
    let mut from = 0;
    while let Some(at) = text[from..].find('[').map(|i| from + i) {
        from = at + 1;
        let Some((name_end, end)) = placeholder_at(text, at) else {
            continue;
        };
        out.push_str(&text[done..at]);
        let whole = &text[at..end];
        out.push_str(&value(
            whole,
            &text[at + 1..name_end],
            &text[name_end..end - 1],
        ));
        done = end;
        from = end;
    }
    out.push_str(&text[done..]);
    out
}

/// Where the name of a placeholder that starts at `at` (a `[`) ends, and where the
/// placeholder ends (after its `]`).
fn placeholder_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = at + 1;
    if !bytes.get(i)?.is_ascii_lowercase() {
        return None;
    }
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    {
        i += 1;
    }
    let name_end = i;
    if bytes.get(i) == Some(&b':') {
        let rest = &text[i..];
        let len = rest
            .char_indices()
            .find(|(_, c)| *c == ']' || c.is_whitespace())
            .map_or(rest.len(), |(j, _)| j);
        i += len;
    }
    (bytes.get(i) == Some(&b']')).then_some((name_end, i + 1))
}

/// The text of the first `<element>` of an answer, unescaped.
pub(super) fn text_of(answer: &str, element: &str) -> Option<String> {
    let text = after_open(answer, element)?;
    Some(unescape(text.split('<').next().unwrap_or("")))
}

/// What follows the first `<element>` of a text, up to the next one.
pub(super) fn after_open<'a>(text: &'a str, element: &str) -> Option<&'a str> {
    let mut at = 0;
    while let Some(i) = text[at..].find('<').map(|i| at + i) {
        let rest = &text[i + 1..];
        if let Some(after) = rest.strip_prefix(element)
            && let Some(after) = after.strip_prefix('>')
        {
            return Some(
                after
                    .find(&format!("<{element}>"))
                    .map_or(after, |j| &after[..j]),
            );
        }
        at = i + 1;
    }
    None
}

fn unescape(s: &str) -> String {
    // A text with an entity XML does not define stays as it was.
    quick_xml::escape::unescape(s).map_or_else(|_| s.to_owned(), |t| t.into_owned())
}

/// The answer with the text of its first `<element>` set to `value`.
pub(super) fn set_text(body: &str, element: &str, value: &str) -> String {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    let Some(start) = body.find(&open).map(|i| i + open.len()) else {
        return body.to_owned();
    };
    let Some(end) = body[start..].find(&close).map(|i| start + i) else {
        return body.to_owned();
    };
    format!("{}{}{}", &body[..start], escape(value), &body[end..])
}

/// The answer with a case's literal replaced where an answer names it: the last part of an
/// ARN or an id (after `/` or `:`, before the element's end), as a session name is.
fn replace_named(body: &str, literal: &str, value: &str) -> String {
    if literal.is_empty() {
        return body.to_owned();
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find(literal) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + literal.len()..].chars().next();
        out.push_str(&rest[..i]);
        if matches!(before, Some('/' | ':')) && after == Some('<') {
            out.push_str(value);
        } else {
            out.push_str(literal);
        }
        rest = &rest[i + literal.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_replaced_only_where_an_answer_names_them() {
        let body = "<Arn>arn:aws:sts::1:assumed-role/r/Bob</Arn><AssumedRoleId>X:Bob</AssumedRoleId><Message>Bob is here</Message>";
        assert_eq!(
            replace_named(body, "Bob", "alice"),
            "<Arn>arn:aws:sts::1:assumed-role/r/alice</Arn><AssumedRoleId>X:alice</AssumedRoleId><Message>Bob is here</Message>"
        );
        assert_eq!(replace_named(body, "", "x"), body);
    }

    #[test]
    fn placeholders_are_found_as_the_pattern_says_and_nothing_else() {
        let old = regex::Regex::new(r"\[([a-z][a-z0-9-]*)((?::[^\]\s]*)?)\]").unwrap();
        for text in [
            "<A>[account-id]</A><B>[access-key-id:ASIA:1]</B>",
            "[x::a] [X] [1a] [a b] [a:b c] [a:] [a-] [ab[cd] [ab:[cd] [a:\u{a0}b] [é] [a",
            "no placeholders [] [[a]] ]a[ [a:b]]",
            "[expiration:+3600s][role-id:1]:name",
            "",
        ] {
            let by_regex = old.replace_all(text, |c: &regex::Captures<'_>| {
                format!(
                    "<{}|{}|{}>",
                    &c[0],
                    &c[1],
                    c.get(2).map_or("", |m| m.as_str())
                )
            });
            let by_hand =
                replace_placeholders(text, |whole, name, arg| format!("<{whole}|{name}|{arg}>"));
            assert_eq!(by_hand, by_regex, "{text}");
        }
    }

    #[test]
    fn element_text_is_read_and_set_escaped() {
        assert_eq!(
            set_text("<R><Arn>a</Arn><Arn>b</Arn></R>", "Arn", "<x>"),
            "<R><Arn>&lt;x&gt;</Arn><Arn>b</Arn></R>"
        );
        assert_eq!(set_text("<R/>", "Arn", "x"), "<R/>");
        assert_eq!(
            text_of("<R><Arn>a&amp;b</Arn></R>", "Arn").as_deref(),
            Some("a&b")
        );
        assert_eq!(text_of("<R/>", "Arn"), None);
        assert_eq!(
            text_of("<R><Arnold>x</Arnold><Arn>y</Arn>", "Arn").as_deref(),
            Some("y")
        );
        assert_eq!(
            after_open("<U><A>1</A></U><U><A>2</A></U>", "U"),
            Some("<A>1</A></U>")
        );
        assert_eq!(after_open("<U>last", "U"), Some("last"));
    }
}
