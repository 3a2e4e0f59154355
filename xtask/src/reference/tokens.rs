//! Operations that hand out credentials or tokens other than a role session: session and
//! federation tokens (the caller's own, refused to a session), root and delegated access,
//! and web identity tokens.

use super::ReferenceSts;
use super::answer::{Answer, BASE64_URL, decline, iso_in, token_chars};
use super::identity::Identity;
use super::params::Params;
use super::policy::{policy_problem, tag_problem};

/// The root-task policies AWS documents.
const ROOT_TASKS: [&str; 5] = [
    "IAMAuditRootUserCredentials",
    "IAMCreateRootUserPassword",
    "IAMDeleteRootUserCredentials",
    "S3UnlockBucketPolicy",
    "SQSUnlockQueuePolicy",
];

impl ReferenceSts {
    pub(super) fn session_token(&self, p: &Params, id: &Identity) -> Answer {
        if !matches!(id, Identity::Caller) {
            return self.fact(
                "session-credentials-refused",
                &[("operation", "GetSessionToken")],
            );
        }
        if let Some(denied) = self.mfa_problem(p) {
            return denied;
        }
        self.success(
            "GetSessionToken",
            &self.credentials(Identity::Session, p.duration(43200)),
        )
    }

    pub(super) fn federation_token(&self, p: &Params, id: &Identity) -> Answer {
        if !matches!(id, Identity::Caller) {
            return self.fact(
                "session-credentials-refused",
                &[("operation", "GetFederationToken")],
            );
        }
        if let Some(why) = policy_problem(p).or_else(|| tag_problem(p)) {
            return decline(why);
        }
        let acct = &self.vars["account_id"];
        let name = p.get("Name").unwrap_or("").to_owned();
        let secs = p.duration(43200);
        let creds = self.credentials(Identity::Federated { name: name.clone() }, secs);
        let packed = if p.has_session_policy() || p.has_prefix("Tags") {
            6
        } else {
            0
        };
        self.success(
            "GetFederationToken",
            &format!("{creds}<FederatedUser><FederatedUserId>{acct}:{name}</FederatedUserId><Arn>arn:aws:sts::{acct}:federated-user/{name}</Arn></FederatedUser><PackedPolicySize>{packed}</PackedPolicySize>"),
        )
    }

    pub(super) fn assume_root(&self, p: &Params) -> Answer {
        if p.get("TargetPrincipal") != Some(self.var("member_account_id")) {
            return decline("a target principal other than the declared member account");
        }
        let arn = p.get("TaskPolicyArn.arn").unwrap_or("");
        if !ROOT_TASKS
            .iter()
            .any(|t| arn == format!("arn:aws:iam::aws:policy/root-task/{t}"))
        {
            return decline("a task policy that is not one of AWS's root-task policies");
        }
        self.success(
            "AssumeRoot",
            &self.credentials(Identity::Caller, p.duration(900)),
        )
    }

    pub(super) fn delegated_access_token(&self, p: &Params) -> Answer {
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

    pub(super) fn web_identity_token(&self, p: &Params) -> Answer {
        if !matches!(p.get("SigningAlgorithm"), Some("RS256" | "ES384")) {
            return decline("a signing algorithm outside RS256 and ES384");
        }
        // The default lifetime is not documented; 300 s is inferred.
        let secs = p.duration(300);
        let jwt = format!(
            "{}.{}.{}",
            token_chars("jwt-header", 36, BASE64_URL),
            token_chars("jwt-payload", 120, BASE64_URL),
            token_chars("jwt-signature", 86, BASE64_URL)
        );
        self.success(
            "GetWebIdentityToken",
            &format!(
                "<WebIdentityToken>{jwt}</WebIdentityToken><Expiration>{}</Expiration>",
                iso_in(secs)
            ),
        )
    }
}
