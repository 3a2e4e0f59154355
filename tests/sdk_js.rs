//! The SDK gate with the JavaScript SDK v3 (`@aws-sdk/client-sts`, pinned by
//! scripts/sdk-node/package-lock.json and installed by scripts/sdk-node.sh under target/):
//! every STS documented example of tests/sdk/examples.json, with its values as printed, goes
//! to the real `conform serve` through an `STSClient` (`endpoint`, `region`, `credentials`),
//! then GetCallerIdentity goes with the credentials it got back. tests/sdk/js_examples.cjs
//! drives the SDK and reports; this test judges.
//!
//! The v3 SDK validates no parameter value on the client, so the one-character session name
//! reaches the service as it is. An unsigned step goes through a client that holds the own
//! keys: the SDK must send AssumeRoleWithWebIdentity unsigned by itself (its model says no
//! auth), and the driver reports the Authorization header it saw after signing.

mod common;

use std::process::Command;
use std::time::Instant;

use common::sdk::{self, CleanEnv};

#[test]
fn js_sdk_v3_sends_the_documented_examples_as_printed() {
    if common::skipped(common::Install::SdkNode) {
        return;
    }
    sdk::install("sdk-node.sh");
    let root = common::repo();
    let examples = sdk::examples();
    let serve = sdk::Serve::start();
    let env = CleanEnv::new("");
    let report = env.dir.path().join("report.json");
    let started = Instant::now();
    let out = env
        .apply(&mut Command::new("node"))
        .arg(root.join("tests/sdk/js_examples.cjs"))
        .arg(root.join("target/sdk-node"))
        .arg(serve.url())
        .arg(sdk::examples_path())
        .arg(&report)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the JavaScript driver failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let records = sdk::read_records(&report);
    sdk::verdict(
        "JavaScript SDK v3",
        &examples,
        &records,
        &serve,
        started.elapsed(),
    );
}
