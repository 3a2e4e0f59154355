//! The SDK gate, with a real client: boto3 (from a venv the project's script creates under
//! target/) calls the replay server for every doc example of the corpus and for error cases
//! of every operation, and must parse what it gets as AWS's answers; and it sends the STS
//! documented examples of tests/sdk/examples.json, with their values as printed, to the real
//! `conform serve` (tests/sdk/boto3_examples.py drives boto3, with
//! `Config(parameter_validation=False)` so that the service judges every value); and IAM's
//! documented examples, read from botocore's own file (models/iam-2010-05-08.examples.json)
//! with each input as printed, which must each get an answer holding every member the
//! example's output shows (tests/sdk/boto3_iam_examples.py).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use conform::replay::{self, Replay};
use conform::scenario::{Case, CredentialsSpec, Kind, ParamValue, Request, Role};
use conform::suite::{Layout, Suite};
use conform::target;
use conform::template::Vars;
use serde_json::{Value, json};

fn to_json(v: &ParamValue, vars: &Vars) -> Option<Value> {
    Some(match v {
        ParamValue::Str(t) => Value::String(t.render(vars).ok()?),
        ParamValue::Int(i) => json!(i),
        ParamValue::Float(f) => json!(f),
        ParamValue::Bool(b) => json!(b),
        ParamValue::List(items) => Value::Array(
            items
                .iter()
                .map(|i| to_json(i, vars))
                .collect::<Option<_>>()?,
        ),
        ParamValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| Some((k.render(vars).ok()?, to_json(v, vars)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

/// `(status, error code)` of each checked step in a snapshot.
fn expected(snapshot: &str) -> Vec<(u16, Option<String>)> {
    let mut out: Vec<(u16, Option<String>)> = Vec::new();
    for line in snapshot.lines() {
        if let Some(s) = line.strip_prefix("HTTP ") {
            out.push((
                s.split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
                None,
            ));
        } else if let Some(code) = line
            .trim()
            .strip_prefix("<Code>")
            .and_then(|r| r.strip_suffix("</Code>"))
            && let Some(last) = out.last_mut()
        {
            last.1 = Some(code.to_owned());
        }
    }
    out
}

/// The plan of one case, when boto3 can replay it: STS calls with the client's own keys, or
/// with the credentials the previous step returned.
fn plan_of(suite: &Suite, case: &Case, vars: &Vars) -> Option<Value> {
    if !case.requires.is_empty() {
        return None;
    }
    let model = &suite.models["sts"];
    let snapshot = suite.snapshots.expected(case)?;
    // An answer that echoes a control character is not XML 1.0 at all (AWS's own bytes for
    // it are not recorded); no XML client can be asked to parse it.
    if snapshot
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return None;
    }
    let answers = expected(snapshot);
    let mut steps = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        let Request::Call { operation, params } = &step.request else {
            return None;
        };
        if step.role != Role::Check || step.service != "sts" {
            return None;
        }
        let creds = match &step.credentials {
            CredentialsSpec::Default | CredentialsSpec::Target => "own",
            CredentialsSpec::Explicit { .. } if i > 0 => "previous",
            _ => return None,
        };
        let params: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| Some((k.clone(), to_json(v, vars)?)))
            .collect::<Option<_>>()?;
        let (status, code) = answers.get(steps.len())?.clone();
        let op = model.operation(operation)?;
        let class = code.as_ref().and_then(|c| {
            model
                .errors_of(op)
                .find(|s| s.error.as_ref().is_some_and(|e| &e.code == c))
                .map(|s| s.name.clone())
        });
        steps.push(json!({"op": operation, "params": params, "creds": creds, "status": status, "code": code, "exception_class": class}));
    }
    Some(json!({"name": case.test_name(), "kind": case.kind.as_str(), "steps": steps}))
}

#[test]
fn boto3_parses_every_doc_example_and_an_error_of_every_operation() {
    if common::skipped(common::Install::SdkVenv) {
        return;
    }
    let root = common::repo();
    let setup = Command::new("bash")
        .arg(root.join("scripts/sdk-venv.sh"))
        .status()
        .expect("bash runs");
    assert!(
        setup.success(),
        "scripts/sdk-venv.sh could not create target/sdk-venv with boto3"
    );

    let suite = Suite::load(&Layout::at(root)).unwrap();
    let mut vars = target::default_vars("us-east-1");
    for (k, v) in suite.default_vars() {
        vars.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut cases = Vec::new();
    let mut errors_per_op: BTreeMap<String, usize> = BTreeMap::new();
    for case in &suite.cases {
        let Some(plan) = plan_of(&suite, case, &vars) else {
            continue;
        };
        let first = &plan["steps"][0];
        let is_error = first["status"].as_u64().unwrap_or(0) >= 400;
        let op = first["op"].as_str().unwrap_or("").to_owned();
        let wanted = case.kind == Kind::DocExample
            || (is_error && plan["steps"].as_array().is_some_and(|s| s.len() == 1));
        if wanted {
            if is_error && case.kind != Kind::DocExample {
                *errors_per_op.entry(op).or_insert(0) += 1;
            }
            cases.push(plan);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let report_path = dir.path().join("report.json");
    std::fs::write(
        &plan_path,
        serde_json::to_string(&json!({
            "access_key_id": target::EXAMPLE_ACCESS_KEY_ID,
            "secret_access_key": target::EXAMPLE_SECRET_ACCESS_KEY,
            "cases": cases,
        }))
        .unwrap(),
    )
    .unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let replay = Arc::new(Replay::from_suite(&suite, vars));
    let server = rt.block_on(replay::serve(Arc::clone(&replay), 0)).unwrap();
    let out = Command::new(root.join("target/sdk-venv/bin/python"))
        .arg(root.join("tests/sdk/boto3_gate.py"))
        .arg(server.uri())
        .arg(&plan_path)
        .arg(&report_path)
        .output()
        .expect("the venv's python runs");
    assert!(
        out.status.success(),
        "boto3 gate failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if std::env::var_os("CONFORM_KEEP_REPORT").is_some() {
        std::fs::copy(&report_path, "/tmp/boto3-report.json").unwrap();
        std::fs::copy(&plan_path, "/tmp/boto3-plan.json").unwrap();
    }
    let report: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();

    let planned: BTreeMap<(String, String), &Value> = cases
        .iter()
        .flat_map(|c| {
            c["steps"].as_array().unwrap().iter().map(move |s| {
                (
                    (
                        c["name"].as_str().unwrap().to_owned(),
                        s["op"].as_str().unwrap().to_owned(),
                    ),
                    s,
                )
            })
        })
        .collect();
    let mut doc_steps = 0;
    let mut errors_reached: BTreeMap<String, usize> = BTreeMap::new();
    for r in &report {
        let name = r["case"].as_str().unwrap().to_owned();
        let op = r["op"].as_str().unwrap().to_owned();
        let step = planned[&(name.clone(), op.clone())];
        let is_doc = cases
            .iter()
            .any(|c| c["name"] == name.as_str() && c["kind"] == "doc-example");
        assert!(
            r.get("unparsable").is_none(),
            "{name}: boto3 cannot parse the answer: {}",
            r["unparsable"]
        );
        if r.get("client_side").is_some() {
            // boto3 refused to send it (its own validation): the gate is about what it parses.
            assert!(
                !is_doc,
                "{name}: boto3 refused a doc example: {}",
                r["client_side"]
            );
            continue;
        }
        assert_eq!(r["status"], step["status"], "{name} {op}: {r}");
        match step["code"].as_str() {
            None => {
                assert!(
                    r["result"].as_object().is_some_and(|o| !o.is_empty()),
                    "{name}: empty result {r}"
                );
                if let Some(c) = r["result"].get("Credentials") {
                    assert!(
                        c["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
                        "{name}: {r}"
                    );
                    assert!(
                        c["Expiration"]["datetime"].is_string(),
                        "{name}: boto3 did not parse the expiration: {r}"
                    );
                }
            }
            Some(code) => {
                assert_eq!(r["error"], code, "{name}: {r}");
                if step["exception_class"].is_string() {
                    assert_eq!(
                        r["typed"], true,
                        "{name}: boto3 did not raise its typed exception for {code}"
                    );
                }
                if !is_doc {
                    *errors_reached.entry(op.clone()).or_insert(0) += 1;
                }
            }
        }
        if is_doc {
            doc_steps += 1;
        }
    }
    assert!(
        doc_steps >= 15,
        "only {doc_steps} doc-example steps went through boto3"
    );
    eprintln!(
        "boto3 parsed {doc_steps} doc-example steps; errors it raised per operation: {errors_reached:?}"
    );
    let ops: Vec<&String> = suite.models["sts"]
        .operations
        .keys()
        .filter(|o| *o != "GetCallerIdentity")
        .collect();
    for op in ops {
        assert!(
            errors_reached.get(op).copied().unwrap_or(0) > 0,
            "no error of {op} reached boto3: {errors_reached:?}"
        );
    }
    assert!(
        replay.report().unmatched.is_empty(),
        "{:?}",
        replay.report().unmatched
    );
}

#[test]
fn boto3_sends_the_documented_examples_as_printed() {
    if common::skipped(common::Install::SdkVenv) {
        return;
    }
    common::sdk::install("sdk-venv.sh");
    let examples = common::sdk::examples();
    let serve = common::sdk::Serve::start();
    let env = common::sdk::CleanEnv::new("");
    let report = env.dir.path().join("report.json");
    let started = Instant::now();
    env.boto3_driver(
        "boto3_examples.py",
        &[
            Path::new(serve.url()),
            &common::sdk::examples_path(),
            &report,
        ],
    );
    let records = common::sdk::read_records(&report);
    common::sdk::verdict("boto3", &examples, &records, &serve, started.elapsed());
}

/// Where `parsed` lacks a member that `shown` (an example's output) has: every member of a
/// structure by name, every item of a list (a list of another length is a finding), scalars
/// only by being there, since ids, keys and dates differ per run.
fn missing_members(shown: &Value, parsed: &Value, path: &str, out: &mut Vec<String>) {
    match (shown, parsed) {
        (Value::Object(want), Value::Object(got)) => {
            for (k, v) in want {
                let at = format!("{path}.{k}");
                match got.get(k) {
                    Some(g) => missing_members(v, g, &at, out),
                    None => out.push(format!("{at} is missing")),
                }
            }
        }
        (Value::Array(want), Value::Array(got)) => {
            if want.len() != got.len() {
                out.push(format!(
                    "{path} has {} items, the example shows {}",
                    got.len(),
                    want.len()
                ));
            }
            for (i, (w, g)) in want.iter().zip(got).enumerate() {
                missing_members(w, g, &format!("{path}[{i}]"), out);
            }
        }
        // boto3 parses a URL-encoded policy document into JSON, and a timestamp into a
        // datetime (the driver writes it as an object): a scalar there is enough.
        (Value::Object(_) | Value::Array(_), _) => {
            out.push(format!("{path} is {parsed}, the example shows {shown}"))
        }
        _ => {}
    }
}

#[test]
fn boto3_sends_iams_documented_examples_as_printed() {
    if common::skipped(common::Install::SdkVenv) {
        return;
    }
    common::sdk::install("sdk-venv.sh");
    let root = common::repo();
    let examples_path = root.join("models/iam-2010-05-08.examples.json");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&examples_path).unwrap()).unwrap();
    let examples: BTreeMap<(String, String), &Value> = file["examples"]
        .as_object()
        .expect("an `examples` object by operation")
        .iter()
        .flat_map(|(op, listed)| {
            listed.as_array().unwrap().iter().map(move |e| {
                (
                    (op.clone(), e["id"].as_str().unwrap_or_default().to_owned()),
                    e,
                )
            })
        })
        .collect();
    assert_eq!(
        examples.len(),
        68,
        "IAM's examples file changed: read it again"
    );

    // Beyond the examples: a user name one past the model's maximum, which no case sends.
    // The server must refuse it as IAM would, from the model and the facts file's format.
    let model = conform::input::models(&root.join("models"))
        .unwrap()
        .remove("iam")
        .unwrap();
    let max = model.shape("userNameType").max.expect("a maximum length") as usize;
    let too_long = "b".repeat(max + 1);

    let serve = common::sdk::Serve::start();
    let env = common::sdk::CleanEnv::new("");
    let report = env.dir.path().join("report.json");
    let calls = env.dir.path().join("calls.json");
    std::fs::write(
        &calls,
        json!([{"op": "CreateUser", "params": {"UserName": too_long}}]).to_string(),
    )
    .unwrap();
    env.boto3_driver(
        "boto3_iam_examples.py",
        &[Path::new(serve.url()), &examples_path, &report, &calls],
    );
    let records: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();

    let (calls, records): (Vec<&Value>, Vec<&Value>) =
        records.iter().partition(|r| r["call"] == true);
    let [refused] = calls.as_slice() else {
        panic!("one further call, reported {calls:?}")
    };
    assert_eq!(refused["outcome"], "error", "{refused}");
    assert_eq!(refused["code"], "ValidationError", "{refused}");
    assert_eq!(
        refused["message"],
        format!(
            "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length less than or equal to {max}"
        ),
        "{refused}"
    );

    let mut failures = Vec::new();
    let mut answered = 0;
    for r in records.iter().copied() {
        let op = r["op"].as_str().unwrap_or_default().to_owned();
        let id = r["id"].as_str().unwrap_or_default().to_owned();
        let label = format!("{op} ({})", r["title"].as_str().unwrap_or_default().trim());
        let Some(example) = examples.get(&(op, id)) else {
            failures.push(format!(
                "{label}: the driver sent an example the file lacks"
            ));
            continue;
        };
        if r["outcome"] != "ok" {
            failures.push(format!("{label}: no answer boto3 could use: {r}"));
            continue;
        }
        answered += 1;
        let mut missing = Vec::new();
        if let Some(shown) = example.get("output") {
            missing_members(shown, &r["result"], "", &mut missing);
        }
        if !missing.is_empty() {
            failures.push(format!("{label}: {}", missing.join("; ")));
        }
    }
    if records.len() != examples.len() {
        failures.push(format!(
            "the driver reported {} examples of {}",
            records.len(),
            examples.len()
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of IAM's {} documented examples did not get what they show ({answered} answered):\n  - {}\n\nconform serve's stderr:\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n  - "),
        serve.stderr()
    );
    eprintln!("boto3: all {answered} of IAM's documented examples answered as printed");
}
