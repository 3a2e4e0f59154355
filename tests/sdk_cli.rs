//! The SDK gate with the AWS CLI v1 (`aws`, from the venv scripts/sdk-venv.sh creates under
//! target/): every STS documented example of tests/sdk/examples.json, with its values as
//! printed, goes to the real `conform serve` as `aws sts <operation> --<parameter> <value>`,
//! then GetCallerIdentity goes with the credentials it got back.
//!
//! Each call gets a clean environment: empty shared files except for the config file's
//! `[default]` profile, which turns the CLI's client-side parameter validation off
//! (`parameter_validation = false`, which botocore reads from the profile; the CLI bundles
//! its botocore and honours it), so that the service judges a one-character session name;
//! `cli_follow_urlparam = false`, so that no value is ever fetched as a URL; and
//! `max_attempts = 1`, so that the server's first answer is the one judged. The keys come
//! from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for the
//! credentials a previous step returned); an unsigned step gets `--no-sign-request`. The CLI's
//! typed service error is its `An error occurred (Code) when calling the Op operation` with
//! a non-zero exit status.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::sdk::{self, Answer, CleanEnv, Creds, Example, Record, Step};
use serde_json::Value;

/// The CLI's config file for every call.
const CONFIG: &str =
    "[default]\nparameter_validation = false\ncli_follow_urlparam = false\nmax_attempts = 1\n";

/// How many examples run at once (each is a few `aws` processes, one after the other).
const PARALLEL: usize = 4;

/// An API name in the CLI's spelling: `RoleSessionName` → `role-session-name`,
/// `SAMLAssertion` → `saml-assertion` (botocore's `xform_name` with `-`).
fn kebab(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase()
            && i > 0
            && (!chars[i - 1].is_ascii_uppercase()
                || chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase()))
        {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The command-line arguments for a step's parameters: text and numbers as they are, lists
/// and structures as JSON, booleans as `--x` / `--no-x`.
fn arguments(step: &Step) -> Vec<String> {
    let mut args = Vec::new();
    for (name, value) in &step.params {
        let flag = kebab(name);
        match value {
            Value::Bool(true) => args.push(format!("--{flag}")),
            Value::Bool(false) => args.push(format!("--no-{flag}")),
            Value::String(s) => args.push(format!("--{flag}={s}")),
            Value::Number(n) => args.push(format!("--{flag}={n}")),
            other => {
                args.push(format!("--{flag}"));
                args.push(other.to_string());
            }
        }
    }
    args
}

/// The credentials a step returned: (access key id, secret, session token).
type Returned = (String, String, String);

fn run_step(
    aws: &Path,
    env: &CleanEnv,
    url: &str,
    step: &Step,
    previous: Option<&Returned>,
) -> (Answer, Option<Returned>) {
    let mut cmd = Command::new(aws);
    env.apply(&mut cmd);
    cmd.args(["sts", &kebab(&step.op)])
        .args([
            "--endpoint-url",
            url,
            "--region",
            sdk::REGION,
            "--output",
            "json",
        ])
        .args(arguments(step));
    match step.creds {
        Creds::Own => {}
        Creds::Unsigned => {
            cmd.arg("--no-sign-request");
        }
        Creds::Previous => {
            let Some((id, secret, token)) = previous else {
                return (
                    Answer::Skipped {
                        detail: "the previous step returned no credentials".into(),
                    },
                    None,
                );
            };
            cmd.env("AWS_ACCESS_KEY_ID", id)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env("AWS_SESSION_TOKEN", token);
        }
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            return (
                Answer::Broken {
                    detail: format!("aws did not run: {e}"),
                },
                None,
            );
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        let Ok(json) = serde_json::from_str::<Value>(&stdout) else {
            return (
                Answer::Broken {
                    detail: format!("exit 0 but stdout is not JSON: {stdout}{stderr}"),
                },
                None,
            );
        };
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let creds = &json["Credentials"];
        let returned = match (
            text(&creds["AccessKeyId"]),
            text(&creds["SecretAccessKey"]),
            text(&creds["SessionToken"]),
        ) {
            (Some(a), Some(b), Some(c)) => Some((a, b, c)),
            _ => None,
        };
        let answer = Answer::Ok {
            arn: text(&json["AssumedRoleUser"]["Arn"]).or_else(|| text(&json["Arn"])),
            account: text(&json["Account"]),
            access_key_id: returned.as_ref().map(|r| r.0.clone()),
        };
        return (answer, returned);
    }
    // "An error occurred (Code) when calling the Op operation: message"
    let error = stderr.split("An error occurred (").nth(1).and_then(|rest| {
        let (code, rest) = rest.split_once(") when calling the ")?;
        let (op, _) = rest.split_once(" operation")?;
        Some((code.to_owned(), op.to_owned()))
    });
    let answer = match error {
        Some((code, op)) => Answer::Error {
            typed: op == step.op,
            code,
            what: format!("{}: {}", out.status, stderr.trim()),
        },
        None => Answer::Broken {
            detail: format!("{}: {}", out.status, stderr.trim()),
        },
    };
    (answer, None)
}

fn run_example(aws: &Path, env: &CleanEnv, url: &str, ex: &Example) -> Vec<Record> {
    let mut previous = None;
    let mut records = Vec::new();
    for (i, step) in ex.steps.iter().enumerate() {
        let (answer, returned) = run_step(aws, env, url, step, previous.as_ref());
        previous = returned;
        records.push(Record {
            example: ex.id.clone(),
            step: i,
            answer,
            key: None,
        });
    }
    records
}

#[test]
fn aws_cli_sends_the_documented_examples_as_printed() {
    if common::skipped(common::Install::SdkVenv) {
        return;
    }
    sdk::install("sdk-venv.sh");
    let aws = common::repo().join("target/sdk-venv/bin/aws");
    let examples = sdk::examples();
    let serve = sdk::Serve::start();
    let env = CleanEnv::new(CONFIG);
    let started = Instant::now();
    let records: Vec<Record> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..PARALLEL)
            .map(|w| {
                let (aws, env, url, examples) = (&aws, &env, serve.url(), &examples);
                s.spawn(move || {
                    examples
                        .iter()
                        .skip(w)
                        .step_by(PARALLEL)
                        .flat_map(|ex| run_example(aws, env, url, ex))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a CLI worker panicked"))
            .collect()
    });
    sdk::verdict("aws cli v1", &examples, &records, &serve, started.elapsed());
}

#[test]
fn cli_names_are_botocores() {
    assert_eq!(kebab("RoleSessionName"), "role-session-name");
    assert_eq!(
        kebab("AssumeRoleWithWebIdentity"),
        "assume-role-with-web-identity"
    );
    assert_eq!(kebab("AssumeRoleWithSAML"), "assume-role-with-saml");
    assert_eq!(kebab("SAMLAssertion"), "saml-assertion");
    assert_eq!(kebab("ExternalId"), "external-id");
    assert_eq!(kebab("Tags"), "tags");
}
