//! `cargo xtask expect`: documented and inferred snapshots written from STS's documented
//! behaviour (`reference`), and `--check` that the stored ones still agree with it.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;

use crate::reference;

/// A case the documented-behaviour reference can answer: STS calls only, signed with the
/// target's keys or with keys captured earlier in the case, no setup or cleanup.
fn reference_can_answer(case: &conform::scenario::Case) -> bool {
    use conform::scenario::{CredentialsSpec, Request, Role};
    // An outcome that needs something only a real target has cannot be derived.
    if !case.requires.is_empty() {
        return false;
    }
    // A pinned value is known from a recording, which the reference cannot derive.
    if !case.pin.is_empty() {
        return false;
    }
    let mut captured: Vec<&str> = Vec::new();
    for step in &case.steps {
        if step.role != Role::Check
            || step.service != "sts"
            || !matches!(step.request, Request::Call { .. })
        {
            return false;
        }
        match &step.credentials {
            CredentialsSpec::Default | CredentialsSpec::Target => {}
            CredentialsSpec::Unsigned => return false,
            CredentialsSpec::Explicit {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                let all = [
                    Some(access_key_id),
                    Some(secret_access_key),
                    session_token.as_ref(),
                ];
                if !all
                    .into_iter()
                    .flatten()
                    .all(|t| t.variables().all(|v| captured.contains(&v)))
                {
                    return false;
                }
            }
        }
        captured.extend(step.captures.iter().map(|c| c.variable.as_str()));
    }
    true
}

pub(crate) fn expect(root: &Path, check: bool) -> anyhow::Result<ExitCode> {
    use conform::runner::{Outcome, Runner};
    use conform::suite::{Layout, Suite, SuiteError};
    use wiremock::{Mock, MockServer, matchers::any};

    let suite = match Suite::load(&Layout::at(root)) {
        Ok(s) => Arc::new(s),
        Err(SuiteError::Scenarios(d)) => {
            for x in d {
                eprintln!("{}", x.render());
            }
            bail!("fix the scenarios first");
        }
        Err(e) => return Err(e.into()),
    };
    // Writing: the cases with no snapshot. Checking: every case, so that a stored snapshot
    // that the documented behaviour would now answer differently is caught.
    let wanted: Vec<usize> = suite
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.service == "sts" && (check || suite.snapshots.expected(c).is_none()))
        .map(|(i, _)| i)
        .collect();
    let (eligible, by_hand): (Vec<usize>, Vec<usize>) = wanted
        .into_iter()
        .partition(|i| reference_can_answer(&suite.cases[*i]));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let server = rt.block_on(MockServer::start());
    let mut target = conform::target::Target::at_endpoint(&server.uri(), "us-east-1", |_| None)?;
    for (k, v) in suite.default_vars() {
        target.vars.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let Some(facts) = suite.facts.get("sts").cloned() else {
        bail!("models/sts.facts.yaml is missing: the reference writes its messages from it");
    };
    let reference = reference::ReferenceSts::new(
        suite.models["sts"].clone(),
        facts,
        target.vars.clone(),
        target.credentials.access_key_id.clone(),
    );
    rt.block_on(Mock::given(any()).respond_with(reference).mount(&server));
    let secrets = conform::secrets::Secrets::new();
    let runner = Arc::new(Runner::new(Arc::clone(&suite), target, secrets.clone())?);
    let mut declined = Vec::new();
    let mut wrote = 0;
    let mut disagree = Vec::new();
    // One case at a time: the reference numbers the keys it hands out in order.
    for r in rt.block_on(runner.check_all(&eligible, 1, |_| {})) {
        let case = &suite.cases[r.index];
        match &r.outcome {
            _ if r.run.transcript.contains("HTTP 501") => {
                let why = r
                    .run
                    .transcript
                    .split("no documented answer (")
                    .nth(1)
                    .and_then(|s| s.split(')').next())
                    .unwrap_or("unknown");
                declined.push(format!("{} ({why})", case.test_name()));
            }
            Outcome::Fail { diff, .. } => disagree.push(format!("{}\n{diff}", case.test_name())),
            Outcome::Pass => {}
            Outcome::Missing if !check => {
                let new =
                    conform::snapshot::write_new(&suite.snapshots, case, &r.run.transcript, |t| {
                        secrets.leaks_into(t)
                    })?;
                let path = new.with_extension("");
                std::fs::rename(&new, &path)?;
                wrote += 1;
            }
            other => declined.push(format!("{} ({other:?})", case.test_name())),
        }
    }
    if check {
        println!(
            "{} cases agree with the documented behaviour, {} differ; {} are answered by hand-written snapshots only",
            eligible.len() - declined.len() - disagree.len(),
            disagree.len(),
            declined.len() + by_hand.len()
        );
        for d in &disagree {
            println!("DIFFERS {d}");
        }
        return Ok(if disagree.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    for i in &by_hand {
        declined.push(format!(
            "{} (setup, raw or explicit-credential steps)",
            suite.cases[*i].test_name()
        ));
    }
    println!("wrote {wrote} snapshots from the documented behaviour");
    if !declined.is_empty() {
        println!("{} cases need a hand-written snapshot:", declined.len());
        for d in &declined {
            println!("  {d}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
