//! Coverage is derived from what cases send and what their snapshots hold.

mod common;

use conform::coverage::ServiceCoverage;
use conform::suite::{Layout, Suite};

const CASES: &str = r#"
cases:
  - id: name_min
    kind: limit
    provenance: documented
    description: d
    steps:
      - params: {RoleArn: '{{role_arn}}', RoleSessionName: ab}
  - id: name_over
    kind: limit
    provenance: documented
    description: d
    steps:
      - params: {RoleArn: '{{role_arn}}', RoleSessionName: '{{repeat 65 s}}'}
  - id: name_pattern
    kind: limit
    provenance: documented
    description: d
    steps:
      - params: {RoleArn: '{{role_arn}}', RoleSessionName: 'Session1:2', Tags: [{Key: a, Value: b}, {Key: c}]}
  - id: no_arn
    kind: limit
    provenance: documented
    description: d
    steps:
      - params: {RoleSessionName: ab, DurationSeconds: 43201}
"#;

fn coverage() -> ServiceCoverage {
    let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/c.yaml", CASES)]);
    std::fs::create_dir_all(root.join("snapshots/sts/AssumeRole")).unwrap();
    std::fs::write(
        root.join("snapshots/sts/AssumeRole/name_over.snap"),
        "---\nsource: x\n---\n=== step 1: AssumeRole\nHTTP 400 Bad Request\n  <Error>\n    <Code>ValidationError</Code>\n  </Error>\n",
    )
    .unwrap();
    let suite = Suite::load(&Layout::at(&root)).unwrap();
    let answers = conform::answers::Answers::of_suite(&suite);
    let errors: Vec<_> = (0..suite.cases.len()).map(|i| answers.of(i)).collect();
    ServiceCoverage::compute(
        &suite.models["sts"],
        &suite.cases,
        &errors,
        &conform::target::default_vars("us-east-1"),
        suite.facts.get("sts"),
    )
}

fn cases_for(cov: &ServiceCoverage, op: &str, member: &str, label: &str) -> Vec<String> {
    let op = cov.operations.iter().find(|o| o.operation == op).unwrap();
    let m = op
        .members
        .iter()
        .find(|m| m.path == member)
        .unwrap_or_else(|| panic!("no member {member}"));
    let c = m
        .checks
        .iter()
        .find(|c| c.label == label)
        .unwrap_or_else(|| panic!("no check {label}"));
    c.cases.iter().cloned().collect()
}

#[test]
fn bounds_patterns_required_members_and_error_codes() {
    let cov = coverage();
    assert_eq!(
        cases_for(
            &cov,
            "AssumeRole",
            "RoleSessionName",
            "length 2 (the minimum)"
        ),
        ["name_min", "no_arn"]
    );
    assert_eq!(
        cases_for(
            &cov,
            "AssumeRole",
            "RoleSessionName",
            "length 65 (over the maximum)"
        ),
        ["name_over"]
    );
    assert!(
        cases_for(
            &cov,
            "AssumeRole",
            "RoleSessionName",
            "length 1 (under the minimum)"
        )
        .is_empty()
    );
    assert_eq!(
        cases_for(
            &cov,
            "AssumeRole",
            "RoleSessionName",
            "a character the pattern forbids"
        ),
        ["name_pattern"]
    );
    assert_eq!(
        cases_for(&cov, "AssumeRole", "RoleArn", "left out (required)"),
        ["no_arn"]
    );
    assert_eq!(
        cases_for(
            &cov,
            "AssumeRole",
            "DurationSeconds",
            "value 43201 (over the maximum)"
        ),
        ["no_arn"]
    );
    assert_eq!(
        cases_for(&cov, "AssumeRole", "Tags[].Value", "left out (required)"),
        ["name_pattern"]
    );
    assert_eq!(
        cases_for(&cov, "AssumeRole", "Tags", "50 items (the maximum)"),
        Vec::<String>::new()
    );
    // The role ARN from the target's variables is 46 characters: no bound of 20..2048.
    assert!(cases_for(&cov, "AssumeRole", "RoleArn", "length 20 (the minimum)").is_empty());

    let ar = cov
        .operations
        .iter()
        .find(|o| o.operation == "AssumeRole")
        .unwrap();
    let validation = ar
        .errors
        .iter()
        .find(|e| e.code == "ValidationError")
        .unwrap();
    assert!(!validation.modeled);
    assert_eq!(
        validation.cases.iter().cloned().collect::<Vec<_>>(),
        ["name_over"]
    );
    let malformed = ar
        .errors
        .iter()
        .find(|e| e.code == "MalformedPolicyDocument")
        .unwrap();
    assert!(malformed.modeled && malformed.cases.is_empty());

    let gaps = cov.uncovered_members();
    assert!(!gaps.contains(&("AssumeRole".to_owned(), "RoleSessionName".to_owned())));
    assert!(gaps.contains(&("AssumeRole".to_owned(), "ExternalId".to_owned())));
    assert!(gaps.contains(&("GetFederationToken".to_owned(), "Name".to_owned())));

    let md = cov.to_markdown();
    assert!(
        md.contains("| RoleSessionName | length 65 (over the maximum) | reject | `name_over` |"),
        "{md}"
    );
    assert!(
        md.contains("| ExternalId | length 1 (under the minimum) | reject | **missing** |"),
        "{md}"
    );
}

/// The project's STS facts with `entries` declared beyond a request.
fn project_beyond(entries: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, root) = common::project(&[("scenarios/sts/AssumeRole/c.yaml", CASES)]);
    let facts = root.join("models/sts.facts.yaml");
    let text = std::fs::read_to_string(&facts).unwrap();
    // The file may declare some already: the entries join its list.
    let text = if text.contains("\nbeyond_requests:\n") {
        format!("{}\n{entries}", text.trim_end())
    } else {
        format!("{text}\nbeyond_requests:\n{entries}")
    };
    std::fs::write(&facts, text).unwrap();
    (dir, root)
}

#[test]
fn errors_beyond_a_request_are_counted_apart_and_a_misspelled_one_is_refused() {
    let (_dir, root) = project_beyond(
        "  - code: RegionDisabledException\n    why: a region switched off in the account\n",
    );
    let suite = Suite::load(&Layout::at(&root)).unwrap();
    let cov = ServiceCoverage::compute(
        &suite.models["sts"],
        &suite.cases,
        &[],
        &conform::target::default_vars("us-east-1"),
        suite.facts.get("sts"),
    );
    let ar = cov
        .operations
        .iter()
        .find(|o| o.operation == "AssumeRole")
        .unwrap();
    let disabled = ar
        .errors
        .iter()
        .find(|e| e.code == "RegionDisabledException")
        .unwrap();
    assert_eq!(
        disabled.beyond.as_deref(),
        Some("a region switched off in the account")
    );
    let md = cov.to_markdown();
    assert!(
        md.contains("- `RegionDisabledException`: a region switched off in the account"),
        "{md}"
    );
    assert!(
        md.contains("| RegionDisabledException | 403 | yes | beyond a request |"),
        "{md}"
    );
    // AssumeRole's other modeled errors stay missing, this one is counted apart.
    let row = md
        .lines()
        .find(|l| l.starts_with("| AssumeRole |"))
        .unwrap();
    assert!(row.ends_with("| 0/4 | 1 |"), "{row}");

    let (_dir, root) = project_beyond(
        "  - code: RegionDisabledException\n    operations: [GetCallerIdentity, AssumeRolee]\n    why: w\n",
    );
    let Err(conform::suite::SuiteError::Scenarios(diags)) = Suite::load(&Layout::at(&root)) else {
        panic!("operations that do not list the code were accepted");
    };
    let text: Vec<String> = diags.iter().map(|d| d.render()).collect();
    let text = text.join("\n");
    assert!(
        text.contains("GetCallerIdentity does not list `RegionDisabledException`"),
        "{text}"
    );
    assert!(
        text.contains("`AssumeRolee` is no operation of sts"),
        "{text}"
    );

    let (_dir, root) = project_beyond("  - code: RegionDisabled\n    why: spelled wrong\n");
    let Err(conform::suite::SuiteError::Scenarios(diags)) = Suite::load(&Layout::at(&root)) else {
        panic!("a code the model does not have was accepted");
    };
    let text = diags[0].render();
    assert!(
        text.contains("`RegionDisabled` is no modeled error of sts"),
        "{text}"
    );
    assert!(
        text.contains("did you mean `RegionDisabledException`?"),
        "{text}"
    );
    assert!(text.contains("sts.facts.yaml:"), "{text}");
}
