//! One step: which service and operation it calls (or the raw request it writes), and its
//! role (setup, checked, cleanup). Parameters, credentials and captures have modules of
//! their own.

use serde_saphyr::Spanned;

use super::Checker;
use super::case::{CredentialsSpec, RawRequest, Request, Role, Step};
use super::raw::{RawHttp, RawNode, RawStep};
use crate::diagnostic::{Diagnostic, Span, did_you_mean, span_at, yaml_span};
use crate::model::Model;
use crate::template::Template;

impl Checker<'_> {
    pub(super) fn step(
        &self,
        rs: RawStep,
        dir_operation: &str,
        captured: &[String],
    ) -> Result<Step, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        // A step is known by the line of what it does.
        let (line, col) = (rs.operation.as_ref().map(yaml_span))
            .or(rs.raw.as_ref().map(yaml_span))
            .or(rs.params.as_ref().map(yaml_span))
            .map_or((0, 0), |s| (s.line, s.col));
        let model = self.step_model(&rs).map_err(|d| vec![*d])?;
        let request = match rs.raw {
            Some(raw) => self.raw_step(raw, &rs.operation, &rs.params, &mut errors),
            None => self.call(model, &rs.operation, &rs.params, dir_operation, &mut errors),
        };
        let credentials = match rs.credentials {
            None => CredentialsSpec::Default,
            Some(c) => self.credentials(&c, &mut errors),
        };
        if rs.setup && rs.cleanup {
            errors.push(
                self.err(
                    span_at(&self.source, line.max(1), 1, 0),
                    "a step cannot be both `setup` and `cleanup`",
                )
                .with_help("a setup step runs first and a cleanup step last: write two steps"),
            );
        }
        let mut captures = Vec::new();
        if let Some(cap) = rs.capture {
            self.captures(&cap, captured, &mut captures, &mut errors);
        }
        match request {
            Some(request) if errors.is_empty() => Ok(Step {
                service: model.service.clone(),
                name: rs.name,
                role: match (rs.setup, rs.cleanup) {
                    (true, _) => Role::Setup,
                    (false, true) => Role::Cleanup,
                    (false, false) => Role::Check,
                },
                request,
                credentials,
                captures,
                line,
                col,
            }),
            _ => Err(errors),
        }
    }

    /// The model a step calls: its case's, or the one its `service:` names (which must then
    /// say the operation too, as only the case's own defaults to the directory's).
    fn step_model(&self, rs: &RawStep) -> Result<&Model, Box<Diagnostic>> {
        let Some(svc) = &rs.service else {
            return Ok(self.model);
        };
        let Some(model) = self.models.get(&svc.value) else {
            let d = self.err(
                yaml_span(svc),
                format!("no model for service `{}`", svc.value),
            );
            return Err(Box::new(
                match did_you_mean(&svc.value, self.models.keys().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "models/ holds: {}",
                        self.models.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                },
            ));
        };
        if rs.operation.is_none() && rs.raw.is_none() {
            return Err(Box::new(self
                .err(yaml_span(svc), "a step that names a service must name its operation")
                .with_help("add `operation:`; only the case's own service defaults to the directory's operation")));
        }
        Ok(model)
    }

    /// A modelled call: the operation (the directory's unless named) and its parameters.
    fn call(
        &self,
        model: &Model,
        operation: &Option<Spanned<String>>,
        params: &Option<Spanned<RawNode>>,
        dir_operation: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<Request> {
        let (op_name, op_span) = match operation {
            Some(o) => (o.value.as_str(), yaml_span(o)),
            None => (dir_operation, Span::default()),
        };
        let Some(op) = model.operation(op_name) else {
            let d = self.err(
                op_span,
                format!(
                    "unknown operation `{op_name}` for service `{}`",
                    model.service
                ),
            );
            errors.push(
                match did_you_mean(op_name, model.operations.keys().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "the {} model has: {}",
                        model.service,
                        model.operation_list()
                    )),
                },
            );
            return None;
        };
        let params = self.params(model, op_name, op.input.as_deref(), params.as_ref(), errors)?;
        Some(Request::Call {
            operation: op_name.to_owned(),
            params,
        })
    }

    /// A hand-written request, which says everything itself: no operation, no parameters.
    fn raw_step(
        &self,
        raw: Spanned<RawHttp>,
        operation: &Option<Spanned<String>>,
        params: &Option<Spanned<RawNode>>,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<Request> {
        if let Some(op) = operation {
            errors.push(
                self.err(
                    yaml_span(op),
                    "a step has either `operation`/`params` or `raw`, not both",
                )
                .with_help("a raw step writes the whole request itself; drop `operation`"),
            );
        }
        if let Some(p) = params {
            errors.push(
                self.err(yaml_span(p), "a raw step takes no `params`")
                    .with_help("write the parameters into `raw.body` or `raw.query`"),
            );
        }
        self.raw_request(raw.value, errors)
            .map(|r| Request::Raw(Box::new(r)))
    }

    fn raw_request(&self, r: RawHttp, errors: &mut Vec<Diagnostic>) -> Option<RawRequest> {
        let method = r
            .method
            .map_or_else(|| "POST".to_owned(), |m| m.value.to_ascii_uppercase());
        let mut text =
            |t: Option<Spanned<String>>| t.map(|t| self.template(&t.value, yaml_span(&t), errors));
        let path = text(r.path).unwrap_or_else(|| Some(Template::literal("/")));
        let query = text(r.query);
        let body = text(r.body);
        let headers = match r.headers {
            Some(h) => self.headers(&h, errors),
            None => Vec::new(),
        };
        Some(RawRequest {
            method,
            path: path?,
            query: query.flatten(),
            body: body.flatten(),
            headers,
        })
    }

    fn headers(
        &self,
        h: &Spanned<RawNode>,
        errors: &mut Vec<Diagnostic>,
    ) -> Vec<(String, Template)> {
        let RawNode::Map(entries) = &h.value else {
            errors.push(self.err(
                yaml_span(h),
                format!(
                    "`headers` must be a mapping of header names to values, not {}",
                    h.value.describe()
                ),
            ));
            return Vec::new();
        };
        let mut headers = Vec::new();
        for (k, v) in entries {
            match v.value.as_scalar_text() {
                Some(text) => {
                    if let Some(t) = self.template(&text, yaml_span(v), errors) {
                        headers.push((k.value.clone(), t));
                    }
                }
                None => errors.push(self.err(
                    yaml_span(v),
                    format!(
                        "header `{}` must be a text value, not {}",
                        k.value,
                        v.value.describe()
                    ),
                )),
            }
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::super::case::{Request, Role};
    use super::super::testing::{assert_problem, case_with, load, problems};

    fn steps(yaml: &str) -> String {
        case_with(&format!("    steps:\n{yaml}"))
    }

    #[test]
    fn an_unknown_operation_suggests_the_closest_one() {
        let p = problems("AssumeRole", &steps("      - operation: AssumeRol\n"));
        assert_problem(
            &p,
            "7:20",
            "unknown operation `AssumeRol` for service `sts` (help: did you mean `AssumeRole`?)",
        );
        let p = problems("AssumeRole", &steps("      - operation: ListBuckets\n"));
        assert_problem(&p, "7:20", "(help: the sts model has: ");
    }

    #[test]
    fn a_step_without_operation_calls_the_directory_operation() {
        let cases = load(
            "GetCallerIdentity",
            &steps("      - name: who\n        params: {}\n"),
        )
        .unwrap();
        let step = &cases[0].steps[0];
        assert!(
            matches!(&step.request, Request::Call { operation, params } if operation == "GetCallerIdentity" && params.is_empty())
        );
        assert_eq!((step.name.as_deref(), step.line), (Some("who"), 8));
    }

    #[test]
    fn an_unknown_service_suggests_one_and_another_service_needs_its_operation() {
        let p = problems(
            "AssumeRole",
            &steps("      - service: iamm\n        operation: CreateRole\n"),
        );
        assert_problem(
            &p,
            "7:18",
            "no model for service `iamm` (help: did you mean `iam`?)",
        );
        let p = problems(
            "AssumeRole",
            &steps("      - service: iam\n        setup: true\n"),
        );
        assert_problem(
            &p,
            "7:18",
            "a step that names a service must name its operation",
        );
    }

    #[test]
    fn a_step_of_another_service_is_that_service_s() {
        let cases = load(
            "AssumeRole",
            &steps(
                "      - service: iam\n        operation: GetUser\n        setup: true\n      - params: {RoleArn: x, RoleSessionName: ab}\n",
            ),
        )
        .unwrap();
        let s = &cases[0].steps;
        assert_eq!((s[0].service.as_str(), s[0].role), ("iam", Role::Setup));
        assert_eq!((s[1].service.as_str(), s[1].role), ("sts", Role::Check));
    }

    #[test]
    fn a_raw_step_takes_neither_operation_nor_params() {
        let p = problems(
            "GetCallerIdentity",
            &steps(
                "      - operation: GetCallerIdentity\n        params: {}\n        raw: {body: Action=GetCallerIdentity}\n",
            ),
        );
        assert_problem(&p, "7:20", "either `operation`/`params` or `raw`, not both");
        assert_problem(&p, "8:17", "a raw step takes no `params`");
    }

    #[test]
    fn a_raw_step_reads_method_path_headers_and_templates() {
        let cases = load(
            "GetCallerIdentity",
            &steps(
                "      - raw:\n          method: get\n          query: 'Action=X&v={{region}}'\n          headers: {X-Num: 3}\n",
            ),
        )
        .unwrap();
        let Request::Raw(r) = &cases[0].steps[0].request else {
            panic!("not raw");
        };
        assert_eq!(r.method, "GET");
        assert_eq!(r.path.as_literal(), Some("/"));
        assert_eq!(
            r.query.as_ref().unwrap().variables().collect::<Vec<_>>(),
            ["region"]
        );
        assert_eq!(r.headers[0].0, "X-Num");
        assert_eq!(r.headers[0].1.as_literal(), Some("3"));
    }

    #[test]
    fn raw_headers_must_be_a_mapping_of_text() {
        let p = problems("GetCallerIdentity", &steps("      - raw: {headers: [a]}\n"));
        assert_problem(
            &p,
            "7:24",
            "`headers` must be a mapping of header names to values, not a list",
        );
        let p = problems(
            "GetCallerIdentity",
            &steps("      - raw: {headers: {X-A: [1]}, body: '{{open'}\n"),
        );
        assert_problem(&p, "7:30", "header `X-A` must be a text value, not a list");
        assert_problem(&p, "7:42", "is not closed by");
    }

    #[test]
    fn setup_and_cleanup_at_once_is_refused_at_the_step() {
        let p = problems(
            "GetCallerIdentity",
            &steps(
                "      - operation: GetCallerIdentity\n        setup: true\n        cleanup: true\n",
            ),
        );
        assert_problem(&p, "7:1", "a step cannot be both `setup` and `cleanup`");
    }
}
