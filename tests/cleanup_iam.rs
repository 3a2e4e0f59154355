//! `conform cleanup` against moto's IAM: the kinds found without a tag (groups, by the name
//! setup steps give them) and through a listing sent a literal member (customer managed
//! policies, `Scope=Local`), with what they hold: a group's members and policies, a policy's
//! attachments and its versions but the default one. What is not conform's stays as it was.
//!
//! moto deletes a group or a policy whatever it still holds (AWS refuses with
//! DeleteConflict), so that the holds went first is seen on what survives: the bystanders the
//! policy was attached to, the foreign policy's attachment count. moto does refuse to delete
//! a policy's default version, so a cleanup that tried would report a failure.
//!
//! The run's own users are left out: moto 5.2.5 has no ListServiceSpecificCredentials (it
//! answers 500, "not implemented"), which the user kind lists before deleting a user, so a
//! tagged user cannot be cleaned up against moto. The group's member and the policy's are
//! someone else's user, which must stay.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const RUN: &str = "1234abcd";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
const ACCOUNT: &str = "123456789012";

/// moto on a free loopback port, stopped (SIGTERM, then SIGKILL) when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    /// None (after saying so) when the venv `scripts/moto-venv.sh` creates is missing.
    fn start() -> Option<Moto> {
        let server = common::repo().join("target/moto-venv/bin/moto_server");
        if !server.exists() {
            eprintln!(
                "skipped: no {} (scripts/moto-venv.sh installs it)",
                server.display()
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Without the AWS managed policies, ListPolicies Scope=Local is what the test made.
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env_remove("MOTO_IAM_LOAD_MANAGED_POLICIES")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        common::wait_for_http(port, "moto");
        Some(moto)
    }

    /// An IAM call, signed, straight to moto; its answer, which must be a success.
    fn iam(&self, action: &str, params: &[(&str, &str)]) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", action)
            .append_pair("Version", "2010-05-08");
        for (k, v) in params {
            form.append_pair(k, v);
        }
        let (status, text) = common::signed_iam_call(&self.url, &form.finish());
        assert!(
            (200..300).contains(&status),
            "{action} {params:?}: {status}\n{text}"
        );
        text
    }

    /// The text of every element `name` in the answer to `action`, sorted.
    fn listed(&self, action: &str, params: &[(&str, &str)], name: &str) -> Vec<String> {
        let mut all = texts(&self.iam(action, params), name);
        all.sort();
        all
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        common::stop(&mut self.child);
    }
}

fn texts(xml: &str, name: &str) -> Vec<String> {
    xml.split(&format!("<{name}>"))
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(str::to_owned)
        .collect()
}

fn cleanup(root: &Path, url: &str, dry_run: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.arg("--root")
        .arg(root)
        .args(["cleanup", "--target", url]);
    if dry_run {
        cmd.arg("--dry-run");
    }
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("CONFORM_ALLOW_AWS")
        .output()
        .unwrap()
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// What a run left (a named group, a tagged customer policy), tangled up with what is
/// someone else's.
fn left_behind(moto: &Moto) {
    let group = format!("conform-{RUN}-g");
    let policy = format!("conform-{RUN}-p");
    let tag = [
        ("Tags.member.1.Key", "conform"),
        ("Tags.member.1.Value", RUN),
    ];
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    // Someone else's: a user, a role, a group and a customer managed policy, untagged.
    moto.iam("CreateUser", &[("UserName", "bystander")]);
    moto.iam(
        "CreateRole",
        &[
            ("RoleName", "bystander-role"),
            ("AssumeRolePolicyDocument", trust),
        ],
    );
    moto.iam("CreateGroup", &[("GroupName", "someone-elses")]);
    moto.iam(
        "AddUserToGroup",
        &[("GroupName", "someone-elses"), ("UserName", "bystander")],
    );
    moto.iam(
        "CreatePolicy",
        &[
            ("PolicyName", "someone-elses-policy"),
            ("PolicyDocument", DOC),
        ],
    );

    // The run's group, holding the bystander, an inline policy and the foreign policy.
    moto.iam("CreateGroup", &[("GroupName", &group)]);
    moto.iam(
        "AddUserToGroup",
        &[("GroupName", &group), ("UserName", "bystander")],
    );
    moto.iam(
        "PutGroupPolicy",
        &[
            ("GroupName", &group),
            ("PolicyName", "inline"),
            ("PolicyDocument", DOC),
        ],
    );
    let foreign = policy_arn("someone-elses-policy");
    moto.iam(
        "AttachGroupPolicy",
        &[("GroupName", &group), ("PolicyArn", &foreign)],
    );

    // The run's tagged policy, its second version the default, attached to the bystanders.
    let mut tagged_policy = vec![("PolicyName", policy.as_str()), ("PolicyDocument", DOC)];
    tagged_policy.extend(tag);
    moto.iam("CreatePolicy", &tagged_policy);
    let arn = policy_arn(&policy);
    moto.iam(
        "CreatePolicyVersion",
        &[
            ("PolicyArn", &arn),
            ("PolicyDocument", DOC),
            ("SetAsDefault", "true"),
        ],
    );
    for (action, member, name) in [
        ("AttachUserPolicy", "UserName", "bystander"),
        ("AttachRolePolicy", "RoleName", "bystander-role"),
        ("AttachGroupPolicy", "GroupName", "someone-elses"),
    ] {
        moto.iam(action, &[(member, name), ("PolicyArn", &arn)]);
    }
}

#[test]
fn groups_by_name_and_tagged_customer_policies_go_with_what_they_hold() {
    let Some(moto) = Moto::start() else { return };
    left_behind(&moto);
    let (_dir, root) = common::project(&[("scenarios/README.md", "no cases")]);
    let groups = || moto.listed("ListGroups", &[], "GroupName");
    let policies = || moto.listed("ListPolicies", &[("Scope", "Local")], "PolicyName");
    let users = || moto.listed("ListUsers", &[], "UserName");
    let policy = policy_arn(&format!("conform-{RUN}-p"));
    let ours = [
        format!("would delete {policy}"),
        format!("would delete group/conform-{RUN}-g"),
    ];

    // A dry run names what is conform's and leaves everything as it was.
    let out = cleanup(&root, &moto.url, true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let named: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("would delete "))
        .collect();
    assert_eq!(named, ours, "{stdout}");
    assert!(stdout.contains("2 would delete, 0 failed"), "{stdout}");
    assert_eq!(
        groups(),
        [format!("conform-{RUN}-g"), "someone-elses".into()]
    );
    assert_eq!(
        policies(),
        [format!("conform-{RUN}-p"), "someone-elses-policy".into()]
    );
    assert_eq!(
        moto.listed("ListPolicyVersions", &[("PolicyArn", &policy)], "VersionId"),
        ["v1", "v2"]
    );

    // For real: the same two go, nothing fails.
    let out = cleanup(&root, &moto.url, false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let deleted: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("deleted "))
        .map(|l| format!("would delete {l}"))
        .collect();
    assert_eq!(deleted, ours, "{stdout}");
    assert!(stdout.contains("2 deleted, 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");

    // What is someone else's is left, with only the run's attachments taken off it.
    assert_eq!(groups(), ["someone-elses"]);
    assert_eq!(policies(), ["someone-elses-policy"]);
    assert_eq!(users(), ["bystander"]);
    assert!(
        moto.listed("ListRoles", &[], "RoleName")
            .contains(&"bystander-role".to_owned())
    );
    assert_eq!(
        moto.listed(
            "ListGroupsForUser",
            &[("UserName", "bystander")],
            "GroupName"
        ),
        ["someone-elses"]
    );
    for (action, member, name) in [
        ("ListAttachedUserPolicies", "UserName", "bystander"),
        ("ListAttachedRolePolicies", "RoleName", "bystander-role"),
        ("ListAttachedGroupPolicies", "GroupName", "someone-elses"),
    ] {
        assert_eq!(
            moto.listed(action, &[(member, name)], "PolicyArn"),
            Vec::<String>::new(),
            "{action} {name}"
        );
    }
    // The foreign policy was detached from the run's group before the group went.
    assert_eq!(
        moto.listed("ListPolicies", &[("Scope", "Local")], "AttachmentCount"),
        ["0"]
    );
}
