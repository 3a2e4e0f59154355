//! Session policies and tags whose outcome is documented but not as a model rule: the
//! reference declines such requests rather than guess how AWS answers them.

use super::params::Params;

/// Session-policy situations whose outcome is documented but not as a model rule.
pub(super) fn policy_problem(p: &Params) -> Option<&'static str> {
    if let Some(policy) = p.get("Policy") {
        if !matches!(
            serde_json::from_str::<serde_json::Value>(policy),
            Ok(serde_json::Value::Object(_))
        ) {
            return Some("a session policy that is not a JSON policy document");
        }
        // How much a large, varied policy packs to depends on AWS's compression.
        let mut distinct: Vec<char> = policy.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if policy.chars().count() > 1024 && distinct.len() > 20 {
            return Some("a large varied policy, whose packed size cannot be predicted");
        }
    }
    if let Some(policy) = p.get("Policy")
        && policy.contains("\"Principal\"")
    {
        return Some("a session policy that names a principal");
    }
    let arns = p.list("PolicyArns").unwrap_or_default();
    if arns.len() > 10 {
        return Some("more than 10 policy ARNs");
    }
    for i in &arns {
        let arn = p.get(&format!("PolicyArns.member.{i}.arn")).unwrap_or("");
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let valid = parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "iam"
            && parts[5].starts_with("policy/");
        if !valid {
            return Some("a policy ARN that is not an ARN");
        }
    }
    let plain: usize = p.get("Policy").map_or(0, |s| s.chars().count())
        + arns
            .iter()
            .map(|i| {
                p.get(&format!("PolicyArns.member.{i}.arn"))
                    .map_or(0, |s| s.chars().count())
            })
            .sum::<usize>();
    if plain > 2048 {
        return Some("session policies over 2048 plaintext characters");
    }
    None
}

/// Session tags whose outcome is documented but not as a model rule.
pub(super) fn tag_problem(p: &Params) -> Option<&'static str> {
    let tags = p.list("Tags").unwrap_or_default();
    let keys: Vec<String> = tags
        .iter()
        .filter_map(|i| p.get(&format!("Tags.member.{i}.Key")))
        .map(str::to_lowercase)
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != keys.len() {
        return Some("duplicate tag keys");
    }
    let transitive = p.list("TransitiveTagKeys").unwrap_or_default();
    for i in transitive {
        let k = p
            .get(&format!("TransitiveTagKeys.member.{i}"))
            .unwrap_or("")
            .to_lowercase();
        if !keys.contains(&k) {
            return Some("a transitive tag key that is not a tag");
        }
    }
    let tag_chars: usize = tags
        .iter()
        .flat_map(|i| {
            [
                format!("Tags.member.{i}.Key"),
                format!("Tags.member.{i}.Value"),
            ]
        })
        .filter_map(|k| p.get(&k).map(|v| v.chars().count()))
        .sum();
    if tag_chars > 1024 {
        return Some("tags near the packed size limit");
    }
    None
}
