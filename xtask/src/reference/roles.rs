//! Role assumption: AssumeRole, AssumeRoleWithWebIdentity and AssumeRoleWithSAML, with the
//! ARN checks STS applies to a role, and the sessions they open.

use super::ReferenceSts;
use super::answer::{Answer, UPPER_DIGITS, decline, escape, token_chars};
use super::identity::Identity;
use super::params::Params;
use super::policy::{policy_problem, tag_problem};

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

impl ReferenceSts {
    /// The role's id and credentials for a new session of `role`.
    fn role_credentials(&self, role: &str, session: &str, secs: i64) -> (String, String) {
        let role_id = format!("AROA{}", token_chars(role, 17, UPPER_DIGITS));
        let creds = self.credentials(
            Identity::AssumedRole {
                role: role.to_owned(),
                session: session.to_owned(),
                role_id: role_id.clone(),
            },
            secs,
        );
        (role_id, creds)
    }

    /// AssumedRoleUser and Credentials for a session of `role_arn`'s role.
    fn role_session(&self, role_arn: &str, session: &str, secs: i64) -> (String, String) {
        let acct = &self.vars["account_id"];
        let role = role_arn.rsplit('/').next().unwrap_or("");
        let (role_id, creds) = self.role_credentials(role, session, secs);
        let user = format!(
            "<AssumedRoleUser><AssumedRoleId>{role_id}:{s}</AssumedRoleId><Arn>arn:aws:sts::{acct}:assumed-role/{role}/{s}</Arn></AssumedRoleUser>",
            s = escape(session)
        );
        (user, creds)
    }

    pub(super) fn assume_role(&self, p: &Params, id: Identity) -> Answer {
        let acct = &self.vars["account_id"];
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
        let secs = p.duration(3600);
        if matches!(id, Identity::AssumedRole { .. }) && secs > 3600 {
            return decline("role chaining limit");
        }
        let role = &self.vars["role_name"];
        let session = p.get("RoleSessionName").unwrap_or("");
        let (role_id, creds) = self.role_credentials(role, session, secs);
        let mut result = String::new();
        if let Some(si) = p.get("SourceIdentity") {
            result.push_str(&format!("<SourceIdentity>{}</SourceIdentity>", escape(si)));
        }
        result.push_str(&format!(
            "<AssumedRoleUser><Arn>arn:aws:sts::{acct}:assumed-role/{role}/{}</Arn><AssumedRoleId>{role_id}:{}</AssumedRoleId></AssumedRoleUser>",
            escape(session),
            escape(session)
        ));
        result.push_str(&creds);
        if p.has_session_policy() || p.has_prefix("Tags") {
            result.push_str("<PackedPolicySize>6</PackedPolicySize>");
        }
        self.success("AssumeRole", &result)
    }

    pub(super) fn web_identity(&self, p: &Params) -> Answer {
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
        let secs = p.duration(3600);
        let (user, creds) =
            self.role_session(role_arn, p.get("RoleSessionName").unwrap_or(""), secs);
        let packed = if p.has_session_policy() {
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

    pub(super) fn saml(&self, p: &Params) -> Answer {
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
        let secs = p.duration(3600);
        // The session is named by the assertion's RoleSessionName attribute: its subject here.
        let (user, creds) = self.role_session(role_arn, self.var("saml_subject"), secs);
        let packed = if p.has_session_policy() {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::tests::{ask, message, reference, root};
    use conform::facts::Facts;
    use std::path::Path;

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
        let root = root();
        let text = std::fs::read_to_string(root.join("models/sts.facts.yaml")).unwrap();
        let changed = text.replace(
            "message: '{value} is invalid'",
            "message: 'no ARN: {value}'",
        );
        assert_ne!(text, changed, "the template is in the facts file");
        let facts = Facts::parse(&changed, Path::new("sts.facts.yaml"), "sts").unwrap();
        let model = conform::input::model(&root.join("models/sts-2011-06-15.json")).unwrap();
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
}
