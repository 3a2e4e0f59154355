//! What a run talks to: an endpoint, a region, credentials and the variables scenarios use.

use std::time::Duration;

use crate::sign::Credentials;
use crate::template::Vars;

/// Keys for local endpoints that accept any signature (moto, LocalStack, the replay
/// server). They are AWS's documented example keys, valid nowhere.
pub const EXAMPLE_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const EXAMPLE_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// moto's default account.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// AWS's documented example keys, for endpoints that accept any signature.
pub fn example_credentials() -> Credentials {
    Credentials {
        access_key_id: EXAMPLE_ACCESS_KEY_ID.to_owned(),
        secret_access_key: EXAMPLE_SECRET_ACCESS_KEY.to_owned(),
        session_token: None,
    }
}

/// IAM's one global endpoint (setup and cleanup steps on AWS go there).
pub const AWS_IAM_ENDPOINT: &str = "https://iam.amazonaws.com/";

/// Whether `endpoint` is AWS itself: its host is under amazonaws.com (or the China
/// partition's amazonaws.com.cn). Runs there cost, and AWS is what baselines are measured
/// against.
pub fn is_aws(endpoint: &str) -> bool {
    reqwest::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| {
            let h = h.trim_end_matches('.');
            ["amazonaws.com", "amazonaws.com.cn"]
                .iter()
                .any(|d| h == *d || h.ends_with(&format!(".{d}")))
        })
}

/// STS's global endpoint names us-east-1; for another region, requests go to that region's
/// own endpoint, as `record --target aws --region R` always did. Every other endpoint is
/// taken as written.
fn regional(endpoint: &str, region: &str) -> String {
    let global = endpoint.trim_end_matches('/') == AWS_STS_ENDPOINT;
    if global && region != "us-east-1" {
        format!("https://sts.{region}.amazonaws.com")
    } else {
        endpoint.to_owned()
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub endpoint: String,
    pub region: String,
    pub credentials: Credentials,
    pub vars: Vars,
    pub timeout: Duration,
    pub retries: u32,
    /// Answers longer than this fail their case (`--max-answer-bytes`).
    pub max_answer_bytes: u64,
    /// Endpoints of other services than the target's own, by service (`iam` on AWS lives at
    /// its own host); a service not listed goes to `endpoint`.
    pub service_endpoints: std::collections::HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("`{0}` is not an http(s) URL: {1}")]
    BadEndpoint(String, String),
    #[error("`{0}` is not a variable assignment: write NAME=VALUE")]
    BadVar(String),
}

/// Why `record` or `cleanup` has no target to act on.
#[derive(Debug, thiserror::Error)]
pub enum ActingError {
    /// AWS was named without confirmation: says what acting there would do.
    #[error("{0}; confirm with --allow-aws or CONFORM_ALLOW_AWS=1")]
    NotConfirmed(String),
    #[error(transparent)]
    Chain(#[from] crate::credentials::ChainError),
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// STS's global endpoint: what `--target aws` means when the targets file does not say.
pub const AWS_STS_ENDPOINT: &str = "https://sts.amazonaws.com";

/// What `record` and `cleanup` were told to act on, before any key is looked up: a target of
/// the targets file, an endpoint URL, or both (the flag's endpoint winning).
#[derive(Debug, Clone, Default)]
pub struct Acting {
    /// The target's name in headers and messages: its name in the targets file, else the URL.
    pub name: String,
    pub endpoint: String,
    /// `--region`: wins over the chain's and the file's.
    pub region: Option<String>,
    /// The targets file's region, used when neither the flag nor the chain gives one.
    pub file_region: Option<String>,
    /// A profile of the shared files: its keys are used whatever `credentials` says.
    pub profile: Option<String>,
    pub credentials: crate::targets::CredentialSource,
    pub service_endpoints: std::collections::BTreeMap<String, String>,
    /// `NAME=VALUE`, the file's first and then the flags' (a later one wins).
    pub vars: Vec<String>,
    /// The file's `max_answer_bytes`.
    pub max_answer_bytes: Option<u64>,
}

impl Target {
    /// The target `record` and `cleanup` act on. AWS (any amazonaws.com endpoint) must be
    /// `allowed` unless a dry run sends nothing; `what` says what acting on it does. Keys
    /// come from the profile when one is named, else from the target's credential source;
    /// a dry run never asks the chain (a dry run of cleanup lists with the environment's
    /// keys, as it always did).
    pub fn acting(
        spec: &Acting,
        allowed: bool,
        dry_run: bool,
        what: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Target, ActingError> {
        let on_aws = is_aws(&spec.endpoint);
        if on_aws && !dry_run && !allowed {
            return Err(ActingError::NotConfirmed(what.to_owned()));
        }
        let chained = spec.profile.is_some()
            || (!dry_run && spec.credentials == crate::targets::CredentialSource::Chain);
        let (creds, chain_region) = if chained {
            let (c, r) =
                crate::credentials::chain(spec.profile.as_deref(), spec.region.as_deref())?;
            (Some(c), r)
        } else {
            (None, None)
        };
        let region = spec
            .region
            .clone()
            .or(chain_region)
            .or_else(|| spec.file_region.clone())
            .unwrap_or_else(|| "us-east-1".into());
        let mut target = Target::at_endpoint(&regional(&spec.endpoint, &region), &region, env)?;
        target.name = spec.name.clone();
        match creds {
            Some(c) => target.use_credentials(c),
            // A dry run of a chain target keeps the example keys: it calls nothing on AWS.
            None if spec.credentials == crate::targets::CredentialSource::Chain => {}
            None => {
                if let Some(c) = spec.credentials.resolve(&region)? {
                    target.use_credentials(c);
                }
            }
        }
        target
            .service_endpoints
            .extend(spec.service_endpoints.clone());
        if on_aws {
            // IAM has one global endpoint; setup steps must not go to STS's host.
            target
                .service_endpoints
                .entry("iam".into())
                .or_insert_with(|| AWS_IAM_ENDPOINT.into());
        }
        target.set_vars(spec.vars.iter().map(String::as_str))?;
        if let Some(limit) = spec.max_answer_bytes {
            target.max_answer_bytes = limit;
        }
        Ok(target)
    }

    /// A target at `endpoint`. Credentials come from `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` through `env`, else the example keys.
    pub fn at_endpoint(
        endpoint: &str,
        region: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Target, TargetError> {
        let url = reqwest::Url::parse(endpoint)
            .map_err(|e| TargetError::BadEndpoint(endpoint.to_owned(), e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(TargetError::BadEndpoint(
                endpoint.to_owned(),
                "use http://host:port or https://host".to_owned(),
            ));
        }
        let credentials = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(ak), Some(sk)) if !ak.is_empty() && !sk.is_empty() => Credentials {
                access_key_id: ak,
                secret_access_key: sk,
                session_token: env("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()),
            },
            _ => example_credentials(),
        };
        let mut vars = default_vars(region);
        vars.insert("access_key_id".into(), credentials.access_key_id.clone());
        Ok(Target {
            name: endpoint.to_owned(),
            endpoint: url.to_string(),
            region: region.to_owned(),
            credentials,
            vars,
            timeout: Duration::from_secs(30),
            retries: 0,
            max_answer_bytes: crate::transport::DEFAULT_MAX_ANSWER_BYTES,
            service_endpoints: std::collections::HashMap::new(),
        })
    }

    /// Signs with `c` from now on; `access_key_id` (which scenarios may name) follows.
    pub fn use_credentials(&mut self, c: Credentials) {
        self.vars
            .insert("access_key_id".into(), c.access_key_id.clone());
        self.credentials = c;
    }

    /// Applies `NAME=VALUE` overrides. Changing the account id also moves the default role
    /// and caller ARNs unless those are set too.
    pub fn set_vars<'a>(
        &mut self,
        assignments: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), TargetError> {
        let mut role_arn_given = false;
        let mut caller_arn_given = false;
        for a in assignments {
            let (k, v) = a
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| TargetError::BadVar(a.to_owned()))?;
            role_arn_given |= k.trim() == "role_arn";
            caller_arn_given |= k.trim() == "caller_arn";
            self.vars.insert(k.trim().to_owned(), v.to_owned());
        }
        let account = self.vars["account_id"].clone();
        if !role_arn_given {
            let role = self.vars["role_name"].clone();
            self.vars.insert(
                "role_arn".into(),
                format!("arn:aws:iam::{account}:role/{role}"),
            );
        }
        if !caller_arn_given {
            self.vars.insert(
                "caller_arn".into(),
                format!("arn:aws:iam::{account}:user/conform"),
            );
        }
        Ok(())
    }

    fn base_for(&self, service: &str) -> &str {
        self.service_endpoints
            .get(service)
            .unwrap_or(&self.endpoint)
            .trim_end_matches('/')
    }

    /// The URL a request to `service` goes to, with a raw step's path and query.
    pub fn url_for(&self, service: &str, path: &str, query: Option<&str>) -> String {
        let base = self.base_for(service);
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        match query {
            Some(q) => format!("{base}{path}?{q}"),
            None => format!("{base}{path}"),
        }
    }

    /// The Host header of requests to `service`.
    pub fn host_for(&self, service: &str) -> String {
        let url = reqwest::Url::parse(self.base_for(service)).expect("endpoints are checked URLs");
        match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
            None => url.host_str().unwrap_or("").to_owned(),
        }
    }

    /// The URL requests to the target's own service go to.
    pub fn url(&self, path: &str, query: Option<&str>) -> String {
        self.url_for("", path, query)
    }

    pub fn host(&self) -> String {
        self.host_for("")
    }
}

/// The variables every target starts with (moto's account and a conventional role).
pub fn default_vars(region: &str) -> Vars {
    let account = DEFAULT_ACCOUNT_ID.to_owned();
    let mut vars = Vars::new();
    vars.insert("region".into(), region.to_owned());
    vars.insert("role_name".into(), "conform-test-role".into());
    vars.insert(
        "role_arn".into(),
        format!("arn:aws:iam::{account}:role/conform-test-role"),
    );
    vars.insert(
        "caller_arn".into(),
        format!("arn:aws:iam::{account}:user/conform"),
    );
    vars.insert("caller_user_id".into(), "AIDAEXAMPLECONFORM000".into());
    vars.insert("account_id".into(), account);
    vars.insert("run_id".into(), run_id());
    // The target's own key id (not a secret): GetAccessKeyInfo and signature cases use it.
    vars.insert("access_key_id".into(), EXAMPLE_ACCESS_KEY_ID.into());
    vars
}

/// Eight hex digits, different for every run: names of resources a run creates (an IAM role
/// for one case) carry it so that runs never collide and leftovers are recognisable.
fn run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_overrides_and_bad_input() {
        let mut t = Target::at_endpoint("http://127.0.0.1:5000", "us-east-1", |_| None).unwrap();
        assert_eq!(t.credentials.access_key_id, EXAMPLE_ACCESS_KEY_ID);
        assert_eq!(
            t.vars["role_arn"],
            "arn:aws:iam::123456789012:role/conform-test-role"
        );
        t.set_vars(["account_id=000000000000"]).unwrap();
        assert_eq!(
            t.vars["role_arn"],
            "arn:aws:iam::000000000000:role/conform-test-role"
        );
        assert_eq!(
            t.url("/", Some("Action=X")),
            "http://127.0.0.1:5000/?Action=X"
        );
        assert_eq!(t.host(), "127.0.0.1:5000");
        assert!(t.set_vars(["nope"]).is_err());
        assert!(Target::at_endpoint("localhost:5000", "us-east-1", |_| None).is_err());
        assert!(Target::at_endpoint("ftp://x", "us-east-1", |_| None).is_err());
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIAENV".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
            _ => None,
        };
        let t = Target::at_endpoint("https://sts.amazonaws.com", "us-east-1", env).unwrap();
        assert_eq!(t.credentials.access_key_id, "AKIAENV");
    }

    #[test]
    fn acting_takes_the_targets_keys_region_and_variables_and_guards_aws() {
        use crate::targets::CredentialSource;
        let local = Acting {
            name: "local".into(),
            endpoint: "http://127.0.0.1:5000".into(),
            file_region: Some("eu-west-1".into()),
            credentials: CredentialSource::Keys(Credentials {
                access_key_id: "AKIDFILE".into(),
                secret_access_key: "file-secret".into(),
                session_token: None,
            }),
            vars: vec![
                "account_id=000000000000".into(),
                "account_id=111111111111".into(),
            ],
            max_answer_bytes: Some(10),
            ..Acting::default()
        };
        let t = Target::acting(&local, false, false, "it acts", |_| None).unwrap();
        assert_eq!(t.name, "local");
        assert_eq!(t.region, "eu-west-1");
        assert_eq!(t.credentials.access_key_id, "AKIDFILE");
        assert_eq!(t.vars["access_key_id"], "AKIDFILE");
        assert_eq!(
            t.vars["account_id"], "111111111111",
            "a later assignment wins"
        );
        assert_eq!(t.max_answer_bytes, 10);
        let flagged = Acting {
            region: Some("ap-south-1".into()),
            ..local
        };
        let t = Target::acting(&flagged, false, false, "it acts", |_| None).unwrap();
        assert_eq!(t.region, "ap-south-1", "--region wins over the file");

        let aws = Acting {
            name: "aws".into(),
            endpoint: AWS_STS_ENDPOINT.into(),
            region: Some("eu-west-1".into()),
            credentials: CredentialSource::Chain,
            ..Acting::default()
        };
        let e = Target::acting(&aws, false, false, "it costs", |_| None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it costs; confirm with --allow-aws or CONFORM_ALLOW_AWS=1"
        );
        // A dry run neither needs the confirmation nor asks the chain.
        let t = Target::acting(&aws, false, true, "it costs", |_| None).unwrap();
        assert_eq!(
            t.url_for("sts", "/", None),
            "https://sts.eu-west-1.amazonaws.com/"
        );
        assert_eq!(t.url_for("iam", "/", None), "https://iam.amazonaws.com/");
        assert_eq!(t.credentials.access_key_id, EXAMPLE_ACCESS_KEY_ID);
    }

    #[test]
    fn aws_is_told_by_the_host() {
        for aws in [
            "https://sts.amazonaws.com",
            "https://sts.eu-west-1.amazonaws.com/",
            "https://STS.AMAZONAWS.COM",
            "https://sts.cn-north-1.amazonaws.com.cn",
        ] {
            assert!(is_aws(aws), "{aws}");
        }
        for other in [
            "http://127.0.0.1:4566",
            "http://amazonaws.com.example.org",
            "http://notamazonaws.com",
            "http://localhost:5000/?next=sts.amazonaws.com",
            "not a url",
        ] {
            assert!(!is_aws(other), "{other}");
        }
    }
}
