//! STS's documented behaviour as an endpoint, for authoring: what the API reference, the
//! model and STS.md say AWS answers. `cargo xtask expect` runs the documented and inferred
//! cases against it to write their expected snapshots; it is never a target a conformance
//! run trusts, and the harness does not use it.
//!
//! It is code rather than data because its answers follow from rules that combine the
//! request, the model's constraints, the target's declared identities and the keys handed
//! out earlier in a flow (who may assume which role, which session a key stands for, what a
//! chained session may not do): data would need a rule language as large as this module.
//! What can be data is: every message it writes comes from STS's facts
//! (`models/sts.facts.yaml`), the validation format for model constraints and a named
//! template for anything else, so inferred answers follow one recorded format and carry
//! its code, status and namespace. No error message is worded here.
//!
//! It answers model validation (every constraint, in model order), the success shapes of
//! the operations a plain account can call, and the authorization outcomes that follow from
//! the target's declared identities. Anything else it declines with HTTP 501, and the case
//! keeps a hand-written snapshot instead.
//!
//! Its rooms: `params` (the decoded request), `validation` (model constraints), `identity`
//! (who calls, and what STS tells them of themselves), `roles` (role assumption), `tokens`
//! (session, federation, root, delegated and web identity tokens), `policy` (session
//! policies and tags it declines), `answer` (the documents, credentials and their values).

mod answer;
mod identity;
mod params;
mod policy;
mod roles;
mod tokens;
mod validation;

use std::collections::HashMap;
use std::sync::Mutex;

use conform::facts::Facts;
use conform::model::{Model, Operation};
use conform::template::Vars;
use wiremock::{Request, Respond, ResponseTemplate};

use answer::{Answer, decline, error_document};
use identity::Identity;
use params::Params;

pub struct ReferenceSts {
    model: Model,
    facts: Facts,
    vars: Vars,
    access_key_id: String,
    /// The keys it handed out, and whom each stands for.
    issued: Mutex<HashMap<String, Identity>>,
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

    fn var(&self, name: &str) -> &str {
        self.vars.get(name).map_or("", String::as_str)
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
        let violations = op.input.as_deref().map_or_else(Vec::new, |input| {
            validation::violations(&self.model, input, &p)
        });
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
        if let Some(why) = self.undocumented(&op, &p, &id) {
            return decline(why);
        }
        self.operation(&op, &p, id)
    }

    /// A valid request whose outcome, for any operation, depends on what no document says.
    fn undocumented(&self, op: &Operation, p: &Params, id: &Identity) -> Option<&'static str> {
        let region = self.var("disabled_region");
        if !region.is_empty() && p.0.iter().any(|(_, v)| v.contains(region)) {
            return Some("a case for a region where STS is disabled");
        }
        if matches!(id, Identity::AssumedRole { .. })
            && (p.has_prefix("Tags") || p.has_prefix("TransitiveTagKeys"))
        {
            return Some("session tags of a chained session depend on the calling session's");
        }
        if op.name == "GetWebIdentityToken" {
            let size: usize =
                p.0.iter()
                    .filter(|(k, _)| k.starts_with("Audience") || k.starts_with("Tags"))
                    .map(|(_, v)| v.len())
                    .sum();
            if size > 2048 {
                return Some("a token payload whose size limit is not documented");
            }
        }
        None
    }

    fn operation(&self, op: &Operation, p: &Params, id: Identity) -> Answer {
        match op.name.as_str() {
            "GetCallerIdentity" => self.caller_identity(&id),
            "AssumeRole" => self.assume_role(p, id),
            "GetSessionToken" => self.session_token(p, &id),
            "GetFederationToken" => self.federation_token(p, &id),
            "GetAccessKeyInfo" => self.access_key_info(p),
            "AssumeRoleWithWebIdentity" => self.web_identity(p),
            "AssumeRoleWithSAML" => self.saml(p),
            "AssumeRoot" => self.assume_root(p),
            "DecodeAuthorizationMessage" => self.decode_authorization_message(p),
            "GetDelegatedAccessToken" => self.delegated_access_token(p),
            "GetWebIdentityToken" => self.web_identity_token(p),
            other => decline(&format!(
                "{other} needs account state the reference cannot know"
            )),
        }
    }
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

/// A reference over the repository's STS model and facts, and how tests ask it.
#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    pub(super) fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_owned()
    }

    pub(super) fn reference() -> ReferenceSts {
        let root = root();
        let model = conform::input::model(&root.join("models/sts-2011-06-15.json")).unwrap();
        let facts = conform::input::facts(&root.join("models/sts.facts.yaml"), "sts").unwrap();
        ReferenceSts::new(
            model,
            facts,
            conform::target::default_vars("us-east-1"),
            "AKIDCALLER".into(),
        )
    }

    pub(super) fn ask(r: &ReferenceSts, params: &[(&str, &str)]) -> Answer {
        let mut pairs = vec![("Version".to_owned(), "2011-06-15".to_owned())];
        pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        r.answer(pairs, Some("AKIDCALLER"))
    }

    pub(super) fn message(a: &Answer) -> &str {
        a.body
            .split("<Message>")
            .nth(1)
            .and_then(|m| m.split("</Message>").next())
            .unwrap_or("")
    }
}
