//! The canned endpoint the bench's clients talk to: a small hyper server on loopback, in the
//! bench's own process, so a client measured as a child process pays none of its CPU. It
//! answers the three shapes of `project` from fixed text, and in `fresh` mode hands out new
//! credentials on every answer, as moto does, so the secrets a run must scrub grow with it.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const ACCOUNT: &str = "123456789012";
const REQUEST_ID: &str = "c6104cbe-af31-11e0-8154-cbc7ccf896c7";

/// A running endpoint; it stops with the runtime that serves it.
pub struct Endpoint {
    pub url: String,
}

pub fn start(rt: &tokio::runtime::Runtime, fresh: bool) -> Endpoint {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let issued = Arc::new(AtomicU64::new(0));
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let issued = Arc::clone(&issued);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let issued = Arc::clone(&issued);
                    async move {
                        let body = req.into_body().collect().await.map(|b| b.to_bytes());
                        let body = body.unwrap_or_default();
                        let n = if fresh {
                            issued.fetch_add(1, Ordering::Relaxed) + 1
                        } else {
                            0
                        };
                        let (status, text) = answer(&String::from_utf8_lossy(&body), n);
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(status)
                                .header("content-type", "text/xml")
                                .body(Full::new(Bytes::from(text)))
                                .unwrap(),
                        )
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Endpoint { url }
}

fn param<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn answer(body: &str, issued: u64) -> (u16, String) {
    let session = param(body, "RoleSessionName").unwrap_or("");
    match param(body, "Action") {
        Some("AssumeRole") if param(body, "DurationSeconds") == Some("10") => (
            400,
            format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>1 validation error detected: Value '10' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"
            ),
        ),
        Some("AssumeRole") => (
            200,
            format!(
                "<AssumeRoleResponse xmlns=\"{NS}\"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::{ACCOUNT}:assumed-role/demo/{session}</Arn><AssumedRoleId>AROA3XFRBF535EXAMPLE1:{session}</AssumedRoleId></AssumedRoleUser>{}<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata></AssumeRoleResponse>",
                credentials(issued)
            ),
        ),
        Some("GetSessionToken") => (
            200,
            format!(
                "<GetSessionTokenResponse xmlns=\"{NS}\"><GetSessionTokenResult>{}</GetSessionTokenResult><ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata></GetSessionTokenResponse>",
                credentials(issued)
            ),
        ),
        _ => (
            400,
            format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation for version 2011-06-15</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"
            ),
        ),
    }
}

/// Credentials of AWS's shapes and sizes (a session token of about 700 characters), the
/// same every time for `issued` 0 and different for every other value.
fn credentials(issued: u64) -> String {
    let mut state = issued.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut draw = |n: usize, alphabet: &[u8]| -> String {
        (0..n)
            .map(|_| {
                // xorshift: cheap, and every issue gets its own characters.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                alphabet[(state % alphabet.len() as u64) as usize] as char
            })
            .collect()
    };
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+";
    let key = draw(16, UPPER);
    let secret = draw(40, SECRET);
    let token = draw(700, SECRET);
    // An hour ahead, as AWS's default: the harness judges expirations relative to now.
    let expiration =
        conform::query::iso8601(time::OffsetDateTime::now_utc() + time::Duration::hours(1));
    format!(
        "<Credentials><AccessKeyId>ASIA{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>"
    )
}
