//! Message templates: text with `{name}` slots, rendered by filling the slots and recognised
//! by a regex made from the same text, so what is written and what is read cannot drift.

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
    pub(super) matcher: Regex,
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
pub(super) fn regex(message: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?s:{})$", pattern(message, &[])?)).map_err(|e| e.to_string())
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
