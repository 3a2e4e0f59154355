//! The expected requests: every step of a case with a snapshot becomes an `Entry`, its
//! parameters rendered with the server's values except what a client decides at run time
//! (captures, the run id, values it chooses), which stay open and are bound from the
//! request; a checked step carries the answer its snapshot holds.

use std::collections::HashMap;

use regex::Regex;

use crate::model::{Model, Operation, ShapeKind};
use crate::query;
use crate::scenario::{Case, CredentialsSpec, Kind, Request, Role, Step};
use crate::suite::Suite;
use crate::template::Vars;

/// Marks where an open variable sits in a rendered value (private-use characters, which no
/// scenario writes).
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// One parameter's expected value.
#[derive(Debug, Clone)]
pub(super) enum Value {
    Literal(String),
    /// A value with run variables in it; the regex binds them (group `v0` is `vars[0]`).
    Open {
        /// None when the whole value is the one variable.
        re: Option<Regex>,
        vars: Vec<String>,
    },
}

/// The credentials a step is signed with.
#[derive(Debug, Clone)]
pub(super) enum Creds {
    /// The client's own keys (any key this server did not hand out).
    Own,
    Unsigned,
    /// Keys this server handed out earlier in the same case.
    Issued,
    /// A fixed key (a declared variable, a made-up one). With its secret, the signature
    /// tells this request from one signed by the client's own key.
    Key(String, Option<String>),
}

/// A stored answer: a step of a snapshot.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.body.contains(&format!("<Code>{code}</Code>"))
    }
}

/// One expected request.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub case: usize,
    pub role: Role,
    pub test_name: String,
    /// The service whose model the step calls (`sts`, `iam`).
    pub service: String,
    pub params: Vec<(String, Value)>,
    pub creds: Creds,
    /// The service a signed request must be scoped to; None for unsigned or raw requests.
    pub signing_name: Option<String>,
    pub raw: bool,
    /// The Content-Type a raw step sends (a form for anything else).
    pub content_type: Option<String>,
    pub answer: Option<Answer>,
    /// Open variables a client chooses: a value must have the variable's shape, and sets
    /// the variables the shape derives.
    pub chosen: Vec<String>,
    /// Parameters (by index) a client may name freely in this case, because it succeeds and
    /// its answer repeats them.
    pub free: Vec<(usize, FreeCheck)>,
    /// The case is a documented example: among free matches it is preferred.
    pub doc: bool,
    /// For a step signed with keys an earlier step of its case handed out: that step's
    /// operation (what kind of session the keys stand for).
    pub issuer_op: Option<String>,
}

/// For each entry whose case sends the same request more than once (the same service,
/// parameters, credentials and body type): the entries of that request, in step order.
pub(super) fn repeats(entries: &[Entry]) -> HashMap<usize, std::sync::Arc<[usize]>> {
    let mut out = HashMap::new();
    let mut start = 0;
    while start < entries.len() {
        let case = entries[start].case;
        let end = entries[start..]
            .iter()
            .position(|e| e.case != case)
            .map_or(entries.len(), |n| start + n);
        let mut done = vec![false; end - start];
        for i in start..end {
            if done[i - start] {
                continue;
            }
            let same: Vec<usize> = (i..end)
                .filter(|&j| !done[j - start] && entries[i].same_request(&entries[j]))
                .collect();
            for &j in &same {
                done[j - start] = true;
            }
            if same.len() > 1 {
                let same: std::sync::Arc<[usize]> = same.into();
                for &j in same.iter() {
                    out.insert(j, std::sync::Arc::clone(&same));
                }
            }
        }
        start = end;
    }
    out
}

impl Entry {
    /// Whether two steps send the same request (what a client cannot tell them apart by).
    fn same_request(&self, other: &Entry) -> bool {
        let value = |a: &Value, b: &Value| match (a, b) {
            (Value::Literal(x), Value::Literal(y)) => x == y,
            (Value::Open { re: r1, vars: v1 }, Value::Open { re: r2, vars: v2 }) => {
                r1.as_ref().map(Regex::as_str) == r2.as_ref().map(Regex::as_str) && v1 == v2
            }
            _ => false,
        };
        let creds = match (&self.creds, &other.creds) {
            (Creds::Own, Creds::Own)
            | (Creds::Unsigned, Creds::Unsigned)
            | (Creds::Issued, Creds::Issued) => true,
            (Creds::Key(a, _), Creds::Key(b, _)) => a == b,
            _ => false,
        };
        creds
            && self.service == other.service
            && self.raw == other.raw
            && self.content_type == other.content_type
            && self.params.len() == other.params.len()
            && self
                .params
                .iter()
                .zip(&other.params)
                .all(|((k1, v1), (k2, v2))| k1 == k2 && value(v1, v2))
    }

    pub fn action(&self) -> Option<&str> {
        self.params.iter().find_map(|(k, v)| match v {
            Value::Literal(l) if k == "Action" => Some(l.as_str()),
            _ => None,
        })
    }

    /// What credentials the case signs this step with, for a miss that explains.
    pub fn wants(&self) -> String {
        match &self.creds {
            Creds::Own => "the client's own keys".into(),
            Creds::Unsigned => "no signature".into(),
            Creds::Issued => "the keys an earlier step of its case handed out".into(),
            Creds::Key(k, _) => format!("the key {k}"),
        }
    }
}

/// The free-parameter checks built so far, by service, operation and member: a pattern is
/// compiled once, not once per case.
#[derive(Default)]
pub(super) struct FreeChecks(HashMap<(String, String, String), FreeCheck>);

impl FreeChecks {
    fn of(&mut self, model: &Model, op: &Operation, service: &str, member: &str) -> FreeCheck {
        self.0
            .entry((service.to_owned(), op.name.clone(), member.to_owned()))
            .or_insert_with(|| FreeCheck::of(model, op, member))
            .clone()
    }
}

/// What the model allows for a parameter a client names freely: its length and pattern.
#[derive(Debug, Clone)]
pub(super) struct FreeCheck {
    min: Option<usize>,
    max: Option<usize>,
    pattern: Option<Regex>,
}

impl FreeCheck {
    /// A check of length and pattern alone, for tests.
    #[cfg(test)]
    pub fn new(min: Option<usize>, max: Option<usize>, pattern: Option<&str>) -> FreeCheck {
        FreeCheck {
            min,
            max,
            pattern: pattern.map(|p| Regex::new(p).expect("a valid pattern")),
        }
    }

    fn of(model: &Model, op: &Operation, member: &str) -> FreeCheck {
        let shape = model.input_members(op).and_then(|s| match &s.kind {
            ShapeKind::Structure { members, .. } => members.get(member),
            _ => None,
        });
        let Some(m) = shape else {
            return FreeCheck {
                min: None,
                max: None,
                pattern: None,
            };
        };
        let shape = model.shape(&m.shape);
        // The model's `\w` is ASCII, as AWS checks it; Unicode `\w` would let `é` through.
        let pattern = shape.pattern.as_ref().and_then(|p| {
            Regex::new(&format!("(?-u:^(?:{p})$)"))
                .or_else(|_| Regex::new(&format!("^(?:{p})$")))
                .ok()
        });
        FreeCheck {
            min: shape.min.map(|n| n as usize),
            max: shape.max.map(|n| n as usize),
            pattern,
        }
    }

    /// What the check is, as text: equal texts allow the same values.
    pub fn describe(&self) -> String {
        format!(
            "{:?}..{:?} {}",
            self.min,
            self.max,
            self.pattern.as_ref().map_or("", |p| p.as_str())
        )
    }

    pub fn allows(&self, v: &str) -> bool {
        let n = v.chars().count();
        self.min.is_none_or(|m| n >= m)
            && self.max.is_none_or(|m| n <= m)
            && self.pattern.as_ref().is_none_or(|p| p.is_match(v))
    }
}

/// Every step of every case that has a snapshot, in suite order. Cases that require what
/// only a real target has (a disabled region) are left out: a replay cannot be that.
pub(super) fn entries(suite: &Suite, vars: &Vars) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut checks = FreeChecks::default();
    for (ci, case) in suite.cases.iter().enumerate() {
        if !case.requires.is_empty() {
            continue;
        }
        // An unreadable snapshot answers nothing here; judging its case says why.
        let Ok(Some(snapshot)) = suite.snapshots.read_expected(case) else {
            continue;
        };
        let mut answers = answers(&snapshot).into_iter();
        let captured: Vec<&str> = case
            .steps
            .iter()
            .flat_map(|s| s.captures.iter().map(|c| c.variable.as_str()))
            .collect();
        let mut case_steps = CaseSteps {
            suite,
            case,
            index: ci,
            vars,
            captured: &captured,
            checks: &mut checks,
        };
        for step in &case.steps {
            let answer = match step.role {
                Role::Check => answers.next(),
                _ => None,
            };
            if step.role == Role::Check && answer.is_none() {
                break;
            }
            if let Some(entry) = case_steps.entry(step, answer) {
                entries.push(entry);
            }
        }
    }
    entries
}

/// What the steps of one case share while they become entries.
struct CaseSteps<'a> {
    suite: &'a Suite,
    case: &'a Case,
    index: usize,
    vars: &'a Vars,
    captured: &'a [&'a str],
    checks: &'a mut FreeChecks,
}

impl CaseSteps<'_> {
    fn entry(&mut self, step: &Step, answer: Option<Answer>) -> Option<Entry> {
        let (suite, vars, captured) = (self.suite, self.vars, self.captured);
        // Render with the server's values, but leave open what the client decides at run
        // time: what earlier steps captured, the run id, and the values a client chooses.
        let mut open: Vec<String> = captured.iter().map(|s| s.to_string()).collect();
        open.push("run_id".into());
        let chosen: Vec<String> = step
            .variables()
            .into_iter()
            .filter(|v| suite.client_chosen.contains_key(*v) && !open.iter().any(|o| o == v))
            .map(str::to_owned)
            .collect();
        open.extend(chosen.iter().cloned());
        let mut render_vars = vars.clone();
        for (i, name) in open.iter().enumerate() {
            render_vars.insert(name.clone(), format!("{OPEN}{i}{CLOSE}"));
        }
        let model = suite.models.get(&step.service)?;
        let mut raw_ct = None;
        let (pairs, raw, signed) = match &step.request {
            Request::Call { operation, params } => {
                let op = model.operation(operation)?;
                let call = query::serialize(model, op, params, &render_vars).ok()?;
                (call.pairs, false, !op.unsigned)
            }
            Request::Raw(r) => {
                raw_ct = r
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .and_then(|(_, t)| t.render(vars).ok())
                    .or_else(|| {
                        r.body
                            .is_some()
                            .then(|| "application/x-www-form-urlencoded".to_owned())
                    });
                let mut pairs: Vec<(String, String)> = Vec::new();
                for t in [&r.body, &r.query].into_iter().flatten() {
                    let text = t.render(&render_vars).ok()?;
                    pairs.extend(form_urlencoded::parse(text.as_bytes()).into_owned());
                }
                (pairs, true, false)
            }
        };
        let mut params: Vec<(String, Value)> = pairs
            .into_iter()
            .map(|(k, v)| (k, open_value(&v, &open)))
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let creds = match &step.credentials {
            CredentialsSpec::Unsigned => Creds::Unsigned,
            CredentialsSpec::Default if !signed && !raw => Creds::Unsigned,
            CredentialsSpec::Default | CredentialsSpec::Target => Creds::Own,
            CredentialsSpec::Explicit {
                access_key_id,
                secret_access_key,
                ..
            } => {
                if access_key_id.variables().any(|v| captured.contains(&v)) {
                    Creds::Issued
                } else {
                    Creds::Key(
                        access_key_id.render(vars).ok()?,
                        secret_access_key.render(vars).ok(),
                    )
                }
            }
        };
        let signed_creds = !matches!(creds, Creds::Unsigned);
        // Parameters a success answer repeats may take any value the model allows.
        let mut free = Vec::new();
        if let (Request::Call { operation, .. }, Some(a)) = (&step.request, &answer)
            && a.succeeded()
            && let Some(names) = suite
                .free_parameters
                .get(&(step.service.clone(), operation.clone()))
            && let Some(op) = model.operation(operation)
        {
            for name in names {
                if let Some(i) = params
                    .iter()
                    .position(|(k, v)| k == name && matches!(v, Value::Literal(_)))
                {
                    free.push((i, self.checks.of(model, op, &step.service, name)));
                }
            }
        }
        Some(Entry {
            case: self.index,
            role: step.role,
            test_name: self.case.test_name(),
            service: step.service.clone(),
            params,
            creds,
            signing_name: (signed_creds && !raw).then(|| model.signing_name.clone()),
            raw,
            content_type: raw_ct,
            answer,
            chosen,
            free,
            doc: self.case.kind == Kind::DocExample,
            issuer_op: self.issuer_op(step),
        })
    }

    /// For a step signed with keys an earlier step captured: that step's operation says
    /// what session they are.
    fn issuer_op(&self, step: &Step) -> Option<String> {
        let CredentialsSpec::Explicit { access_key_id, .. } = &step.credentials else {
            return None;
        };
        access_key_id
            .variables()
            .find_map(|v| {
                self.case
                    .steps
                    .iter()
                    .find(|s| s.captures.iter().any(|c| c.variable == v))
            })
            .and_then(|s| match &s.request {
                Request::Call { operation, .. } => Some(operation.clone()),
                Request::Raw(_) => None,
            })
    }
}

/// A rendered value with open variables marked in it, as a pattern that binds them.
fn open_value(v: &str, open: &[String]) -> Value {
    if !v.contains(OPEN) {
        return Value::Literal(v.to_owned());
    }
    let mut re = String::from("^");
    let mut vars = Vec::new();
    let mut rest = v;
    while let Some(start) = rest.find(OPEN) {
        re.push_str(&regex::escape(&rest[..start]));
        let after = &rest[start + OPEN.len_utf8()..];
        let end = after.find(CLOSE).unwrap_or(after.len());
        let idx: usize = after[..end].parse().unwrap_or(0);
        let name = open.get(idx).cloned().unwrap_or_default();
        // A run id is one token (eight hex digits, or what a target sets): within a longer
        // name it must not swallow the rest, or `conform-{{run_id}}.example.com` would take
        // another case's `conform-<id>-uoidct.example.com` and bind a run id no run had.
        let any = if name == "run_id" {
            "[0-9A-Za-z_]+?"
        } else {
            ".*?"
        };
        re.push_str(&format!("(?P<v{}>{any})", vars.len()));
        vars.push(name);
        rest = after.get(end + CLOSE.len_utf8()..).unwrap_or("");
    }
    re.push_str(&regex::escape(rest));
    re.push('$');
    if vars.len() == 1 && re == "^(?P<v0>.*?)$" {
        return Value::Open { re: None, vars };
    }
    match Regex::new(&re) {
        Ok(re) => Value::Open { re: Some(re), vars },
        Err(_) => Value::Literal(v.to_owned()),
    }
}

/// The answers a snapshot holds, one per checked step that got one.
fn answers(snapshot: &str) -> Vec<Answer> {
    crate::transcript::steps(snapshot)
        .iter()
        .filter_map(|s| {
            // A step that got no answer, or a transcript cut short, has nothing to serve.
            s.content_type?;
            Some(Answer {
                status: s.status()?,
                content_type: s.answered_content_type().map(str::to_owned),
                body: s.body_text().to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcripts_split_into_answers() {
        let snap = "=== step 1: AssumeRole\nHTTP 200 OK\ncontent-type: text/xml\n<A>\n  <B>x</B>\n</A>\n\n=== step 2: raw POST /\nHTTP 500 Internal Server Error\ncontent-type: text/html\nbody (not XML, oops):\n<html>\n\n=== step 3: X\nHTTP 204 No Content\ncontent-type: (none)\nbody: (empty)";
        let a = answers(snap);
        assert_eq!(a.len(), 3);
        assert_eq!(
            (a[0].status, a[0].body.as_str()),
            (200, "<A>\n  <B>x</B>\n</A>")
        );
        assert!(a[0].succeeded() && !a[1].succeeded());
        assert_eq!(
            (
                a[1].status,
                a[1].body.as_str(),
                a[1].content_type.as_deref()
            ),
            (500, "<html>", Some("text/html"))
        );
        assert_eq!(
            (
                a[2].status,
                a[2].body.as_str(),
                a[2].content_type.as_deref()
            ),
            (204, "", None)
        );
    }

    #[test]
    fn open_values_bind_their_variables() {
        let open = ["run_id".to_owned(), "role_arn".to_owned()];
        let v = open_value(&format!("conform-{OPEN}0{CLOSE}-x"), &open);
        let Value::Open { re: Some(re), vars } = v else {
            panic!("open")
        };
        assert_eq!(vars, ["run_id"]);
        assert_eq!(
            &re.captures("conform-1a2b3c4d-x").unwrap()["v0"],
            "1a2b3c4d"
        );
        assert!(re.captures("other").is_none());
        // A whole value that is one variable needs no regex.
        let Value::Open { re: None, vars } = open_value(&format!("{OPEN}1{CLOSE}"), &open) else {
            panic!("whole")
        };
        assert_eq!(vars, ["role_arn"]);
        // Text that needs escaping stays literal around the variable.
        let Value::Open { re: Some(re), .. } = open_value(&format!("a.b{OPEN}0{CLOSE}"), &open)
        else {
            panic!("escaped")
        };
        assert!(re.is_match("a.b1") && !re.is_match("axb1"));
        assert!(matches!(open_value("plain", &open), Value::Literal(l) if l == "plain"));
        // A run id is one token: another case's longer name is no match for it.
        let Value::Open { re: Some(re), .. } = open_value(
            &format!("https://conform-{OPEN}0{CLOSE}.example.com"),
            &open,
        ) else {
            panic!("url")
        };
        assert!(re.is_match("https://conform-1a2b3c4d.example.com"));
        assert!(!re.is_match("https://conform-1a2b3c4d-uoidct.example.com"));
    }
}
