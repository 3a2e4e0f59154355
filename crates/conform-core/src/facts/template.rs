//! Message templates: text with `{name}` slots, rendered by filling the slots and recognised
//! by a regex made from the same text, so what is written and what is read cannot drift.

use std::sync::OnceLock;

use regex::Regex;

use crate::scenario::Provenance;

#[derive(Debug, Clone)]
pub struct Template {
    pub id: String,
    pub code: String,
    pub status: u16,
    /// With `{name}` where a value goes.
    pub message: String,
    pub namespace: Option<String>,
    pub provenance: Provenance,
    pub source: String,
    pub(super) matcher: Matcher,
}

/// A regex made from a template, compiled the first time a message is judged: a run reads
/// the facts file but judges no message, and compiling every template was most of reading it.
#[derive(Debug, Clone)]
pub(super) struct Matcher {
    /// Anchored, made of escaped text and lazy wildcards only.
    pattern: String,
    compiled: OnceLock<Option<Regex>>,
}

impl Matcher {
    pub(super) fn is_match(&self, message: &str) -> bool {
        // Escaped text and wildcards always make a regex; one past the size limit (a message
        // of many kilobytes) matches nothing rather than stopping the check.
        self.compiled
            .get_or_init(|| Regex::new(&self.pattern).ok())
            .as_ref()
            .is_some_and(|re| re.is_match(message))
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Template {}

impl Template {
    pub fn render(&self, args: &[(&str, &str)]) -> String {
        fill(&self.message, args)
    }
}

/// A template as a regex fragment: literal text escaped, each `{name}` slot the fragment
/// given for it, or a lazy wildcard.
pub(super) fn pattern(template: &str, fragments: &[(&str, &str)]) -> Result<String, String> {
    let mut re = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{{{name}}}` is not a slot: write `{{name}}`"));
        }
        re.push_str(&regex::escape(&rest[..open]));
        match fragments.iter().find(|(n, _)| *n == name) {
            Some((_, f)) => re.push_str(f),
            None => re.push_str(".*?"),
        }
        rest = &rest[open + close + 1..];
    }
    re.push_str(&regex::escape(rest));
    Ok(re)
}

/// A message follows the template when the whole of it matches.
pub(super) fn regex(message: &str) -> Result<Matcher, String> {
    Ok(anchored(&pattern(message, &[])?))
}

/// A matcher of whole messages for a pattern made by [`pattern`].
pub(super) fn anchored(pattern: &str) -> Matcher {
    Matcher {
        pattern: format!("^(?s:{pattern})$"),
        compiled: OnceLock::new(),
    }
}

pub(super) fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::facts::tests::facts;

    #[test]
    fn templates_match_whole_messages_and_prefer_their_code() {
        let f = facts();
        let arn = f
            .format_of(Some("ValidationError"), "arn:a:::x is invalid")
            .unwrap();
        assert_eq!(arn.name(), "invalid-arn");
        assert!(f.format_of(None, "arn is invalid, really").is_none());
        let action = f
            .format_of(
                Some("InvalidAction"),
                "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED",
            )
            .unwrap();
        assert_eq!(action.name(), "invalid-action");
        // The message alone still names the template a wrong code was given with.
        assert_eq!(
            f.format_of(Some("Nope"), "x is invalid").unwrap().name(),
            "invalid-arn"
        );
    }
}
