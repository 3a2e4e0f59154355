//! SigV4 through the `aws-sigv4` crate. Signing is the crate's alone; checking a signature
//! the replay server received builds the usual request's canonical form here, to reuse
//! signing keys (the crate derives one per signature), and leaves any other to the crate.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::SystemTime;

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use sha2::{Digest, Sha256};

use crate::http::HttpRequest;

/// Long-term or temporary keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    // Never print the secret parts, not even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot sign the request: {0}")]
pub struct SignError(String);

/// The headers to add to a request so that it carries a SigV4 signature (Authorization,
/// X-Amz-Date, and X-Amz-Security-Token with a session token).
pub fn sign_headers(
    creds: &Credentials,
    region: &str,
    service: &str,
    request: &HttpRequest,
    time: SystemTime,
) -> Result<Vec<(String, String)>, SignError> {
    let identity: Identity = AwsCredentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        creds.session_token.clone(),
        None,
        "conform",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SignError(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        &request.method,
        &request.url,
        request
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&request.body),
    )
    .map_err(|e| SignError(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| SignError(e.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// Whether `request` (as received, Authorization included) carries a valid SigV4 signature
/// made with `creds`: its headers are signed again with the scope and time it names.
pub fn verify(creds: &Credentials, request: &HttpRequest) -> bool {
    let keys = Keys {
        key: &creds.access_key_id,
        secret: &creds.secret_access_key,
        token: creds.session_token.as_deref(),
    };
    verify_received(&keys, &Received::of(request))
}

/// The keys a signature is checked against, borrowed: a server checking each request needs
/// no copies of them.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub key: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
}

/// A request as a server received it, borrowed from wherever the server keeps it.
#[derive(Clone, Copy)]
pub struct Received<'a> {
    pub method: &'a str,
    /// `http://host[:port]/`, with the query string when there is one.
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl<'a> Received<'a> {
    pub fn of(request: &'a HttpRequest) -> Received<'a> {
        Received {
            method: &request.method,
            url: &request.url,
            headers: &request.headers,
            body: &request.body,
        }
    }
}

/// `verify` of a borrowed request with borrowed keys.
pub fn verify_received(keys: &Keys<'_>, request: &Received<'_>) -> bool {
    check(keys, request, Check::Quick)
        .or_else(|| check(keys, request, Check::SignAgain))
        .unwrap_or(false)
}

/// How `check` reaches its verdict.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    /// The canonical form built here, with a cached signing key; no verdict for requests
    /// other than those SDKs send.
    Quick,
    /// The request signed again by `aws-sigv4` with the scope and time it names.
    SignAgain,
}

fn check(keys: &Keys<'_>, request: &Received<'_>, how: Check) -> Option<bool> {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let Some(auth) = header("authorization") else {
        return Some(false);
    };
    let field = |name: &str| auth.split([' ', ',']).find_map(|p| p.strip_prefix(name));
    let (Some(scope), Some(signed), Some(date)) = (
        field("Credential="),
        field("SignedHeaders="),
        header("x-amz-date"),
    ) else {
        return Some(false);
    };
    // The five parts of the scope: key, day, region, service, `aws4_request`.
    let mut parts = [""; 5];
    let mut count = 0;
    for p in scope.split('/') {
        if count == parts.len() {
            return Some(false);
        }
        parts[count] = p;
        count += 1;
    }
    if count != parts.len() || parts[0] != keys.key {
        return Some(false);
    }
    let Ok(time) = time::PrimitiveDateTime::parse(
        date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    ) else {
        return Some(false);
    };
    let is_signed = |k: &str| signed.split(';').any(|n| n == k);
    let scope = Scope {
        key: parts[0],
        region: parts[2],
        service: parts[3],
    };
    if how == Check::Quick {
        return quick_verify(keys, request, auth, &scope, signed, date);
    }
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            is_signed(&k)
                && k != "x-amz-date"
                && k != "x-amz-security-token"
                && k != "x-amz-content-sha256"
        })
        .cloned()
        .collect();
    let unsigned = HttpRequest {
        method: request.method.to_owned(),
        url: request.url.to_owned(),
        headers,
        body: request.body.to_vec(),
    };
    let creds = Credentials {
        access_key_id: keys.key.to_owned(),
        secret_access_key: keys.secret.to_owned(),
        session_token: keys.token.map(str::to_owned),
    };
    Some(
        match sign_headers(
            &creds,
            parts[2],
            parts[3],
            &unsigned,
            time.assume_utc().into(),
        ) {
            Ok(h) => h.iter().any(|(k, v)| k == "authorization" && v == auth),
            Err(_) => false,
        },
    )
}

/// A signature's credential scope, as the request names it.
struct Scope<'a> {
    key: &'a str,
    region: &'a str,
    service: &'a str,
}

/// Signing keys by secret, date, region and service (the four, each after its length, in
/// one text: one allocation to look one up). A client signs with few of these at once; the
/// cache is emptied when full, so that one sending many costs bounded memory.
type KeyCache = HashMap<String, [u8; 32]>;
const KEYS_KEPT: usize = 256;
static KEYS: LazyLock<Mutex<KeyCache>> = LazyLock::new(Mutex::default);

/// `verify` for the request SDKs send (path `/`, no query string, each signed header once,
/// printable values, `host` signed): the same verdict as signing again with `aws-sigv4`,
/// with a cached signing key. None for any other request. Builds the canonical request in
/// one buffer and compares the Authorization header piece by piece: a server checks every
/// request it gets this way.
fn quick_verify(
    keys: &Keys<'_>,
    request: &Received<'_>,
    auth: &str,
    scope: &Scope<'_>,
    names: &str,
    date: &str,
) -> Option<bool> {
    use std::borrow::Cow;
    // `http://host[:port]/`, as the replay server rebuilds what arrived without a query.
    let host = request.url.split_once("://")?.1.strip_suffix('/')?;
    let (name, port) = host.split_once(':').unwrap_or((host, "0"));
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        || port.parse::<u16>().is_err()
    {
        return None;
    }
    let printable = |v: &str| v.bytes().all(|b| (0x20..0x7f).contains(&b));
    let mut headers: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(8);
    for (k, v) in request.headers {
        // What servers hand over is lower case already: copied only when it is not.
        let k: Cow<'_, str> = if k.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(k.to_ascii_lowercase())
        } else {
            Cow::Borrowed(k)
        };
        if !names.split(';').any(|n| n == k) || k == "x-amz-content-sha256" {
            continue;
        }
        if matches!(
            &*k,
            "authorization" | "user-agent" | "x-amzn-trace-id" | "transfer-encoding"
        ) || !printable(v)
        {
            return None;
        }
        match &*k {
            "x-amz-date" | "x-amz-security-token" => {}
            _ => {
                let v = collapse_spaces(v);
                headers.push((k, v));
            }
        }
    }
    headers.push((Cow::Borrowed("x-amz-date"), Cow::Borrowed(date)));
    if let Some(t) = keys.token {
        if !printable(t) {
            return None;
        }
        headers.push((Cow::Borrowed("x-amz-security-token"), Cow::Borrowed(t)));
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    if headers.windows(2).any(|w| w[0].0 == w[1].0) || !headers.iter().any(|(k, _)| k == "host") {
        return None;
    }
    // The date of the scope is the day of X-Amz-Date when signed again.
    let day = date.get(..8)?;
    let mut canonical = String::with_capacity(256 + request.body.len().min(64));
    canonical.push_str(request.method);
    canonical.push_str("\n/\n\n");
    for (k, v) in &headers {
        canonical.push_str(k);
        canonical.push(':');
        canonical.push_str(v);
        canonical.push('\n');
    }
    canonical.push('\n');
    let signed_at = canonical.len();
    for (i, (k, _)) in headers.iter().enumerate() {
        if i > 0 {
            canonical.push(';');
        }
        canonical.push_str(k);
    }
    let signed_end = canonical.len();
    canonical.push('\n');
    hex_into(&mut canonical, &Sha256::digest(request.body));
    let mut to_sign = String::with_capacity(160);
    to_sign.push_str("AWS4-HMAC-SHA256\n");
    to_sign.push_str(date);
    to_sign.push('\n');
    let scope_at = to_sign.len();
    for part in [day, scope.region, scope.service, "aws4_request"] {
        to_sign.push_str(part);
        to_sign.push('/');
    }
    to_sign.pop();
    let scope_end = to_sign.len();
    to_sign.push('\n');
    hex_into(&mut to_sign, &Sha256::digest(canonical.as_bytes()));
    let key = signing_key(keys.secret, day, scope.region, scope.service)?;
    let signature = v4::calculate_signature(key, to_sign.as_bytes());
    Some(is_concat(
        auth,
        &[
            "AWS4-HMAC-SHA256 Credential=",
            scope.key,
            "/",
            &to_sign[scope_at..scope_end],
            ", SignedHeaders=",
            &canonical[signed_at..signed_end],
            ", Signature=",
            &signature,
        ],
    ))
}

/// Whether `text` is these parts one after the other.
fn is_concat(text: &str, parts: &[&str]) -> bool {
    let mut rest = text;
    for p in parts {
        match rest.strip_prefix(p) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// The signing key of a secret for a day, region and service, derived once.
fn signing_key(secret: &str, day: &str, region: &str, service: &str) -> Option<[u8; 32]> {
    let mut id =
        String::with_capacity(secret.len() + day.len() + region.len() + service.len() + 16);
    for part in [secret, day, region] {
        id.push_str(&part.len().to_string());
        id.push(':');
        id.push_str(part);
    }
    id.push_str(service);
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(k) = keys.get(&id) {
        return Some(*k);
    }
    let midday = time::Date::parse(day, time::macros::format_description!("[year][month][day]"))
        .ok()?
        .midnight()
        .assume_utc();
    let derived = v4::generate_signing_key(secret, midday.into(), region, service);
    let key: [u8; 32] = derived.as_ref().try_into().ok()?;
    if keys.len() >= KEYS_KEPT {
        keys.clear();
    }
    keys.insert(id, key);
    Some(key)
}

/// A header value as SigV4 signs it: spaces at the ends dropped, runs of them made one
/// (borrowed when it has none of those, as nearly every value).
fn collapse_spaces(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.starts_with(' ') && !v.ends_with(' ') && !v.contains("  ") {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len());
    for word in v.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    std::borrow::Cow::Owned(out)
}

fn hex_into(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
        }
    }

    fn req(url: &str, body: &[u8]) -> HttpRequest {
        let host = url.split('/').nth(2).unwrap_or("").to_owned();
        HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![
                ("host".to_owned(), host),
                (
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
                ),
            ],
            body: body.to_vec(),
        }
    }

    #[test]
    fn signature_is_scoped_to_region_and_service_and_is_deterministic() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
        let url = "https://sts.amazonaws.com/";
        let body = b"Action=GetCallerIdentity&Version=2011-06-15";
        let a = sign_headers(&creds(None), "us-east-1", "sts", &req(url, body), t).unwrap();
        let b = sign_headers(&creds(None), "us-east-1", "sts", &req(url, body), t).unwrap();
        assert_eq!(a, b);
        let auth = &a.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request"
            ),
            "{auth}"
        );
        assert!(
            a.iter()
                .any(|(k, v)| k == "x-amz-date" && v == "20150830T123600Z")
        );
        assert!(!a.iter().any(|(k, _)| k == "x-amz-security-token"));
        // A different body gives a different signature.
        let c = sign_headers(&creds(None), "us-east-1", "sts", &req(url, b"Action=X"), t).unwrap();
        assert_ne!(a, c);
    }

    /// The "get-vanilla" vector of AWS's SigV4 test suite: an independent check that what
    /// we sign is what AWS computes.
    #[test]
    fn the_sigv4_test_suite_get_vanilla_vector() {
        let req = HttpRequest {
            method: "GET".into(),
            url: "https://example.amazonaws.com/".into(),
            headers: vec![("host".into(), "example.amazonaws.com".into())],
            body: Vec::new(),
        };
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let h = sign_headers(&creds(None), "us-east-1", "service", &req, t).unwrap();
        let auth = &h.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn a_signature_verifies_with_its_secret_and_not_with_another() {
        let mut r = req(
            "http://127.0.0.1:5000/",
            b"Action=GetCallerIdentity&Version=2011-06-15",
        );
        let signed = sign_headers(
            &creds(Some("TOKEN")),
            "us-east-1",
            "sts",
            &r,
            SystemTime::now(),
        )
        .unwrap();
        r.headers.extend(signed);
        assert!(verify(&creds(Some("TOKEN")), &r));
        let mut other = creds(None);
        other.secret_access_key = "another-secret".into();
        assert!(!verify(&other, &r));
        let mut tampered = r.clone();
        tampered.body = b"Action=GetCallerIdentity&Version=2011-06-16".to_vec();
        assert!(!verify(&creds(Some("TOKEN")), &tampered));
    }

    #[test]
    fn session_tokens_travel_in_the_security_token_header() {
        let r = req("http://localhost/", b"");
        let h = sign_headers(
            &creds(Some("TOKEN")),
            "eu-west-1",
            "sts",
            &r,
            SystemTime::now(),
        )
        .unwrap();
        assert!(
            h.iter()
                .any(|(k, v)| k == "x-amz-security-token" && v == "TOKEN")
        );
        assert!(format!("{:?}", creds(Some("TOKEN"))).contains("[redacted]"));
        assert!(!format!("{:?}", creds(Some("TOKEN"))).contains("EXAMPLEKEY"));
    }

    /// The quick check must reach the verdict of signing again wherever it gives one, and
    /// give one for what SDKs send.
    #[test]
    fn the_quick_check_agrees_with_signing_again() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut quick = 0;
        let mut valid = 0;
        for (url, token, extra, body) in [
            (
                "http://127.0.0.1:5000/",
                None,
                None,
                &b"Action=GetCallerIdentity"[..],
            ),
            ("http://localhost/", Some("TOKEN"), None, b""),
            (
                "http://localhost:1/",
                None,
                Some(("X-Custom", "  a   b  ")),
                b"x=1",
            ),
            (
                "http://localhost:1/",
                None,
                Some(("user-agent", "sdk/1")),
                b"x=1",
            ),
            (
                "http://localhost:1/",
                None,
                Some(("x-odd", "tab\there")),
                b"x=1",
            ),
            ("http://localhost:1/?a=b", None, None, b"x=1"),
            ("http://[::1]:1/", None, None, b"x=1"),
        ] {
            let mut r = req(url, body);
            if let Some((k, v)) = extra {
                r.headers.push((k.into(), v.into()));
            }
            let signer = creds(token);
            r.headers
                .extend(sign_headers(&signer, "us-east-1", "sts", &r, t).unwrap());
            let mut variants = vec![r.clone()];
            let mut tampered = r.clone();
            tampered.body.push(b'&');
            variants.push(tampered);
            let mut upper = r.clone();
            for (k, _) in &mut upper.headers {
                if k == "content-type" {
                    *k = "Content-Type".into();
                }
            }
            variants.push(upper);
            let mut doubled = r.clone();
            doubled.headers.push(("host".into(), "other".into()));
            variants.push(doubled);
            let mut other_day = r.clone();
            for (k, v) in &mut other_day.headers {
                if k == "authorization" {
                    *v = v.replace("/2023", "/2022");
                }
            }
            variants.push(other_day);
            for v in &variants {
                for who in [creds(token), creds(None), creds(Some("OTHER")), {
                    let mut c = creds(token);
                    c.secret_access_key = "another".into();
                    c
                }] {
                    let keys = Keys {
                        key: &who.access_key_id,
                        secret: &who.secret_access_key,
                        token: who.session_token.as_deref(),
                    };
                    let received = Received::of(v);
                    let again = check(&keys, &received, Check::SignAgain);
                    if let Some(verdict) = check(&keys, &received, Check::Quick) {
                        assert_eq!(Some(verdict), again, "{url} {:?}", v.headers);
                        quick += 1;
                        valid += usize::from(verdict);
                    }
                }
            }
        }
        // Most requests are checked quickly, and some of those are valid.
        assert!(quick >= 60 && valid >= 4, "{quick} quick, {valid} valid");
    }
}
