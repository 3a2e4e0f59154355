//! One-off calls outside any case, with the target's own keys and variables and no
//! redaction: who the credentials are (record mode asks before anything else), and the
//! listings and deletions of `conform cleanup`.

use crate::runner::{Runner, StepError};
use crate::scenario::{CredentialsSpec, ParamValue, Request, Role, Step};
use crate::xml::{Element, ElementPath};

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    NotAnswered(#[from] StepError),
    #[error(
        "{operation} answered {answer} without `{element}`: check the credentials the target uses and its endpoint"
    )]
    Missing {
        operation: String,
        /// `HTTP 403 InvalidClientTokenId`.
        answer: String,
        element: String,
    },
    #[error(
        "no service's models/<service>.replay.yaml names the call that tells a caller who it is (`sessions: identity:`)"
    )]
    NoIdentityCall,
}

/// Who the credentials are, and the target variables that name them (from the service's
/// `sessions: caller:` data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
    /// Variable names: (arn, id, account).
    pub variables: (String, String, String),
}

impl CallerIdentity {
    /// The target variables naming the caller, set to who the credentials are.
    pub fn vars(&self) -> [(String, String); 3] {
        let (arn, id, account) = &self.variables;
        [
            (account.clone(), self.account.clone()),
            (arn.clone(), self.arn.clone()),
            (id.clone(), self.user_id.clone()),
        ]
    }
}

/// One modelled call: the answer's status and its parsed document (none when it is no XML).
pub async fn call(
    runner: &Runner,
    service: &str,
    operation: &str,
    params: Vec<(String, ParamValue)>,
) -> Result<(u16, Option<Element>), CallError> {
    let step = Step {
        service: service.into(),
        name: None,
        role: Role::Check,
        request: Request::Call {
            operation: operation.into(),
            params,
        },
        credentials: CredentialsSpec::Target,
        captures: Vec::new(),
        line: 0,
        col: 0,
    };
    let answer = runner.one_off(&step).await?;
    Ok((answer.status, answer.document))
}

/// Who the target's credentials are, asked with the identity call a service's replay data
/// names (STS's GetCallerIdentity).
pub async fn caller_identity(runner: &Runner) -> Result<CallerIdentity, CallError> {
    let (service, sessions, identity) = runner
        .suite()
        .stand_ins
        .iter()
        .find_map(|(service, s)| {
            let sessions = s.sessions.as_ref()?;
            Some((service.clone(), sessions, sessions.identity.as_ref()?))
        })
        .ok_or(CallError::NoIdentityCall)?;
    let operation = identity.operation.as_str();
    let (status, doc) = call(runner, &service, operation, Vec::new()).await?;
    let get = |element: &str| {
        let found = ElementPath::parse(&format!("//{element}"))
            .ok()
            .zip(doc.as_ref())
            .and_then(|(path, doc)| path.select(doc));
        found.ok_or_else(|| {
            let code = doc
                .as_ref()
                .and_then(|d| ElementPath::parse("//Code").ok()?.select(d));
            CallError::Missing {
                operation: operation.into(),
                answer: match code {
                    Some(c) => format!("HTTP {status} {c}"),
                    None => format!("HTTP {status}"),
                },
                element: element.into(),
            }
        })
    };
    let caller = &sessions.caller;
    Ok(CallerIdentity {
        arn: get(&identity.arn)?,
        account: get(&identity.account)?,
        user_id: get(&identity.id)?,
        variables: (
            caller.arn.clone(),
            caller.id.clone(),
            caller.account.clone(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wiremock::matchers::body_string_contains;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::suite::{Layout, Suite};
    use crate::target::Target;

    async fn runner_answering(status: u16, body: &str) -> (MockServer, Runner) {
        let server = MockServer::start().await;
        Mock::given(body_string_contains("Action=GetCallerIdentity&"))
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
        let layout = Layout {
            models: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models"),
            ..Layout::at(dir.path())
        };
        let suite = Arc::new(Suite::load(&layout).unwrap());
        let target = Target::at_endpoint(&server.uri(), "us-east-1", |_| None).unwrap();
        let runner = Runner::new(suite, target, crate::secrets::Secrets::new()).unwrap();
        (server, runner)
    }

    #[tokio::test]
    async fn the_caller_is_read_from_the_answer() {
        let (_server, runner) = runner_answering(
            200,
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/me</Arn><UserId>AIDA1</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
        )
        .await;
        let me = caller_identity(&runner).await.unwrap();
        assert_eq!(
            me,
            CallerIdentity {
                arn: "arn:aws:iam::123456789012:user/me".into(),
                account: "123456789012".into(),
                user_id: "AIDA1".into(),
                // The variables naming the caller, as models/sts.replay.yaml says.
                variables: (
                    "caller_arn".into(),
                    "caller_user_id".into(),
                    "account_id".into()
                ),
            }
        );
        assert_eq!(
            me.vars()[0],
            ("account_id".to_owned(), "123456789012".to_owned())
        );
    }

    #[tokio::test]
    async fn a_refusal_says_what_came_back_and_what_to_check() {
        let (_server, runner) = runner_answering(
            403,
            "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>",
        )
        .await;
        let e = caller_identity(&runner).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "GetCallerIdentity answered HTTP 403 InvalidClientTokenId without `Arn`: check the credentials the target uses and its endpoint"
        );
    }
}
