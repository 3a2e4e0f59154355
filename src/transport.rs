//! HTTP: one shared reqwest client (keep-alive, rustls), a per-request timeout, retries
//! only when the target asks for them, and a limit on how much of an answer is read.

use std::time::Duration;

// The request and answer are plain data (`http`), so signing and normalizing need no
// network; they are named here too, where they travel.
pub use crate::http::{HttpRequest, HttpResponse};

/// The answer size read by default. STS answers are a few KB (the largest, AssumeRole with
/// a packed policy, under 10 KB) and a 1,000-item page of an IAM or S3 list a few hundred
/// KB: 4 MiB leaves a wide margin, while a run's memory stays bounded by jobs x 4 MiB
/// whatever an endpoint sends.
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportError {
    #[error("no answer within {0:?} (the request timed out)")]
    Timeout(Duration),
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("the request failed: {0}")]
    Other(String),
    /// Reading stopped at the limit: nothing past it was buffered.
    #[error(
        "the answer is larger than the limit of {limit} bytes ({seen}); if the target really answers this much, raise it with --max-answer-bytes or `max_answer_bytes` in the target's entry of conform.toml"
    )]
    TooLarge { limit: u64, seen: String },
}

#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    timeout: Duration,
    retries: u32,
    max_answer: u64,
    /// Answers come back with their headers (`with_headers`).
    keep_headers: bool,
    /// With a rate, the time the next request may leave, and the interval between them.
    pace: Option<(
        std::sync::Arc<std::sync::Mutex<tokio::time::Instant>>,
        Duration,
    )>,
}

impl Transport {
    /// A transport whose requests say they come from conform, and from the run `run_id`
    /// names when there is one (`conform/0.1.0 run/1a2b3c4d`): a replay server serving
    /// several runs at once tells from it which run a request that carries no run id of its
    /// own (a listing) belongs to. The header is not signed.
    pub fn new(
        timeout: Duration,
        retries: u32,
        run_id: Option<&str>,
    ) -> Result<Transport, TransportError> {
        let agent = match run_id {
            Some(run) => format!("conform/{} run/{run}", env!("CARGO_PKG_VERSION")),
            None => format!("conform/{}", env!("CARGO_PKG_VERSION")),
        };
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(64)
            .user_agent(agent)
            .build()
            .map_err(|e| TransportError::Other(chain(&e)))?;
        Ok(Transport {
            client,
            timeout,
            retries,
            max_answer: DEFAULT_MAX_ANSWER_BYTES,
            keep_headers: false,
            pace: None,
        })
    }

    /// Answers longer than `bytes` fail their request after at most that much was read.
    pub fn with_answer_limit(mut self, bytes: u64) -> Self {
        self.max_answer = bytes;
        self
    }

    /// Answers carry every header they came with (a verbose run prints them).
    pub fn with_headers(mut self) -> Self {
        self.keep_headers = true;
        self
    }

    /// At most `per_second` requests leave per second, across all cases in flight.
    pub fn with_rate(mut self, per_second: f64) -> Self {
        if per_second > 0.0 {
            let interval = Duration::from_secs_f64(1.0 / per_second);
            self.pace = Some((
                std::sync::Arc::new(std::sync::Mutex::new(tokio::time::Instant::now())),
                interval,
            ));
        }
        self
    }

    async fn wait_for_slot(&self) {
        let Some((next, interval)) = &self.pace else {
            return;
        };
        let at = {
            let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
            let now = tokio::time::Instant::now();
            let at = (*n).max(now);
            *n = at + *interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }

    pub async fn send(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut attempt = 0;
        loop {
            match self.send_once(req).await {
                Err(e @ (TransportError::Connect { .. } | TransportError::Timeout(_)))
                    if attempt < self.retries =>
                {
                    attempt += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt.min(6)))).await;
                }
                other => return other,
            }
        }
    }

    async fn send_once(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.wait_for_slot().await;
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| {
            TransportError::Other(format!("`{}` is not an HTTP method", req.method))
        })?;
        let mut builder = self.client.request(method, &req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let mut resp = builder
            .body(req.body.clone())
            .send()
            .await
            .map_err(|e| self.classify(&e, &req.url))?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let headers = if self.keep_headers {
            resp.headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let limit = self.max_answer;
        // A declared length over the limit fails before any of the body is read.
        if let Some(n) = resp.content_length()
            && n > limit
        {
            return Err(TransportError::TooLarge {
                limit,
                seen: format!("its Content-Length is {n}"),
            });
        }
        let expected = resp.content_length().unwrap_or(0).min(limit);
        let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
        // Chunk by chunk, so a body without a length (or one lying about it) is never
        // buffered past the limit; dropping `resp` early closes the connection.
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.classify(&e, &req.url))?
        {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(TransportError::TooLarge {
                    limit,
                    seen: format!("more than {limit} bytes arrived, and reading stopped there"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            content_type,
            // Answers are UTF-8 nearly always: take the bytes as they are, and copy only to
            // replace what is not.
            body: String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            headers,
        })
    }

    fn classify(&self, e: &reqwest::Error, url: &str) -> TransportError {
        if e.is_timeout() {
            TransportError::Timeout(self.timeout)
        } else if e.is_connect() {
            TransportError::Connect {
                url: url.to_owned(),
                reason: root_cause(e),
            }
        } else {
            TransportError::Other(chain(e))
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(c) = cur.source() {
        cur = c;
    }
    cur.to_string()
}
