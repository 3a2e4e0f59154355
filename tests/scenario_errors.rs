//! Bad scenario files give errors that name the file, line and column, show the line, and
//! say what to do. The rendered messages are snapshot-tested: changing one is a review.

mod common;

use conform::suite::{Layout, Suite, SuiteError};

/// Loads a project holding one scenario file and renders every diagnostic.
fn errors_for(rel: &str, yaml: &str) -> String {
    let (_dir, root) = common::project(&[(rel, yaml)]);
    match Suite::load(&Layout::at(&root)) {
        Err(SuiteError::Scenarios(diags)) => diags
            .iter()
            .map(|d| d.render())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(other) => panic!("expected scenario diagnostics, got {other}"),
        Ok(_) => panic!("{rel} loaded, but it is wrong"),
    }
}

const HEAD: &str =
    "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n";

fn assert_errors(name: &str, rel: &str, yaml: &str) {
    let rendered = errors_for(rel, yaml);
    insta::assert_snapshot!(name, rendered);
}

#[test]
fn unknown_field() {
    assert_errors(
        "unknown_field",
        "scenarios/sts/AssumeRole/a.yaml",
        "cases:\n  - id: c\n    kidn: limit\n    provenance: documented\n    description: d\n    steps: []\n",
    );
}

#[test]
fn wrong_type_of_a_scenario_field() {
    assert_errors(
        "wrong_type_field",
        "scenarios/sts/AssumeRole/a.yaml",
        &format!("{HEAD}    steps:\n      operation: AssumeRole\n"),
    );
}

#[test]
fn wrong_type_of_a_parameter() {
    assert_errors(
        "wrong_type_param",
        "scenarios/sts/AssumeRole/a.yaml",
        &format!(
            "{HEAD}    steps:\n      - operation: AssumeRole\n        params:\n          RoleArn: x\n          RoleSessionName: ab\n          DurationSeconds: an hour\n          Tags: {{Key: a}}\n"
        ),
    );
}

#[test]
fn unknown_operation_with_suggestion() {
    assert_errors(
        "unknown_operation",
        "scenarios/sts/AssumeRole/a.yaml",
        &format!("{HEAD}    steps:\n      - operation: AssumeRol\n"),
    );
}

#[test]
fn unknown_parameter_with_suggestion() {
    assert_errors(
        "unknown_parameter",
        "scenarios/sts/AssumeRole/a.yaml",
        &format!(
            "{HEAD}    steps:\n      - operation: AssumeRole\n        params:\n          RoleArn: x\n          RoleSesionName: ab\n          PolicyArns:\n            - {{Arn: arn:aws:iam::aws:policy/ReadOnlyAccess}}\n"
        ),
    );
}

#[test]
fn unknown_kind_and_provenance() {
    assert_errors(
        "unknown_kind",
        "scenarios/sts/AssumeRole/a.yaml",
        "cases:\n  - id: c\n    kind: limits\n    provenance: guessed\n    description: d\n    steps:\n      - operation: AssumeRole\n",
    );
}

#[test]
fn malformed_yaml() {
    assert_errors(
        "malformed_yaml",
        "scenarios/sts/AssumeRole/a.yaml",
        "cases:\n  - id: 'c\n    kind: limit\n",
    );
}

#[test]
fn bad_variables_credentials_and_captures() {
    assert_errors(
        "bad_templates",
        "scenarios/sts/AssumeRole/a.yaml",
        &format!(
            "{HEAD}    steps:\n      - operation: AssumeRole\n        params:\n          RoleArn: '{{{{role arn}}}}'\n          RoleSessionName: '{{{{open'\n        credentials: {{access_key_id: x}}\n        capture:\n          k: a//b\n"
        ),
    );
}

#[test]
fn raw_step_mixed_with_operation() {
    assert_errors(
        "raw_and_operation",
        "scenarios/sts/GetCallerIdentity/a.yaml",
        &format!(
            "{HEAD}    steps:\n      - operation: GetCallerIdentity\n        raw:\n          body: Action=GetCallerIdentity\n"
        ),
    );
}

#[test]
fn duplicate_ids_across_files() {
    let case = |id: &str| {
        format!(
            "cases:\n  - id: {id}\n    kind: limit\n    provenance: documented\n    description: d\n    steps:\n      - operation: GetCallerIdentity\n"
        )
    };
    let (_dir, root) = common::project(&[
        ("scenarios/sts/GetCallerIdentity/a.yaml", &case("same")),
        ("scenarios/sts/GetCallerIdentity/b.yaml", &case("same")),
    ]);
    let Err(SuiteError::Scenarios(diags)) = Suite::load(&Layout::at(&root)) else {
        panic!("duplicate ids loaded")
    };
    let rendered = diags
        .iter()
        .map(|d| d.render())
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("duplicate_ids", rendered);
}

#[test]
fn misplaced_files_and_unknown_directories() {
    let ok = "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n    steps:\n      - operation: GetCallerIdentity\n";
    let (_dir, root) = common::project(&[
        ("scenarios/sts/loose.yaml", ok),
        ("scenarios/sst/GetCallerIdentity/a.yaml", ok),
        ("scenarios/sts/GetCallerIdentiy/a.yaml", ok),
    ]);
    let Err(SuiteError::Scenarios(diags)) = Suite::load(&Layout::at(&root)) else {
        panic!("misplaced files loaded")
    };
    let rendered = diags
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("misplaced", rendered);
}

#[test]
fn loading_never_panics_on_arbitrary_bytes() {
    // A few hostile inputs: binary junk, deep nesting, huge numbers, anchors and aliases.
    let deep = format!("{}1{}", "[".repeat(2000), "]".repeat(2000));
    let inputs = [
        "\u{0}\u{1}\u{2}".to_owned(),
        deep,
        "cases: 99999999999999999999999999".to_owned(),
        "a: &x [*x]".to_owned(),
        format!("{HEAD}    steps:\n      - params: {{DurationSeconds: 99999999999999999999}}\n"),
        "".to_owned(),
    ];
    for input in inputs {
        let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/a.yaml", &input)]);
        let r = std::panic::catch_unwind(|| Suite::load(&Layout::at(&root)).map(|_| ()));
        assert!(
            matches!(r, Ok(Err(SuiteError::Scenarios(_)))),
            "input {:?} gave {r:?}",
            &input[..input.len().min(40)]
        );
    }
}

#[test]
fn setup_and_cleanup_out_of_order_and_an_unknown_service() {
    assert_errors(
        "step_roles",
        "scenarios/sts/AssumeRole/a.yaml",
        &format!(
            "{HEAD}    steps:\n      - service: iam\n        operation: DeleteRole\n        cleanup: true\n        params: {{RoleName: r}}\n      - params: {{RoleArn: x, RoleSessionName: ab}}\n      - service: iamm\n        operation: CreateRole\n        setup: true\n"
        ),
    );
}

#[test]
fn a_variable_that_is_neither_built_in_declared_nor_captured() {
    let yaml = format!(
        "{HEAD}    steps:\n      - params: {{RoleArn: '{{{{role_arm}}}}', RoleSessionName: '{{{{later}}}}'}}\n        capture: {{later: //Arn}}\n      - params: {{RoleArn: '{{{{disabled_region}}}}', RoleSessionName: '{{{{later}}}}'}}\n"
    );
    let vars = "variables:\n  disabled_region:\n    description: A region where STS is off.\n    default: me-south-1\n";
    let (_dir, root) = common::project(&[
        ("scenarios/sts/AssumeRole/a.yaml", &yaml),
        ("scenarios/sts/variables.yaml", vars),
    ]);
    let Err(SuiteError::Scenarios(diags)) = Suite::load(&Layout::at(&root)) else {
        panic!("unknown variables loaded")
    };
    let rendered = diags
        .iter()
        .map(|d| d.to_string() + "\n  help: " + d.help.as_deref().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("unknown_variables", rendered);
}

#[test]
fn a_broken_variables_file() {
    let ok = "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n    steps:\n      - operation: GetCallerIdentity\n";
    let (_dir, root) = common::project(&[
        ("scenarios/sts/GetCallerIdentity/a.yaml", ok),
        (
            "scenarios/sts/variables.yaml",
            "variables:\n  x:\n    description: d\n    defualt: v\n",
        ),
    ]);
    let Err(SuiteError::Scenarios(diags)) = Suite::load(&Layout::at(&root)) else {
        panic!("a broken variables file loaded")
    };
    insta::assert_snapshot!("broken_variables_file", diags[0].render());
}

#[test]
fn mistakes_in_what_clients_choose_name_their_line() {
    let ok = "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n    steps:\n      - operation: GetCallerIdentity\n";
    let load = |variables: &str| {
        let (_dir, root) = common::project(&[
            ("scenarios/sts/GetCallerIdentity/a.yaml", ok),
            ("scenarios/sts/variables.yaml", variables),
        ]);
        match Suite::load(&Layout::at(&root)) {
            Err(SuiteError::Scenarios(diags)) => diags[0].render(),
            other => panic!("loaded: {:?}", other.map(|s| s.cases.len())),
        }
    };
    insta::assert_snapshot!(
        "client_chosen_unknown_variable",
        load("client_chosen:\n  rol_arn: 'arn:.*'\n")
    );
    insta::assert_snapshot!(
        "client_chosen_bad_regex",
        load("client_chosen:\n  role_arn: 'arn:(.*'\n")
    );
    insta::assert_snapshot!(
        "client_chosen_derives_no_variable",
        load("client_chosen:\n  role_arn: 'arn:(?P<rolename>.*)'\n")
    );
    insta::assert_snapshot!(
        "free_parameters_unknown_operation",
        load("free_parameters:\n  AssumeRol: [RoleSessionName]\n")
    );
    insta::assert_snapshot!(
        "free_parameters_unknown_parameter",
        load("free_parameters:\n  AssumeRole: [SessionName]\n")
    );
}

#[test]
fn a_pin_that_names_no_rule_a_rule_that_is_not_pinnable_or_a_rule_twice() {
    let step = "    steps:\n      - params: {RoleArn: x, RoleSessionName: ab}\n";
    let yaml = format!(
        "{HEAD}    pin: [PackedPolicySise, Credentials/SecretAccessKey, RequestId]\n{step}  - id: d\n    kind: limit\n    provenance: documented\n    description: d\n    pin: [AssumeRoleResult/PackedPolicySize, PackedPolicySize, PackedPolicySize]\n{step}"
    );
    assert_errors(
        "pin_unknown_and_not_pinnable",
        "scenarios/sts/AssumeRole/a.yaml",
        &yaml,
    );
}

#[test]
fn an_empty_pin() {
    assert_errors(
        "pin_empty",
        "scenarios/sts/AssumeRole/a.yaml",
        &format!(
            "{HEAD}    pin: []\n    steps:\n      - params: {{RoleArn: x, RoleSessionName: ab}}\n"
        ),
    );
}

#[test]
fn a_secret_rule_that_says_it_is_pinnable() {
    let ok = "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n    steps:\n      - operation: GetCallerIdentity\n";
    let (_dir, root) = common::project(&[("scenarios/sts/GetCallerIdentity/a.yaml", ok)]);
    let path = root.join("models/sts.redact.yaml");
    let rules = std::fs::read_to_string(&path).unwrap();
    let secret = "    secret: true\n    numbered: false\n";
    let at = rules
        .find("  - element: Credentials/SecretAccessKey\n")
        .expect("the repo's rules name the secret key");
    let end = at + rules[at..].find(secret).expect("it is secret") + secret.len();
    let broken = format!("{}    pinnable: true\n{}", &rules[..end], &rules[end..]);
    std::fs::write(&path, broken).unwrap();
    let err = match Suite::load(&Layout::at(&root)) {
        Err(SuiteError::Scenarios(diags)) => diags[0].render(),
        Err(other) => panic!("expected a diagnostic of the rules, got {other}"),
        Ok(_) => panic!("a pinnable secret loaded"),
    };
    let shown = err.replace(&root.display().to_string(), "<project>");
    insta::assert_snapshot!("pinnable_secret_rule", shown);
}
