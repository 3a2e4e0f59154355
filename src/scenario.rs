//! Scenario files: YAML in, typed and model-checked [`Case`]s out. Every problem is a
//! [`Diagnostic`] anchored at the file, line and column where it was written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Span, did_you_mean, span_at};
use crate::model::{Model, ShapeKind};
use crate::redact::{PinRefusal, Rules};
use crate::template::Template;
use crate::xml::ElementPath;

/// What a case is about; drives reports and coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    DocExample,
    Limit,
    Exception,
    Protocol,
    Flow,
}

/// Where the expected outcome of a case comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provenance {
    Documented,
    Recorded,
    Inferred,
}

impl Kind {
    pub const ALL: [(&'static str, Kind); 5] = [
        ("doc-example", Kind::DocExample),
        ("limit", Kind::Limit),
        ("exception", Kind::Exception),
        ("protocol", Kind::Protocol),
        ("flow", Kind::Flow),
    ];
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(n, _)| n)
    }
}

impl Provenance {
    pub const ALL: [(&'static str, Provenance); 3] = [
        ("documented", Provenance::Documented),
        ("recorded", Provenance::Recorded),
        ("inferred", Provenance::Inferred),
    ];
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(n, _)| n)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One scenario: a named, self-contained sequence of requests with one snapshot.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub service: String,
    /// The operation directory the case lives in.
    pub operation: String,
    pub kind: Kind,
    pub provenance: Provenance,
    pub description: String,
    /// Free text naming where the expected outcome comes from (a seed, a recording).
    pub source: Option<String>,
    /// Variables naming what the target must provide for the outcome to show at all (a
    /// region where STS is disabled): declared ones, checked at load.
    pub requires: Vec<String>,
    /// Element rules (as their `element:` is written) whose values the snapshot holds as
    /// they are: values known not to change from run to run. Checked pinnable at load.
    pub pin: Vec<String>,
    pub steps: Vec<Step>,
    /// The scenario file, relative to the scenarios root.
    pub file: String,
    /// Where the case's id is written.
    pub line: u32,
    pub col: u32,
}

impl Case {
    /// `<service>::<operation>::<case-id>`: the test name and the filter target.
    pub fn test_name(&self) -> String {
        format!("{}::{}::{}", self.service, self.operation, self.id)
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    /// The service the step calls: the case's own unless the step names another (an IAM
    /// setup step in an STS case).
    pub service: String,
    pub name: Option<String>,
    pub role: Role,
    pub request: Request,
    pub credentials: CredentialsSpec,
    pub captures: Vec<Capture>,
    /// Where the step's operation, raw request or parameters are written: run-time errors
    /// point there.
    pub line: u32,
    pub col: u32,
}

/// What a step is for. Setup and cleanup steps prepare and remove account state (an IAM
/// role to assume); their answers vary from run to run and stay out of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs first; must succeed (2xx), or the case stops with an error.
    Setup,
    /// The steps whose answers the snapshot holds.
    Check,
    /// Runs last, whatever happened before; a failure is reported, not compared.
    Cleanup,
}

#[derive(Debug, Clone)]
pub enum Request {
    /// A modelled call, serialized from the model.
    Call {
        operation: String,
        params: Vec<(String, ParamValue)>,
    },
    /// A hand-written request for protocol-level cases.
    Raw(RawRequest),
}

#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: String,
    pub path: Template,
    pub query: Option<Template>,
    pub body: Option<Template>,
    pub headers: Vec<(String, Template)>,
}

#[derive(Debug, Clone)]
pub enum CredentialsSpec {
    /// The target's credentials, or unsigned when the model says the operation is.
    Default,
    /// The target's credentials even for an operation the model marks unsigned.
    Target,
    /// Send without a signature.
    Unsigned,
    /// Explicit keys, usually `{{captures}}` of an earlier step.
    Explicit {
        access_key_id: Template,
        secret_access_key: Template,
        session_token: Option<Template>,
    },
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub variable: String,
    pub path: ElementPath,
}

/// A parameter value checked against its model shape.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Str(Template),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<ParamValue>),
    /// Structure members or map entries, in the order written.
    Map(Vec<(Template, ParamValue)>),
}

/// Parses one scenario file. `rel` is the path shown in errors and reports; `service` and
/// `operation` come from the directory the file is in, and `rules` are that service's
/// redaction rules (what a case may pin).
pub fn parse_file(
    rel: &str,
    text: &str,
    models: &BTreeMap<String, Model>,
    rules: &Rules,
    service: &str,
    operation: &str,
) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let source: Arc<str> = Arc::from(text);
    let ctx = Ctx {
        file: Path::new(rel),
        source: source.clone(),
        model: &models[service],
        models,
        rules,
    };
    let raw: RawFile = match serde_saphyr::from_str(text) {
        Ok(raw) => raw,
        Err(e) => return Err(vec![ctx.yaml_error(&e)]),
    };
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for rc in raw.cases {
        match ctx.case(rc, operation) {
            Ok(c) => cases.push(c),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if raw_is_empty(&cases, &errors) {
        errors.push(
            Diagnostic::new(
                ctx.file,
                source,
                span_at(text, 1, 1, 0),
                "the file holds no cases",
            )
            .with_help("add at least one entry under `cases:`"),
        );
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

fn raw_is_empty(cases: &[Case], errors: &[Diagnostic]) -> bool {
    cases.is_empty() && errors.is_empty()
}

struct Ctx<'a> {
    file: &'a Path,
    source: Arc<str>,
    /// The case's service.
    model: &'a Model,
    models: &'a BTreeMap<String, Model>,
    /// The case's service's redaction rules.
    rules: &'a Rules,
}

impl Ctx<'_> {
    fn err(&self, span: Span, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.file, self.source.clone(), span, msg)
    }

    fn yaml_error(&self, e: &serde_saphyr::Error) -> Diagnostic {
        let span = match e.location() {
            Some(loc) => {
                let line = loc.line() as u32;
                let col = loc.column() as u32;
                span_at(&self.source, line.max(1), col.max(1), 1)
            }
            None => span_at(&self.source, 1, 1, 0),
        };
        let message = yaml_message(e);
        let help = if message.contains("unknown field") {
            "check the spelling; scenarios/README.md lists every field"
        } else if message.contains("missing field") {
            "add the field; scenarios/README.md says what each case and step needs"
        } else {
            "fix the YAML at that place; scenarios/README.md shows the format"
        };
        self.err(span, message).with_help(help)
    }

    fn case(&self, rc: RawCase, dir_operation: &str) -> Result<Case, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let id_span = span_of(&rc.id);
        let id = rc.id.value;
        let id_ok = !id.is_empty()
            && id.len() <= 100
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !id_ok {
            errors.push(
                self.err(id_span, format!("case id `{id}` is not usable as a test and file name"))
                    .with_help("use letters, digits, `-`, `_` and `.`, starting with a letter or digit, at most 100 characters"),
            );
        }
        let kind = self.choice(&rc.kind, &Kind::ALL, "kind", &mut errors);
        let provenance = self.choice(&rc.provenance, &Provenance::ALL, "provenance", &mut errors);
        if rc.description.value.trim().is_empty() {
            errors.push(
                self.err(span_of(&rc.description), "the description is empty")
                    .with_help("say in a sentence what the case checks"),
            );
        }
        if rc.steps.value.is_empty() {
            errors.push(
                self.err(span_of(&rc.steps), "a case needs at least one step")
                    .with_help("add a step with `operation:` and `params:`, or `raw:`"),
            );
        }
        let pin = self.pins(rc.pin, &mut errors);
        let mut steps = Vec::new();
        let mut captured: Vec<String> = Vec::new();
        for rs in rc.steps.value {
            match self.step(rs, dir_operation, &captured) {
                Ok(s) => {
                    captured.extend(s.captures.iter().map(|c| c.variable.clone()));
                    steps.push(s);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        // Setup steps first, then the checked ones, then cleanup: the order they run in.
        let rank = |r: Role| match r {
            Role::Setup => 0,
            Role::Check => 1,
            Role::Cleanup => 2,
        };
        for pair in steps.windows(2) {
            if rank(pair[1].role) < rank(pair[0].role) {
                errors.push(
                    self.err(span_at(&self.source, pair[1].line.max(1), 1, 0), "steps are out of order: setup steps come first, cleanup steps last")
                        .with_help("move this step so that setup, checked and cleanup steps follow each other in that order"),
                );
            }
        }
        if !steps.is_empty() && !steps.iter().any(|s| s.role == Role::Check) {
            errors.push(
                self.err(id_span, "this case has no step whose answer it checks")
                    .with_help("setup and cleanup steps stay out of the snapshot; add a step without `setup` or `cleanup`"),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Case {
            id,
            service: self.model.service.clone(),
            operation: dir_operation.to_owned(),
            kind: kind.expect("no error means a kind"),
            provenance: provenance.expect("no error means a provenance"),
            description: rc.description.value.trim().to_owned(),
            source: rc.source,
            requires: rc.requires,
            pin,
            steps,
            file: self.file.display().to_string().replace('\\', "/"),
            line: id_span.line,
            col: id_span.col,
        })
    }

    /// A case's `pin:`: element rules of the case's service that may be pinned, each once.
    fn pins(
        &self,
        pin: Option<Spanned<Vec<Spanned<String>>>>,
        errors: &mut Vec<Diagnostic>,
    ) -> Vec<String> {
        let Some(pin) = pin else {
            return Vec::new();
        };
        if pin.value.is_empty() {
            errors.push(
                self.err(span_of(&pin), "`pin` names no element rule")
                    .with_help("name the rules whose values this case knows (`pin: [PackedPolicySize]`), or leave `pin` out"),
            );
            return Vec::new();
        }
        let service = &self.model.service;
        let mut out: Vec<String> = Vec::new();
        for entry in pin.value {
            let at = span_of(&entry);
            let name = entry.value;
            if out.contains(&name) {
                errors.push(
                    self.err(at, format!("`{name}` is pinned twice"))
                        .with_help("name each rule once in `pin`"),
                );
                continue;
            }
            match self.rules.check_pin(&name) {
                Ok(()) => {}
                Err(PinRefusal::Unknown) => {
                    let pinnable: Vec<&str> = self.rules.pinnable_elements().collect();
                    let list = if pinnable.is_empty() {
                        format!("models/{service}.redact.yaml has no pinnable rule")
                    } else {
                        format!("the pinnable rules of {service} are: {}", pinnable.join(", "))
                    };
                    // A path written longer than the rule (`AssumeRoleResult/PackedPolicySize`)
                    // is as likely a slip as a misspelling.
                    let suggestion = pinnable
                        .iter()
                        .copied()
                        .find(|p| name.ends_with(&format!("/{p}")))
                        .or_else(|| did_you_mean(&name, pinnable.iter().copied()));
                    let help = match suggestion {
                        Some(s) => format!("did you mean `{s}`? ({list})"),
                        None => format!("write a rule's `element:` exactly; {list}"),
                    };
                    errors.push(
                        self.err(
                            at,
                            format!("`{name}` is no element rule of {service}"),
                        )
                        .with_help(help),
                    );
                }
                Err(PinRefusal::NotPinnable(why)) => errors.push(
                    self.err(
                        at,
                        format!("the rule `{name}` is not pinnable because {why}"),
                    )
                    .with_help(format!("remove it from `pin`: its value stays a placeholder that checks its shape (models/{service}.redact.yaml)")),
                ),
            }
            out.push(name);
        }
        out
    }

    fn choice<T: Copy>(
        &self,
        given: &Spanned<String>,
        all: &[(&'static str, T)],
        what: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<T> {
        if let Some((_, v)) = all.iter().find(|(n, _)| *n == given.value) {
            return Some(*v);
        }
        let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
        let mut help = format!("{what} is one of: {}", names.join(", "));
        if let Some(s) = did_you_mean(&given.value, names.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        errors.push(
            self.err(span_of(given), format!("unknown {what} `{}`", given.value))
                .with_help(help),
        );
        None
    }

    fn step(
        &self,
        rs: RawStep,
        dir_operation: &str,
        captured: &[String],
    ) -> Result<Step, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let (line, col) = rs
            .operation
            .as_ref()
            .map(span_of)
            .or(rs.raw.as_ref().map(span_of))
            .or(rs.params.as_ref().map(span_of))
            .map_or((0, 0), |s| (s.line, s.col));
        let model = match &rs.service {
            None => self.model,
            Some(svc) => match self.models.get(&svc.value) {
                Some(m) => m,
                None => {
                    let names = self.models.keys().map(String::as_str);
                    let mut d = self.err(
                        span_of(svc),
                        format!("no model for service `{}`", svc.value),
                    );
                    d = match did_you_mean(&svc.value, names) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(format!(
                            "models/ holds: {}",
                            self.models.keys().cloned().collect::<Vec<_>>().join(", ")
                        )),
                    };
                    return Err(vec![d]);
                }
            },
        };
        if let Some(svc) = &rs.service
            && rs.operation.is_none()
            && rs.raw.is_none()
        {
            errors.push(
                self.err(span_of(svc), "a step that names a service must name its operation")
                    .with_help("add `operation:`; only the case's own service defaults to the directory's operation"),
            );
            return Err(errors);
        }
        let request = if let Some(raw) = rs.raw {
            if let Some(op) = rs.operation.as_ref() {
                errors.push(
                    self.err(
                        span_of(op),
                        "a step has either `operation`/`params` or `raw`, not both",
                    )
                    .with_help("a raw step writes the whole request itself; drop `operation`"),
                );
            }
            if let Some(p) = rs.params.as_ref() {
                errors.push(
                    self.err(span_of(p), "a raw step takes no `params`")
                        .with_help("write the parameters into `raw.body` or `raw.query`"),
                );
            }
            self.raw_request(raw, &mut errors).map(Request::Raw)
        } else {
            let (op_name, op_span) = match &rs.operation {
                Some(o) => (o.value.as_str(), span_of(o)),
                None => (dir_operation, Span::default()),
            };
            match model.operation(op_name) {
                None => {
                    let mut d = self.err(
                        op_span,
                        format!(
                            "unknown operation `{op_name}` for service `{}`",
                            model.service
                        ),
                    );
                    d = match did_you_mean(op_name, model.operations.keys().map(String::as_str)) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(format!(
                            "the {} model has: {}",
                            model.service,
                            model.operation_list()
                        )),
                    };
                    errors.push(d);
                    None
                }
                Some(op) => {
                    let params = match (&rs.params, op.input.as_deref()) {
                        (None, _) => Some(Vec::new()),
                        (Some(p), None) if matches!(p.value, RawNode::Null) => Some(Vec::new()),
                        (Some(p), None) => {
                            errors.push(
                                self.err(span_of(p), format!("{op_name} takes no parameters"))
                                    .with_help(
                                        "remove `params`, or use a raw step to send extra ones",
                                    ),
                            );
                            None
                        }
                        (Some(p), Some(input)) => match &p.value {
                            RawNode::Null => Some(Vec::new()),
                            RawNode::Map(entries) => {
                                self.members(model, entries, input, op_name, &mut errors)
                            }
                            other => {
                                errors.push(self.err(
                                    span_of(p),
                                    format!(
                                        "`params` must be a mapping of parameter names to values, not {}",
                                        other.describe()
                                    ),
                                ));
                                None
                            }
                        },
                    };
                    params.map(|params| Request::Call {
                        operation: op_name.to_owned(),
                        params,
                    })
                }
            }
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

    fn raw_request(
        &self,
        raw: Spanned<RawRaw>,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<RawRequest> {
        let r = raw.value;
        let method = r
            .method
            .map_or_else(|| "POST".to_owned(), |m| m.value.to_ascii_uppercase());
        let path = match r.path {
            Some(p) => self.template(&p.value, span_of(&p), errors),
            None => Some(Template::literal("/")),
        };
        let query = r
            .query
            .map(|q| self.template(&q.value, span_of(&q), errors));
        let body = r.body.map(|b| self.template(&b.value, span_of(&b), errors));
        let mut headers = Vec::new();
        if let Some(h) = r.headers {
            match &h.value {
                RawNode::Map(entries) => {
                    for (k, v) in entries {
                        match v.value.as_scalar_text() {
                            Some(text) => {
                                if let Some(t) = self.template(&text, span_of(v), errors) {
                                    headers.push((k.value.clone(), t));
                                }
                            }
                            None => errors.push(self.err(
                                span_of(v),
                                format!(
                                    "header `{}` must be a text value, not {}",
                                    k.value,
                                    v.value.describe()
                                ),
                            )),
                        }
                    }
                }
                other => errors.push(self.err(
                    span_of(&h),
                    format!(
                        "`headers` must be a mapping of header names to values, not {}",
                        other.describe()
                    ),
                )),
            }
        }
        Some(RawRequest {
            method,
            path: path?,
            query: query.flatten(),
            body: body.flatten(),
            headers,
        })
    }

    fn credentials(&self, c: &Spanned<RawNode>, errors: &mut Vec<Diagnostic>) -> CredentialsSpec {
        let help = "write `credentials: none` (unsigned), `credentials: target`, or a mapping with access_key_id, secret_access_key and optionally session_token";
        match &c.value {
            RawNode::Str(s) if s == "none" => CredentialsSpec::Unsigned,
            RawNode::Str(s) if s == "target" => CredentialsSpec::Target,
            RawNode::Map(entries) => {
                let mut ak = None;
                let mut sk = None;
                let mut tok = None;
                for (k, v) in entries {
                    let slot = match k.value.as_str() {
                        "access_key_id" => &mut ak,
                        "secret_access_key" => &mut sk,
                        "session_token" => &mut tok,
                        other => {
                            let mut d = self
                                .err(span_of(k), format!("unknown credentials field `{other}`"));
                            d = match did_you_mean(
                                other,
                                ["access_key_id", "secret_access_key", "session_token"],
                            ) {
                                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                                None => d.with_help(help),
                            };
                            errors.push(d);
                            continue;
                        }
                    };
                    match &v.value {
                        RawNode::Str(s) => *slot = self.template(s, span_of(v), errors),
                        other => errors.push(self.err(
                            span_of(v),
                            format!("`{}` must be text, not {}", k.value, other.describe()),
                        )),
                    }
                }
                match (ak, sk) {
                    (Some(access_key_id), Some(secret_access_key)) => CredentialsSpec::Explicit {
                        access_key_id,
                        secret_access_key,
                        session_token: tok,
                    },
                    _ => {
                        errors.push(
                            self.err(
                                span_of(c),
                                "credentials need both access_key_id and secret_access_key",
                            )
                            .with_help(help),
                        );
                        CredentialsSpec::Default
                    }
                }
            }
            other => {
                errors.push(
                    self.err(
                        span_of(c),
                        format!("credentials cannot be {}", other.describe()),
                    )
                    .with_help(help),
                );
                CredentialsSpec::Default
            }
        }
    }

    fn captures(
        &self,
        cap: &Spanned<RawNode>,
        earlier: &[String],
        out: &mut Vec<Capture>,
        errors: &mut Vec<Diagnostic>,
    ) {
        let RawNode::Map(entries) = &cap.value else {
            errors.push(
                self.err(
                    span_of(cap),
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
            let name_ok = !k.value.is_empty()
                && k.value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !name_ok {
                errors.push(
                    self.err(span_of(k), format!("`{}` is not a variable name", k.value))
                        .with_help("use letters, digits, `_`, `-` and `.`"),
                );
                continue;
            }
            if earlier.contains(&k.value) || out.iter().any(|c| c.variable == k.value) {
                errors.push(
                    self.err(
                        span_of(k),
                        format!("variable `{}` is captured twice in this case", k.value),
                    )
                    .with_help("give each capture its own name"),
                );
                continue;
            }
            let RawNode::Str(path) = &v.value else {
                errors.push(self.err(
                    span_of(v),
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
                    self.err(span_of(v), format!("bad capture path `{path}`: {e}"))
                        .with_help("paths name elements below the root, separated by `/`, e.g. `AssumeRoleResult/Credentials/AccessKeyId`; `//Name` finds the first `Name` anywhere"),
                ),
            }
        }
    }

    fn template(&self, text: &str, span: Span, errors: &mut Vec<Diagnostic>) -> Option<Template> {
        match Template::parse(text) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(
                    self.err(span, e.to_string())
                        .with_help("variables are written `{{name}}`"),
                );
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
        let shape = model.shape(shape_name);
        let ShapeKind::Structure { members, .. } = &shape.kind else {
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (k, v) in entries {
            let Some(member) = members.get(&k.value) else {
                ok = false;
                let mut d = self.err(
                    span_of(k),
                    format!("unknown parameter `{}` for {context}", k.value),
                );
                d = match did_you_mean(&k.value, members.keys().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None if members.is_empty() => {
                        d.with_help(format!("{context} takes no parameters"))
                    }
                    None => d.with_help(format!(
                        "{context} takes: {}",
                        members.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                };
                errors.push(d);
                continue;
            };
            if out.iter().any(|(n, _)| n == &k.value) {
                ok = false;
                errors.push(
                    self.err(
                        span_of(k),
                        format!("parameter `{}` is given twice", k.value),
                    )
                    .with_help("to send a parameter twice on purpose, use a raw step"),
                );
                continue;
            }
            match self.value(
                model,
                v,
                &member.shape,
                &format!("{context}.{}", k.value),
                errors,
            ) {
                Some(val) => out.push((k.value.clone(), val)),
                None => ok = false,
            }
        }
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
        let span = span_of(node);
        let mismatch = |errors: &mut Vec<Diagnostic>, expected: &str, hint: &str| {
            errors.push(
                self.err(
                    span,
                    format!(
                        "{context} is {expected} in the model, but the scenario gives {}",
                        node.value.describe()
                    ),
                )
                .with_help(hint.to_owned()),
            );
            None
        };
        if let RawNode::Null = node.value {
            return mismatch(
                errors,
                &format!("a {}", shape.kind_name()),
                "give it a value; write '' for an empty string",
            );
        }
        match &shape.kind {
            ShapeKind::Structure { .. } => match &node.value {
                RawNode::Map(entries) => self
                    .members(model, entries, shape_name, context, errors)
                    .map(|m| {
                        ParamValue::Map(
                            m.into_iter()
                                .map(|(k, v)| (Template::literal(k), v))
                                .collect(),
                        )
                    }),
                _ => mismatch(
                    errors,
                    "a structure",
                    "write a mapping of member names to values",
                ),
            },
            ShapeKind::List { member } => match &node.value {
                RawNode::Seq(items) => {
                    let mut out = Vec::new();
                    let mut ok = true;
                    for (i, item) in items.iter().enumerate() {
                        match self.value(
                            model,
                            item,
                            &member.shape,
                            &format!("{context}[{}]", i + 1),
                            errors,
                        ) {
                            Some(v) => out.push(v),
                            None => ok = false,
                        }
                    }
                    ok.then_some(ParamValue::List(out))
                }
                _ => mismatch(
                    errors,
                    "a list",
                    "write a YAML sequence (`[a, b]` or `- a` lines); `[]` sends an empty list",
                ),
            },
            ShapeKind::Map { value, .. } => match &node.value {
                RawNode::Map(entries) => {
                    let mut out = Vec::new();
                    let mut ok = true;
                    for (k, v) in entries {
                        let key = self.template(&k.value, span_of(k), errors);
                        let val = self.value(
                            model,
                            v,
                            &value.shape,
                            &format!("{context}.{}", k.value),
                            errors,
                        );
                        match (key, val) {
                            (Some(k), Some(v)) => out.push((k, v)),
                            _ => ok = false,
                        }
                    }
                    ok.then_some(ParamValue::Map(out))
                }
                _ => mismatch(errors, "a map", "write a mapping of keys to values"),
            },
            ShapeKind::String | ShapeKind::Timestamp | ShapeKind::Blob => match &node.value {
                RawNode::Str(s) => self.template(s, span, errors).map(ParamValue::Str),
                RawNode::Int(i) if shape.kind == ShapeKind::Timestamp => Some(ParamValue::Int(*i)),
                RawNode::Int(_) | RawNode::Float(_) | RawNode::Bool(_) => {
                    let text = node.value.as_scalar_text().unwrap_or_default();
                    Some(ParamValue::Str(Template::literal(text)))
                }
                _ => mismatch(
                    errors,
                    &format!("a {}", shape.kind_name()),
                    "write a text value",
                ),
            },
            ShapeKind::Integer | ShapeKind::Long => match &node.value {
                RawNode::Int(i) => Some(ParamValue::Int(*i)),
                RawNode::Str(s) => match s.trim().parse::<i64>() {
                    Ok(i) => Some(ParamValue::Int(i)),
                    Err(_) => match self.template(s, span, errors) {
                        Some(t) if t.has_variables() => Some(ParamValue::Str(t)),
                        Some(_) => mismatch(
                            errors,
                            "an integer",
                            "write a whole number; to send something that is not a number, use a raw step",
                        ),
                        None => None,
                    },
                },
                _ => mismatch(
                    errors,
                    "an integer",
                    "write a whole number; to send something that is not a number, use a raw step",
                ),
            },
            ShapeKind::Float | ShapeKind::Double => match &node.value {
                RawNode::Int(i) => Some(ParamValue::Float(*i as f64)),
                RawNode::Float(f) => Some(ParamValue::Float(*f)),
                RawNode::Str(s) => match self.template(s, span, errors) {
                    Some(t) if t.has_variables() => Some(ParamValue::Str(t)),
                    Some(_) => mismatch(errors, "a number", "write a number, or use a raw step"),
                    None => None,
                },
                _ => mismatch(errors, "a number", "write a number, or use a raw step"),
            },
            ShapeKind::Boolean => match &node.value {
                RawNode::Bool(b) => Some(ParamValue::Bool(*b)),
                RawNode::Str(s) => match self.template(s, span, errors) {
                    Some(t) if t.has_variables() => Some(ParamValue::Str(t)),
                    Some(_) => mismatch(
                        errors,
                        "a boolean",
                        "write true or false, or use a raw step",
                    ),
                    None => None,
                },
                _ => mismatch(
                    errors,
                    "a boolean",
                    "write true or false, or use a raw step",
                ),
            },
        }
    }
}

/// The parser's message without its own snippet: we render location and caret ourselves.
pub(crate) fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    // The parser appends its own " at line X column Y"; the diagnostic already says where.
    let text = match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    // Say what the scenario format wanted in its own terms, not the parser's.
    let text = text.trim();
    for (parser, ours) in [
        (
            "expected sequence start",
            "expected a list here (items start with `- `)",
        ),
        (
            "expected mapping start",
            "expected a mapping here (`name: value` lines)",
        ),
        ("expected string scalar", "expected a text value here"),
    ] {
        if text == parser {
            return ours.to_owned();
        }
    }
    text.to_owned()
}

fn span_of<T>(s: &Spanned<T>) -> Span {
    let loc = s.referenced;
    let sp = loc.span();
    Span {
        line: loc.line() as u32,
        col: loc.column() as u32,
        offset: sp.byte_offset().unwrap_or(0) as usize,
        len: sp.byte_len().unwrap_or(0) as usize,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: Spanned<String>,
    kind: Spanned<String>,
    provenance: Spanned<String>,
    description: Spanned<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    pin: Option<Spanned<Vec<Spanned<String>>>>,
    steps: Spanned<Vec<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    name: Option<String>,
    service: Option<Spanned<String>>,
    #[serde(default)]
    setup: bool,
    #[serde(default)]
    cleanup: bool,
    operation: Option<Spanned<String>>,
    params: Option<Spanned<RawNode>>,
    credentials: Option<Spanned<RawNode>>,
    capture: Option<Spanned<RawNode>>,
    raw: Option<Spanned<RawRaw>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRaw {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    query: Option<Spanned<String>>,
    body: Option<Spanned<String>>,
    headers: Option<Spanned<RawNode>>,
}

/// Any YAML value, with the location of every node.
#[derive(Debug, Clone)]
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<String>, Spanned<RawNode>)>),
}

impl RawNode {
    fn describe(&self) -> String {
        match self {
            RawNode::Null => "nothing (null)".into(),
            RawNode::Bool(b) => format!("the boolean {b}"),
            RawNode::Int(i) => format!("the number {i}"),
            RawNode::Float(f) => format!("the number {f}"),
            RawNode::Str(s) => format!("the text {s:?}"),
            RawNode::Seq(_) => "a list".into(),
            RawNode::Map(_) => "a mapping".into(),
        }
    }

    fn as_scalar_text(&self) -> Option<String> {
        match self {
            RawNode::Bool(b) => Some(b.to_string()),
            RawNode::Int(i) => Some(i.to_string()),
            RawNode::Float(f) => Some(f.to_string()),
            RawNode::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
        i64::try_from(v)
            .map(RawNode::Int)
            .map_err(|_| E::custom(format!("the number {v} is too large")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
            out.push(item);
        }
        Ok(RawNode::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<Spanned<String>>()? {
            let v = map.next_value::<Spanned<RawNode>>()?;
            out.push((k, v));
        }
        Ok(RawNode::Map(out))
    }
}

impl Step {
    /// Every variable the step's templates use.
    pub fn variables(&self) -> Vec<&str> {
        fn walk<'a>(v: &'a ParamValue, out: &mut Vec<&'a str>) {
            match v {
                ParamValue::Str(t) => out.extend(t.variables()),
                ParamValue::List(items) => items.iter().for_each(|i| walk(i, out)),
                ParamValue::Map(entries) => {
                    for (k, v) in entries {
                        out.extend(k.variables());
                        walk(v, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        match &self.request {
            Request::Call { params, .. } => params.iter().for_each(|(_, v)| walk(v, &mut out)),
            Request::Raw(r) => {
                out.extend(r.path.variables());
                for t in [&r.query, &r.body].into_iter().flatten() {
                    out.extend(t.variables());
                }
                for (_, t) in &r.headers {
                    out.extend(t.variables());
                }
            }
        }
        if let CredentialsSpec::Explicit {
            access_key_id,
            secret_access_key,
            session_token,
        } = &self.credentials
        {
            out.extend(access_key_id.variables());
            out.extend(secret_access_key.variables());
            if let Some(t) = session_token {
                out.extend(t.variables());
            }
        }
        out
    }
}
