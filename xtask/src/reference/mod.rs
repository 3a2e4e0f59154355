//! The documented behaviour of STS, as an endpoint: what the API reference, the model and
//! STS.md say AWS answers. It exists to author the expected snapshots of documented and
//! inferred cases (`cargo xtask expect`); it is never a target a conformance run trusts.
//!
//! Every message it writes comes from STS's facts (`models/sts.facts.yaml`): the validation
//! format for model constraints, a named template for anything else, so inferred answers
//! follow one recorded format and carry its code, status and namespace.
//!
//! It answers model validation (every constraint, in model order), the success shapes of the operations a plain account can call, and the
//! authorization outcomes that follow from the target's declared identities. Anything else
//! it declines with HTTP 501, and the case keeps a hand-written snapshot instead.

use std::collections::HashMap;
use std::sync::Mutex;

use conform::coverage::pattern_matches;
use conform::facts::{Facts, Violation};
use conform::model::{Model, Operation, Shape, ShapeKind};
use conform::template::Vars;
use wiremock::{Request, Respond, ResponseTemplate};

#[derive(Clone, Debug)]
enum Identity {
    /// The target's own IAM user.
    Caller,
    AssumedRole {
        role: String,
        session: String,
        role_id: String,
    },
    Federated {
        name: String,
    },
    /// Credentials of GetSessionToken: the caller, with a session.
    Session,
}

pub struct ReferenceSts {
    model: Model,
    facts: Facts,
    vars: Vars,
    access_key_id: String,
    issued: Mutex<HashMap<String, Identity>>,
}

struct Answer {
    status: u16,
    body: String,
}

fn decline(why: &str) -> Answer {
    Answer {
        status: 501,
        body: format!("reference: no documented answer ({why})"),
    }
}

fn error_document(ns: &str, status: u16, code: &str, message: &str) -> Answer {
    Answer {
        status,
        body: format!(
            "<ErrorResponse xmlns=\"{ns}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            escape(message),
            request_id()
        ),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn request_id() -> String {
    "b64dc4ee-8d6a-4bd9-9f7b-2a1c7b0c1f00".to_owned()
}

/// Deterministic upper-case letters and digits from a seed.
fn token_chars(seed: &str, n: usize, alphabet: &[u8]) -> String {
    let mut h: u64 = 1469598103934665603;
    let mut out = String::with_capacity(n);
    for i in 0..n {
        for b in seed.bytes().chain([i as u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(1099511628211);
        }
        out.push(alphabet[(h % alphabet.len() as u64) as usize] as char);
    }
    out
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// ISO 8601 UTC, whole seconds, `seconds` from now.
fn iso_in(seconds: i64) -> String {
    conform::query::iso8601(time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
}

fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The request's parameters, decoded.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
    fn has_prefix(&self, p: &str) -> bool {
        self.0
            .iter()
            .any(|(n, _)| n == p || n.starts_with(&format!("{p}.")))
    }
    /// Indices `N` of `prefix.member.N...`, sorted; `Some(vec![])` for `prefix=` (empty list).
    fn list(&self, prefix: &str) -> Option<Vec<usize>> {
        let head = format!("{prefix}.member.");
        let mut idx: Vec<usize> = self
            .0
            .iter()
            .filter_map(|(n, _)| n.strip_prefix(&head))
            .filter_map(|rest| rest.split('.').next()?.parse().ok())
            .collect();
        idx.sort_unstable();
        idx.dedup();
        if !idx.is_empty() {
            Some(idx)
        } else if self.get(prefix).is_some() {
            Some(Vec::new())
        } else {
            None
        }
    }
}

impl ReferenceSts {
    pub fn new(model: Model, facts: Facts, vars: Vars, access_key_id: String) -> Self {
        ReferenceSts {
            model,
            facts,
            vars,
            access_key_id,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// The answer of the facts' template `id`, its slots filled.
    fn fact(&self, id: &str, args: &[(&str, &str)]) -> Answer {
        let Some(t) = self.facts.template(id) else {
            return decline(&format!("no template `{id}` in the facts"));
        };
        let ns = t.namespace.as_deref().unwrap_or(&self.facts.namespace);
        error_document(ns, t.status, &t.code, &t.render(args))
    }

    fn validate_structure(
        &self,
        shape: &str,
        p: &Params,
        wire: &str,
        msg: &str,
        out: &mut Vec<Violation>,
    ) {
        let ShapeKind::Structure {
            members,
            required,
            order,
        } = &self.model.shape(shape).kind
        else {
            return;
        };
        for name in order {
            let m = &members[name];
            let wire_name = if wire.is_empty() {
                name.clone()
            } else {
                format!("{wire}.{name}")
            };
            let msg_name = if msg.is_empty() {
                lower_camel(name)
            } else {
                format!("{msg}.{}", lower_camel(name))
            };
            let s = self.model.shape(&m.shape);
            let present = match s.kind {
                ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. } => {
                    p.has_prefix(&wire_name)
                }
                _ => p.get(&wire_name).is_some(),
            };
            if !present {
                if required.contains(name) {
                    out.push(Violation {
                        member: msg_name,
                        value: None,
                        rule: "",
                        args: Vec::new(),
                    });
                }
                continue;
            }
            self.validate_value(s, &m.shape, p, &wire_name, &msg_name, out);
        }
    }

    fn validate_value(
        &self,
        s: &Shape,
        shape: &str,
        p: &Params,
        wire: &str,
        msg: &str,
        out: &mut Vec<Violation>,
    ) {
        match &s.kind {
            ShapeKind::Structure { .. } => self.validate_structure(shape, p, wire, msg, out),
            ShapeKind::List { member } => {
                let idx = p.list(wire).unwrap_or_default();
                let n = idx.len() as f64;
                let item = self.model.shape(&member.shape);
                let shown = || {
                    let items: Vec<String> = idx
                        .iter()
                        .map(|i| {
                            p.get(&format!("{wire}.member.{i}"))
                                .unwrap_or("")
                                .to_owned()
                        })
                        .collect();
                    format!("[{}]", items.join(", "))
                };
                if let Some(min) = s.min.filter(|m| n < *m) {
                    out.push(Violation {
                        member: msg.into(),
                        value: Some(shown()),
                        rule: "min_length",
                        args: vec![("min", min.to_string())],
                    });
                }
                if let Some(max) = s.max.filter(|m| n > *m) {
                    out.push(Violation {
                        member: msg.into(),
                        value: Some(shown()),
                        rule: "max_length",
                        args: vec![("max", max.to_string())],
                    });
                }
                for i in idx {
                    let w = format!("{wire}.member.{i}");
                    let m = format!("{msg}.{i}.member");
                    self.validate_value(item, &member.shape, p, &w, &m, out);
                }
            }
            ShapeKind::String => {
                let v = p.get(wire).unwrap_or("");
                let len = v.chars().count() as f64;
                if let Some(min) = s.min.filter(|m| len < *m) {
                    out.push(Violation {
                        member: msg.into(),
                        value: Some(v.into()),
                        rule: "min_length",
                        args: vec![("min", min.to_string())],
                    });
                }
                if let Some(max) = s.max.filter(|m| len > *m) {
                    out.push(Violation {
                        member: msg.into(),
                        value: Some(v.into()),
                        rule: "max_length",
                        args: vec![("max", max.to_string())],
                    });
                }
                if let Some(pat) = &s.pattern
                    && !pattern_matches(pat, v)
                {
                    out.push(Violation {
                        member: msg.into(),
                        value: Some(v.into()),
                        rule: "pattern",
                        args: vec![("pattern", pat.clone())],
                    });
                }
                if !s.enum_values.is_empty() && !s.enum_values.iter().any(|e| e == v) {
                    out.push(Violation {
                        member: msg.into(),
                        value: Some(v.into()),
                        rule: "enum",
                        args: vec![("values", s.enum_values.join(", "))],
                    });
                }
            }
            ShapeKind::Integer | ShapeKind::Long => {
                let raw = p.get(wire).unwrap_or("");
                if let Ok(v) = raw.parse::<f64>() {
                    if let Some(min) = s.min.filter(|m| v < *m) {
                        out.push(Violation {
                            member: msg.into(),
                            value: Some(raw.into()),
                            rule: "min_value",
                            args: vec![("min", min.to_string())],
                        });
                    }
                    if let Some(max) = s.max.filter(|m| v > *m) {
                        out.push(Violation {
                            member: msg.into(),
                            value: Some(raw.into()),
                            rule: "max_value",
                            args: vec![("max", max.to_string())],
                        });
                    }
                }
            }
            _ => {}
        }
    }

    fn identity(&self, key: Option<&str>) -> Option<Result<Identity, Answer>> {
        let key = key?;
        if key == self.access_key_id {
            return Some(Ok(Identity::Caller));
        }
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        Some(match issued.get(key) {
            Some(id) => Ok(id.clone()),
            None => Err(self.fact("invalid-client-token", &[])),
        })
    }

    fn caller_arn(&self, id: &Identity) -> String {
        let acct = &self.vars["account_id"];
        match id {
            Identity::Caller | Identity::Session => self.vars["caller_arn"].clone(),
            Identity::AssumedRole { role, session, .. } => {
                format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}")
            }
            Identity::Federated { name } => format!("arn:aws:sts::{acct}:federated-user/{name}"),
        }
    }

    fn credentials(&self, id: Identity, seconds: i64) -> String {
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        let n = issued.len();
        let key = format!("ASIA{}", token_chars(&format!("key{n}"), 16, UPPER_DIGITS));
        issued.insert(key.clone(), id);
        let secret = token_chars(&format!("secret{n}"), 40, BASE64);
        let token = token_chars(&format!("token{n}"), 356, BASE64);
        let exp = iso_in(seconds);
        format!(
            "<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken><Expiration>{exp}</Expiration></Credentials>"
        )
    }

    fn success(&self, op: &str, result: &str) -> Answer {
        Answer {
            status: 200,
            body: format!(
                "<{op}Response xmlns=\"{}\"><{op}Result>{result}</{op}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{op}Response>",
                self.facts.namespace,
                request_id()
            ),
        }
    }

    /// The answer to decoded parameters sent with the access key `key` (None: unsigned).
    fn answer(&self, pairs: Vec<(String, String)>, key: Option<&str>) -> Answer {
        let p = Params(pairs);
        let Some(action) = p.get("Action").map(str::to_owned) else {
            return decline("no Action");
        };
        if p.get("Version") != Some(self.model.api_version.as_str()) {
            return decline("Version missing or wrong");
        }
        let Some(op) = self.model.operation(&action).cloned() else {
            return decline("unknown Action");
        };
        let id = match self.identity(key) {
            None if op.unsigned => Identity::Caller,
            None => return decline("unsigned request"),
            Some(Err(a)) => return a,
            Some(Ok(id)) => id,
        };
        let mut violations = Vec::new();
        if let Some(input) = op.input.as_deref() {
            self.validate_structure(input, &p, "", "", &mut violations);
        }
        if !violations.is_empty() {
            let Some(v) = self.facts.validation.as_ref() else {
                return decline("the facts have no validation format");
            };
            return error_document(
                &self.facts.namespace,
                v.spec.status,
                &v.spec.code,
                &v.message(&violations),
            );
        }
        let region = self.var("disabled_region");
        if !region.is_empty() && p.0.iter().any(|(_, v)| v.contains(region)) {
            return decline("a case for a region where STS is disabled");
        }
        if matches!(id, Identity::AssumedRole { .. })
            && (p.has_prefix("Tags") || p.has_prefix("TransitiveTagKeys"))
        {
            return decline("session tags of a chained session depend on the calling session's");
        }
        if op.name == "GetWebIdentityToken" {
            let size: usize =
                p.0.iter()
                    .filter(|(k, _)| k.starts_with("Audience") || k.starts_with("Tags"))
                    .map(|(_, v)| v.len())
                    .sum();
            if size > 2048 {
                return decline("a token payload whose size limit is not documented");
            }
        }
        self.operation(&op, &p, id)
    }

    fn operation(&self, op: &Operation, p: &Params, id: Identity) -> Answer {
        let acct = self.vars["account_id"].clone();
        match op.name.as_str() {
            "GetCallerIdentity" => {
                let (arn, user) = match &id {
                    Identity::Caller | Identity::Session => (
                        self.vars["caller_arn"].clone(),
                        self.vars["caller_user_id"].clone(),
                    ),
                    Identity::AssumedRole {
                        role_id, session, ..
                    } => (self.caller_arn(&id), format!("{role_id}:{session}")),
                    Identity::Federated { name } => {
                        (self.caller_arn(&id), format!("{acct}:{name}"))
                    }
                };
                self.success(
                    "GetCallerIdentity",
                    &format!("<Arn>{arn}</Arn><UserId>{user}</UserId><Account>{acct}</Account>"),
                )
            }
            "AssumeRole" => self.assume_role(p, id),
            "GetSessionToken" => {
                if !matches!(id, Identity::Caller) {
                    return self.fact(
                        "session-credentials-refused",
                        &[("operation", "GetSessionToken")],
                    );
                }
                if let Some(denied) = self.mfa_problem(p) {
                    return denied;
                }
                let secs = p
                    .get("DurationSeconds")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(43200);
                self.success(
                    "GetSessionToken",
                    &self.credentials(Identity::Session, secs),
                )
            }
            "GetFederationToken" => {
                if !matches!(id, Identity::Caller) {
                    return self.fact(
                        "session-credentials-refused",
                        &[("operation", "GetFederationToken")],
                    );
                }
                if let Some(why) = policy_problem(p).or_else(|| tag_problem(p)) {
                    return decline(why);
                }
                let name = p.get("Name").unwrap_or("").to_owned();
                let secs = p
                    .get("DurationSeconds")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(43200);
                let creds = self.credentials(Identity::Federated { name: name.clone() }, secs);
                let packed =
                    if p.has_prefix("Policy") || p.has_prefix("PolicyArns") || p.has_prefix("Tags")
                    {
                        6
                    } else {
                        0
                    };
                self.success(
                    "GetFederationToken",
                    &format!("{creds}<FederatedUser><FederatedUserId>{acct}:{name}</FederatedUserId><Arn>arn:aws:sts::{acct}:federated-user/{name}</Arn></FederatedUser><PackedPolicySize>{packed}</PackedPolicySize>"),
                )
            }
            "GetAccessKeyInfo" => {
                let key = p.get("AccessKeyId").unwrap_or("");
                let issued = self
                    .issued
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains_key(key);
                // A key id encodes its account; one that is neither the target's nor one it
                // handed out belongs to some other account.
                let account = if key == self.access_key_id || issued {
                    acct
                } else {
                    "111122223333".to_owned()
                };
                self.success("GetAccessKeyInfo", &format!("<Account>{account}</Account>"))
            }
            "AssumeRoleWithWebIdentity" => self.web_identity(p),
            "AssumeRoleWithSAML" => self.saml(p),
            "AssumeRoot" => {
                if p.get("TargetPrincipal") != Some(self.var("member_account_id")) {
                    return decline("a target principal other than the declared member account");
                }
                // The root-task policies AWS documents.
                const TASKS: [&str; 5] = [
                    "IAMAuditRootUserCredentials",
                    "IAMCreateRootUserPassword",
                    "IAMDeleteRootUserCredentials",
                    "S3UnlockBucketPolicy",
                    "SQSUnlockQueuePolicy",
                ];
                let arn = p.get("TaskPolicyArn.arn").unwrap_or("");
                if !TASKS
                    .iter()
                    .any(|t| arn == format!("arn:aws:iam::aws:policy/root-task/{t}"))
                {
                    return decline("a task policy that is not one of AWS's root-task policies");
                }
                let secs = p
                    .get("DurationSeconds")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(900);
                self.success("AssumeRoot", &self.credentials(Identity::Caller, secs))
            }
            "DecodeAuthorizationMessage" => {
                if p.get("EncodedMessage") != Some(self.var("encoded_authorization_message")) {
                    return decline("a message the target did not provide");
                }
                self.success(
                    "DecodeAuthorizationMessage",
                    "<DecodedMessage>{&quot;allowed&quot;:false,&quot;explicitDeny&quot;:false,&quot;matchedStatements&quot;:{&quot;items&quot;:[]}}</DecodedMessage>",
                )
            }
            "GetDelegatedAccessToken" => {
                if p.get("TradeInToken") != Some(self.var("trade_in_token")) {
                    return decline("a trade-in token the target did not provide");
                }
                let creds = self.credentials(Identity::Caller, 3600);
                let principal = self.var("delegated_principal_arn");
                self.success(
                    "GetDelegatedAccessToken",
                    &format!("{creds}<AssumedPrincipal>{principal}</AssumedPrincipal>"),
                )
            }
            "GetWebIdentityToken" => {
                if !matches!(p.get("SigningAlgorithm"), Some("RS256" | "ES384")) {
                    return decline("a signing algorithm outside RS256 and ES384");
                }
                // The default lifetime is not documented; 300 s is inferred.
                let secs: i64 = p
                    .get("DurationSeconds")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(300);
                let jwt = format!(
                    "{}.{}.{}",
                    token_chars(
                        "jwt-header",
                        36,
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                    ),
                    token_chars(
                        "jwt-payload",
                        120,
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                    ),
                    token_chars(
                        "jwt-signature",
                        86,
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                    )
                );
                self.success(
                    "GetWebIdentityToken",
                    &format!(
                        "<WebIdentityToken>{jwt}</WebIdentityToken><Expiration>{}</Expiration>",
                        iso_in(secs)
                    ),
                )
            }
            other => decline(&format!(
                "{other} needs account state the reference cannot know"
            )),
        }
    }

    /// MFA: a device the caller does not have, or a code that is not its current one.
    fn mfa_problem(&self, p: &Params) -> Option<Answer> {
        let serial = p.get("SerialNumber");
        let code = p.get("TokenCode");
        if serial.is_none() && code.is_none() {
            return None;
        }
        if serial != Some(self.var("mfa_serial_number")) {
            return Some(self.fact("mfa-unvalidated", &[]));
        }
        if code != Some(self.var("mfa_token_code")) {
            return Some(self.fact("mfa-code-invalid", &[]));
        }
        None
    }

    fn var(&self, name: &str) -> &str {
        self.vars.get(name).map_or("", String::as_str)
    }

    /// AssumedRoleUser and Credentials for a session of `role_arn`'s role.
    fn role_session(&self, role_arn: &str, session: &str, secs: i64) -> (String, String) {
        let acct = &self.vars["account_id"];
        let role = role_arn.rsplit('/').next().unwrap_or("").to_owned();
        let role_id = format!("AROA{}", token_chars(&role, 17, UPPER_DIGITS));
        let creds = self.credentials(
            Identity::AssumedRole {
                role: role.clone(),
                session: session.to_owned(),
                role_id: role_id.clone(),
            },
            secs,
        );
        let user = format!(
            "<AssumedRoleUser><AssumedRoleId>{role_id}:{s}</AssumedRoleId><Arn>arn:aws:sts::{acct}:assumed-role/{role}/{s}</Arn></AssumedRoleUser>",
            s = escape(session)
        );
        (user, creds)
    }

    fn web_identity(&self, p: &Params) -> Answer {
        if p.get("WebIdentityToken") != Some(self.var("web_identity_token"))
            || p.get("ProviderId").is_some()
        {
            return decline("a token the target did not provide");
        }
        if let Some(why) = policy_problem(p) {
            return decline(why);
        }
        let role_arn = p.get("RoleArn").unwrap_or("");
        if !arn_syntax(role_arn) {
            // Inferred: the ARN check recorded for AssumeRole's RoleArn holds for every arnType.
            return self.fact("invalid-arn", &[("value", role_arn)]);
        }
        if !looks_like_role_arn(role_arn) {
            return decline("a role ARN of no account");
        }
        if role_arn != self.var("web_identity_role_arn") {
            return self.fact(
                "not-authorized",
                &[("action", "sts:AssumeRoleWithWebIdentity")],
            );
        }
        let secs = p
            .get("DurationSeconds")
            .and_then(|d| d.parse().ok())
            .unwrap_or(3600);
        let (user, creds) =
            self.role_session(role_arn, p.get("RoleSessionName").unwrap_or(""), secs);
        let packed = if p.has_prefix("Policy") || p.has_prefix("PolicyArns") {
            "<PackedPolicySize>6</PackedPolicySize>"
        } else {
            ""
        };
        self.success(
            "AssumeRoleWithWebIdentity",
            &format!(
                "{creds}<SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>{user}{packed}<Provider>{}</Provider><Audience>{}</Audience>",
                self.var("web_identity_subject"),
                self.var("web_identity_provider"),
                self.var("web_identity_audience")
            ),
        )
    }

    fn saml(&self, p: &Params) -> Answer {
        // Inferred: the ARN check recorded for AssumeRole's RoleArn holds for every arnType.
        for member in ["RoleArn", "PrincipalArn"] {
            let arn = p.get(member).unwrap_or("");
            if !arn_syntax(arn) {
                return self.fact("invalid-arn", &[("value", arn)]);
            }
        }
        if p.get("SAMLAssertion") != Some(self.var("saml_assertion"))
            || p.get("PrincipalArn") != Some(self.var("saml_provider_arn"))
        {
            return decline("an assertion or provider the target did not provide");
        }
        if let Some(why) = policy_problem(p) {
            return decline(why);
        }
        let role_arn = p.get("RoleArn").unwrap_or("");
        if role_arn != self.var("saml_role_arn") {
            return decline("a role the assertion does not name");
        }
        let secs = p
            .get("DurationSeconds")
            .and_then(|d| d.parse().ok())
            .unwrap_or(3600);
        // The session is named by the assertion's RoleSessionName attribute: its subject here.
        let (user, creds) = self.role_session(role_arn, self.var("saml_subject"), secs);
        let packed = if p.has_prefix("Policy") || p.has_prefix("PolicyArns") {
            "<PackedPolicySize>6</PackedPolicySize>"
        } else {
            ""
        };
        self.success(
            "AssumeRoleWithSAML",
            &format!(
                "{creds}{user}{packed}<Subject>{}</Subject><SubjectType>persistent</SubjectType><Issuer>{}</Issuer><Audience>https://signin.aws.amazon.com/saml</Audience><NameQualifier>{}</NameQualifier>",
                self.var("saml_subject"),
                self.var("saml_issuer"),
                self.var("saml_name_qualifier")
            ),
        )
    }

    fn assume_role(&self, p: &Params, id: Identity) -> Answer {
        let acct = self.vars["account_id"].clone();
        let role_arn = p.get("RoleArn").unwrap_or("");
        if let Some(why) = policy_problem(p) {
            return decline(why);
        }
        if p.has_prefix("ProvidedContexts") {
            return decline("provided contexts need a trusted context provider");
        }
        if p.get("SourceIdentity")
            .is_some_and(|s| s.to_ascii_lowercase().starts_with("aws:"))
        {
            return decline("the aws: prefix of SourceIdentity is not documented as a model rule");
        }
        if let Some(why) = tag_problem(p) {
            return decline(why);
        }
        if !arn_syntax(role_arn) {
            // Recorded (STS.md): a RoleArn that is not an ARN is refused with its value.
            return self.fact("invalid-arn", &[("value", role_arn)]);
        }
        if role_arn != self.vars["role_arn"] {
            // Only the target's role exists and trusts the caller.
            let caller = self.caller_arn(&id);
            return self.fact(
                "not-authorized-on-resource",
                &[
                    ("caller", &caller),
                    ("action", "sts:AssumeRole"),
                    ("resource", role_arn),
                ],
            );
        }
        if let Some(denied) = self.mfa_problem(p) {
            return denied;
        }
        let secs: i64 = p
            .get("DurationSeconds")
            .and_then(|d| d.parse().ok())
            .unwrap_or(3600);
        if matches!(id, Identity::AssumedRole { .. }) && secs > 3600 {
            return decline("role chaining limit");
        }
        let role = self.vars["role_name"].clone();
        let session = p.get("RoleSessionName").unwrap_or("").to_owned();
        let role_id = format!("AROA{}", token_chars(&role, 17, UPPER_DIGITS));
        let creds = self.credentials(
            Identity::AssumedRole {
                role: role.clone(),
                session: session.clone(),
                role_id: role_id.clone(),
            },
            secs,
        );
        let mut result = String::new();
        if let Some(si) = p.get("SourceIdentity") {
            result.push_str(&format!("<SourceIdentity>{}</SourceIdentity>", escape(si)));
        }
        result.push_str(&format!(
            "<AssumedRoleUser><Arn>arn:aws:sts::{acct}:assumed-role/{role}/{}</Arn><AssumedRoleId>{role_id}:{}</AssumedRoleId></AssumedRoleUser>",
            escape(&session),
            escape(&session)
        ));
        result.push_str(&creds);
        if p.has_prefix("Policy") || p.has_prefix("PolicyArns") || p.has_prefix("Tags") {
            result.push_str("<PackedPolicySize>6</PackedPolicySize>");
        }
        self.success("AssumeRole", &result)
    }
}

/// The ARN syntax STS checks, as recorded: six colon-separated fields starting with `arn`,
/// the partition, service and resource not empty (region and account may be).
fn arn_syntax(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty()
}

fn looks_like_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
}

/// Session-policy situations whose outcome is documented but not as a model rule.
fn policy_problem(p: &Params) -> Option<&'static str> {
    if let Some(policy) = p.get("Policy") {
        if !matches!(
            serde_json::from_str::<serde_json::Value>(policy),
            Ok(serde_json::Value::Object(_))
        ) {
            return Some("a session policy that is not a JSON policy document");
        }
        // How much a large, varied policy packs to depends on AWS's compression.
        let mut distinct: Vec<char> = policy.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if policy.chars().count() > 1024 && distinct.len() > 20 {
            return Some("a large varied policy, whose packed size cannot be predicted");
        }
    }
    if let Some(policy) = p.get("Policy")
        && policy.contains("\"Principal\"")
    {
        return Some("a session policy that names a principal");
    }
    let arns = p.list("PolicyArns").unwrap_or_default();
    if arns.len() > 10 {
        return Some("more than 10 policy ARNs");
    }
    for i in &arns {
        let arn = p.get(&format!("PolicyArns.member.{i}.arn")).unwrap_or("");
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let valid = parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "iam"
            && parts[5].starts_with("policy/");
        if !valid {
            return Some("a policy ARN that is not an ARN");
        }
    }
    let plain: usize = p.get("Policy").map_or(0, |s| s.chars().count())
        + arns
            .iter()
            .map(|i| {
                p.get(&format!("PolicyArns.member.{i}.arn"))
                    .map_or(0, |s| s.chars().count())
            })
            .sum::<usize>();
    if plain > 2048 {
        return Some("session policies over 2048 plaintext characters");
    }
    None
}

fn tag_problem(p: &Params) -> Option<&'static str> {
    let tags = p.list("Tags").unwrap_or_default();
    let keys: Vec<String> = tags
        .iter()
        .filter_map(|i| p.get(&format!("Tags.member.{i}.Key")))
        .map(str::to_lowercase)
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != keys.len() {
        return Some("duplicate tag keys");
    }
    let transitive = p.list("TransitiveTagKeys").unwrap_or_default();
    for i in transitive {
        let k = p
            .get(&format!("TransitiveTagKeys.member.{i}"))
            .unwrap_or("")
            .to_lowercase();
        if !keys.contains(&k) {
            return Some("a transitive tag key that is not a tag");
        }
    }
    let tag_chars: usize = tags
        .iter()
        .flat_map(|i| {
            [
                format!("Tags.member.{i}.Key"),
                format!("Tags.member.{i}.Value"),
            ]
        })
        .filter_map(|k| p.get(&k).map(|v| v.chars().count()))
        .sum();
    if tag_chars > 1024 {
        return Some("tags near the packed size limit");
    }
    None
}

impl Respond for ReferenceSts {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut pairs: Vec<(String, String)> =
            form_urlencoded::parse(&req.body).into_owned().collect();
        if let Some(q) = req.url.query() {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        let key = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
            .map(str::to_owned);
        let a = self.answer(pairs, key.as_deref());
        let ct = if a.status == 501 {
            "text/plain"
        } else {
            "text/xml"
        };
        ResponseTemplate::new(a.status).set_body_raw(a.body, ct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn reference() -> ReferenceSts {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let model = Model::load(&root.join("models/sts-2011-06-15.json")).unwrap();
        let facts = Facts::load(&root.join("models/sts.facts.yaml"), "sts").unwrap();
        ReferenceSts::new(
            model,
            facts,
            conform::target::default_vars("us-east-1"),
            "AKIDCALLER".into(),
        )
    }

    fn ask(r: &ReferenceSts, params: &[(&str, &str)]) -> Answer {
        let mut pairs = vec![("Version".to_owned(), "2011-06-15".to_owned())];
        pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        r.answer(pairs, Some("AKIDCALLER"))
    }

    fn message(a: &Answer) -> &str {
        a.body
            .split("<Message>")
            .nth(1)
            .and_then(|m| m.split("</Message>").next())
            .unwrap_or("")
    }

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
    fn a_role_arn_that_is_not_an_arn_is_refused_as_recorded() {
        // STS.md's recorded values, and one that passes the syntax.
        for bad in [
            "nothing-valid-in-here",
            "arn::b:::something/test-role",
            "arn:a::::something/test-role",
            "arn:a:::something/test-role",
            "arn:a:a::aaaaaaaaaa:",
            "rn:aws:iam::000008047983:role/s3role",
        ] {
            assert!(!arn_syntax(bad), "{bad}");
        }
        assert!(arn_syntax("arn:a:b:::something/test-role"));
        let r = reference();
        let a = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                ("RoleArn", "arn::b:::something/test-role"),
                ("RoleSessionName", "Session1"),
            ],
        );
        assert_eq!(a.status, 400);
        assert_eq!(message(&a), "arn::b:::something/test-role is invalid");
    }

    #[test]
    fn messages_come_from_the_facts_templates() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let text = std::fs::read_to_string(root.join("models/sts.facts.yaml")).unwrap();
        let changed = text.replace(
            "message: '{value} is invalid'",
            "message: 'no ARN: {value}'",
        );
        assert_ne!(text, changed, "the template is in the facts file");
        let facts = Facts::parse(&changed, Path::new("sts.facts.yaml"), "sts").unwrap();
        let model = Model::load(&root.join("models/sts-2011-06-15.json")).unwrap();
        let r = ReferenceSts::new(
            model,
            facts,
            conform::target::default_vars("us-east-1"),
            "AKIDCALLER".into(),
        );
        let a = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                ("RoleArn", "nothing-valid-in-here"),
                ("RoleSessionName", "Session1"),
            ],
        );
        assert_eq!(message(&a), "no ARN: nothing-valid-in-here");
        // The SAML and web identity ARNs follow the same rule, by inference.
        let a = ask(
            &reference(),
            &[
                ("Action", "AssumeRoleWithSAML"),
                ("RoleArn", "arn:aws:iam::role/xy"),
                ("PrincipalArn", "arn:aws:iam::123456789012:saml-provider/p"),
                ("SAMLAssertion", "PHNhbWw+"),
            ],
        );
        assert_eq!(
            (a.status, message(&a)),
            (400, "arn:aws:iam::role/xy is invalid")
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

    #[test]
    fn only_the_targets_role_can_be_assumed_and_its_keys_identify_the_session() {
        let r = reference();
        let a = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                ("RoleArn", "arn:aws:iam::123456789012:role/other"),
                ("RoleSessionName", "ab"),
            ],
        );
        assert_eq!(a.status, 403);
        assert_eq!(
            message(&a),
            "User: arn:aws:iam::123456789012:user/conform is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/other"
        );
        let ok = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                (
                    "RoleArn",
                    "arn:aws:iam::123456789012:role/conform-test-role",
                ),
                ("RoleSessionName", "ab"),
            ],
        );
        assert_eq!(ok.status, 200);
        let key = ok
            .body
            .split("<AccessKeyId>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        let me = r.answer(
            vec![
                ("Action".into(), "GetCallerIdentity".into()),
                ("Version".into(), "2011-06-15".into()),
            ],
            Some(&key),
        );
        assert!(
            me.body
                .contains("<Arn>arn:aws:sts::123456789012:assumed-role/conform-test-role/ab</Arn>"),
            "{}",
            me.body
        );
        let unknown = r.answer(
            vec![
                ("Action".into(), "GetCallerIdentity".into()),
                ("Version".into(), "2011-06-15".into()),
            ],
            Some("ASIANOBODY"),
        );
        assert_eq!(unknown.status, 403);
        let odd = ask(
            &r,
            &[
                ("Action", "AssumeRole"),
                (
                    "RoleArn",
                    "arn:aws:iam::123456789012:role/conform-test-role",
                ),
                ("RoleSessionName", "ab"),
                ("Policy", "not json"),
            ],
        );
        assert_eq!(
            odd.status, 501,
            "what is not a model rule is declined, not guessed"
        );
    }

    #[test]
    fn messages_use_lower_camel_member_paths() {
        assert_eq!(lower_camel("RoleSessionName"), "roleSessionName");
        assert_eq!(lower_camel("SAMLAssertion"), "sAMLAssertion");
    }
}
