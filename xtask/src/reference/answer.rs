//! The documents the reference answers with: STS's error and result envelopes, credentials
//! it issues (remembering whom each key stands for), and the deterministic values in them.

use super::{Identity, ReferenceSts};

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: String,
}

/// No documented answer: the case keeps a hand-written snapshot.
pub(super) fn decline(why: &str) -> Answer {
    Answer {
        status: 501,
        body: format!("reference: no documented answer ({why})"),
    }
}

pub(super) fn error_document(ns: &str, status: u16, code: &str, message: &str) -> Answer {
    Answer {
        status,
        body: conform::query::error_document(Some(ns), code, message, &request_id()),
    }
}

pub(super) fn escape(s: &str) -> String {
    conform::xml::escape_text(s).into_owned()
}

fn request_id() -> String {
    "b64dc4ee-8d6a-4bd9-9f7b-2a1c7b0c1f00".to_owned()
}

/// Deterministic characters of `alphabet` from a seed, so authored snapshots are stable.
pub(super) fn token_chars(seed: &str, n: usize, alphabet: &[u8]) -> String {
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

pub(super) const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub(super) const BASE64_URL: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// ISO 8601 UTC, whole seconds, `seconds` from now.
pub(super) fn iso_in(seconds: i64) -> String {
    conform::query::iso8601(time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
}

impl ReferenceSts {
    /// The answer of the facts' template `id`, its slots filled.
    pub(super) fn fact(&self, id: &str, args: &[(&str, &str)]) -> Answer {
        let Some(t) = self.facts.template(id) else {
            return decline(&format!("no template `{id}` in the facts"));
        };
        let ns = t.namespace.as_deref().unwrap_or(&self.facts.namespace);
        error_document(ns, t.status, &t.code, &t.render(args))
    }

    pub(super) fn success(&self, op: &str, result: &str) -> Answer {
        Answer {
            status: 200,
            body: format!(
                "<{op}Response xmlns=\"{}\"><{op}Result>{result}</{op}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{op}Response>",
                self.facts.namespace,
                request_id()
            ),
        }
    }

    /// New credentials for `id`, valid `seconds`; later calls signed with the key act as `id`.
    pub(super) fn credentials(&self, id: Identity, seconds: i64) -> String {
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
}
