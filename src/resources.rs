//! How conform acts in an account with a service (`models/<service>.resources.yaml`): what
//! its setup steps create and how `conform cleanup` finds and deletes it (per kind of
//! resource, the listing, the tag listing, what it holds that must go first, and the
//! deletion), and which answers mean "ask again later" while recording (`retry`). Checked against the service's model
//! when read, so a misspelt operation or member is an error at its line, not a failed cleanup.

use std::path::Path;
use std::sync::Arc;

use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, did_you_mean, yaml_error, yaml_span};
use crate::model::{Model, ShapeKind};

/// How listings of the service are paged: the request and answer member holding where the
/// next page starts, and the answer element saying whether there is one. A service without
/// that element (SNS) has a next page whenever an answer carries a marker.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    pub marker: String,
    #[serde(default)]
    pub truncated: Option<String>,
}

/// What a resource holds that must be deleted before it (a role's policies).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Held {
    /// Lists what the resource holds, called with the resource.
    pub list: String,
    /// The element naming each held thing in that listing.
    pub item: String,
    /// Deletes (or detaches) one held thing, called with the resource and `param`.
    pub delete: String,
    pub param: String,
}

/// One kind of resource.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kind {
    pub kind: String,
    pub list: String,
    /// The element naming each listed resource.
    pub item: String,
    /// Only resources whose name starts with it are looked at (fewer tag listings).
    #[serde(default)]
    pub name_prefix: Option<String>,
    /// Lists a resource's tags, called with the resource as `param`.
    pub tags: String,
    pub param: String,
    /// The member naming the resource in `delete`, when it is not `param` (SNS tags a
    /// topic by `ResourceArn` but deletes it by `TopicArn`).
    #[serde(default)]
    pub delete_param: Option<String>,
    #[serde(default)]
    pub holds: Vec<Held>,
    pub delete: String,
    /// How a deleted resource is named in the output, `{}` standing for the item.
    #[serde(default)]
    pub shown_as: Option<String>,
    /// Whether the listing takes the service's page marker (from the model, when read).
    #[serde(skip)]
    pub paged: bool,
}

impl Kind {
    pub fn delete_param(&self) -> &str {
        self.delete_param.as_deref().unwrap_or(&self.param)
    }

    pub fn shown(&self, item: &str) -> String {
        match &self.shown_as {
            Some(f) => f.replace("{}", item),
            None => item.to_owned(),
        }
    }
}

/// Answers that mean "ask again later" while recording: the service's throttling codes, and
/// the refusals that state a setup step just created (a role, keys) causes while it
/// propagates.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    #[serde(default)]
    pub throttled: Vec<String>,
    #[serde(default)]
    pub propagating: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResources {
    #[serde(default)]
    pagination: Option<Pagination>,
    #[serde(default)]
    kinds: Vec<Spanned<Kind>>,
    #[serde(default)]
    retry: Retry,
    #[serde(default)]
    names: Vec<Spanned<String>>,
}

/// One service's resources.
#[derive(Debug, Clone)]
pub struct Resources {
    pub service: String,
    pub pagination: Option<Pagination>,
    pub kinds: Vec<Kind>,
    pub retry: Retry,
    /// Input members whose value names one thing in the whole account (`UserName`): cases
    /// that send the same literal value in such a member never run at the same time, so
    /// two cases creating the documented user "Alice" cannot collide.
    pub names: Vec<String>,
}

impl Resources {
    pub fn parse(text: &str, path: &Path, model: &Model) -> Result<Resources, Vec<Diagnostic>> {
        let source: Arc<str> = Arc::from(text);
        let raw: RawResources = serde_saphyr::from_str(text).map_err(|e| {
            vec![yaml_error(path, source.clone(), &e).with_help(
                "fix the YAML there; the comment at the top of the file says what each part holds",
            )]
        })?;
        let mut errors = Vec::new();
        for k in &raw.kinds {
            let kind = &k.value;
            let mut need = |op: &str, members: &[&str]| {
                if let Err(m) = has_members(model, op, members) {
                    let help = format!(
                        "write an operation of {} and members of its input, as the model names them",
                        model.service
                    );
                    let d = Diagnostic::new(
                        path,
                        source.clone(),
                        yaml_span(k),
                        format!("kind `{}`: {m}", kind.kind),
                    );
                    errors.push(d.with_help(help));
                }
            };
            need(&kind.list, &[]);
            need(&kind.tags, &[&kind.param]);
            need(&kind.delete, &[kind.delete_param()]);
            for h in &kind.holds {
                need(&h.list, &[&kind.param]);
                need(&h.delete, &[&kind.param, &h.param]);
            }
        }
        for n in &raw.names {
            if !model
                .operations
                .values()
                .any(|op| has_members(model, &op.name, &[&n.value]).is_ok())
            {
                errors.push(
                    Diagnostic::new(
                        path,
                        source.clone(),
                        yaml_span(n),
                        format!(
                            "no operation of {} has an input member `{}`",
                            model.service, n.value
                        ),
                    )
                    .with_help("name an input member as the model writes it (`UserName`)"),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let marker = raw.pagination.as_ref().map(|p| p.marker.as_str());
        let kinds = raw
            .kinds
            .into_iter()
            .map(|k| Kind {
                paged: marker.is_some_and(|m| has_members(model, &k.value.list, &[m]).is_ok()),
                ..k.value
            })
            .collect();
        Ok(Resources {
            service: model.service.clone(),
            pagination: raw.pagination,
            kinds,
            retry: raw.retry,
            names: raw.names.into_iter().map(|n| n.value).collect(),
        })
    }
}

/// Whether `op` is an operation of `model` whose input has every member of `members`.
fn has_members(model: &Model, op: &str, members: &[&str]) -> Result<(), String> {
    let Some(operation) = model.operation(op) else {
        let names = model.operations.keys().map(String::as_str);
        return Err(match did_you_mean(op, names) {
            Some(s) => format!("`{op}` is no operation (did you mean `{s}`?)"),
            None => format!("`{op}` is no operation"),
        });
    };
    let known: Vec<&str> = match model.input_members(operation).map(|s| &s.kind) {
        Some(ShapeKind::Structure { members, .. }) => members.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    for m in members {
        if !known.contains(m) {
            return Err(match did_you_mean(m, known.iter().copied()) {
                Some(s) => format!("{op} has no input member `{m}` (did you mean `{s}`?)"),
                None => format!("{op} has no input member `{m}`"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iam() -> Model {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        crate::input::models(&dir).unwrap().remove("iam").unwrap()
    }

    #[test]
    fn the_project_file_reads_and_names_real_operations() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/iam.resources.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let r = Resources::parse(&text, &path, &iam()).unwrap();
        let kinds: Vec<&str> = r.kinds.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "role",
                "OIDC provider",
                "SAML provider",
                "user",
                "instance profile",
                "server certificate",
                "virtual MFA device"
            ]
        );
        // What the documented examples create goes by its printed name, so only the tag
        // tells a run's users apart; they hold keys and certificates that go first.
        assert_eq!(r.kinds[3].name_prefix, None);
        assert_eq!(r.kinds[3].holds[0].delete, "DeleteAccessKey");
        assert_eq!(r.kinds[0].shown("conform-x"), "role/conform-x");
        assert_eq!(r.retry.throttled, ["Throttling"]);
        assert_eq!(r.retry.propagating, ["NoSuchEntity"]);
        // ListRoles pages with Marker; ListSAMLProviders answers in one page.
        assert!(r.kinds[0].paged && !r.kinds[2].paged);
        assert_eq!(r.kinds[0].delete_param(), "RoleName");
        assert_eq!(
            r.pagination.unwrap().truncated.as_deref(),
            Some("IsTruncated")
        );
    }

    #[test]
    fn the_sns_file_pages_by_token_alone_and_deletes_a_topic_by_its_arn() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let sns = crate::input::models(&dir).unwrap().remove("sns").unwrap();
        let path = dir.join("sns.resources.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let r = Resources::parse(&text, &path, &sns).unwrap();
        let pagination = r.pagination.as_ref().unwrap();
        assert_eq!(
            (pagination.marker.as_str(), pagination.truncated.as_deref()),
            ("NextToken", None)
        );
        assert!(r.kinds[0].paged);
        assert_eq!(
            (r.kinds[0].param.as_str(), r.kinds[0].delete_param()),
            ("ResourceArn", "TopicArn")
        );
        assert_eq!(r.retry.throttled, ["Throttled"]);
    }

    #[test]
    fn a_delete_param_the_delete_operation_lacks_is_named() {
        let text = "kinds:\n  - kind: role\n    list: ListRoles\n    item: RoleName\n    tags: ListRoleTags\n    param: RoleName\n    delete: DeleteRole\n    delete_param: RoleNam\n";
        let errors = Resources::parse(text, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        assert_eq!(
            errors[0].message,
            "kind `role`: DeleteRole has no input member `RoleNam` (did you mean `RoleName`?)"
        );
    }

    #[test]
    fn a_misspelt_operation_or_member_is_named_at_its_kind() {
        let text = "kinds:\n  - kind: role\n    list: ListRoles\n    item: RoleName\n    tags: ListRoleTag\n    param: RoleName\n    delete: DeleteRole\n  - kind: user\n    list: ListUsers\n    item: UserName\n    tags: ListUserTags\n    param: UserNam\n    delete: DeleteUser\n";
        let errors = Resources::parse(text, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        let shown: Vec<String> = errors.iter().map(Diagnostic::render).collect();
        assert_eq!(errors.len(), 3, "{shown:?}");
        assert!(shown[0].contains("x.resources.yaml:2:"), "{}", shown[0]);
        assert_eq!(
            errors[0].message,
            "kind `role`: `ListRoleTag` is no operation (did you mean `ListRoleTags`?)"
        );
        assert!(shown[1].contains("x.resources.yaml:8:"), "{}", shown[1]);
        assert_eq!(
            errors[1].message,
            "kind `user`: ListUserTags has no input member `UserNam` (did you mean `UserName`?)"
        );
    }

    #[test]
    fn an_unknown_field_is_a_located_error() {
        let text = "kinds:\n  - kind: role\n    lst: ListRoles\n";
        let errors = Resources::parse(text, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        let shown = errors[0].render();
        assert!(shown.contains("x.resources.yaml:3:"), "{shown}");
        assert!(shown.contains("lst"), "{shown}");
    }

    #[test]
    fn a_name_no_operation_takes_is_a_located_error() {
        let text = "names: [UserName, UserNam]\n";
        let errors = Resources::parse(text, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "no operation of iam has an input member `UserNam`"
        );
        assert!(errors[0].render().contains("x.resources.yaml:1:"));
        let ok = Resources::parse("names: [UserName]\n", Path::new("x"), &iam()).unwrap();
        assert_eq!(ok.names, ["UserName"]);
    }
}
