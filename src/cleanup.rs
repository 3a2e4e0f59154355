//! `conform cleanup`: finds the IAM roles and identity providers that recordings created
//! (they carry the tag `conform=<run id>`) and deletes them, with what a role holds first.

use crate::record_mode::CONFORM_TAG;
use crate::runner::Runner;
use crate::scenario::ParamValue;
use crate::template::Template;
use crate::xml::{Element, ElementPath};

/// What cleanup found and did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Cleanup {
    /// `role/NAME` or a provider ARN, for each resource deleted.
    pub deleted: Vec<String>,
    /// What could not be deleted, with why.
    pub failed: Vec<String>,
}

fn s(v: &str) -> ParamValue {
    ParamValue::Str(Template::literal(v))
}

fn all(doc: &Element, name: &str) -> Vec<String> {
    fn walk(e: &Element, name: &str, out: &mut Vec<String>) {
        for c in e.elements() {
            if c.local_name() == name {
                out.push(c.text());
            }
            walk(c, name, out);
        }
    }
    let mut out = Vec::new();
    walk(doc, name, &mut out);
    out
}

fn tagged(doc: &Option<Element>) -> bool {
    let Some(doc) = doc else { return false };
    all(doc, "Key").iter().any(|k| k == CONFORM_TAG)
}

async fn call(
    runner: &Runner,
    op: &str,
    params: Vec<(String, ParamValue)>,
) -> Result<Option<Element>, String> {
    let (status, doc) = crate::call::call(runner, "iam", op, params)
        .await
        .map_err(|e| e.to_string())?;
    if (200..300).contains(&status) {
        Ok(doc)
    } else {
        let code = doc
            .as_ref()
            .and_then(|d| ElementPath::parse("//Code").ok()?.select(d))
            .unwrap_or_default();
        Err(format!("{op}: HTTP {status} {code}"))
    }
}

/// Deletes every tagged role (its inline and attached policies first), OIDC provider and
/// SAML provider. Listing failures end it; a resource that cannot be deleted is reported.
pub async fn run(runner: &Runner, dry_run: bool) -> Result<Cleanup, String> {
    let mut out = Cleanup::default();
    let mut roles = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = Vec::new();
        if let Some(m) = &marker {
            params.push(("Marker".into(), s(m)));
        }
        let doc = call(runner, "ListRoles", params).await?;
        let Some(doc) = doc else { break };
        roles.extend(all(&doc, "RoleName"));
        marker = ElementPath::parse("//Marker")
            .ok()
            .and_then(|p| p.select(&doc))
            .filter(|m| !m.is_empty());
        let truncated = ElementPath::parse("//IsTruncated")
            .ok()
            .and_then(|p| p.select(&doc));
        if marker.is_none() || truncated.as_deref() != Some("true") {
            break;
        }
    }
    for role in roles.into_iter().filter(|r| r.starts_with("conform-")) {
        let tags = call(runner, "ListRoleTags", vec![("RoleName".into(), s(&role))]).await?;
        if !tagged(&tags) {
            continue;
        }
        if dry_run {
            out.deleted.push(format!("role/{role}"));
            continue;
        }
        let result: Result<(), String> = async {
            if let Some(doc) = call(
                runner,
                "ListRolePolicies",
                vec![("RoleName".into(), s(&role))],
            )
            .await?
            {
                for p in all(&doc, "member") {
                    call(
                        runner,
                        "DeleteRolePolicy",
                        vec![("RoleName".into(), s(&role)), ("PolicyName".into(), s(&p))],
                    )
                    .await?;
                }
            }
            if let Some(doc) = call(
                runner,
                "ListAttachedRolePolicies",
                vec![("RoleName".into(), s(&role))],
            )
            .await?
            {
                for arn in all(&doc, "PolicyArn") {
                    call(
                        runner,
                        "DetachRolePolicy",
                        vec![("RoleName".into(), s(&role)), ("PolicyArn".into(), s(&arn))],
                    )
                    .await?;
                }
            }
            call(runner, "DeleteRole", vec![("RoleName".into(), s(&role))]).await?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => out.deleted.push(format!("role/{role}")),
            Err(e) => out.failed.push(format!("role/{role}: {e}")),
        }
    }
    for (list, tags, arg, delete) in [
        (
            "ListOpenIDConnectProviders",
            "ListOpenIDConnectProviderTags",
            "OpenIDConnectProviderArn",
            "DeleteOpenIDConnectProvider",
        ),
        (
            "ListSAMLProviders",
            "ListSAMLProviderTags",
            "SAMLProviderArn",
            "DeleteSAMLProvider",
        ),
    ] {
        let Some(doc) = call(runner, list, Vec::new()).await? else {
            continue;
        };
        for arn in all(&doc, "Arn") {
            let t = call(runner, tags, vec![(arg.into(), s(&arn))]).await?;
            if !tagged(&t) {
                continue;
            }
            if dry_run {
                out.deleted.push(arn);
                continue;
            }
            match call(runner, delete, vec![(arg.into(), s(&arn))]).await {
                Ok(_) => out.deleted.push(arn),
                Err(e) => out.failed.push(format!("{arn}: {e}")),
            }
        }
    }
    Ok(out)
}
