//! The replay server's request decoder and matcher: a request as it arrives (method, query,
//! headers, body) decoded into parameters, then answered by a replay of the repository's
//! whole suite, as `conform serve` would.
//!
//! Input, like an HTTP request without its version: `METHOD[ ?query]`, then `name: value`
//! header lines, an empty line, and the body (bytes, as sent).
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use conform::replay::{Incoming, Replay};
use conform::suite::{Layout, Suite};
use libfuzzer_sys::fuzz_target;

static REPLAY: LazyLock<Replay> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let suite = Suite::load(&Layout::at(&root)).expect("the repository's suite loads");
    Replay::from_suite(&suite, conform::target::default_vars("us-east-1"))
});

fn request(data: &[u8]) -> Incoming {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let first = lines.next().unwrap_or("");
    let (method, query) = match first.split_once(" ?") {
        Some((m, q)) => (m, Some(q.to_owned())),
        None => (first, None),
    };
    Incoming {
        method: method.to_owned(),
        query,
        headers: lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect(),
        body: body.to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    let incoming = request(data);
    let _ = incoming.params();
    let reply = REPLAY.answer(&incoming);
    assert!(
        (100..600).contains(&reply.status),
        "status {}",
        reply.status
    );
});
