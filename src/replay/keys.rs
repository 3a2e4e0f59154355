//! Keys the server handed out, remembered with whom they stand for (the last `IDENTITIES`,
//! ended sessions evicted first), and the answers that depend on them: a session's own
//! identity call, and the corpus's errors for ended and unknown keys. What an answer says
//! of its session (which elements name it, when it ends) comes from the issuing service's
//! replay file.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use time::OffsetDateTime;

use super::decode::param;
use super::matching::Binding;
use super::render::{Rendering, after_open, set_text, text_of};
use super::{Replay, Reply};
use crate::stand_in::Sessions;

/// How many handed-out keys the server remembers. A whole run of the corpus hands out a few
/// hundred, each used within seconds of being issued, and an entry costs about a kilobyte:
/// 4,096 covers many runs at once in a few megabytes, however long the server lives.
pub(super) const IDENTITIES: usize = 4096;

/// Whom a set of keys this server handed out stands for.
#[derive(Debug, Clone)]
pub(super) struct Identity {
    /// The operation that handed them out, and its service.
    pub op: String,
    pub service: String,
    pub arn: String,
    pub user_id: String,
    pub account: String,
    pub expires: Option<OffsetDateTime>,
    /// What the request that got them bound: later steps signed with them answer the same.
    pub binding: Binding,
    /// Cases whose flows may continue with them (cases whose first steps are the same
    /// request all own the keys it handed out).
    pub cases: Arc<[usize]>,
}

/// Keys handed out, with whom they stand for, at most `IDENTITIES` of them.
#[derive(Default)]
pub(super) struct Issued {
    by_key: HashMap<String, Identity>,
    /// Keys in the order they were handed out, the oldest first.
    order: VecDeque<String>,
}

impl Issued {
    pub fn get(&self, key: &str) -> Option<&Identity> {
        self.by_key.get(key)
    }

    pub fn insert(&mut self, key: String, id: Identity, now: OffsetDateTime) {
        if self.by_key.len() >= IDENTITIES {
            self.make_room(now);
        }
        if self.by_key.insert(key.clone(), id).is_none() {
            self.order.push_back(key);
        }
    }

    /// Ended sessions go first (a client gets the expired-key error for them only as long
    /// as there is room), then the oldest, down to seven eighths of the cap: the whole-map
    /// passes then happen once per eighth of the cap of new keys, not once per key.
    fn make_room(&mut self, now: OffsetDateTime) {
        self.by_key
            .retain(|_, id| id.expires.is_none_or(|t| t > now));
        let keep = IDENTITIES - IDENTITIES / 8;
        while self.by_key.len() > keep {
            let Some(k) = self.order.pop_front() else {
                break;
            };
            self.by_key.remove(&k);
        }
        self.order.retain(|k| self.by_key.contains_key(k));
    }
}

/// Whom the keys in a rendered answer stand for: the first principal element the service
/// names that the answer holds, or else the caller itself (its variables); the account the
/// ARN names; and when the keys expire.
pub(super) fn who(
    answer: &str,
    sessions: &Sessions,
    var: &dyn Fn(&str) -> String,
) -> (String, String, String, Option<OffsetDateTime>) {
    let principal = sessions.principals.iter().find_map(|p| {
        let inside = after_open(answer, &p.element)?;
        Some((
            text_of(inside, &p.arn).unwrap_or_default(),
            text_of(inside, &p.id).unwrap_or_default(),
        ))
    });
    let (arn, user_id) =
        principal.unwrap_or_else(|| (var(&sessions.caller.arn), var(&sessions.caller.id)));
    // The account is the one the ARN names (a role of another account, assumed).
    let account = arn
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map_or_else(|| var(&sessions.caller.account), str::to_owned);
    let expires = text_of(answer, &sessions.expires).and_then(|t| {
        OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
    });
    (arn, user_id, account, expires)
}

impl Replay {
    /// The answer a case with these parameter names gives with this error code (an expired
    /// or unknown key), from its snapshot.
    pub(super) fn coded_answer(
        &self,
        params: &[(String, String)],
        code: &str,
        binding: &Binding,
    ) -> Option<Reply> {
        let e = self
            .entries_named(params)
            .find(|e| e.answer.as_ref().is_some_and(|a| a.has_code(code)))?;
        let a = e.answer.as_ref()?;
        self.lock().mark_requested(e.case);
        Some(Reply {
            status: a.status,
            content_type: a.content_type.clone(),
            body: self.render(&a.body, binding, &Rendering::of(e, &Arc::from([]), "")),
        })
    }

    /// The identity call signed with keys this server handed out, when no flow of their own
    /// case covers it: the answer of a flow that calls as its session, naming this session.
    pub(super) fn session_answer(
        &self,
        params: &[(String, String)],
        id: &Identity,
    ) -> Option<Reply> {
        let call = self.sessions(&id.service)?.identity.as_ref()?;
        if param(params, "Action") != Some(call.operation.as_str()) {
            return None;
        }
        let e = self
            .entries_named(params)
            .filter(|e| e.issuer_op.is_some() && e.answer.as_ref().is_some_and(|a| a.succeeded()))
            .min_by_key(|e| (e.issuer_op.as_deref() != Some(id.op.as_str()), e.case))?;
        let a = e.answer.as_ref()?;
        let mut body = a.body.clone();
        for (element, value) in [
            (&call.arn, &id.arn),
            (&call.id, &id.user_id),
            (&call.account, &id.account),
        ] {
            body = set_text(&body, element, value);
        }
        self.lock().mark_requested(e.case);
        Some(Reply {
            status: a.status,
            content_type: a.content_type.clone(),
            body: self.render(
                &body,
                &id.binding,
                &Rendering::of(e, &Arc::from([]), &call.operation),
            ),
        })
    }

    /// The answer for temporary keys nobody handed out: the first service's error for them
    /// that a case with these parameter names holds.
    pub(super) fn unknown_key_answer(&self, params: &[(String, String)]) -> Option<Reply> {
        self.services.values().find_map(|s| {
            let code = &s.sessions.as_ref()?.unknown_code;
            self.coded_answer(params, code, &Binding::default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stand_in::{Caller, Principal};

    fn identity(expires: Option<OffsetDateTime>) -> Identity {
        Identity {
            op: "AssumeRole".into(),
            service: "sts".into(),
            arn: String::new(),
            user_id: String::new(),
            account: String::new(),
            expires,
            binding: Binding::default(),
            cases: Arc::from([]),
        }
    }

    #[test]
    fn handed_out_keys_are_bounded_ended_sessions_first_then_the_oldest() {
        let now = OffsetDateTime::now_utc();
        let hour = time::Duration::hours(1);
        let mut issued = Issued::default();
        // Every other key's session has ended; the newest key is live.
        for i in 0..IDENTITIES {
            let ends = if i % 2 == 0 { now - hour } else { now + hour };
            issued.insert(format!("K{i}"), identity(Some(ends)), now);
        }
        assert_eq!(issued.by_key.len(), IDENTITIES);
        issued.insert("NEW".into(), identity(Some(now + hour)), now);
        assert_eq!(
            issued.by_key.len(),
            IDENTITIES / 2 + 1,
            "ended sessions go first"
        );
        assert!(issued.get("K1").is_some() && issued.get("K0").is_none());
        // Live keys only: the oldest go.
        for i in 0..3 * IDENTITIES {
            issued.insert(format!("L{i}"), identity(None), now);
            assert!(issued.by_key.len() <= IDENTITIES);
            assert!(issued.order.len() <= IDENTITIES);
        }
        assert!(issued.get(&format!("L{}", 3 * IDENTITIES - 1)).is_some());
        assert!(issued.get("L0").is_none() && issued.get("NEW").is_none());
    }

    fn sessions() -> Sessions {
        Sessions {
            key: "access-key-id".into(),
            expires: "Expiration".into(),
            principals: vec![
                Principal {
                    element: "AssumedRoleUser".into(),
                    arn: "Arn".into(),
                    id: "AssumedRoleId".into(),
                },
                Principal {
                    element: "FederatedUser".into(),
                    arn: "Arn".into(),
                    id: "FederatedUserId".into(),
                },
            ],
            caller: Caller {
                arn: "caller_arn".into(),
                id: "caller_user_id".into(),
                account: "account_id".into(),
            },
            expired_code: "ExpiredToken".into(),
            unknown_code: "InvalidClientTokenId".into(),
            identity: None,
        }
    }

    #[test]
    fn keys_stand_for_the_principal_an_answer_names_or_the_caller() {
        let var = |n: &str| format!("<{n}>");
        let answer = "<R><FederatedUser><Arn>arn:aws:sts::111122223333:federated-user/Bob</Arn><FederatedUserId>111122223333:Bob</FederatedUserId></FederatedUser><Credentials><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></R>";
        let (arn, id, account, expires) = who(answer, &sessions(), &var);
        assert_eq!(arn, "arn:aws:sts::111122223333:federated-user/Bob");
        assert_eq!(id, "111122223333:Bob");
        assert_eq!(account, "111122223333");
        assert_eq!(expires.map(|t| t.year()), Some(2030));
        // GetSessionToken names nobody: the caller, by the target's variables.
        let (arn, id, account, expires) =
            who("<R><Expiration>soon</Expiration></R>", &sessions(), &var);
        assert_eq!(
            (arn.as_str(), id.as_str(), account.as_str(), expires),
            ("<caller_arn>", "<caller_user_id>", "<account_id>", None)
        );
    }
}
