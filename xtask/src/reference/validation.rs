//! Model validation, as the library checks it (`conform::validation`): the reference
//! answers with the same violations `conform generate` expects.

use conform::facts::Violation;
use conform::model::Model;

use super::params::Params;

/// Every constraint of `input` the request breaks, in model order.
pub(super) fn violations(model: &Model, input: &str, p: &Params) -> Vec<Violation> {
    conform::validation::violations(model, input, &p.0)
}

#[cfg(test)]
mod tests {
    use crate::reference::tests::{ask, message, reference};

    #[test]
    fn validation_lists_every_violation_in_model_order() {
        let r = reference();
        let long = "s".repeat(65) + ":";
        let a = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                ("RoleSessionName", &long),
                ("DurationSeconds", "899"),
            ],
        );
        assert_eq!(a.status, 400);
        assert_eq!(
            message(&a),
            format!(
                "4 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; \
                 Value '{long}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64; \
                 Value '{long}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; \
                 Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
            )
        );
    }

    #[test]
    fn nested_members_are_named_by_their_wire_path() {
        let r = reference();
        let a = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                (
                    "RoleArn",
                    "arn:aws:iam::123456789012:role/conform-test-role",
                ),
                ("RoleSessionName", "ab"),
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "a*b"),
            ],
        );
        assert_eq!(
            message(&a),
            "1 validation error detected: Value 'a*b' at 'tags.1.member.value' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
        );
    }
}
