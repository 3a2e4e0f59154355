//! Who a request speaks for (the target's caller, or a session whose keys the reference
//! issued), its MFA, and what STS tells a caller of itself and its keys.

use super::answer::Answer;
use super::params::Params;
use super::{ReferenceSts, answer::decline};

#[derive(Clone, Debug)]
pub(super) enum Identity {
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

impl ReferenceSts {
    /// The identity of the access key a request is signed with (None: unsigned); a key
    /// neither the target's nor issued here is refused as STS refuses it.
    pub(super) fn identity(&self, key: Option<&str>) -> Option<Result<Identity, Answer>> {
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

    pub(super) fn caller_arn(&self, id: &Identity) -> String {
        let acct = &self.vars["account_id"];
        match id {
            Identity::Caller | Identity::Session => self.vars["caller_arn"].clone(),
            Identity::AssumedRole { role, session, .. } => {
                format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}")
            }
            Identity::Federated { name } => format!("arn:aws:sts::{acct}:federated-user/{name}"),
        }
    }

    /// MFA: a device the caller does not have, or a code that is not its current one.
    pub(super) fn mfa_problem(&self, p: &Params) -> Option<Answer> {
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

    pub(super) fn caller_identity(&self, id: &Identity) -> Answer {
        let acct = &self.vars["account_id"];
        let (arn, user) = match id {
            Identity::Caller | Identity::Session => (
                self.vars["caller_arn"].clone(),
                self.vars["caller_user_id"].clone(),
            ),
            Identity::AssumedRole {
                role_id, session, ..
            } => (self.caller_arn(id), format!("{role_id}:{session}")),
            Identity::Federated { name } => (self.caller_arn(id), format!("{acct}:{name}")),
        };
        self.success(
            "GetCallerIdentity",
            &format!("<Arn>{arn}</Arn><UserId>{user}</UserId><Account>{acct}</Account>"),
        )
    }

    pub(super) fn access_key_info(&self, p: &Params) -> Answer {
        let key = p.get("AccessKeyId").unwrap_or("");
        let issued = self
            .issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(key);
        // A key id encodes its account; one that is neither the target's nor one it
        // handed out belongs to some other account.
        let account = if key == self.access_key_id || issued {
            self.vars["account_id"].as_str()
        } else {
            "111122223333"
        };
        self.success("GetAccessKeyInfo", &format!("<Account>{account}</Account>"))
    }

    pub(super) fn decode_authorization_message(&self, p: &Params) -> Answer {
        if p.get("EncodedMessage") != Some(self.var("encoded_authorization_message")) {
            return decline("a message the target did not provide");
        }
        self.success(
            "DecodeAuthorizationMessage",
            "<DecodedMessage>{&quot;allowed&quot;:false,&quot;explicitDeny&quot;:false,&quot;matchedStatements&quot;:{&quot;items&quot;:[]}}</DecodedMessage>",
        )
    }
}
