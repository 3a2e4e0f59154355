//! A request's parameters, decoded from the form body and the query string.

pub(super) struct Params(pub(super) Vec<(String, String)>);

impl Params {
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    pub(super) fn has_prefix(&self, p: &str) -> bool {
        self.0
            .iter()
            .any(|(n, _)| n == p || n.starts_with(&format!("{p}.")))
    }

    /// Indices `N` of `prefix.member.N...`, sorted; `Some(vec![])` for `prefix=` (empty list).
    pub(super) fn list(&self, prefix: &str) -> Option<Vec<usize>> {
        conform::validation::list_indices(&self.0, prefix)
    }

    /// `DurationSeconds` as sent, or the operation's default.
    pub(super) fn duration(&self, default: i64) -> i64 {
        self.get("DurationSeconds")
            .and_then(|d| d.parse().ok())
            .unwrap_or(default)
    }

    /// Whether a session policy is sent, inline or by ARN.
    pub(super) fn has_session_policy(&self) -> bool {
        self.has_prefix("Policy") || self.has_prefix("PolicyArns")
    }
}
