//! The XML normalizer and deviation extraction: what the runner does with an answer (parse,
//! canonical form, redaction with STS's rules, a capture), then the deviations between two
//! transcripts made that way, and between the raw texts as a snapshot would hold them.
//!
//! Input: two texts separated by the first NUL byte (the second may be empty).
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use conform::deviation;
use conform::normalize;
use conform::redact::{Redactor, Rules};
use conform::template::Vars;
use conform::transport::HttpResponse;
use conform::xml::ElementPath;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/sts.redact.yaml");
    conform::input::rules(&path).expect("the repository's redaction rules load")
});
static VARS: LazyLock<Vars> = LazyLock::new(|| conform::target::default_vars("us-east-1"));
static CAPTURES: LazyLock<Vec<ElementPath>> = LazyLock::new(|| {
    [
        "//Arn",
        "AssumeRoleResult/Credentials/AccessKeyId",
        "/ErrorResponse/Error/Code",
    ]
    .iter()
    .map(|p| ElementPath::parse(p).expect("a valid path"))
    .collect()
});

fn transcript(body: &str, status: u16) -> String {
    let mut redactor = Redactor::new(&RULES, &VARS);
    let answer = HttpResponse {
        status,
        reason: "OK".to_owned(),
        content_type: Some("text/xml".to_owned()),
        body: body.to_owned(),
        headers: Vec::new(),
    };
    // A fixed clock, so a crash reproduces.
    let sent_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let n = normalize::response(&answer, &mut redactor, sent_at);
    if let Some(doc) = &n.document {
        for path in CAPTURES.iter() {
            let _ = path.select(doc);
        }
    }
    format!("=== step 1: AssumeRole\n{}", n.text)
}

fn check(expected: &str, actual: &str) {
    let found = deviation::between(expected, actual);
    if expected.trim_end() != actual.trim_end() {
        assert!(
            !found.is_empty(),
            "texts differ, but no deviation was found"
        );
    }
    for d in &found {
        let _ = d.to_string();
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (first, second) = text.split_once('\0').unwrap_or((&text, ""));
    let (a, b) = (transcript(first, 200), transcript(second, 403));
    check(&a, &b);
    check(&a, &a);
    check(first, second);
});
