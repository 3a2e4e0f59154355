//! A call's parameters against the model: member names (with a did-you-mean), each value
//! against its shape. Constraints (lengths, patterns, required members) are left to the
//! endpoint, as limit cases exist to break them.

use serde_saphyr::Spanned;

use super::Checker;
use super::case::ParamValue;
use super::raw::RawNode;
use crate::diagnostic::{Diagnostic, did_you_mean, yaml_span};
use crate::model::{Model, ShapeKind};
use crate::template::Template;

const WHOLE_NUMBER: &str =
    "write a whole number; to send something that is not a number, use a raw step";

impl Checker<'_> {
    /// The `params:` of a call to `operation`, whose input shape is `input`.
    pub(super) fn params(
        &self,
        model: &Model,
        operation: &str,
        input: Option<&str>,
        params: Option<&Spanned<RawNode>>,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<Vec<(String, ParamValue)>> {
        let Some(p) = params else {
            return Some(Vec::new());
        };
        match (&p.value, input) {
            (RawNode::Null, _) => Some(Vec::new()),
            (_, None) => {
                errors.push(
                    self.err(yaml_span(p), format!("{operation} takes no parameters"))
                        .with_help("remove `params`, or use a raw step to send extra ones"),
                );
                None
            }
            (RawNode::Map(entries), Some(input)) => {
                self.members(model, entries, input, operation, errors)
            }
            (other, Some(_)) => {
                errors.push(self.err(
                    yaml_span(p),
                    format!(
                        "`params` must be a mapping of parameter names to values, not {}",
                        other.describe()
                    ),
                ));
                None
            }
        }
    }

    /// Structure members: names checked against the model, values against their shapes.
    fn members(
        &self,
        model: &Model,
        entries: &[(Spanned<String>, Spanned<RawNode>)],
        shape_name: &str,
        context: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<Vec<(String, ParamValue)>> {
        let ShapeKind::Structure { members, .. } = &model.shape(shape_name).kind else {
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (k, v) in entries {
            let Some(member) = members.get(&k.value) else {
                ok = false;
                let names: Vec<&str> = members.keys().map(String::as_str).collect();
                let d = self.err(
                    yaml_span(k),
                    format!("unknown parameter `{}` for {context}", k.value),
                );
                errors.push(match did_you_mean(&k.value, names.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None if names.is_empty() => {
                        d.with_help(format!("{context} takes no parameters"))
                    }
                    None => d.with_help(format!("{context} takes: {}", names.join(", "))),
                });
                continue;
            };
            let inner = format!("{context}.{}", k.value);
            match self.value(model, v, &member.shape, &inner, errors) {
                Some(val) => out.push((k.value.clone(), val)),
                None => ok = false,
            }
        }
        // Kept for the whole run: no room for members that will never come.
        out.shrink_to_fit();
        ok.then_some(out)
    }

    fn value(
        &self,
        model: &Model,
        node: &Spanned<RawNode>,
        shape_name: &str,
        context: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<ParamValue> {
        let shape = model.shape(shape_name);
        let at = At {
            node,
            context,
            checker: self,
        };
        if let RawNode::Null = node.value {
            let expected = format!("a {}", shape.kind_name());
            return at.mismatch(
                errors,
                &expected,
                "give it a value; write '' for an empty string",
            );
        }
        match &shape.kind {
            ShapeKind::Structure { .. } => match &node.value {
                RawNode::Map(entries) => self
                    .members(model, entries, shape_name, context, errors)
                    .map(|m| {
                        let entries = m.into_iter().map(|(k, v)| (Template::literal(k), v));
                        ParamValue::Map(entries.collect())
                    }),
                _ => at.mismatch(
                    errors,
                    "a structure",
                    "write a mapping of member names to values",
                ),
            },
            ShapeKind::List { member } => self.list(model, at, &member.shape, errors),
            ShapeKind::Map { value, .. } => self.map(model, at, &value.shape, errors),
            _ => at.scalar(&shape.kind, shape.kind_name(), errors),
        }
    }

    fn list(
        &self,
        model: &Model,
        at: At<'_>,
        member_shape: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<ParamValue> {
        let RawNode::Seq(items) = &at.node.value else {
            return at.mismatch(
                errors,
                "a list",
                "write a YAML sequence (`[a, b]` or `- a` lines); `[]` sends an empty list",
            );
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let context = format!("{}[{}]", at.context, i + 1);
            match self.value(model, item, member_shape, &context, errors) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(ParamValue::List(out))
    }

    fn map(
        &self,
        model: &Model,
        at: At<'_>,
        value_shape: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<ParamValue> {
        let RawNode::Map(entries) = &at.node.value else {
            return at.mismatch(errors, "a map", "write a mapping of keys to values");
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (k, v) in entries {
            let key = self.template(&k.value, yaml_span(k), errors);
            let context = format!("{}.{}", at.context, k.value);
            let val = self.value(model, v, value_shape, &context, errors);
            match (key, val) {
                (Some(k), Some(v)) => out.push((k, v)),
                _ => ok = false,
            }
        }
        ok.then_some(ParamValue::Map(out))
    }
}

/// The value being checked and the parameter path it is at (`AssumeRole.Tags[1].Key`).
#[derive(Clone, Copy)]
struct At<'a> {
    node: &'a Spanned<RawNode>,
    context: &'a str,
    checker: &'a Checker<'a>,
}

impl At<'_> {
    fn mismatch(
        self,
        errors: &mut Vec<Diagnostic>,
        expected: &str,
        hint: &str,
    ) -> Option<ParamValue> {
        errors.push(
            self.checker
                .err(
                    yaml_span(self.node),
                    format!(
                        "{} is {expected} in the model, but the scenario gives {}",
                        self.context,
                        self.node.value.describe()
                    ),
                )
                .with_help(hint.to_owned()),
        );
        None
    }

    /// A text, number or boolean member: what YAML scalar each takes.
    fn scalar(
        self,
        kind: &ShapeKind,
        kind_name: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<ParamValue> {
        match kind {
            ShapeKind::String | ShapeKind::Timestamp | ShapeKind::Blob => match &self.node.value {
                RawNode::Str(s) => self
                    .checker
                    .template(s, yaml_span(self.node), errors)
                    .map(ParamValue::Str),
                RawNode::Int(i) if *kind == ShapeKind::Timestamp => Some(ParamValue::Int(*i)),
                RawNode::Int(_) | RawNode::Float(_) | RawNode::Bool(_) => {
                    let text = self.node.value.as_scalar_text().unwrap_or_default();
                    Some(ParamValue::Str(Template::literal(text)))
                }
                _ => self.mismatch(errors, &format!("a {kind_name}"), "write a text value"),
            },
            ShapeKind::Integer | ShapeKind::Long => match &self.node.value {
                RawNode::Int(i) => Some(ParamValue::Int(*i)),
                RawNode::Str(s) => match s.trim().parse::<i64>() {
                    Ok(i) => Some(ParamValue::Int(i)),
                    Err(_) => self.variable(s, errors, "an integer", WHOLE_NUMBER),
                },
                _ => self.mismatch(errors, "an integer", WHOLE_NUMBER),
            },
            ShapeKind::Float | ShapeKind::Double => match &self.node.value {
                RawNode::Int(i) => Some(ParamValue::Float(*i as f64)),
                RawNode::Float(f) => Some(ParamValue::Float(*f)),
                RawNode::Str(s) => {
                    self.variable(s, errors, "a number", "write a number, or use a raw step")
                }
                _ => self.mismatch(errors, "a number", "write a number, or use a raw step"),
            },
            ShapeKind::Boolean => match &self.node.value {
                RawNode::Bool(b) => Some(ParamValue::Bool(*b)),
                RawNode::Str(s) => self.variable(
                    s,
                    errors,
                    "a boolean",
                    "write true or false, or use a raw step",
                ),
                _ => self.mismatch(
                    errors,
                    "a boolean",
                    "write true or false, or use a raw step",
                ),
            },
            // Structures, lists and maps are the checker's, which knows the model.
            _ => None,
        }
    }

    /// Text where a number or boolean belongs: fine when a variable fills it at run time.
    fn variable(
        self,
        text: &str,
        errors: &mut Vec<Diagnostic>,
        expected: &str,
        hint: &str,
    ) -> Option<ParamValue> {
        match self.checker.template(text, yaml_span(self.node), errors) {
            Some(t) if t.has_variables() => Some(ParamValue::Str(t)),
            Some(_) => self.mismatch(errors, expected, hint),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::case::{ParamValue, Request};
    use super::super::testing::{assert_problem, case_with, load, problems};

    fn params(operation: &str, params: &str) -> Result<Vec<(String, ParamValue)>, Vec<String>> {
        let yaml = case_with(&format!("    steps:\n      - params:\n{params}"));
        let cases = load(operation, &yaml)?;
        match &cases[0].steps[0].request {
            Request::Call { params, .. } => Ok(params.clone()),
            Request::Raw(_) => panic!("a raw step"),
        }
    }

    fn refused(operation: &str, yaml: &str) -> Vec<String> {
        params(operation, yaml).expect_err("the parameters are wrong")
    }

    #[test]
    fn an_unknown_parameter_suggests_the_closest_member_at_any_depth() {
        let p = refused(
            "AssumeRole",
            "          RoleArn: x\n          RoleSesionName: ab\n          PolicyArns:\n            - {arn: a, Rn: b}\n",
        );
        assert_problem(
            &p,
            "9:11",
            "unknown parameter `RoleSesionName` for AssumeRole (help: did you mean `RoleSessionName`?)",
        );
        assert_problem(
            &p,
            "11:24",
            "unknown parameter `Rn` for AssumeRole.PolicyArns[1] (help: did you mean `arn`?",
        );
    }

    #[test]
    fn an_unknown_parameter_without_a_close_one_lists_them_all() {
        let p = refused("GetSessionToken", "          Colour: red\n");
        assert_problem(
            &p,
            "8:11",
            "(help: GetSessionToken takes: DurationSeconds, MinimumSessionTokenSize, SerialNumber, TokenCode)",
        );
    }

    #[test]
    fn a_parameter_given_twice_is_refused_at_the_second() {
        // The YAML parser refuses it before the model is asked.
        let p = refused(
            "GetSessionToken",
            "          TokenCode: '1'\n          TokenCode: '2'\n",
        );
        assert_eq!(
            p,
            [
                "9:11: `TokenCode` is written twice in one mapping (help: fix the YAML at that place; scenarios/README.md shows the format)"
            ]
        );
    }

    #[test]
    fn params_of_an_operation_without_input_or_not_a_mapping() {
        let yaml = case_with(
            "    steps:\n      - service: iam\n        operation: GetAccountSummary\n        params: {A: 1}\n",
        );
        let p = problems("GetCallerIdentity", &yaml);
        assert_problem(&p, "9:17", "GetAccountSummary takes no parameters");
        let p = refused("GetCallerIdentity", "          A: 1\n");
        assert_problem(&p, "8:11", "(help: GetCallerIdentity takes no parameters)");
        let p = refused("AssumeRole", "          - RoleArn\n");
        assert_problem(
            &p,
            "8:11",
            "`params` must be a mapping of parameter names to values, not a list",
        );
    }

    #[test]
    fn null_is_never_a_value() {
        let p = refused("AssumeRole", "          RoleArn: ~\n");
        assert_problem(
            &p,
            "8:20",
            "AssumeRole.RoleArn is a string in the model, but the scenario gives nothing (null) (help: give it a value; write '' for an empty string)",
        );
    }

    #[test]
    fn numbers_take_numbers_quoted_numbers_or_variables() {
        let ok = params("AssumeRole", "          DurationSeconds: '900'\n").unwrap();
        assert_eq!(ok[0].1, ParamValue::Int(900));
        let ok = params("AssumeRole", "          DurationSeconds: '{{d}}'\n").unwrap();
        assert!(matches!(&ok[0].1, ParamValue::Str(t) if t.has_variables()));
        let p = refused("AssumeRole", "          DurationSeconds: an hour\n");
        assert_problem(
            &p,
            "8:28",
            "AssumeRole.DurationSeconds is an integer in the model, but the scenario gives the text \"an hour\"",
        );
        assert_problem(&p, "8:28", "use a raw step");
        let p = refused("AssumeRole", "          DurationSeconds: [1]\n");
        assert_problem(
            &p,
            "8:28",
            "is an integer in the model, but the scenario gives a list",
        );
    }

    #[test]
    fn text_takes_scalars_and_structures_take_mappings() {
        let ok = params(
            "AssumeRole",
            "          RoleSessionName: 12\n          ExternalId: true\n",
        )
        .unwrap();
        assert_eq!(
            ok[0].1,
            ParamValue::Str(crate::template::Template::literal("12"))
        );
        let p = refused(
            "AssumeRole",
            "          RoleArn: [a]\n          Tags: {Key: a}\n",
        );
        assert_problem(
            &p,
            "8:20",
            "AssumeRole.RoleArn is a string in the model, but the scenario gives a list (help: write a text value)",
        );
        assert_problem(
            &p,
            "9:17",
            "AssumeRole.Tags is a list in the model, but the scenario gives a mapping",
        );
        let p = refused("AssumeRole", "          Tags: [x]\n");
        assert_problem(
            &p,
            "8:18",
            "AssumeRole.Tags[1] is a structure in the model, but the scenario gives the text \"x\"",
        );
    }

    #[test]
    fn a_bad_template_in_a_value_is_refused_where_it_is() {
        let p = refused("AssumeRole", "          RoleArn: '{{role arn}}'\n");
        assert_problem(&p, "8:20", "`{{role arn}}` is not a variable name");
    }
}
