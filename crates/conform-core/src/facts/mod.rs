//! What is known of how a service answers, as data (`models/<service>.facts.yaml`): the
//! recordings a corpus may cite, the validation message format, the other message templates
//! (each with how it is known), codes that look alike but are distinct, and which element
//! orders are recorded rather than only documented. The expected-answer author
//! (`cargo xtask expect`) writes messages from it; the consistency check reads answers
//! against it.
//!
//! The text is read here (`file`); the runner crate reads the file (`conform::input`).

mod file;
mod order;
mod recording;
mod template;
mod validation;

use std::collections::BTreeMap;

pub use order::Order;
pub use recording::{Recording, citations, unknown_citation};
pub use template::Template;
pub use validation::{Validation, ValidationSpec, Violation};

/// One service's facts.
#[derive(Debug, Clone)]
pub struct Facts {
    pub service: String,
    /// The file, as given to `load`, for messages.
    pub file: String,
    /// The namespace of the service's error documents, unless a template says otherwise.
    pub namespace: String,
    pub recordings: BTreeMap<String, Recording>,
    pub validation: Option<Validation>,
    pub templates: Vec<Template>,
    /// Groups of codes that differ only in case or an `Exception` suffix and are still
    /// distinct codes of the service.
    pub distinct_codes: Vec<Vec<String>>,
    pub order: Vec<Order>,
    /// Modeled errors no request brings about (the service failing, a race with another
    /// writer): coverage does not count them as missing.
    pub beyond_requests: Vec<Beyond>,
}

/// A modeled error no request can bring about, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beyond {
    pub code: String,
    /// The operations it is beyond a request for; all when empty.
    pub operations: Vec<String>,
    pub why: String,
    /// Its line in the facts file, for a code the model does not have.
    pub line: usize,
}

/// How an error message was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format<'a> {
    Validation,
    Template(&'a Template),
}

impl Format<'_> {
    pub fn name(&self) -> &str {
        match self {
            Format::Validation => "the validation format",
            Format::Template(t) => &t.id,
        }
    }
}

impl Facts {
    pub fn template(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// How `message` is formed: the validation format, or the first template whose text it
    /// follows (for `code`, when given, a template of that code first).
    pub fn format_of(&self, code: Option<&str>, message: &str) -> Option<Format<'_>> {
        if let Some(v) = &self.validation
            && code.is_none_or(|c| c == v.spec.code)
            && v.matcher.is_match(message)
        {
            return Some(Format::Validation);
        }
        let follows = |t: &&Template| t.matcher.is_match(message);
        self.templates
            .iter()
            .filter(|t| code.is_none_or(|c| c == t.code))
            .find(follows)
            .or_else(|| self.templates.iter().find(follows))
            .map(Format::Template)
    }

    /// Why no request brings `code` about in `operation`, when the facts say so.
    pub fn beyond_request(&self, operation: &str, code: &str) -> Option<&str> {
        self.beyond_requests
            .iter()
            .find(|b| {
                b.code == code
                    && (b.operations.is_empty() || b.operations.iter().any(|o| o == operation))
            })
            .map(|b| b.why.as_str())
    }

    /// Whether two different codes are declared distinct.
    pub fn distinct(&self, a: &str, b: &str) -> bool {
        self.distinct_codes
            .iter()
            .any(|g| g.iter().any(|c| c == a) && g.iter().any(|c| c == b))
    }
}

/// Two spellings of one code: the same letters apart from case and an `Exception` suffix.
pub fn same_code_word(a: &str, b: &str) -> bool {
    let key = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.strip_suffix("exception").map(str::to_owned).unwrap_or(l)
    };
    a != b && key(a) == key(b)
}

/// A facts file that uses every part, shared by the tests of each part.
#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    pub(super) const FACTS: &str = r#"
namespace: https://sts.amazonaws.com/doc/2011-06-15/
recordings:
  r1: {what: answers, where: somewhere}
validation:
  echoes_value: true
  code: ValidationError
  status: 400
  one: '1 validation error detected: {violation}'
  several: '{count} validation errors detected: {violations}'
  separator: '; '
  violation: "Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
  missing: "Value null at '{member}' failed to satisfy constraint: Member must not be null"
  rules:
    max_length: have length less than or equal to {max}
    pattern: 'satisfy regular expression pattern: {pattern}'
  recorded: ['[R:r1] the max_length rule']
  inferred: the rest
templates:
  - id: invalid-arn
    code: ValidationError
    status: 400
    message: '{value} is invalid'
    provenance: recorded
    source: '[R:r1] malformed RoleArn'
  - id: invalid-action
    code: InvalidAction
    status: 400
    message: Could not find operation {operation} for version {version}
    namespace: http://webservices.amazon.com/AWSFault/2005-15-09
    provenance: inferred
    source: the rule
distinct_codes:
  - codes: [ExpiredToken, ExpiredTokenException]
    source: documented as two codes
order:
  - path: '*Response/*Result/**'
    provenance: documented
    source: the API reference's examples
beyond_requests:
  - code: InternalFailure
    why: the service failing
"#;

    pub(super) fn facts() -> Facts {
        Facts::parse(FACTS, Path::new("models/sts.facts.yaml"), "sts").unwrap()
    }

    #[test]
    fn codes_that_look_alike_are_one_word_unless_declared_distinct() {
        assert!(same_code_word("ExpiredToken", "ExpiredTokenException"));
        assert!(!same_code_word("ExpiredToken", "ExpiredToken"));
        assert!(facts().distinct("ExpiredTokenException", "ExpiredToken"));
    }

    #[test]
    fn errors_beyond_a_request_say_why_once() {
        let f = facts();
        let why = f.beyond_request("AssumeRole", "InternalFailure");
        assert_eq!(why, Some("the service failing"));
        assert_eq!(f.beyond_request("AssumeRole", "ExpiredToken"), None);
        // Limited to some operations, it is beyond a request only there.
        let some =
            format!("{FACTS}  - code: Quota\n    operations: [DeleteRole]\n    why: deleting\n");
        let f = Facts::parse(&some, Path::new("f.yaml"), "sts").unwrap();
        assert_eq!(f.beyond_request("DeleteRole", "Quota"), Some("deleting"));
        assert_eq!(f.beyond_request("CreateRole", "Quota"), None);
        let apart =
            format!("{some}  - code: Quota\n    operations: [CreateRole]\n    why: other\n");
        assert!(Facts::parse(&apart, Path::new("f.yaml"), "sts").is_ok());
        let twice = format!(
            "{FACTS}  - code: InternalFailure\n    operations: [AssumeRole]\n    why: again\n"
        );
        let errs = Facts::parse(&twice, Path::new("f.yaml"), "sts").unwrap_err();
        assert!(errs[0].render().contains("declared beyond a request twice"));
        let silent = FACTS.replace("why: the service failing", "why: ' '");
        let errs = Facts::parse(&silent, Path::new("f.yaml"), "sts").unwrap_err();
        assert!(
            errs[0].render().contains("without saying why"),
            "{}",
            errs[0].render()
        );
    }
}
