//! An endpoint that closes the connection while conform is still sending: the built-in
//! replay server answers a body over its limit with 413 and closes without reading the
//! rest. Writing into the closed connection fails with a broken pipe, which must be that
//! case's answer or error, never the end of the run: restoring SIGPIPE's default for the
//! whole process (to end quietly when output is piped into `head`) once killed conform here,
//! before any summary.

mod common;

const BIG: &str = r#"
cases:
  - id: assume_role_body_of_ten_megabytes
    kind: limit
    provenance: inferred
    description: A policy of ten million characters, far over any limit.
    steps:
      - params: {RoleArn: '{{role_arn}}', RoleSessionName: s, Policy: '{{repeat 1000000 abcdefghij}}'}
"#;

#[test]
fn a_body_the_endpoint_stops_reading_fails_its_case_and_the_run_goes_on() {
    let (_dir, root) = common::starter_copy();
    std::fs::write(root.join("scenarios/sts/AssumeRole/big.yaml"), BIG).unwrap();
    let out = common::conform_at(&root)
        .args(["run", "--filter", "assume_role_b"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "not ended by a signal: {text}");
    assert!(
        text.contains("1 cases against the built-in replay server"),
        "the run reached its summary: {text}"
    );
    // Depending on how far the body got, the case holds the 413 answer or says the
    // connection broke while it was sending.
    let new = root.join("snapshots/sts/AssumeRole/assume_role_body_of_ten_megabytes.snap.new");
    let answered =
        std::fs::read_to_string(new).is_ok_and(|a| a.contains("HTTP 413 Payload Too Large"));
    let broke = text.contains("1 errors") && text.contains("Broken pipe");
    assert!(answered || broke, "{text}");
}
