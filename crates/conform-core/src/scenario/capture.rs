//! A step's `capture:`: variable names for later steps, each an element path into the
//! step's answer, each name captured once per case.

use serde_saphyr::Spanned;

use super::Checker;
use super::case::Capture;
use super::raw::RawNode;
use crate::diagnostic::{Diagnostic, yaml_span};
use crate::template::is_variable_name;
use crate::xml::ElementPath;

impl Checker<'_> {
    /// `earlier` holds what the case's earlier steps captured.
    pub(super) fn captures(
        &self,
        cap: &Spanned<RawNode>,
        earlier: &[String],
        out: &mut Vec<Capture>,
        errors: &mut Vec<Diagnostic>,
    ) {
        let RawNode::Map(entries) = &cap.value else {
            errors.push(
                self.err(
                    yaml_span(cap),
                    format!(
                        "`capture` must map variable names to element paths, not {}",
                        cap.value.describe()
                    ),
                )
                .with_help(
                    "for example `capture: {key: AssumeRoleResult/Credentials/AccessKeyId}`",
                ),
            );
            return;
        };
        for (k, v) in entries {
            if !is_variable_name(&k.value) {
                errors.push(
                    self.err(
                        yaml_span(k),
                        format!("`{}` is not a variable name", k.value),
                    )
                    .with_help("use letters, digits, `_`, `-` and `.`"),
                );
                continue;
            }
            if earlier.contains(&k.value) || out.iter().any(|c| c.variable == k.value) {
                errors.push(
                    self.err(
                        yaml_span(k),
                        format!("variable `{}` is captured twice in this case", k.value),
                    )
                    .with_help("give each capture its own name"),
                );
                continue;
            }
            let RawNode::Str(path) = &v.value else {
                errors.push(self.err(
                    yaml_span(v),
                    "a capture path must be text, like `AssumeRoleResult/Credentials/AccessKeyId`",
                ));
                continue;
            };
            match ElementPath::parse(path) {
                Ok(p) => out.push(Capture {
                    variable: k.value.clone(),
                    path: p,
                }),
                Err(e) => errors.push(
                    self.err(yaml_span(v), format!("bad capture path `{path}`: {e}"))
                        .with_help("paths name elements below the root, separated by `/`, e.g. `AssumeRoleResult/Credentials/AccessKeyId`; `//Name` finds the first `Name` anywhere"),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_problem, case_with, load, problems};

    fn with(captures: &[&str]) -> String {
        let steps: String = captures
            .iter()
            .map(|c| format!("      - operation: GetCallerIdentity\n        capture: {c}\n"))
            .collect();
        case_with(&format!("    steps:\n{steps}"))
    }

    #[test]
    fn captures_are_read_in_the_order_written() {
        let cases = load(
            "GetCallerIdentity",
            &with(&["{a: //Arn, b.c-d_1: 'X/Y[2]'}"]),
        )
        .unwrap();
        let names: Vec<&str> = cases[0].steps[0]
            .captures
            .iter()
            .map(|c| c.variable.as_str())
            .collect();
        assert_eq!(names, ["a", "b.c-d_1"]);
    }

    #[test]
    fn a_capture_is_a_mapping_of_names_to_text_paths() {
        let p = problems("GetCallerIdentity", &with(&["[a]"]));
        assert_problem(
            &p,
            "8:18",
            "`capture` must map variable names to element paths, not a list",
        );
        let p = problems(
            "GetCallerIdentity",
            &with(&["{'a b': //Arn, c: 3, d: a//b}"]),
        );
        assert_problem(&p, "8:19", "`a b` is not a variable name");
        assert_problem(&p, "8:36", "a capture path must be text");
        assert_problem(&p, "8:42", "bad capture path `a//b`");
    }

    #[test]
    fn a_name_is_captured_once_per_case() {
        let p = problems("GetCallerIdentity", &with(&["{k: //Arn}", "{k: //UserId}"]));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_problem(&p, "10:19", "variable `k` is captured twice in this case");
    }
}
