//! `scenarios/schema.json` is a contract with editors: every scenario file of the corpus
//! passes it, each mistake it refuses `conform check` refuses too (and for the same place),
//! what `conform check` accepts it accepts, and the mistakes only the checker can see (they
//! need the models, the other files or the order of steps) are listed here and in
//! scenarios/README.md, so the list stays true.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use conform::suite::{Layout, Suite, SuiteError};
use serde_json::Value;

/// Where the fixtures are written: a file of the directory's operation, AssumeRole.
const FILE: &str = "scenarios/sts/AssumeRole/a.yaml";

/// A case's first lines, to which each fixture adds its own.
const HEAD: &str =
    "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n";

/// One checked step, for fixtures whose mistake is elsewhere.
const STEP: &str = "    steps:\n      - operation: GetCallerIdentity\n";

fn schema_text() -> Value {
    let text = std::fs::read_to_string(common::repo().join("scenarios/schema.json"))
        .expect("scenarios/schema.json");
    serde_json::from_str(&text).expect("scenarios/schema.json is JSON")
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| jsonschema::draft7::new(&schema_text()).expect("a draft-07 schema"))
}

/// A scenario file as the schema sees it: YAML read by the project's own reader (so a
/// bare `yes` is a boolean here, as `conform check` reads it).
fn as_json(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("not YAML: {e}\n{yaml}"))
}

/// What the schema says of a file: `instance path: message`, one per error.
fn schema_errors(yaml: &str) -> Vec<String> {
    let instance = as_json(yaml);
    validator()
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// A project in a temp dir whose one scenario file is rewritten for each fixture.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    fn new() -> Project {
        let (dir, root) = common::project(&[]);
        Project { _dir: dir, root }
    }

    /// What `conform check` says of the file, through the same loading: its problems.
    fn check(&self, yaml: &str) -> Result<(), Vec<String>> {
        let path = self.root.join(FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, yaml).unwrap();
        match Suite::load(&Layout::at(&self.root)) {
            Ok(_) => Ok(()),
            Err(SuiteError::Scenarios(ds)) => Err(ds
                .iter()
                .map(|d| format!("{}:{}: {}", d.span.line, d.span.col, d.message))
                .collect()),
            Err(other) => panic!("expected scenario problems, got {other}"),
        }
    }
}

/// Every scenario file: a YAML file in an operation's directory (`variables.yaml` sits
/// one level up and is no scenario file).
fn scenario_files() -> Vec<PathBuf> {
    let root = common::repo().join("scenarios");
    let mut out = Vec::new();
    for service in dirs(&root) {
        for operation in dirs(&service) {
            for file in std::fs::read_dir(&operation).unwrap().flatten() {
                let p = file.path();
                if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

fn dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn the_schema_is_draft_07_as_editors_read_it() {
    let schema = schema_text();
    assert_eq!(
        schema["$schema"], "http://json-schema.org/draft-07/schema#",
        "yaml-language-server supports draft-07 fully"
    );
    jsonschema::draft7::meta::validate(&schema).expect("valid against the draft-07 meta-schema");
    // Draft-07 knows `definitions`; `$defs` would be an unknown keyword its `$ref`s miss.
    assert!(schema.get("$defs").is_none() && schema["definitions"].is_object());
}

#[test]
fn every_scenario_file_of_the_corpus_passes() {
    let files = scenario_files();
    assert!(
        files.len() > 600,
        "only {} scenario files found",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let errors = schema_errors(&text);
        if !errors.is_empty() {
            let rel = f.strip_prefix(common::repo()).unwrap().display();
            failures.push(format!("{rel}:\n  {}", errors.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files fail scenarios/schema.json:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// A file with one mistake: where the schema finds it (a JSON pointer) and what
/// `conform check` says of it.
struct Refused {
    name: &'static str,
    yaml: String,
    at: &'static str,
    check_says: &'static str,
}

fn refused() -> Vec<Refused> {
    let r = |name, yaml: String, at, check_says| Refused {
        name,
        yaml,
        at,
        check_says,
    };
    let steps = |s: &str| format!("{HEAD}    steps:\n{s}");
    vec![
        r(
            "a null parameter value",
            steps("      - params: {RoleArn: ~, RoleSessionName: s1}\n"),
            "/cases/0/steps/0/params/RoleArn",
            "AssumeRole.RoleArn is a string in the model, but the scenario gives nothing (null)",
        ),
        r(
            "a null value inside a structure in a list",
            steps(
                "      - params: {RoleArn: a, RoleSessionName: s1, Tags: [{Key: k, Value: ~}]}\n",
            ),
            "/cases/0/steps/0/params/Tags/0/Value",
            "AssumeRole.Tags[1].Value is a string in the model, but the scenario gives nothing (null)",
        ),
        r(
            "a null item of a list",
            steps(
                "      - params: {RoleArn: a, RoleSessionName: s1, TransitiveTagKeys: [a, null]}\n",
            ),
            "/cases/0/steps/0/params/TransitiveTagKeys/1",
            "AssumeRole.TransitiveTagKeys[2] is a string in the model, but the scenario gives nothing (null)",
        ),
        r(
            "a null value in a list of structures, written in block style",
            steps(
                "      - params:\n          RoleArn: a\n          RoleSessionName: s1\n          PolicyArns:\n            - arn:\n",
            ),
            "/cases/0/steps/0/params/PolicyArns/0/arn",
            "AssumeRole.PolicyArns[1].arn is a string in the model, but the scenario gives nothing (null)",
        ),
        r(
            "an unknown step field",
            steps("      - operation: GetCallerIdentity\n        parms: {}\n"),
            "/cases/0/steps/0",
            "unknown field `parms`",
        ),
        r(
            "an unknown case field",
            format!("{HEAD}    kidn: limit\n{STEP}"),
            "/cases/0",
            "unknown field `kidn`",
        ),
        r(
            "an unknown field beside cases",
            format!("{HEAD}{STEP}version: 1\n"),
            "",
            "unknown field `version`",
        ),
        r(
            "a kind that is none of the five",
            format!("{HEAD}{STEP}").replace("kind: limit", "kind: limits"),
            "/cases/0/kind",
            "unknown kind `limits`",
        ),
        r(
            "a provenance that is none of the three",
            format!("{HEAD}{STEP}").replace("provenance: documented", "provenance: guessed"),
            "/cases/0/provenance",
            "unknown provenance `guessed`",
        ),
        r(
            "a missing description",
            format!("{HEAD}{STEP}").replace("    description: d\n", ""),
            "/cases/0",
            "missing field `description`",
        ),
        r(
            "a blank description",
            format!("{HEAD}{STEP}").replace("description: d", "description: '  '"),
            "/cases/0/description",
            "the description is empty",
        ),
        r(
            "an id unfit for a file name",
            format!("{HEAD}{STEP}").replace("id: c", "id: a/b"),
            "/cases/0/id",
            "is not usable as a test and file name",
        ),
        r(
            "a file without cases",
            "cases: []\n".to_owned(),
            "/cases",
            "the file holds no cases",
        ),
        r(
            "a case without steps",
            format!("{HEAD}    steps: []\n"),
            "/cases/0/steps",
            "a case needs at least one step",
        ),
        r(
            "a case of setup and cleanup steps only",
            steps(
                "      - operation: GetCallerIdentity\n        setup: true\n      - operation: GetCallerIdentity\n        cleanup: yes\n",
            ),
            "/cases/0/steps",
            "this case has no step whose answer it checks",
        ),
        r(
            "a step both setup and cleanup",
            steps(
                "      - operation: GetCallerIdentity\n      - operation: GetCallerIdentity\n        setup: true\n        cleanup: 'On'\n",
            ),
            "/cases/0/steps/1",
            "a step cannot be both `setup` and `cleanup`",
        ),
        r(
            "setup that is no boolean",
            format!("{HEAD}{STEP}        setup: maybe\n"),
            "/cases/0/steps/0/setup",
            "invalid boolean",
        ),
        r(
            "raw with params",
            steps("      - raw: {body: Action=GetCallerIdentity}\n        params: {}\n"),
            "/cases/0/steps/0",
            "a raw step takes no `params`",
        ),
        r(
            "raw with an operation",
            steps(
                "      - raw: {body: Action=GetCallerIdentity}\n        operation: GetCallerIdentity\n",
            ),
            "/cases/0/steps/0",
            "either `operation`/`params` or `raw`, not both",
        ),
        r(
            "an unknown raw field",
            steps("      - raw: {bdy: Action=GetCallerIdentity}\n"),
            "/cases/0/steps/0/raw",
            "unknown field `bdy`",
        ),
        r(
            "a header with a null value",
            steps("      - raw: {headers: {X-A: ~}}\n"),
            "/cases/0/steps/0/raw/headers/X-A",
            "header `X-A` must be a text value, not nothing (null)",
        ),
        r(
            "headers as a list",
            steps("      - raw: {headers: [a]}\n"),
            "/cases/0/steps/0/raw/headers",
            "`headers` must be a mapping of header names to values, not a list",
        ),
        r(
            "credentials of an unknown word",
            format!("{HEAD}{STEP}        credentials: signed\n"),
            "/cases/0/steps/0/credentials",
            "credentials cannot be the text \"signed\"",
        ),
        r(
            "credentials as a boolean",
            format!("{HEAD}{STEP}        credentials: no\n"),
            "/cases/0/steps/0/credentials",
            "credentials cannot be the boolean false",
        ),
        r(
            "credentials without a secret key",
            format!("{HEAD}{STEP}        credentials: {{access_key_id: '{{{{k}}}}'}}\n"),
            "/cases/0/steps/0/credentials",
            "credentials need both access_key_id and secret_access_key",
        ),
        r(
            "credentials with a misspelt key",
            format!("{HEAD}{STEP}        credentials: {{access_key_id: k, secret_acess_key: s}}\n"),
            "/cases/0/steps/0/credentials",
            "unknown credentials field `secret_acess_key`",
        ),
        r(
            "a credentials key that is a number",
            format!(
                "{HEAD}{STEP}        credentials: {{access_key_id: 7, secret_access_key: s}}\n"
            ),
            "/cases/0/steps/0/credentials",
            "`access_key_id` must be text, not the number 7",
        ),
        r(
            "requires that is no list",
            format!("{HEAD}    requires: disabled_region\n{STEP}"),
            "/cases/0/requires",
            "expected a list here",
        ),
        r(
            "requires left empty",
            format!("{HEAD}    requires:\n{STEP}"),
            "/cases/0/requires",
            "expected a list here",
        ),
        r(
            "an empty pin",
            format!("{HEAD}    pin: []\n{STEP}"),
            "/cases/0/pin",
            "`pin` names no element rule",
        ),
        r(
            "params as a list",
            steps("      - params: [RoleArn]\n"),
            "/cases/0/steps/0/params",
            "`params` must be a mapping of parameter names to values, not a list",
        ),
        r(
            "a variable name with a space",
            steps("      - params: {RoleArn: '{{role arn}}', RoleSessionName: s1}\n"),
            "/cases/0/steps/0/params/RoleArn",
            "`{{role arn}}` is not a variable name",
        ),
        r(
            "an unclosed variable in a raw body",
            steps("      - raw: {body: 'Action={{open'}\n"),
            "/cases/0/steps/0/raw/body",
            "`{{` is not closed by `}}`",
        ),
        r(
            "a repeat past its limit",
            steps("      - params: {RoleArn: a, RoleSessionName: '{{repeat 1000001 s}}'}\n"),
            "/cases/0/steps/0/params/RoleSessionName",
            "write `{{repeat COUNT TEXT}}` with COUNT from 0 to 1000000",
        ),
        r(
            "a capture into a name that is no variable",
            format!("{HEAD}{STEP}        capture: {{'a b': Arn}}\n"),
            "/cases/0/steps/0/capture",
            "`a b` is not a variable name",
        ),
        r(
            "a capture path with an empty step",
            format!("{HEAD}{STEP}        capture: {{k: 'A//B'}}\n"),
            "/cases/0/steps/0/capture/k",
            "bad capture path `A//B`",
        ),
        r(
            "a capture path index of zero",
            format!("{HEAD}{STEP}        capture: {{k: 'A/member[0]'}}\n"),
            "/cases/0/steps/0/capture/k",
            "an index is a number from 1 in brackets",
        ),
        r(
            "a capture path that is a number",
            format!("{HEAD}{STEP}        capture: {{k: 5}}\n"),
            "/cases/0/steps/0/capture/k",
            "a capture path must be text",
        ),
        r(
            "capture left empty",
            format!("{HEAD}{STEP}        capture: [k]\n"),
            "/cases/0/steps/0/capture",
            "`capture` must map variable names to element paths, not a list",
        ),
        r(
            "another service without its operation",
            steps(
                "      - service: iam\n        setup: true\n      - operation: GetCallerIdentity\n",
            ),
            "/cases/0/steps/0",
            "a step that names a service must name its operation",
        ),
    ]
}

#[test]
fn each_refused_file_is_refused_by_the_schema_at_its_mistake_and_by_conform_check() {
    let project = Project::new();
    let mut wrong = Vec::new();
    for f in refused() {
        let errors = schema_errors(&f.yaml);
        // Its own reason: every error is at the mistake, none elsewhere in the file.
        let at_mistake = |e: &String| e.starts_with(&format!("{}: ", f.at));
        if errors.is_empty() || !errors.iter().all(at_mistake) {
            wrong.push(format!(
                "{}: the schema should refuse it at `{}` only, but says:\n  {}",
                f.name,
                f.at,
                errors.join("\n  ")
            ));
        }
        match project.check(&f.yaml) {
            Ok(()) => wrong.push(format!("{}: conform check accepts it", f.name)),
            Err(p) if !p.iter().any(|m| m.contains(f.check_says)) => wrong.push(format!(
                "{}: conform check refuses it, but not saying {:?}:\n  {}",
                f.name,
                f.check_says,
                p.join("\n  ")
            )),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Files `conform check` accepts, each written in a way that a stricter schema would
/// refuse: the schema must not mark in an editor what the checker lets through.
fn accepted() -> Vec<(&'static str, String)> {
    let steps = |s: &str| format!("{HEAD}    steps:\n{s}");
    vec![
        ("the smallest step", steps("      - {}\n")),
        ("params left empty", steps("      - params:\n")),
        (
            "optional step fields left empty",
            steps("      - name:\n        operation:\n        service:\n        credentials:\n        capture:\n        raw:\n"),
        ),
        (
            "optional case fields left empty",
            format!("{HEAD}    source:\n    pin:\n{STEP}"),
        ),
        ("an empty requires", format!("{HEAD}    requires: []\n{STEP}")),
        (
            "scalars read as text",
            format!("{HEAD}    source: 2026\n    steps:\n      - name: 2\n        raw: {{method: 5, path: 6, body: 7.5, query: true, headers: {{X-N: 3, X-B: false}}}}\n")
                .replace("id: c", "id: 5")
                .replace("description: d", "description: 42"),
        ),
        (
            "setup and cleanup as YAML 1.1 booleans",
            steps("      - operation: GetCallerIdentity\n        setup: yes\n      - operation: GetCallerIdentity\n        cleanup: 'False'\n      - operation: GetCallerIdentity\n        cleanup: On\n"),
        ),
        (
            "an empty raw request and one for another service",
            steps("      - raw: {}\n      - raw: {path: /x, headers:}\n        service: iam\n"),
        ),
        (
            "raw fields left empty",
            steps("      - raw: {method: , path: , query: , body: , headers: }\n        params:\n        operation:\n"),
        ),
        (
            "numbers and booleans where the model wants text",
            steps("      - params: {RoleArn: 5, RoleSessionName: true, DurationSeconds: '900', Tags: [], PolicyArns: [{arn: 1.5}]}\n"),
        ),
        (
            "variables, repeats and lone braces",
            steps("      - params: {RoleArn: '{ {{ role_arn }} }} {', RoleSessionName: 'a{{repeat 3 x}}}{{repeat  2 {y}}', Policy: '{\"a\":{}}'}\n        credentials: {access_key_id: '{{account_id}}', secret_access_key: '{x}', session_token: ''}\n"),
        ),
        (
            "captures of every path form, used by later steps",
            steps("      - operation: GetCallerIdentity\n        capture: {a: Arn, b-c.d_e: 'A/member[+02]/B', f: ' /R/A/B ', g: //Name, h: 'ns:É.x'}\n      - params: {RoleArn: '{{a}}{{b-c.d_e}}{{f}}{{g}}{{h}}', RoleSessionName: s1}\n"),
        ),
        (
            "a pinned rule and the words of credentials",
            format!("{HEAD}    pin: [PackedPolicySize]\n    steps:\n      - params: {{RoleArn: a, RoleSessionName: s1}}\n        credentials: none\n      - operation: GetCallerIdentity\n        credentials: target\n"),
        ),
        (
            "anchors and aliases",
            steps("      - &s {operation: GetCallerIdentity}\n      - *s\n"),
        ),
    ]
}

#[test]
fn what_conform_check_accepts_the_schema_accepts() {
    let project = Project::new();
    let mut wrong = Vec::new();
    for (name, yaml) in accepted() {
        if let Err(p) = project.check(&yaml) {
            wrong.push(format!(
                "{name}: conform check refuses it:\n  {}",
                p.join("\n  ")
            ));
        }
        let errors = schema_errors(&yaml);
        if !errors.is_empty() {
            wrong.push(format!(
                "{name}: the schema refuses it:\n  {}",
                errors.join("\n  ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What the schema cannot see, as scenarios/README.md lists it: each needs the models,
/// the redaction rules, the variables files, the other cases or steps. The schema
/// accepts these files; `conform check` refuses them.
fn beyond_the_schema() -> Vec<(&'static str, String, &'static str)> {
    let steps = |s: &str| format!("{HEAD}    steps:\n{s}");
    vec![
        (
            "an unknown operation",
            steps("      - operation: AssumeRol\n"),
            "unknown operation `AssumeRol`",
        ),
        (
            "an unknown service",
            steps("      - service: iamm\n        operation: CreateRole\n"),
            "no model for service `iamm`",
        ),
        (
            "an unknown parameter",
            steps("      - params: {RoleArn: a, RoleSesionName: s1}\n"),
            "unknown parameter `RoleSesionName`",
        ),
        (
            "a value of the wrong shape for the model",
            steps("      - params: {RoleArn: a, RoleSessionName: s1, DurationSeconds: an hour}\n"),
            "AssumeRole.DurationSeconds is an integer in the model",
        ),
        (
            "a parameter of another operation",
            steps("      - operation: GetCallerIdentity\n        params: {RoleArn: a}\n"),
            "unknown parameter `RoleArn` for GetCallerIdentity",
        ),
        (
            "a setup step after a checked one",
            steps(
                "      - operation: GetCallerIdentity\n      - operation: GetCallerIdentity\n        setup: true\n",
            ),
            "steps are out of order",
        ),
        (
            "a variable captured twice",
            steps(
                "      - operation: GetCallerIdentity\n        capture: {a: Arn}\n      - operation: GetCallerIdentity\n        capture: {a: Arn}\n",
            ),
            "variable `a` is captured twice in this case",
        ),
        (
            "an unknown variable",
            steps("      - params: {RoleArn: '{{no_such_variable}}', RoleSessionName: s1}\n"),
            "{{no_such_variable}}",
        ),
        (
            "requires an undeclared variable",
            format!("{HEAD}    requires: [no_such_variable]\n{STEP}"),
            "requires `no_such_variable`, which is not a declared variable",
        ),
        (
            "a pin of no pinnable rule",
            format!("{HEAD}    pin: [NoSuchElement]\n{STEP}"),
            "`NoSuchElement` is no element rule of sts",
        ),
        (
            "two cases with one id",
            format!(
                "{HEAD}{STEP}  - id: c\n    kind: flow\n    provenance: inferred\n    description: again\n{STEP}"
            ),
            "case id `c` is used twice",
        ),
        (
            "a parameter given twice",
            steps("      - params: {RoleArn: a, RoleArn: b, RoleSessionName: s1}\n"),
            "`RoleArn` is written twice in one mapping",
        ),
    ]
}

#[test]
fn what_only_conform_check_can_see_is_listed_and_still_beyond_the_schema() {
    let project = Project::new();
    let mut wrong = Vec::new();
    for (name, yaml, check_says) in beyond_the_schema() {
        match project.check(&yaml) {
            Ok(()) => wrong.push(format!("{name}: conform check accepts it")),
            Err(p) if !p.iter().any(|m| m.contains(check_says)) => wrong.push(format!(
                "{name}: conform check refuses it, but not saying {check_says:?}:\n  {}",
                p.join("\n  ")
            )),
            Err(_) => {}
        }
        // A key written twice is a YAML error to the project's reader (and to an editor,
        // which reports it itself); JSON has no way to hold it.
        if name == "a parameter given twice" {
            continue;
        }
        let errors = schema_errors(&yaml);
        if !errors.is_empty() {
            wrong.push(format!(
                "{name}: the schema now refuses it; take it off this list and scenarios/README.md's:\n  {}",
                errors.join("\n  ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The workspace settings map the schema to every scenario file and to nothing else in
/// `scenarios/` (a variables file is another format), as scenarios/README.md shows them.
#[test]
fn the_editor_mapping_covers_the_scenario_files_and_only_them() {
    let text = std::fs::read_to_string(common::repo().join(".vscode/settings.json"))
        .expect(".vscode/settings.json");
    let settings: Value = serde_json::from_str(&text).expect("settings are JSON");
    let mapping = settings["yaml.schemas"]
        .as_object()
        .expect("a yaml.schemas mapping");
    assert_eq!(mapping.len(), 1, "{mapping:?}");
    let (schema, patterns) = mapping.iter().next().unwrap();
    assert!(common::repo().join(schema).is_file(), "{schema} is no file");
    // The editor's `*` stays within a directory, as globset's does with literal separators.
    let mut set = globset::GlobSetBuilder::new();
    for p in patterns.as_array().expect("a list of patterns") {
        let glob = globset::GlobBuilder::new(p.as_str().unwrap())
            .literal_separator(true)
            .build()
            .unwrap();
        set.add(glob);
    }
    let set = set.build().unwrap();
    let scenarios = scenario_files();
    let relative = |p: &Path| p.strip_prefix(common::repo()).unwrap().to_path_buf();
    for f in &scenarios {
        assert!(set.is_match(relative(f)), "{} is not mapped", f.display());
    }
    for f in common::walk(&common::repo().join("scenarios")) {
        if !scenarios.contains(&f) {
            assert!(!set.is_match(relative(&f)), "{} is mapped", f.display());
        }
    }
    let readme = std::fs::read_to_string(common::repo().join("scenarios/README.md")).unwrap();
    let shown: String = text.lines().map(|l| format!("  {l}\n")).collect();
    assert!(
        readme.contains(&shown),
        "scenarios/README.md shows other settings than .vscode/settings.json"
    );
}

/// The modeline scenarios/README.md shows finds the schema from a scenario file.
#[test]
fn the_modeline_in_the_readme_finds_the_schema_from_a_scenario_file() {
    let readme = std::fs::read_to_string(common::repo().join("scenarios/README.md")).unwrap();
    let marker = "# yaml-language-server: $schema=";
    let written = readme
        .lines()
        .filter_map(|l| l.trim().strip_prefix(marker))
        .collect::<Vec<_>>();
    assert!(!written.is_empty(), "scenarios/README.md shows no modeline");
    let file = &scenario_files()[0];
    for path in written {
        let target = file.parent().unwrap().join(path);
        let same = std::fs::canonicalize(&target).ok()
            == std::fs::canonicalize(common::repo().join("scenarios/schema.json")).ok();
        assert!(
            same,
            "`{path}` from {} is not scenarios/schema.json",
            file.display()
        );
    }
}
