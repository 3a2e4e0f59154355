//! How conform acts in an account with a service (`models/<service>.resources.yaml`): what
//! its setup steps create and how `conform cleanup` finds and deletes it (per kind of
//! resource, the listing, how conform's are told apart (a tag, or for what takes no tags a
//! name pattern), what it holds that must go first, and the deletion), and which answers
//! mean "ask again later" while recording (`retry`). Checked against the service's model
//! when read, so a misspelt operation or member is an error at its line, not a failed cleanup.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Span, did_you_mean, span_at, yaml_error, yaml_span};
use crate::model::{Member, Model, ShapeKind};

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
    /// An element beside the item that, when it says `true`, keeps that item (a policy's
    /// default version, which goes with the policy and cannot be deleted before it).
    #[serde(default)]
    pub unless: Option<String>,
    /// Deletes (or detaches) one held thing, called with the resource and `param`.
    pub delete: String,
    pub param: String,
    /// Whether the listing takes the service's page marker (from the model, when read).
    #[serde(skip)]
    pub paged: bool,
}

/// How conform's resources of a kind are told from the rest of the account.
#[derive(Debug, Clone)]
pub enum Found {
    /// They carry the `conform` tag: this operation lists a resource's tags, called with
    /// the resource as `param`.
    Tagged(String),
    /// The kind takes no tags (IAM groups): setup steps name them `conform-<run id>-...`,
    /// and the name matches this pattern.
    Named(Regex),
}

/// One kind of resource.
#[derive(Debug, Clone)]
pub struct Kind {
    pub kind: String,
    pub list: String,
    /// Literal input members sent with every call of `list` (`Scope: Local`, so that
    /// ListPolicies leaves out the AWS managed policies), in name order.
    pub list_params: Vec<(String, String)>,
    /// The element naming each listed resource.
    pub item: String,
    /// Only resources whose name starts with it are looked at (fewer tag listings).
    pub name_prefix: Option<String>,
    pub found: Found,
    pub param: String,
    /// The member naming the resource in `delete`, when it is not `param` (SNS tags a
    /// topic by `ResourceArn` but deletes it by `TopicArn`).
    pub delete_param: Option<String>,
    pub holds: Vec<Held>,
    pub delete: String,
    /// How a deleted resource is named in the output, `{}` standing for the item.
    pub shown_as: Option<String>,
    /// Whether the listing takes the service's page marker (from the model, when read).
    pub paged: bool,
}

/// A kind as written; checked against the model and made a `Kind`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKind {
    kind: String,
    list: String,
    #[serde(default)]
    list_params: BTreeMap<String, Spanned<String>>,
    item: String,
    #[serde(default)]
    name_prefix: Option<String>,
    #[serde(default)]
    name_pattern: Option<Spanned<String>>,
    #[serde(default)]
    tags: Option<String>,
    param: String,
    #[serde(default)]
    delete_param: Option<String>,
    #[serde(default)]
    holds: Vec<Held>,
    delete: String,
    #[serde(default)]
    shown_as: Option<String>,
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
    kinds: Vec<Spanned<RawKind>>,
    #[serde(default)]
    retry: Retry,
    #[serde(default)]
    names: Vec<Spanned<String>>,
    #[serde(default)]
    sees: std::collections::BTreeMap<String, Vec<Spanned<String>>>,
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
    /// Listing operations and the operations that make what they list: a case calling the
    /// listing never runs beside one calling a maker, whose resource (an MFA device with its
    /// seed) it would otherwise show.
    pub sees: std::collections::BTreeMap<String, Vec<String>>,
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
        let marker = raw.pagination.as_ref().map(|p| p.marker.clone());
        let paged = |op: &str| {
            marker
                .as_deref()
                .is_some_and(|m| has_members(model, op, &[m]).is_ok())
        };
        let members_help = format!(
            "write an operation of {} and members of its input, as the model names them",
            model.service
        );
        let mut kinds = Vec::new();
        for k in raw.kinds {
            let at = yaml_span(&k);
            let raw_kind = k.value;
            let name = raw_kind.kind.clone();
            let mut wrong = |span: Span, message: String, help: &str| {
                let d = Diagnostic::new(
                    path,
                    source.clone(),
                    span,
                    format!("kind `{name}`: {message}"),
                );
                errors.push(d.with_help(help.to_owned()));
            };
            let mut need = |op: &str, members: &[&str]| {
                if let Err(m) = has_members(model, op, members) {
                    wrong(at, m, &members_help);
                }
            };
            need(&raw_kind.list, &[]);
            let param = raw_kind.param.as_str();
            if let Some(t) = &raw_kind.tags {
                need(t, &[param]);
            }
            need(
                &raw_kind.delete,
                &[raw_kind.delete_param.as_deref().unwrap_or(param)],
            );
            for h in &raw_kind.holds {
                need(&h.list, &[param]);
                need(&h.delete, &[param, &h.param]);
            }
            for h in &raw_kind.holds {
                if let Some(u) = &h.unless
                    && model.operation(&h.list).is_some()
                    && !output_has(model, &h.list, u)
                {
                    wrong(
                        at,
                        format!("{}'s answer has no element `{u}` for `unless`", h.list),
                        "name an element of the listing's answer, beside the item, that says true or false",
                    );
                }
            }
            for (member, value) in &raw_kind.list_params {
                if let Err(m) = list_param(model, &raw_kind.list, member, &value.value) {
                    wrong(
                        yaml_span(value),
                        m,
                        "`list_params` maps input members of the listing to the literal values it is sent",
                    );
                }
            }
            let found = match (raw_kind.tags, raw_kind.name_pattern) {
                (Some(tags), None) => Some(Found::Tagged(tags)),
                (None, Some(pattern)) => match Regex::new(&pattern.value) {
                    Ok(re) => Some(Found::Named(re)),
                    Err(e) => {
                        wrong(
                            yaml_span(&pattern),
                            format!("`name_pattern` is not a regex: {e}"),
                            "write the names setup steps give this kind as a regex (`^conform-[0-9a-f]{8}-`)",
                        );
                        None
                    }
                },
                (tags, _) => {
                    let (message, help) = if tags.is_some() {
                        (
                            "both `tags` and `name_pattern`",
                            "keep `tags` when the kind takes tags (record mode tags what setup creates), else `name_pattern`",
                        )
                    } else {
                        (
                            "neither `tags` nor `name_pattern`: nothing tells conform's from the rest",
                            "give `tags` (the operation listing a resource's tags) or, for a kind that takes no tags, `name_pattern`",
                        )
                    };
                    wrong(at, message.to_owned(), help);
                    None
                }
            };
            let Some(found) = found else { continue };
            let holds = raw_kind
                .holds
                .into_iter()
                .map(|h| Held {
                    paged: paged(&h.list),
                    ..h
                })
                .collect();
            kinds.push(Kind {
                paged: paged(&raw_kind.list),
                kind: raw_kind.kind,
                list: raw_kind.list,
                list_params: raw_kind
                    .list_params
                    .into_iter()
                    .map(|(m, v)| (m, v.value))
                    .collect(),
                item: raw_kind.item,
                name_prefix: raw_kind.name_prefix,
                found,
                param: raw_kind.param,
                delete_param: raw_kind.delete_param,
                holds,
                delete: raw_kind.delete,
                shown_as: raw_kind.shown_as,
            });
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
        // A key carries no place of its own: the line that writes it, and the listings in
        // the order the file writes them.
        let line_of = |listing: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(&format!("{listing}:")))
                .map_or(1, |i| i + 1)
        };
        let mut listings: Vec<(usize, &String, &Vec<Spanned<String>>)> = raw
            .sees
            .iter()
            .map(|(listing, makers)| (line_of(listing), listing, makers))
            .collect();
        listings.sort_by_key(|(line, listing, _)| (*line, listing.as_str()));
        for (line, listing, makers) in listings {
            if model.operation(listing).is_none() {
                let col = text
                    .lines()
                    .nth(line - 1)
                    .map_or(1, |l| l.len() - l.trim_start().len() + 1);
                let at = span_at(text, line as u32, col as u32, listing.len());
                errors.push(
                    Diagnostic::new(
                        path,
                        source.clone(),
                        at,
                        format!(
                            "`sees` names `{listing}`, which is no operation of {}",
                            model.service
                        ),
                    )
                    .with_help(
                        "name the listing operation as the model writes it (`ListVirtualMFADevices`)",
                    ),
                );
            }
            for m in makers
                .iter()
                .filter(|m| model.operation(&m.value).is_none())
            {
                errors.push(
                    Diagnostic::new(
                        path,
                        source.clone(),
                        yaml_span(m),
                        format!("`{}` is no operation of {}", m.value, model.service),
                    )
                    .with_help(
                        "name an operation that makes what the listing lists (`CreateVirtualMFADevice`)",
                    ),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Resources {
            service: model.service.clone(),
            pagination: raw.pagination,
            kinds,
            retry: raw.retry,
            names: raw.names.into_iter().map(|n| n.value).collect(),
            sees: raw
                .sees
                .into_iter()
                .map(|(listing, makers)| (listing, makers.into_iter().map(|m| m.value).collect()))
                .collect(),
        })
    }
}

/// Whether `value` may be sent in `member` of `op`'s input: a member it has, and for a
/// member of an enum, one of its values.
fn list_param(model: &Model, op: &str, member: &str, value: &str) -> Result<(), String> {
    has_members(model, op, &[member])?;
    let Some(ShapeKind::Structure { members, .. }) = model
        .operation(op)
        .and_then(|o| model.input_members(o))
        .map(|s| &s.kind)
    else {
        return Ok(());
    };
    let allowed = &model.shape(&members[member].shape).enum_values;
    if allowed.is_empty() || allowed.iter().any(|v| v == value) {
        Ok(())
    } else {
        Err(format!(
            "{op}'s `{member}` is one of {}, not `{value}`",
            allowed.join(", ")
        ))
    }
}

/// Whether an element of `op`'s answer, at any depth, is named `name`.
fn output_has(model: &Model, op: &str, name: &str) -> bool {
    fn walk<'m>(model: &'m Model, shape: &'m str, name: &str, seen: &mut Vec<&'m str>) -> bool {
        if seen.contains(&shape) {
            return false;
        }
        seen.push(shape);
        let named = |n: &str, m: &Member| n == name || m.location_name.as_deref() == Some(name);
        match &model.shape(shape).kind {
            ShapeKind::Structure { members, .. } => members
                .iter()
                .any(|(n, m)| named(n, m) || walk(model, &m.shape, name, seen)),
            ShapeKind::List { member } => walk(model, &member.shape, name, seen),
            ShapeKind::Map { key, value } => {
                walk(model, &key.shape, name, seen) || walk(model, &value.shape, name, seen)
            }
            _ => false,
        }
    }
    let output = model.operation(op).and_then(|o| o.output.as_deref());
    output.is_some_and(|o| walk(model, o, name, &mut Vec::new()))
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
                "policy",
                "role",
                "OIDC provider",
                "SAML provider",
                "user",
                "group",
                "instance profile",
                "server certificate",
                "virtual MFA device"
            ]
        );
        let kind = |name: &str| r.kinds.iter().find(|k| k.kind == name).unwrap();
        // What the documented examples create goes by its printed name, so only the tag
        // tells a run's users apart; they hold keys and certificates that go first.
        let user = kind("user");
        assert_eq!(user.name_prefix, None);
        assert!(matches!(&user.found, Found::Tagged(t) if t == "ListUserTags"));
        assert_eq!(user.holds[0].delete, "DeleteAccessKey");
        // ListAccessKeys pages with Marker; GetInstanceProfile answers in one.
        assert!(user.holds[0].paged && !kind("instance profile").holds[0].paged);
        let role = kind("role");
        assert_eq!(role.shown("conform-x"), "role/conform-x");
        assert_eq!(r.retry.throttled, ["Throttling"]);
        assert_eq!(r.retry.propagating, ["NoSuchEntity"]);
        // ListRoles pages with Marker; ListSAMLProviders answers in one page.
        assert!(role.paged && !kind("SAML provider").paged);
        assert_eq!(role.delete_param(), "RoleName");
        assert_eq!(
            r.pagination.as_ref().unwrap().truncated.as_deref(),
            Some("IsTruncated")
        );
        // Groups take no tags: a run's are the names setup steps give them.
        let group = kind("group");
        let Found::Named(pattern) = &group.found else {
            panic!("groups are found by name: {:?}", group.found)
        };
        assert!(pattern.is_match("conform-1234abcd-g"));
        assert!(!pattern.is_match("conform-never-created-user") && !pattern.is_match("admins"));
        assert_eq!(
            group.shown("conform-1234abcd-g"),
            "group/conform-1234abcd-g"
        );
        // Customer managed policies only, detached from everything, every version but the
        // default deleted first.
        let policy = kind("policy");
        assert_eq!(
            policy.list_params,
            [("Scope".to_owned(), "Local".to_owned())]
        );
        assert!(policy.paged);
        let versions = policy.holds.last().unwrap();
        assert_eq!(
            (versions.delete.as_str(), versions.unless.as_deref()),
            ("DeletePolicyVersion", Some("IsDefaultVersion"))
        );
        assert_eq!(
            policy.shown("arn:aws:iam::1:policy/p"),
            "arn:aws:iam::1:policy/p"
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
    fn a_listing_or_maker_that_is_no_operation_is_named_at_its_line() {
        let text = "names: [UserName]\nsees:\n  ListVirtualMFADevice: [CreateVirtualMFADevice]\n  ListUsers: [CreateUsr]\n";
        let errors = Resources::parse(text, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        let shown: Vec<String> = errors.iter().map(Diagnostic::render_inline).collect();
        assert_eq!(errors.len(), 2, "{shown:?}");
        assert!(shown[0].contains("x.resources.yaml:3:3"), "{shown:?}");
        assert!(shown[0].contains("`ListVirtualMFADevice`"), "{shown:?}");
        assert!(shown[1].contains("x.resources.yaml:4:15"), "{shown:?}");
        assert!(
            shown[1].contains("`CreateUsr` is no operation of iam"),
            "{shown:?}"
        );
        let ok = Resources::parse(
            "sees:\n  ListVirtualMFADevices: [CreateVirtualMFADevice]\n",
            Path::new("x"),
            &iam(),
        )
        .unwrap();
        assert_eq!(ok.sees["ListVirtualMFADevices"], ["CreateVirtualMFADevice"]);
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

    const GROUP: &str = "kinds:\n  - kind: group\n    list: ListGroups\n    item: GroupName\n    param: GroupName\n    delete: DeleteGroup\n";

    #[test]
    fn a_kind_found_neither_by_tag_nor_by_name_is_named_at_its_line() {
        let errors = Resources::parse(GROUP, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "kind `group`: neither `tags` nor `name_pattern`: nothing tells conform's from the rest"
        );
        assert!(errors[0].render().contains("x.resources.yaml:2:"));
        let both = format!("{GROUP}    tags: ListGroupTags\n    name_pattern: '^conform-'\n");
        let errors = Resources::parse(&both, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        // ListGroupTags is no operation either: groups take no tags.
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "kind `group`: `ListGroupTags` is no operation (did you mean `ListGroups`?)",
                "kind `group`: both `tags` and `name_pattern`"
            ]
        );
        assert!(errors[1].render().contains("x.resources.yaml:2:"));
    }

    #[test]
    fn a_name_pattern_that_is_no_regex_is_named_at_its_line() {
        let text = format!("{GROUP}    name_pattern: '^conform-[0-9a-f{{8}}-'\n");
        let errors = Resources::parse(&text, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .message
                .starts_with("kind `group`: `name_pattern` is not a regex: "),
            "{}",
            errors[0].message
        );
        let shown = errors[0].render();
        assert!(shown.contains("x.resources.yaml:7:"), "{shown}");
    }

    #[test]
    fn list_params_and_unless_are_checked_against_the_model() {
        let text = "kinds:\n  - kind: policy\n    list: ListPolicies\n    list_params:\n      Scope: local\n      Scpe: Local\n    item: Arn\n    tags: ListPolicyTags\n    param: PolicyArn\n    holds:\n      - list: ListPolicyVersions\n        item: VersionId\n        unless: IsDefault\n        delete: DeletePolicyVersion\n        param: VersionId\n    delete: DeletePolicy\n";
        let errors = Resources::parse(text, Path::new("x.resources.yaml"), &iam()).unwrap_err();
        let shown: Vec<String> = errors.iter().map(Diagnostic::render).collect();
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "kind `policy`: ListPolicyVersions's answer has no element `IsDefault` for `unless`",
                "kind `policy`: ListPolicies's `Scope` is one of All, AWS, Local, not `local`",
                "kind `policy`: ListPolicies has no input member `Scpe` (did you mean `Scope`?)",
            ],
            "{shown:?}"
        );
        assert!(shown[0].contains("x.resources.yaml:2:"), "{}", shown[0]);
        assert!(shown[1].contains("x.resources.yaml:5:"), "{}", shown[1]);
        assert!(shown[2].contains("x.resources.yaml:6:"), "{}", shown[2]);
        let fixed = text
            .replace("Scope: local\n      Scpe: Local", "Scope: Local")
            .replace("IsDefault\n", "IsDefaultVersion\n");
        let r = Resources::parse(&fixed, Path::new("x"), &iam()).unwrap();
        assert_eq!(r.kinds[0].list_params, [("Scope".into(), "Local".into())]);
    }
}
