//! A stored answer made live: the values a request named in place of a case's own put where
//! the answer names them, placeholders of variables turned into their values (the request's
//! binding first, then the server's), and every other placeholder into a fresh value (equal
//! placeholders equal, stable ones the same across a case). Keys it hands out are remembered
//! with whom they stand for.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use super::Replay;
use super::expect::Entry;
use super::fresh::{Rng, escape};
use super::keys::{Identity, who};
use super::matching::Binding;

/// What an answer is rendered for: its case, the cases that own the keys it hands out, and
/// the operation that asked.
pub(super) struct Rendering<'a> {
    pub case: usize,
    pub owners: &'a Arc<[usize]>,
    pub op: &'a str,
}

impl<'a> Rendering<'a> {
    pub fn of(e: &'a Entry, owners: &'a Arc<[usize]>, op: &'a str) -> Rendering<'a> {
        Rendering {
            case: e.case,
            owners,
            op,
        }
    }
}

impl Replay {
    /// A stored answer with its placeholders turned back into values.
    pub(super) fn render(&self, body: &str, binding: &Binding, to: &Rendering<'_>) -> String {
        static PLACEHOLDER: OnceLock<Regex> = OnceLock::new();
        let re = PLACEHOLDER.get_or_init(|| {
            Regex::new(r"\[([a-z][a-z0-9-]*)((?::[^\]\s]*)?)\]").expect("a valid regex")
        });
        let mut body = body.to_owned();
        for (literal, value) in &binding.replaced {
            body = replace_named(&body, literal, &escape(value));
        }
        let mut numbered: HashMap<String, String> = HashMap::new();
        let mut st = self.lock();
        st.counter += 1;
        let mut rng = Rng::new(&st.counter.to_string());
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
        let out = re
            .replace_all(&body, |c: &regex::Captures<'_>| {
                let name = &c[1];
                let arg = c.get(2).map_or("", |m| m.as_str()).trim_start_matches(':');
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
                        .unwrap_or_else(|| c[0].to_owned());
                }
                let key = format!("{name}:{arg}");
                if let Some(v) = numbered.get(&key) {
                    return v.clone();
                }
                let stable = self.makers.is_stable(name);
                if stable && let Some(v) = st.stable.get(&(to.case, key.clone())) {
                    return v.clone();
                }
                let Some(v) = self.makers.make(name, arg, &mut rng) else {
                    return c[0].to_owned();
                };
                if let Some(service) = self.issuer_of(name) {
                    issued.push((v.clone(), service));
                }
                if stable {
                    st.stable.insert((to.case, key.clone()), v.clone());
                }
                numbered.insert(key, v.clone());
                v
            })
            .into_owned();
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

/// The text of the first `<element>` of an answer, unescaped.
pub(super) fn text_of(answer: &str, element: &str) -> Option<String> {
    answer
        .split(&format!("<{element}>"))
        .nth(1)
        .and_then(|r| r.split('<').next())
        .map(unescape)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
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
    }
}
