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
