//! Redaction rules (data, one YAML file per service) and the per-case state that applies
//! them: run-dependent values become placeholders that still check their shape, and a value
//! seen twice keeps one numbered placeholder so equalities survive.
//!
//! `rules` reads the rules from their text and `redactor` applies them; `Rules::load`, here,
//! is the only part that touches the file system.

mod redactor;
mod rules;

use std::path::Path;

pub use redactor::Redactor;
pub use rules::{PinRefusal, Rules, RulesError};

impl Rules {
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

/// Rules files shared by the tests of both parts.
#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    pub(super) const RULES: &str = r#"
elements:
  - element: RequestId
    placeholder: request-id
    shape: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
    numbered: false
  - element: Credentials/AccessKeyId
    placeholder: access-key-id
    shape: '(?P<keep>ASIA|AKIA)[A-Z0-9]{16}'
  - element: SecretAccessKey
    placeholder: secret-access-key
    shape: '[A-Za-z0-9/+]{40}'
    secret: true
  - element: Expiration
    placeholder: expiration
    relative_time: true
values:
  - variable: account_id
    placeholder: account-id
    numbered: false
  - pattern: 'AROA[A-Z0-9]{17}'
    placeholder: role-id
"#;

    pub(super) const PINNABLE: &str = "elements:\n  - element: SecretAccessKey\n    placeholder: secret-access-key\n    secret: true\n  - element: PackedPolicySize\n    placeholder: packed-policy-size\n    shape: '[0-9]{1,3}'\n    numbered: false\n    pinnable: true\n";

    pub(super) fn vars() -> HashMap<String, String> {
        [("account_id".to_owned(), "123456789012".to_owned())].into()
    }
}
