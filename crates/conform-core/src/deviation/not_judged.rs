//! What a target declares it is not judged on, and the compiled set that finds the rule
//! leaving a deviation out.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{Deviation, Kind};

/// What a target declares it is not judged on (`not_judged` in its targets-file entry), like
/// LocalStack's `skip_snapshot_verify`: deviations of that kind, at those paths, in those
/// cases. Reports count and show them as not judged; the gate and the grades leave them out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotJudged {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// A glob over element paths: `*` within one element name, `**` across several
    /// (`*Response/*Result`, `**/RequestId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A glob over case names (`sts::AssumeRoleWithSAML::*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Why: what is not known or not comparable.
    pub reason: String,
}

impl NotJudged {
    /// A rule must narrow something: one that excuses everything would excuse every regression.
    pub fn check(&self) -> Result<(), String> {
        if self.kind.is_none() && self.path.is_none() && self.case.is_none() {
            return Err("a not-judged rule names a kind, a path or a case (or several); one with none would judge nothing".into());
        }
        if self.reason.trim().is_empty() {
            return Err("a not-judged rule says why in `reason`".into());
        }
        for g in self.path.iter().chain(&self.case) {
            glob(g)?;
        }
        Ok(())
    }
}

/// The glob parsed, its mistakes found; the matcher is compiled on first use.
fn glob(pattern: &str) -> Result<LazyGlob, String> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|glob| LazyGlob {
            glob,
            matcher: OnceLock::new(),
        })
        .map_err(|e| format!("`{pattern}` is not a glob: {e}"))
}

/// A glob compiled the first time a deviation is held against it: a run whose cases all
/// pass never is, and compiling every rule's globs was a tenth of running one case.
#[derive(Debug)]
struct LazyGlob {
    glob: globset::Glob,
    matcher: OnceLock<globset::GlobMatcher>,
}

impl LazyGlob {
    fn is_match(&self, text: &str) -> bool {
        self.matcher
            .get_or_init(|| self.glob.compile_matcher())
            .is_match(text)
    }
}

/// A target's not-judged rules, their globs checked at once and compiled when first asked.
#[derive(Debug, Default)]
pub struct NotJudgedSet {
    rules: Vec<(NotJudged, Option<LazyGlob>, Option<LazyGlob>)>,
}

impl NotJudgedSet {
    pub fn new(rules: &[NotJudged]) -> Result<Self, String> {
        let mut out = Vec::with_capacity(rules.len());
        for r in rules {
            r.check()?;
            out.push((
                r.clone(),
                r.path.as_deref().map(glob).transpose()?,
                r.case.as_deref().map(glob).transpose()?,
            ));
        }
        Ok(NotJudgedSet { rules: out })
    }

    /// The rule that leaves this deviation of this case unjudged, if one does.
    pub fn rule_for(&self, case: &str, d: &Deviation) -> Option<&NotJudged> {
        self.index_for(case, d).map(|i| &self.rules[i].0)
    }

    /// The first rule (its place in the list) that leaves this deviation unjudged.
    pub fn index_for(&self, case: &str, d: &Deviation) -> Option<usize> {
        self.rules.iter().position(|(r, path, case_glob)| {
            r.kind.is_none_or(|k| k == d.kind)
                && path.as_ref().is_none_or(|g| g.is_match(&d.path))
                && case_glob.as_ref().is_none_or(|g| g.is_match(case))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::dev;
    use super::*;

    #[test]
    fn not_judged_rules_match_by_kind_path_glob_and_case() {
        let rules = [
            NotJudged {
                kind: Some(Kind::ElementOrder),
                path: Some("*Response/*Result".into()),
                case: None,
                reason: "order of results not recorded".into(),
            },
            NotJudged {
                kind: None,
                path: Some("**/RequestId".into()),
                case: Some("sts::GetCallerIdentity::*".into()),
                reason: "r".into(),
            },
        ];
        let set = NotJudgedSet::new(&rules).unwrap();
        let order = dev(
            1,
            Kind::ElementOrder,
            "AssumeRoleResponse/AssumeRoleResult",
            None,
            None,
        );
        assert_eq!(set.rule_for("sts::AssumeRole::a", &order), Some(&rules[0]));
        // `*` stays within one name: the order inside Credentials is still judged.
        let deeper = dev(
            1,
            Kind::ElementOrder,
            "AssumeRoleResponse/AssumeRoleResult/Credentials",
            None,
            None,
        );
        assert_eq!(set.rule_for("sts::AssumeRole::a", &deeper), None);
        let rid = dev(
            1,
            Kind::ValueShape,
            "GetCallerIdentityResponse/ResponseMetadata/RequestId",
            None,
            None,
        );
        assert_eq!(
            set.rule_for("sts::GetCallerIdentity::x", &rid),
            Some(&rules[1])
        );
        assert_eq!(set.rule_for("sts::AssumeRole::x", &rid), None);
        // A rule that narrows nothing, or has no reason, or a broken glob, is refused.
        let bad = |k: Option<Kind>, p: Option<&str>, reason: &str| NotJudged {
            kind: k,
            path: p.map(str::to_owned),
            case: None,
            reason: reason.into(),
        };
        assert!(NotJudgedSet::new(&[bad(None, None, "why")]).is_err());
        assert!(NotJudgedSet::new(&[bad(Some(Kind::Status), None, " ")]).is_err());
        assert!(
            NotJudgedSet::new(&[bad(None, Some("a/[b"), "why")])
                .unwrap_err()
                .contains("not a glob")
        );
    }
}
