//! The targets file (`conform.toml`): each named target's endpoint, region, credentials,
//! variables and baseline, and for a local emulator how to install, start and stop it and
//! how to tell it is ready, so `conform run --target moto` needs no flags to remember.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, toml_error, toml_value_span};

#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A mistake in the file (its syntax, or a value no target can use), at its line and
    /// column.
    #[error("{}", .0.render_inline())]
    Invalid(Box<Diagnostic>),
    #[error("{path}: no target named `{name}`; the file names: {known}")]
    Unknown {
        path: PathBuf,
        name: String,
        known: String,
    },
}

/// Where a target's keys come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum CredentialSource {
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the example keys
    /// (what a run without a targets file does).
    #[default]
    Env,
    /// AWS's documented example keys, whatever the environment holds: for emulators, so a
    /// developer's real keys never travel to them.
    Example,
    /// The standard AWS chain (profiles, SSO, instance metadata), for AWS itself.
    Chain,
    /// Keys written in the file: only for emulators that want particular ones. (`Credentials`
    /// keeps the secret out of Debug output.)
    Keys(crate::sign::Credentials),
}

impl CredentialSource {
    /// The keys the target asks for; None keeps what `Target::at_endpoint` took from the
    /// environment.
    pub fn resolve(
        &self,
        region: &str,
    ) -> Result<Option<crate::sign::Credentials>, crate::credentials::ChainError> {
        Ok(match self {
            CredentialSource::Env => None,
            CredentialSource::Example => Some(crate::target::example_credentials()),
            CredentialSource::Chain => Some(crate::credentials::chain(None, Some(region))?.0),
            CredentialSource::Keys(keys) => Some(keys.clone()),
        })
    }
}

impl<'de> Deserialize<'de> for CredentialSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Keys(BTreeMap<String, String>),
        }
        const HELP: &str = "write \"env\", \"example\", \"chain\" or { access_key_id = \"...\", secret_access_key = \"...\" }";
        let raw = Raw::deserialize(d)
            .map_err(|_| serde::de::Error::custom(format!("credentials: {HELP}")))?;
        match raw {
            Raw::Word(w) => match w.as_str() {
                "env" => Ok(Self::Env),
                "example" => Ok(Self::Example),
                "chain" => Ok(Self::Chain),
                other => Err(serde::de::Error::custom(format!(
                    "credentials: `{other}` is no credential source; {HELP}"
                ))),
            },
            Raw::Keys(mut m) => {
                let mut take = |k: &str| m.remove(k);
                let (Some(access_key_id), Some(secret_access_key)) =
                    (take("access_key_id"), take("secret_access_key"))
                else {
                    return Err(serde::de::Error::custom(format!(
                        "credentials: both access_key_id and secret_access_key are needed; {HELP}"
                    )));
                };
                let session_token = take("session_token");
                if let Some(k) = m.keys().next() {
                    return Err(serde::de::Error::custom(format!(
                        "credentials: unknown key `{k}` (access_key_id, secret_access_key, session_token)"
                    )));
                }
                Ok(Self::Keys(crate::sign::Credentials {
                    access_key_id,
                    secret_access_key,
                    session_token,
                }))
            }
        }
    }
}

/// How to bring up a local emulator: conform picks a free loopback port and puts it where
/// the recipe says `{port}`; `{state}` is a fresh directory the emulator may write in.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Launch {
    /// Run first, from the file's directory (an idempotent install script).
    #[serde(default)]
    pub install: Vec<String>,
    /// The server itself; a relative program path is relative to the file's directory.
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Polled with GET until it answers 2xx.
    #[serde(default = "Launch::default_ready")]
    pub ready: String,
    /// Seconds to wait for readiness.
    #[serde(default = "Launch::default_ready_timeout")]
    pub ready_timeout: u64,
    /// Seconds between SIGTERM and SIGKILL when stopping.
    #[serde(default = "Launch::default_stop_timeout")]
    pub stop_timeout: u64,
    /// A command printing the emulator's version (for reports and the parity matrix).
    #[serde(default)]
    pub version: Vec<String>,
}

impl Launch {
    fn default_ready() -> String {
        "/".into()
    }
    fn default_ready_timeout() -> u64 {
        30
    }
    fn default_stop_timeout() -> u64 {
        3
    }

    fn check(&self) -> Result<(), Refusal> {
        let refuse = |key: &str, message: String, help: &str| {
            Err(Refusal::at(&["start", key], message, help))
        };
        if self.command.is_empty() {
            return refuse(
                "command",
                "start.command is empty".into(),
                "name the program that serves",
            );
        }
        let mentions_port = self
            .command
            .iter()
            .chain(self.env.values())
            .any(|a| a.contains("{port}"));
        if !mentions_port {
            return refuse(
                "command",
                "start names no `{port}` in command or env".into(),
                "conform picks the port and must tell the emulator: put `{port}` in an argument or a variable",
            );
        }
        if !self.ready.starts_with('/') {
            return refuse(
                "ready",
                format!("start.ready `{}` is no path", self.ready),
                "write one that starts with / (\"/\", \"/_localstack/health\")",
            );
        }
        Ok(())
    }
}

/// A value the file's syntax allows but the target cannot use: where it is written (keys
/// below the target's table, an index into an array as its number) and what to do.
struct Refusal {
    keys: Vec<String>,
    message: String,
    help: String,
}

impl Refusal {
    fn at(keys: &[&str], message: String, help: &str) -> Refusal {
        Refusal {
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            message,
            help: help.to_owned(),
        }
    }
}

/// One target as the file describes it. No endpoint means the built-in replay server.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Relative to the file's directory.
    pub baseline: Option<PathBuf>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default)]
    pub credentials: CredentialSource,
    /// Where other services' requests go (`iam` on AWS lives at its own host); a service not
    /// named goes to `endpoint`.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// How conform starts it (`conform run --target NAME`, unless `--endpoint` names one
    /// running); without it the target must already be running at `endpoint`.
    pub start: Option<Launch>,
    /// Deviations the target is not judged on (a kind, paths, cases), each with its reason:
    /// reports show them as not judged, the gate and the grades leave them out.
    #[serde(default)]
    pub not_judged: Vec<crate::deviation::NotJudged>,
    /// Answers longer than this many bytes fail their case (default
    /// `transport::DEFAULT_MAX_ANSWER_BYTES`); `--max-answer-bytes` wins.
    pub max_answer_bytes: Option<u64>,
}

impl TargetSpec {
    /// What no target can use, first found first.
    fn check(&self) -> Result<(), Refusal> {
        let on_aws = self.endpoint.as_deref().is_some_and(crate::target::is_aws);
        if on_aws && self.baseline.is_some() {
            return Err(Refusal::at(
                &["baseline"],
                "an AWS target names a baseline, but a run against AWS never uses one".into(),
                "remove `baseline`",
            ));
        }
        if on_aws && matches!(self.credentials, CredentialSource::Keys(_)) {
            return Err(Refusal::at(
                &["credentials"],
                "an AWS target writes its keys in the file".into(),
                "use credentials = \"env\" or \"chain\" so no real key is committed",
            ));
        }
        for (service, url) in &self.endpoints {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Refusal::at(
                    &["endpoints", service],
                    format!("endpoints.{service} `{url}` is no http(s) URL"),
                    "write https://host or http://host:port",
                ));
            }
        }
        for (i, rule) in self.not_judged.iter().enumerate() {
            rule.check().map_err(|message| {
                Refusal::at(
                    &["not_judged", &i.to_string()],
                    format!("not_judged[{i}]: {message}"),
                    "a not-judged rule has a `reason` and one or more of `kind`, `path` and `case`",
                )
            })?;
        }
        if self.max_answer_bytes == Some(0) {
            return Err(Refusal::at(
                &["max_answer_bytes"],
                "max_answer_bytes = 0 would refuse every answer".into(),
                "write a number of bytes, or leave it out for the default (4 MiB)",
            ));
        }
        match &self.start {
            Some(launch) => launch.check(),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    targets: BTreeMap<String, TargetSpec>,
}

#[derive(Debug)]
pub struct Targets {
    path: PathBuf,
    targets: BTreeMap<String, TargetSpec>,
}

impl Targets {
    pub fn load(path: &Path) -> Result<Self, TargetsError> {
        let text = std::fs::read_to_string(path).map_err(|source| TargetsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, TargetsError> {
        let source: Arc<str> = Arc::from(text);
        let file: File = toml::from_str(text).map_err(|e| {
            let d = toml_error(path, source.clone(), &e).with_help(
                "each target is a table [targets.NAME] of endpoint, region, credentials, vars, baseline, endpoints, start, not_judged and max_answer_bytes (README.md, \"Targets\")",
            );
            TargetsError::Invalid(Box::new(d))
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let mut targets = file.targets;
        for (name, spec) in &mut targets {
            spec.check().map_err(|r| {
                let keys: Vec<&str> = ["targets", name.as_str()]
                    .into_iter()
                    .chain(r.keys.iter().map(String::as_str))
                    .collect();
                let span = toml_value_span(text, &keys);
                let message = format!("target `{name}`: {}", r.message);
                let d = Diagnostic::new(path, source.clone(), span, message).with_help(r.help);
                TargetsError::Invalid(Box::new(d))
            })?;
            if let Some(b) = &spec.baseline {
                spec.baseline = Some(dir.join(b));
            }
        }
        Ok(Self {
            path: path.to_owned(),
            targets,
        })
    }

    /// The directory relative paths in the file are relative to.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    pub fn get(&self, name: &str) -> Result<&TargetSpec, TargetsError> {
        self.targets.get(name).ok_or_else(|| TargetsError::Unknown {
            path: self.path.clone(),
            name: name.to_owned(),
            known: self.targets.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.targets.keys().map(String::as_str)
    }

    /// The baseline files the targets name, each once.
    pub fn baselines(&self) -> std::collections::BTreeSet<PathBuf> {
        self.names()
            .filter_map(|n| self.get(n).ok()?.baseline.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[targets.replay]

[targets.moto]
endpoint = "http://127.0.0.1:5000"
baseline = "baselines/moto.toml"
vars = { caller_arn = "arn:aws:sts::123456789012:user/moto" }
"#;

    /// What a broken `conform.toml` says, as the binary prints it.
    fn refused(text: &str) -> String {
        let e = Targets::parse(Path::new("conform.toml"), text).unwrap_err();
        e.to_string()
    }

    #[test]
    fn not_judged_rules_are_read_and_checked() {
        let ok = "[targets.emu]\nendpoint = \"http://127.0.0.1:1\"\nnot_judged = [{ kind = \"element-order\", path = \"*Response/*Result\", reason = \"order not recorded\" }]\n";
        let t = Targets::parse(Path::new("c.toml"), ok).unwrap();
        let rule = &t.get("emu").unwrap().not_judged[0];
        assert_eq!(rule.kind, Some(crate::deviation::Kind::ElementOrder));
        let err = |text: &str| {
            Targets::parse(Path::new("c.toml"), text)
                .unwrap_err()
                .to_string()
        };
        let e = err(&ok.replace("element-order", "colour"));
        assert!(e.starts_with("c.toml:3:"), "{e}");
        assert!(e.contains("unknown variant `colour`"), "{e}");
        let e = err("[targets.emu]\nnot_judged = [{ reason = \"everything\" }]\n");
        assert!(
            e.contains("target `emu`: not_judged[0]: a not-judged rule names a kind"),
            "{e}"
        );
        let e = err("[targets.emu]\nnot_judged = [{ kind = \"status\" }]\n");
        assert!(e.contains("reason"), "{e}");
    }

    #[test]
    fn the_answer_limit_is_read_and_zero_is_refused() {
        let t = Targets::parse(
            Path::new("c.toml"),
            "[targets.big]\nmax_answer_bytes = 20000000\n[targets.plain]\n",
        )
        .unwrap();
        assert_eq!(t.get("big").unwrap().max_answer_bytes, Some(20_000_000));
        assert_eq!(t.get("plain").unwrap().max_answer_bytes, None);
        let e = Targets::parse(Path::new("c.toml"), "[targets.t]\nmax_answer_bytes = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("target `t`: max_answer_bytes = 0"), "{e}");
        let e = Targets::parse(
            Path::new("c.toml"),
            "[targets.t]\nmax_answer_bytes = \"4MB\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("c.toml:2:20: "), "{e}");
        assert!(e.contains("max_answer_bytes"), "{e}");
    }

    #[test]
    fn resolves_baselines_next_to_the_file() {
        let t = Targets::parse(Path::new("/repo/conform.toml"), FILE).unwrap();
        let moto = t.get("moto").unwrap();
        assert_eq!(
            moto.baseline.as_deref(),
            Some(Path::new("/repo/baselines/moto.toml"))
        );
        assert_eq!(
            moto.vars["caller_arn"],
            "arn:aws:sts::123456789012:user/moto"
        );
        assert_eq!(t.get("replay").unwrap().endpoint, None);
        assert_eq!(t.names().collect::<Vec<_>>(), ["moto", "replay"]);
    }

    #[test]
    fn an_unknown_target_lists_the_known_ones() {
        let t = Targets::parse(Path::new("conform.toml"), FILE).unwrap();
        let e = t.get("localstak").unwrap_err().to_string();
        assert!(e.contains("no target named `localstak`"), "{e}");
        assert!(e.contains("moto, replay"), "{e}");
    }

    #[test]
    fn a_typo_names_line_and_column() {
        let e = refused("[targets.moto]\nendpont = \"http://x\"\n");
        assert!(
            e.starts_with("conform.toml:2:1: unknown field `endpont`, expected one of"),
            "{e}"
        );
        // The line under the message, the caret under the key, and what to do.
        assert!(
            e.contains("2 │ endpont = \"http://x\"\n   · ───┬───\n   ·    ╰── here"),
            "{e}"
        );
        assert!(
            e.contains("help: each target is a table [targets.NAME]"),
            "{e}"
        );
    }

    #[test]
    fn aws_targets_refuse_a_baseline() {
        let e = refused(
            "[targets.aws]\nendpoint = \"https://sts.amazonaws.com\"\nbaseline = \"b.toml\"\n",
        );
        assert!(
            e.starts_with("conform.toml:3:12: target `aws`: an AWS target names a baseline"),
            "{e}"
        );
        assert!(
            e.contains("3 │ baseline = \"b.toml\"\n   ·            ────┬───"),
            "{e}"
        );
        assert!(e.contains("help: remove `baseline`"), "{e}");
    }

    #[test]
    fn credentials_are_a_word_or_keys() {
        let t = Targets::parse(
            Path::new("conform.toml"),
            "[targets.a]\ncredentials = \"example\"\n[targets.b]\ncredentials = { access_key_id = \"test\", secret_access_key = \"s3cr3t\" }\n[targets.c]\n",
        )
        .unwrap();
        assert_eq!(t.get("a").unwrap().credentials, CredentialSource::Example);
        let CredentialSource::Keys(k) = &t.get("b").unwrap().credentials else {
            panic!("not keys");
        };
        assert_eq!(k.access_key_id, "test");
        assert_eq!(t.get("c").unwrap().credentials, CredentialSource::Env);
        // The secret stays out of Debug output (logs, panics).
        assert!(!format!("{t:?}").contains("s3cr3t"));
    }

    #[test]
    fn bad_credentials_say_what_to_write() {
        for (text, want) in [
            ("credentials = \"envv\"", "`envv` is no credential source"),
            (
                "credentials = { access_key_id = \"x\" }",
                "both access_key_id and secret_access_key",
            ),
            (
                "credentials = { access_key_id = \"x\", secret_access_key = \"y\", region = \"z\" }",
                "unknown key `region`",
            ),
            ("credentials = 3", "write \"env\", \"example\", \"chain\""),
        ] {
            let e = refused(&format!("[targets.t]\n{text}\n"));
            assert!(e.contains(want), "{text}: {e}");
            assert!(e.starts_with("conform.toml:2:15: "), "{text}: {e}");
        }
        let e = refused(
            "[targets.aws]\nendpoint = \"https://sts.amazonaws.com\"\ncredentials = { access_key_id = \"AKIA\", secret_access_key = \"y\" }\n",
        );
        assert!(
            e.starts_with("conform.toml:3:15: target `aws`: an AWS target writes its keys"),
            "{e}"
        );
    }

    #[test]
    fn a_start_recipe_must_say_where_the_port_goes() {
        let ok = Targets::parse(
            Path::new("/repo/conform.toml"),
            "[targets.m.start]\ninstall = [\"bash\", \"i.sh\"]\ncommand = [\"srv\"]\nenv = { PORT = \"{port}\" }\n",
        )
        .unwrap();
        let start = ok.get("m").unwrap().start.clone().unwrap();
        assert_eq!(
            (
                start.ready.as_str(),
                start.ready_timeout,
                start.stop_timeout
            ),
            ("/", 30, 3)
        );
        assert_eq!(ok.dir(), Path::new("/repo"));
        for (text, want) in [
            ("command = []", "start.command is empty"),
            ("command = [\"srv\", \"-p\", \"5000\"]", "no `{port}`"),
            (
                "command = [\"srv\", \"{port}\"]\nready = \"health\"",
                "starts with /",
            ),
            (
                "command = [\"srv\", \"{port}\"]\nready_timout = 3",
                "ready_timout",
            ),
        ] {
            let e = refused(&format!("[targets.m.start]\n{text}\n"));
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn a_value_no_target_can_use_is_pointed_at_where_it_is_written() {
        let e = refused("[targets.s]\nendpoints = { sts = \"http://a\", iam = \"iam.local\" }\n");
        assert!(
            e.starts_with(
                "conform.toml:2:39: target `s`: endpoints.iam `iam.local` is no http(s) URL\n"
            ),
            "{e}"
        );
        assert!(
            e.contains("2 │ endpoints = { sts = \"http://a\", iam = \"iam.local\" }"),
            "{e}"
        );
        assert!(
            e.contains("help: write https://host or http://host:port"),
            "{e}"
        );
        let e = refused(
            "[targets.a]\n[targets.b]\nnot_judged = [\n  { kind = \"status\", reason = \"r\" },\n  { reason = \"all\" },\n]\n",
        );
        assert!(
            e.starts_with("conform.toml:5:3: target `b`: not_judged[1]: "),
            "{e}"
        );
        let e = refused("[targets.m.start]\ncommand = [\"srv\", \"{port}\"]\nready = \"health\"\n");
        assert!(
            e.starts_with("conform.toml:3:9: target `m`: start.ready `health` is no path"),
            "{e}"
        );
        assert!(
            e.contains("3 │ ready = \"health\"\n   ·         ────┬───"),
            "{e}"
        );
        let e = refused("[targets.m.start]\ncommand = []\n");
        assert!(
            e.starts_with("conform.toml:2:11: target `m`: start.command is empty"),
            "{e}"
        );
    }

    #[test]
    fn the_repository_file_loads() {
        let t = Targets::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("conform.toml")).unwrap();
        for name in ["replay", "moto", "localstack", "aws"] {
            t.get(name).unwrap();
        }
        assert!(t.get("moto").unwrap().start.is_some());
        assert!(t.get("localstack").unwrap().start.is_some());
        assert_eq!(t.get("aws").unwrap().credentials, CredentialSource::Chain);
        assert_eq!(
            t.get("aws").unwrap().endpoints["iam"],
            "https://iam.amazonaws.com"
        );
    }
}
