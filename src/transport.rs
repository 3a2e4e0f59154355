//! HTTP: one shared reqwest client (keep-alive, rustls), a per-request timeout, and retries
//! only when the target asks for them.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    pub content_type: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportError {
    #[error("no answer within {0:?} (the request timed out)")]
    Timeout(Duration),
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("the request failed: {0}")]
    Other(String),
}

#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    timeout: Duration,
    retries: u32,
    /// With a rate, the time the next request may leave, and the interval between them.
    pace: Option<(
        std::sync::Arc<std::sync::Mutex<tokio::time::Instant>>,
        Duration,
    )>,
}

impl Transport {
    pub fn new(timeout: Duration, retries: u32) -> Result<Transport, TransportError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(64)
            .user_agent(concat!("conform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Other(chain(&e)))?;
        Ok(Transport {
            client,
            timeout,
            retries,
            pace: None,
        })
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
        let resp = builder
            .body(req.body.clone())
            .send()
            .await
            .map_err(|e| self.classify(&e, &req.url))?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.classify(&e, &req.url))?;
        Ok(HttpResponse {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
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
