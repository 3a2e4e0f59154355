//! SigV4 through the `aws-sigv4` crate: the harness never computes a signature itself.

use std::time::SystemTime;

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

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
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let Some(auth) = header("authorization") else {
        return false;
    };
    let field = |name: &str| {
        auth.split([' ', ','])
            .find_map(|p| p.strip_prefix(name))
            .map(str::to_owned)
    };
    let (Some(scope), Some(signed), Some(date)) = (
        field("Credential="),
        field("SignedHeaders="),
        header("x-amz-date"),
    ) else {
        return false;
    };
    let parts: Vec<&str> = scope.split('/').collect();
    if parts.len() != 5 || parts[0] != creds.access_key_id {
        return false;
    }
    let Ok(time) = time::PrimitiveDateTime::parse(
        date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    ) else {
        return false;
    };
    let time: SystemTime = time.assume_utc().into();
    let names: Vec<&str> = signed.split(';').collect();
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            names.contains(&k.as_str())
                && k != "x-amz-date"
                && k != "x-amz-security-token"
                && k != "x-amz-content-sha256"
        })
        .cloned()
        .collect();
    let unsigned = HttpRequest {
        headers,
        ..request.clone()
    };
    match sign_headers(creds, parts[2], parts[3], &unsigned, time) {
        Ok(h) => h.iter().any(|(k, v)| k == "authorization" && v == auth),
        Err(_) => false,
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
}
