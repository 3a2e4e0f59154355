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

/// How messages of a template or format are recognised.
#[derive(Debug, Clone)]
pub(super) enum Matcher {
    /// A template's words, any text standing between two of them where a slot is: matched
    /// by finding the words in order, no regex needed. Compiling one regex per template was
    /// a tenth of what `conform check` spent, for messages this simple.
    Words(Box<[Box<str>]>),
    /// Anchored, made of escaped text, lazy wildcards and fragments given for slots;
    /// compiled the first time a message is judged (a run reads the facts file but judges
    /// no message).
    Regex {
        pattern: String,
        compiled: OnceLock<Option<Regex>>,
    },
}

impl Matcher {
    pub(super) fn is_match(&self, message: &str) -> bool {
        match self {
            Matcher::Words(words) => follows(words, message),
            // Escaped text and wildcards always make a regex; one past the size limit (a
            // message of many kilobytes) matches nothing rather than stopping the check.
            Matcher::Regex { pattern, compiled } => compiled
                .get_or_init(|| Regex::new(pattern).ok())
                .as_ref()
                .is_some_and(|re| re.is_match(message)),
        }
    }
}

/// Whether `message` is the words in order with anything between them: the first word
/// starts it, the last ends it, and each other is taken where it first occurs after the
/// one before (taking it later never leaves more room for the rest).
fn follows(words: &[Box<str>], message: &str) -> bool {
    let Some((first, rest)) = words.split_first() else {
        return message.is_empty();
    };
    let Some((last, middle)) = rest.split_last() else {
        return message == &**first;
    };
    let Some(mut between) = message
        .strip_prefix(&**first)
        .and_then(|m| m.strip_suffix(&**last))
    else {
        return false;
    };
    for word in middle {
        match between.find(&**word) {
            Some(at) => between = &between[at + word.len()..],
            None => return false,
        }
    }
    true
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
    // Checked as a pattern first: the same slots are refused.
    pattern(message, &[])?;
    let mut words: Vec<Box<str>> = Vec::new();
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        words.push(rest[..open].into());
        rest = &rest[open + close + 1..];
    }
    words.push(rest.into());
    Ok(Matcher::Words(words.into()))
}

/// A matcher of whole messages for a pattern made by [`pattern`].
pub(super) fn anchored(pattern: &str) -> Matcher {
    Matcher::Regex {
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

    #[test]
    fn messages_follow_a_templates_words_in_order() {
        let m = super::regex("Role {arn} is {state}.").unwrap();
        assert!(m.is_match("Role arn:aws:iam::1:role/x is gone."));
        assert!(m.is_match("Role  is ."));
        assert!(!m.is_match("Role x is gone"));
        assert!(!m.is_match("role x is gone."));
        // Words on both sides may not share letters: `ab{x}ba` needs four of them.
        let m = super::regex("ab{x}ba").unwrap();
        assert!(!m.is_match("aba"));
        assert!(m.is_match("abba"));
        let m = super::regex("{a}, then {b} and {c}").unwrap();
        assert!(m.is_match("x, then y and z"));
        assert!(m.is_match(", then  and "));
        assert!(m.is_match("a and b, then c, then d and e"));
        assert!(!m.is_match("x and y, then z"));
        let m = super::regex("no slots").unwrap();
        assert!(m.is_match("no slots"));
        assert!(!m.is_match("no slots!"));
        // A `{` with no `}` after it is text.
        let m = super::regex("a { b").unwrap();
        assert!(m.is_match("a { b"));
        assert!(!m.is_match("a {x b"));
        let m = super::regex("{slot} only").unwrap();
        assert!(m.is_match("anything only"));
        assert!(!m.is_match("anything else"));
    }
}
