//! What a run will do, decided before its first request: the endpoint (one given, or the
//! built-in replay server started here, standing for the run's own variables), the target
//! built from the options, the cases selected (filters, a shard, and on a replay server none
//! that `requires` a real target), the rules the target is not judged on, and its names in
//! reports. The binary, the libtest harness and the benchmark all start runs through it, so
//! the three cannot drift apart.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::credentials::ChainError;
use crate::deviation::NotJudged;
use crate::replay::{Replay, Server};
use crate::suite::{Selection, Suite};
use crate::target::{Target, TargetError};
use crate::targets::CredentialSource;

/// What a run is asked to do, from the command line, a targets file or the environment.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// None: the built-in replay server answers from the snapshots.
    pub endpoint: Option<String>,
    /// Signing region (default us-east-1).
    pub region: Option<String>,
    /// The target's name in reports (a targets-file name), else `replay` or the endpoint.
    pub name: Option<String>,
    /// The endpoint is `conform serve` elsewhere (`--target replay`): cases that need a real
    /// target are skipped as on the built-in server.
    pub replay_named: bool,
    pub filters: Vec<String>,
    /// Filters match whole test names.
    pub exact: bool,
    /// Shard K of N.
    pub shard: Option<(u32, u32)>,
    /// `NAME=VALUE` assignments, later ones winning.
    pub vars: Vec<String>,
    pub credentials: CredentialSource,
    /// Endpoints of other services than the target's own (IAM for setup steps).
    pub service_endpoints: BTreeMap<String, String>,
    pub timeout: Duration,
    pub retries: u32,
    pub max_answer_bytes: Option<u64>,
    /// What the target declares it is not judged on.
    pub not_judged: Vec<NotJudged>,
    /// Runs against AWS are confirmed (`--allow-aws` or CONFORM_ALLOW_AWS=1).
    pub allow_aws: bool,
    /// A baseline will judge the run (never against AWS).
    pub uses_baseline: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            endpoint: None,
            region: None,
            name: None,
            replay_named: false,
            filters: Vec::new(),
            exact: false,
            shard: None,
            vars: Vec::new(),
            credentials: CredentialSource::default(),
            service_endpoints: BTreeMap::new(),
            timeout: Duration::from_secs(30),
            retries: 0,
            max_answer_bytes: None,
            not_judged: Vec::new(),
            allow_aws: false,
            uses_baseline: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "a run against AWS never uses a baseline: AWS is what the baselines are measured against"
    )]
    BaselineOnAws,
    #[error(
        "{0} is AWS: the run's setup steps create resources in the account and every call is real; confirm with --allow-aws or CONFORM_ALLOW_AWS=1"
    )]
    AwsNotConfirmed(String),
    #[error("cannot start the replay server: {0}")]
    Replay(std::io::Error),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("{0}")]
    NotJudged(String),
}

/// The built-in replay server of a run, in process on a free loopback port.
pub struct BuiltIn {
    pub replay: Arc<Replay>,
    /// Stops when dropped.
    pub server: Server,
}

/// A run, ready to start.
pub struct Plan {
    /// Indices into the suite's cases, in suite order.
    pub cases: Vec<usize>,
    /// Cases the filters select that need what only a real target provides: skipped on a
    /// replay server (`requires:`), counted so the user is told.
    pub needs_real_target: usize,
    pub target: Target,
    pub endpoint: String,
    pub built_in: Option<BuiltIn>,
    /// The target is AWS itself.
    pub on_aws: bool,
    /// The target's rules and, for every target but AWS, the element orders AWS is only
    /// documented to use (a deviation there says nothing about the target).
    pub not_judged: Vec<NotJudged>,
    /// "the built-in replay server (URL)", "moto (URL)" or the URL, for the summary.
    pub label: String,
    /// The target's name in reports.
    pub report_name: String,
    /// The cases are answered by a replay server.
    pub replaying: bool,
}

/// Whether a run given this endpoint (or none) answers from the built-in replay server.
fn starts_built_in(endpoint: Option<&str>) -> bool {
    endpoint.is_none()
}

impl Plan {
    /// What a run must load before its plan is made: the cases the filters select, and
    /// their snapshots read at load only when the built-in replay server (no endpoint) needs
    /// them in memory to answer. Against an endpoint each is read once, when its case is
    /// judged; reading them at load too would read each twice.
    /// `endpoint`: the run will have one (given, or an emulator started from its recipe).
    pub fn selection(filters: &[String], exact: bool, endpoint: bool) -> Selection {
        let selection = Selection::new(filters.to_vec(), exact).with_named_models_only();
        if !endpoint {
            selection
        } else {
            selection.leaving_snapshots_on_disk()
        }
    }

    /// Decides everything a run needs before any case starts; the built-in replay server is
    /// started here (on the current tokio runtime) when no endpoint is given. `env` reads the
    /// environment (AWS_ACCESS_KEY_ID and friends).
    pub async fn new(
        suite: &Suite,
        opts: PlanOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Plan, PlanError> {
        let region = opts.region.clone().unwrap_or_else(|| "us-east-1".into());
        let run_vars = crate::target::default_vars(&region);
        let built_in = if starts_built_in(opts.endpoint.as_deref()) {
            let replay = Arc::new(Replay::from_suite(suite, run_vars.clone()));
            let server = crate::replay::serve(Arc::clone(&replay), 0)
                .await
                .map_err(PlanError::Replay)?;
            Some(BuiltIn { replay, server })
        } else {
            None
        };
        let endpoint = match (&opts.endpoint, &built_in) {
            (Some(e), _) => e.clone(),
            (None, Some(b)) => b.server.uri(),
            (None, None) => unreachable!("a server was started"),
        };
        // Refused before any request: a run against AWS costs, and its answers are the
        // reference.
        let on_aws = crate::target::is_aws(&endpoint);
        if opts.uses_baseline && on_aws {
            return Err(PlanError::BaselineOnAws);
        }
        if on_aws && !opts.allow_aws {
            return Err(PlanError::AwsNotConfirmed(endpoint));
        }
        let mut not_judged = opts.not_judged.clone();
        if !on_aws {
            for facts in suite.facts.values() {
                not_judged.extend(facts.not_judged());
            }
        }
        for rule in &not_judged {
            rule.check().map_err(PlanError::NotJudged)?;
        }
        let label = match (&built_in, &opts.name) {
            (Some(_), _) => format!("the built-in replay server ({endpoint})"),
            (None, Some(name)) => format!("{name} ({endpoint})"),
            (None, None) => endpoint.clone(),
        };
        let report_name = opts.name.clone().unwrap_or_else(|| {
            if built_in.is_some() {
                "replay".to_owned()
            } else {
                endpoint.clone()
            }
        });
        let target = target(&opts, &endpoint, &region, on_aws, env)?;
        if let Some(b) = &built_in {
            // The run's own keys are its own to the built-in replay, temporary ones included.
            b.replay.trust_key(&target.credentials.access_key_id);
        }
        let mut target = target;
        if built_in.is_some() {
            target
                .vars
                .insert("run_id".into(), run_vars["run_id"].clone());
        }
        let replaying = built_in.is_some() || opts.replay_named;
        let selected = suite.select_indices(&opts.filters, opts.exact);
        let needs_real_target = if replaying {
            selected
                .iter()
                .filter(|&&i| !suite.cases[i].requires.is_empty())
                .count()
        } else {
            0
        };
        let cases = selected
            .into_iter()
            // A replay cannot be what a case requires of a real target (a disabled region).
            .filter(|&i| !replaying || suite.cases[i].requires.is_empty())
            .filter(|&i| {
                opts.shard.is_none_or(|(k, n)| {
                    crate::report::shard_of(&suite.cases[i].test_name(), n) == k
                })
            })
            .collect();
        Ok(Plan {
            cases,
            needs_real_target,
            target,
            endpoint,
            built_in,
            on_aws,
            not_judged,
            label,
            report_name,
            replaying,
        })
    }

    /// Whether the plan runs case `index` of the suite.
    pub fn runs(&self, index: usize) -> bool {
        self.cases.binary_search(&index).is_ok()
    }
}

fn target(
    opts: &PlanOptions,
    endpoint: &str,
    region: &str,
    on_aws: bool,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Target, PlanError> {
    let mut target = Target::at_endpoint(endpoint, region, env)?;
    if let Some(c) = opts.credentials.resolve(region)? {
        target.use_credentials(c);
    }
    target.set_vars(opts.vars.iter().map(String::as_str))?;
    let extra: HashMap<String, String> = opts.service_endpoints.clone().into_iter().collect();
    target.service_endpoints.extend(extra);
    if on_aws {
        // IAM has one global endpoint; setup steps must not go to STS's host.
        target
            .service_endpoints
            .entry("iam".into())
            .or_insert_with(|| crate::target::AWS_IAM_ENDPOINT.into());
    }
    target.timeout = opts.timeout.max(Duration::from_secs(1));
    target.retries = opts.retries;
    if let Some(limit) = opts.max_answer_bytes {
        target.max_answer_bytes = limit;
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Layout;

    fn suite() -> Suite {
        Suite::load(&Layout::at(std::path::Path::new(env!(
            "CARGO_MANIFEST_DIR"
        ))))
        .unwrap()
    }

    fn at(endpoint: &str) -> PlanOptions {
        PlanOptions {
            endpoint: Some(endpoint.into()),
            ..PlanOptions::default()
        }
    }

    #[tokio::test]
    async fn without_an_endpoint_the_built_in_replay_answers_and_skips_what_needs_a_real_target() {
        let suite = suite();
        let plan = Plan::new(&suite, PlanOptions::default(), |_| None)
            .await
            .unwrap();
        let b = plan.built_in.as_ref().expect("a replay server");
        assert_eq!(plan.endpoint, b.server.uri());
        assert!(plan.endpoint.starts_with("http://127.0.0.1:"));
        assert_eq!(plan.report_name, "replay");
        assert_eq!(
            plan.label,
            format!("the built-in replay server ({})", plan.endpoint)
        );
        let needing = suite
            .cases
            .iter()
            .filter(|c| !c.requires.is_empty())
            .count();
        assert!(needing > 0);
        assert_eq!(plan.needs_real_target, needing);
        assert_eq!(plan.cases.len(), suite.cases.len() - needing);
        assert!(
            plan.cases
                .iter()
                .all(|&i| suite.cases[i].requires.is_empty())
        );
        assert!(plan.cases.windows(2).all(|w| w[0] < w[1]));
        // The element orders AWS is only documented to use are not judged here.
        assert!(!plan.not_judged.is_empty());
    }

    #[tokio::test]
    async fn an_endpoint_runs_every_selected_case_and_shards_split_them() {
        let suite = suite();
        let all = Plan::new(&suite, at("http://127.0.0.1:9"), |_| None)
            .await
            .unwrap();
        assert!(all.built_in.is_none());
        assert_eq!(all.cases.len(), suite.cases.len());
        assert_eq!(all.needs_real_target, 0);
        assert_eq!(all.report_name, "http://127.0.0.1:9");
        let mut seen = Vec::new();
        for k in 1..=3 {
            let p = Plan::new(
                &suite,
                PlanOptions {
                    shard: Some((k, 3)),
                    ..at("http://127.0.0.1:9")
                },
                |_| None,
            )
            .await
            .unwrap();
            assert!(!p.cases.is_empty() && p.cases.len() < suite.cases.len());
            seen.extend(p.cases);
        }
        seen.sort_unstable();
        assert_eq!(seen, all.cases, "every case in exactly one shard");
        let name = suite.cases[5].test_name();
        let one = Plan::new(
            &suite,
            PlanOptions {
                filters: vec![name.clone()],
                exact: true,
                ..at("http://127.0.0.1:9")
            },
            |_| None,
        )
        .await
        .unwrap();
        assert_eq!(one.cases, [5]);
        assert!(one.runs(5) && !one.runs(4));
    }

    #[tokio::test]
    async fn aws_needs_confirmation_never_takes_a_baseline_and_is_judged_on_order() {
        let suite = suite();
        let aws = "https://sts.amazonaws.com";
        let e = Plan::new(&suite, at(aws), |_| None).await.err().unwrap();
        assert!(matches!(e, PlanError::AwsNotConfirmed(_)), "{e}");
        let e = Plan::new(
            &suite,
            PlanOptions {
                uses_baseline: true,
                allow_aws: true,
                ..at(aws)
            },
            |_| None,
        )
        .await
        .err()
        .unwrap();
        assert!(matches!(e, PlanError::BaselineOnAws), "{e}");
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIAPLANTEST".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
            _ => None,
        };
        let p = Plan::new(
            &suite,
            PlanOptions {
                allow_aws: true,
                ..at(aws)
            },
            env,
        )
        .await
        .unwrap();
        assert!(p.on_aws && p.not_judged.is_empty());
        assert_eq!(p.target.credentials.access_key_id, "AKIAPLANTEST");
        assert_eq!(
            p.target.service_endpoints["iam"],
            crate::target::AWS_IAM_ENDPOINT
        );
    }

    #[tokio::test]
    async fn snapshots_stay_on_disk_unless_the_built_in_replay_answers_from_them() {
        let layout = Layout::at(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
        let name = "sts::AssumeRole::assume_role_inline_policy".to_owned();
        let filters = [name.clone()];
        let against = Suite::load_selected(&layout, Plan::selection(&filters, true, true)).unwrap();
        let [case] = against.cases.as_slice() else {
            panic!("one case selected, not {}", against.cases.len())
        };
        assert_eq!(case.test_name(), name);
        // Against an endpoint the snapshot is read when the case is judged, not before.
        assert!(against.snapshots.expected(case).is_none());
        let judged = against.snapshots.read_expected(case).unwrap().unwrap();
        // The built-in replay server answers from the snapshots, so they are read at load.
        let replayed =
            Suite::load_selected(&layout, Plan::selection(&filters, true, false)).unwrap();
        assert_eq!(
            replayed.snapshots.expected(&replayed.cases[0]),
            Some(judged.as_ref())
        );
        let plan = Plan::new(
            &replayed,
            PlanOptions {
                filters: filters.to_vec(),
                exact: true,
                ..PlanOptions::default()
            },
            |_| None,
        )
        .await
        .unwrap();
        assert!(plan.built_in.is_some());
        assert_eq!(plan.cases, [0]);
    }

    #[tokio::test]
    async fn a_bad_variable_is_refused_before_any_request() {
        let suite = suite();
        let e = Plan::new(
            &suite,
            PlanOptions {
                vars: vec!["no-equals".into()],
                ..at("http://127.0.0.1:9")
            },
            |_| None,
        )
        .await
        .err()
        .unwrap();
        assert!(e.to_string().contains("no-equals"), "{e}");
    }
}
