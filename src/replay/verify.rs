//! What a request's signature and form say beyond its parameters: whether it was signed
//! with a given key (to tell cases that differ only in their keys apart), and whether an
//! SDK sent what the protocol asks of it.

use super::decode::{Incoming, same_media_type};
use super::expect::Entry;

const FORM: &str = "application/x-www-form-urlencoded";

/// Whether the request's SigV4 signature was made with this key and secret. Checked in
/// place: the request is borrowed, not copied.
pub(super) fn signed_with(req: &Incoming, key: &str, secret: &str) -> bool {
    let host = req.header("host").unwrap_or("localhost");
    let url = match &req.query {
        Some(q) => format!("http://{host}/?{q}"),
        None => format!("http://{host}/"),
    };
    let keys = crate::sign::Keys {
        key,
        secret,
        token: req.header("x-amz-security-token"),
    };
    let received = crate::sign::Received {
        method: &req.method,
        url: &url,
        headers: &req.headers,
        body: &req.body,
    };
    crate::sign::verify_received(&keys, &received)
}

/// What an SDK must send for a modelled call: a signature scoped to the operation's service
/// when it is signed, and a form body. None when the request keeps to that (raw steps send
/// what they like).
pub(super) fn protocol_problem(e: &Entry, req: &Incoming) -> Option<String> {
    if e.raw {
        return None;
    }
    if let Some(service) = &e.signing_name {
        match req.signed_for() {
            None => {
                return Some(
                    "the operation is signed, but the request has no SigV4 Authorization header"
                        .into(),
                );
            }
            Some(s) if s != service => {
                return Some(format!(
                    "the signature is scoped to `{s}`, the operation belongs to `{service}`"
                ));
            }
            _ => {}
        }
    }
    let ct = req.header("content-type").unwrap_or("");
    if !req.body.is_empty() && !ct.starts_with(FORM) {
        return Some(format!("Content-Type is `{ct}`, not {FORM}"));
    }
    None
}

/// Whether the request's body is of the type the step sends: a raw step's own
/// Content-Type, a form for anything else.
pub(super) fn content_type_fits(e: &Entry, req: &Incoming) -> bool {
    let got = req.header("content-type").unwrap_or("");
    match &e.content_type {
        Some(want) => same_media_type(want, got),
        None => req.body.is_empty() || !e.raw || same_media_type(got, FORM),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn request(body: &str, content_type: &str) -> crate::transport::HttpRequest {
        crate::transport::HttpRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/".into(),
            headers: vec![
                ("host".into(), "127.0.0.1:1".into()),
                ("content-type".into(), content_type.into()),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    fn arrived(mut req: crate::transport::HttpRequest, key: &str, secret: &str) -> Incoming {
        let creds = crate::sign::Credentials {
            access_key_id: key.into(),
            secret_access_key: secret.into(),
            session_token: None,
        };
        let signed =
            crate::sign::sign_headers(&creds, "us-east-1", "sts", &req, SystemTime::now()).unwrap();
        req.headers.extend(signed);
        Incoming {
            method: req.method,
            query: None,
            headers: req
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body: req.body,
        }
    }

    #[test]
    fn a_signature_tells_which_secret_made_it() {
        let req = arrived(request("Action=X", FORM), "AKIDA", "secret-a");
        assert!(signed_with(&req, "AKIDA", "secret-a"));
        assert!(!signed_with(&req, "AKIDA", "secret-b"));
        let mut tampered = req.clone();
        tampered.body = b"Action=Y".to_vec();
        assert!(!signed_with(&tampered, "AKIDA", "secret-a"));
    }
}
