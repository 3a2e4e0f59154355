//! An HTTP request and its answer as plain data: what is signed and sent, and what came
//! back (the body as text, read up to the answer limit). `transport` moves them; `sign`,
//! `normalize` and the replay server only read them.

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
    /// Every header as it came, only when the transport was asked to keep them (a verbose
    /// run shows them); otherwise empty, so a run does not copy what nothing reads.
    pub headers: Vec<(String, String)>,
}
