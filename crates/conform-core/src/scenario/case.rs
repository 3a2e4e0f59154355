//! The types cases are made of: what a scenario file becomes once it is checked.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::template::Template;
use crate::xml::ElementPath;

/// What a case is about; drives reports and coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    DocExample,
    Limit,
    Exception,
    Protocol,
    Flow,
}

/// Where the expected outcome of a case comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// The scenario file, relative to the project root (the scenarios directory's parent).
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

#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Runs first; must succeed (2xx), or the case stops with an error.
    Setup,
    /// The steps whose answers the snapshot holds.
    Check,
    /// Runs last, whatever happened before; a failure is reported, not compared.
    Cleanup,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// A modelled call, serialized from the model.
    Call {
        operation: String,
        params: Vec<(String, ParamValue)>,
    },
    /// A hand-written request for protocol-level cases.
    Raw(Box<RawRequest>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawRequest {
    pub method: String,
    pub path: Template,
    pub query: Option<Template>,
    pub body: Option<Template>,
    pub headers: Vec<(String, Template)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Capture {
    pub variable: String,
    pub path: ElementPath,
}

/// A parameter value checked against its model shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamValue {
    Str(Template),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<ParamValue>),
    /// Structure members or map entries, in the order written.
    Map(Vec<(Template, ParamValue)>),
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
