//! Redaction: the per-case state that applies a service's rules (`rules`: data, one YAML
//! file per service). Run-dependent values become placeholders that still check their
//! shape, and a value seen twice keeps one numbered placeholder so equalities survive.

mod rules;

use std::collections::HashMap;
use std::time::SystemTime;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use rules::ValueMatch;
pub use rules::{Look, PinRefusal, Rules, RulesError};

/// Applies a service's rules within one case, numbering the values it meets.
pub struct Redactor<'a> {
    rules: &'a Rules,
    vars: &'a HashMap<String, String>,
    seen: HashMap<(String, String), usize>,
    counters: HashMap<String, usize>,
    /// The element rules (as written) whose values this case keeps literally.
    pinned: Vec<String>,
    /// Secret values met in answers: they must never reach a snapshot or a report.
    pub secrets: Vec<String>,
    /// Values an element rule numbered, with their placeholder: met again inside other text
    /// (a message naming the key a step created) they read the same.
    named: Vec<(String, String)>,
}

/// Values shorter than this are not looked for inside other text: a short number could be
/// anything there.
const NAMED_MIN: usize = 8;

impl<'a> Redactor<'a> {
    pub fn new(rules: &'a Rules, vars: &'a HashMap<String, String>) -> Self {
        Redactor {
            rules,
            vars,
            seen: HashMap::new(),
            counters: HashMap::new(),
            pinned: Vec::new(),
            secrets: Vec::new(),
            named: Vec::new(),
        }
    }

    /// Keeps the values of these element rules as they are (a case's `pin:`), so the
    /// snapshot checks the value itself rather than its shape. Only pinnable rules take
    /// part, so a secret is never kept.
    pub fn pinning(mut self, elements: &[String]) -> Self {
        self.pinned = elements.to_vec();
        self
    }

    fn number(&mut self, placeholder: &str, value: &str) -> usize {
        let key = (placeholder.to_owned(), value.to_owned());
        if let Some(n) = self.seen.get(&key) {
            return *n;
        }
        let n = self.counters.entry(placeholder.to_owned()).or_insert(0);
        *n += 1;
        let n = *n;
        self.seen.insert(key, n);
        n
    }

    /// The text of the element at `path` as it goes into the snapshot. `sent_at` is when the
    /// request left, for expirations.
    pub fn element_text(&mut self, path: &[&str], text: &str, sent_at: SystemTime) -> String {
        // Copy the shared reference out, so rules can be read while `self` is mutated
        // (cloning a rule would clone its regex and throw away its match cache).
        let rules = self.rules;
        let Some(rule) = rules.element_rule(path) else {
            return self.values(text);
        };
        if rule.secret && !text.is_empty() {
            self.secrets.push(text.to_owned());
        }
        // A target's own value (its account id) is checked by equality, which says more than
        // a shape: let the value rules name it. (A rule that names its variable already does.)
        if !rule.secret
            && rule.variable.is_none()
            && rules.values.iter().any(|v| {
                matches!(&v.matcher, ValueMatch::Variable(n) if self.vars.get(n).is_some_and(|x| x == text))
            })
        {
            return self.values(text);
        }
        if rule.pinnable && self.pinned.contains(&rule.element) {
            return text.to_owned();
        }
        if let Some(var) = &rule.variable {
            return if self.vars.get(var).is_some_and(|v| v == text) {
                format!("[{}]", rule.placeholder)
            } else {
                self.values(text)
            };
        }
        if rule.relative_time {
            return match relative_time(text, sent_at) {
                Some(rel) => format!("[{}:{rel}]", rule.placeholder),
                None => self.values(text),
            };
        }
        // Most shapes keep nothing of the value: asking only whether it matches spares the
        // slower search for groups on every element of every answer.
        let matched = match &rule.shape {
            None => Some(None),
            Some(re) if re.capture_names().any(|n| n == Some("keep")) => re
                .captures(text)
                .map(|c| c.name("keep").map(|m| m.as_str())),
            Some(re) => re.is_match(text).then_some(None),
        };
        let keep = match matched {
            Some(keep) => keep,
            None => {
                // Wrong shape: the diff must show it, but never a secret's value.
                return if rule.secret {
                    format!(
                        "[{}:unexpected-shape:{}-chars]",
                        rule.placeholder,
                        text.chars().count()
                    )
                } else {
                    self.values(text)
                };
            }
        };
        let mut out = format!("[{}", rule.placeholder);
        if let Some(k) = keep {
            out.push(':');
            out.push_str(k);
        }
        if rule.numbered {
            let n = self.number(&rule.placeholder, text);
            out.push_str(&format!(":{n}"));
        }
        out.push(']');
        if rule.numbered
            && !rule.secret
            && text.len() >= NAMED_MIN
            && !self.named.iter().any(|(v, _)| v == text)
        {
            self.named.push((text.to_owned(), out.clone()));
        }
        out
    }

    /// Any other text: value rules replace run-dependent values inside it.
    pub fn values(&mut self, text: &str) -> String {
        let rules = self.rules;
        let mut out: Option<String> = None;
        for rule in &rules.values {
            let cur = out.as_deref().unwrap_or(text);
            match &rule.matcher {
                ValueMatch::Variable(v) => {
                    if let Some(value) = self.vars.get(v).filter(|v| !v.is_empty())
                        && cur.contains(value.as_str())
                    {
                        out = Some(cur.replace(value.as_str(), &format!("[{}]", rule.placeholder)));
                    }
                }
                ValueMatch::Pattern(re) => {
                    if re.is_match(cur) {
                        // A group named `v` marks the value inside a longer match (the
                        // number in "consumes 498% of"); without one the whole match is it.
                        let replaced = re
                            .replace_all(cur, |c: &regex::Captures<'_>| {
                                let whole = c.get(0).map_or("", |m| m.as_str());
                                let offset = c.get(0).map_or(0, |m| m.start());
                                let (start, v) = match c.name("v") {
                                    Some(m) => (m.start() - offset, m.as_str()),
                                    None => (0, whole),
                                };
                                let placeholder = if rule.numbered {
                                    let n = self.number(&rule.placeholder, v);
                                    format!("[{}:{n}]", rule.placeholder)
                                } else {
                                    format!("[{}]", rule.placeholder)
                                };
                                format!(
                                    "{}{placeholder}{}",
                                    &whole[..start],
                                    &whole[start + v.len()..]
                                )
                            })
                            .into_owned();
                        out = Some(replaced);
                    }
                }
            }
        }
        for (value, placeholder) in &self.named {
            let cur = out.as_deref().unwrap_or(text);
            if cur.contains(value.as_str()) {
                out = Some(cur.replace(value.as_str(), placeholder));
            }
        }
        out.unwrap_or_else(|| text.to_owned())
    }
}

/// `+3600s` for an ISO 8601 UTC time 3600 s after `sent_at`, rounded to the minute so that
/// clock skew and latency do not show; `+3600s:subsecond` when the time carries a fraction
/// (AWS writes whole seconds). None when it is not such a time at all.
fn relative_time(text: &str, sent_at: SystemTime) -> Option<String> {
    if !text.ends_with('Z') || !text.contains('T') {
        return None;
    }
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let sent = OffsetDateTime::from(sent_at);
    let delta = (t - sent).whole_seconds();
    let rounded = ((delta as f64) / 60.0).round() as i64 * 60;
    let sign = if rounded < 0 { "-" } else { "+" };
    let mut out = format!("{sign}{}s", rounded.abs());
    if t.nanosecond() != 0 || text.contains('.') {
        out.push_str(":subsecond");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::rules::tests::PINNABLE;
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    const RULES: &str = r#"
elements:
  - element: RequestId
    placeholder: request-id
    shape: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
    numbered: false
  - element: Credentials/AccessKeyId
    placeholder: access-key-id
    shape: '(?P<keep>ASIA|AKIA)[A-Z0-9]{16}'
  - element: SecretAccessKey
    placeholder: secret-access-key
    shape: '[A-Za-z0-9/+]{40}'
    secret: true
  - element: Expiration
    placeholder: expiration
    relative_time: true
values:
  - variable: account_id
    placeholder: account-id
    numbered: false
  - pattern: 'AROA[A-Z0-9]{17}'
    placeholder: role-id
"#;

    fn vars() -> HashMap<String, String> {
        [("account_id".to_owned(), "123456789012".to_owned())].into()
    }

    #[test]
    fn placeholders_keep_prefixes_numbers_and_equalities() {
        let rules = Rules::parse(RULES, "t").unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        let now = at(1_700_000_000);
        let p = [
            "AssumeRoleResponse",
            "AssumeRoleResult",
            "Credentials",
            "AccessKeyId",
        ];
        assert_eq!(
            r.element_text(&p, "ASIAIOSFODNN7EXAMPLE", now),
            "[access-key-id:ASIA:1]"
        );
        assert_eq!(
            r.element_text(&p, "ASIAZZZZZZZZZZZZZZZZ", now),
            "[access-key-id:ASIA:2]"
        );
        assert_eq!(
            r.element_text(&p, "ASIAIOSFODNN7EXAMPLE", now),
            "[access-key-id:ASIA:1]"
        );
        // Only under Credentials: the rule's path suffix must match.
        assert_eq!(
            r.element_text(&["X", "AccessKeyId"], "ASIAYYYYYYYYYYYYYYYY", now),
            "ASIAYYYYYYYYYYYYYYYY"
        );
        assert_eq!(
            r.values("arn:aws:sts::123456789012:assumed-role/demo/s AROA1234567890ABCDEFG:s AROA1234567890ABCDEFG"),
            "arn:aws:sts::[account-id]:assumed-role/demo/s [role-id:1]:s [role-id:1]"
        );
    }

    #[test]
    fn a_numbered_value_met_again_inside_other_text_reads_the_same() {
        let rules = Rules::parse(RULES, "t").unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        let now = at(1_700_000_000);
        let key = ["R", "Credentials", "AccessKeyId"];
        let secret = ["R", "Credentials", "SecretAccessKey"];
        assert_eq!(
            r.element_text(&key, "ASIAIOSFODNN7EXAMPLE", now),
            "[access-key-id:ASIA:1]"
        );
        let s = "abcdEFGHijklMNOPqrstUVWXyz0123456789ABCD";
        assert_eq!(r.element_text(&secret, s, now), "[secret-access-key:1]");
        // A later message naming the key names its placeholder, as a list of keys would.
        assert_eq!(
            r.element_text(
                &["Error", "Message"],
                "The key ASIAIOSFODNN7EXAMPLE is gone.",
                now
            ),
            "The key [access-key-id:ASIA:1] is gone."
        );
        // A key never met in an element stays as it was sent; a secret is never named by
        // its placeholder this way (the secret scrubbing handles it).
        assert_eq!(
            r.values("ASIAZZZZZZZZZZZZZZZZ and abcdEFGH"),
            "ASIAZZZZZZZZZZZZZZZZ and abcdEFGH"
        );
        assert!(!r.values(s).contains("[secret-access-key]"));
    }

    #[test]
    fn a_targets_own_value_wins_over_a_shape_placeholder() {
        let rules = Rules::parse(
            "elements:\n  - element: Account\n    placeholder: key-account\n    shape: '[0-9]{12}'\nvalues:\n  - variable: account_id\n    placeholder: account-id\n    numbered: false\n",
            "t",
        )
        .unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        assert_eq!(
            r.element_text(&["Account"], "123456789012", at(0)),
            "[account-id]"
        );
        assert_eq!(
            r.element_text(&["Account"], "999999999999", at(0)),
            "[key-account:1]"
        );
    }

    #[test]
    fn wrong_shapes_show_but_secrets_never_do() {
        let rules = Rules::parse(RULES, "t").unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        let now = at(0);
        assert_eq!(
            r.element_text(&["RequestId"], "not-a-uuid", now),
            "not-a-uuid"
        );
        assert_eq!(
            r.element_text(&["RequestId"], "c6104cbe-af31-11e0-8154-cbc7ccf896c7", now),
            "[request-id]"
        );
        let secret41 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
        assert_eq!(
            r.element_text(&["SecretAccessKey"], secret41, now),
            "[secret-access-key:unexpected-shape:41-chars]"
        );
        assert_eq!(r.secrets, [secret41]);
        let secret40 = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
        assert_eq!(
            r.element_text(&["SecretAccessKey"], secret40, now),
            "[secret-access-key:1]"
        );
        assert_eq!(
            r.secrets,
            [secret41, secret40],
            "well-shaped secrets are remembered too"
        );
    }

    #[test]
    fn expirations_are_relative_to_the_request_time() {
        let rules = Rules::parse(RULES, "t").unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        // 2023-11-14T22:13:20Z is 1_700_000_000.
        let sent = at(1_700_000_000 - 2);
        assert_eq!(
            r.element_text(&["Expiration"], "2023-11-14T23:13:20Z", sent),
            "[expiration:+3600s]"
        );
        assert_eq!(
            r.element_text(&["Expiration"], "2023-11-14T23:13:20.123456Z", sent),
            "[expiration:+3600s:subsecond]"
        );
        assert_eq!(
            r.element_text(&["Expiration"], "tomorrow", sent),
            "tomorrow"
        );
    }

    #[test]
    fn a_named_group_marks_the_value_inside_a_longer_match() {
        let rules = Rules::parse(
            "values:\n  - pattern: 'consumes (?P<v>[0-9]+)% of'\n    placeholder: packed-percent\n    numbered: false\n",
            "t",
        )
        .unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        assert_eq!(
            r.values("Packed policy consumes 498% of allotted space"),
            "Packed policy consumes [packed-percent]% of allotted space"
        );
    }

    #[test]
    fn a_pinned_element_keeps_its_value_and_an_unpinned_one_its_placeholder() {
        let rules = Rules::parse(PINNABLE, "t").unwrap();
        let v = vars();
        let path = ["AssumeRoleResult", "PackedPolicySize"];
        let pins = ["PackedPolicySize".to_owned()];
        let mut pinned = Redactor::new(&rules, &v).pinning(&pins);
        assert_eq!(pinned.element_text(&path, "16", at(0)), "16");
        // Pinning one rule leaves the others as they were.
        assert_eq!(
            pinned.element_text(&["SecretAccessKey"], "s3cr3t", at(0)),
            "[secret-access-key:1]"
        );
        let mut unpinned = Redactor::new(&rules, &v);
        assert_eq!(
            unpinned.element_text(&path, "16", at(0)),
            "[packed-policy-size]"
        );
        assert_eq!(
            unpinned.element_text(&path, "sixteen", at(0)),
            "sixteen",
            "a wrong shape still shows where nothing is pinned"
        );
    }

    #[test]
    fn a_pin_on_a_rule_that_is_not_pinnable_keeps_the_placeholder() {
        // The loader refuses such a case; the redactor must not rely on that for secrets.
        let rules = Rules::parse(PINNABLE, "t").unwrap();
        let v = vars();
        let pins = ["SecretAccessKey".to_owned()];
        let mut r = Redactor::new(&rules, &v).pinning(&pins);
        assert_eq!(
            r.element_text(&["SecretAccessKey"], "s3cr3t", at(0)),
            "[secret-access-key:1]"
        );
        assert_eq!(r.secrets, ["s3cr3t"]);
    }
}
