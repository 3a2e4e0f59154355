//! The standard AWS credential chain, for recording against AWS: environment variables,
//! shared config and credentials files (with a profile), SSO, web identity, container and
//! instance metadata, through `aws-config` (the `aws-credentials` feature; without it the
//! chain is an error that says to set the keys in the environment).

#[cfg(feature = "aws-credentials")]
use aws_config::BehaviorVersion;
#[cfg(feature = "aws-credentials")]
use aws_credential_types::provider::ProvideCredentials;

use crate::sign::Credentials;

#[derive(Debug, thiserror::Error)]
#[error("no AWS credentials found through the credential chain{}: {message}", profile.as_ref().map(|p| format!(" (profile `{p}`)")).unwrap_or_default())]
pub struct ChainError {
    pub profile: Option<String>,
    pub message: String,
}

/// Credentials and the region the chain resolves (the profile's region, unless `region`),
/// on a runtime of its own (the chain may call instance metadata or SSO).
pub fn chain(
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<(Credentials, Option<String>), ChainError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ChainError {
            profile: profile.map(str::to_owned),
            message: format!("cannot start a runtime: {e}"),
        })?;
    runtime.block_on(from_chain(profile, region))
}

#[cfg(not(feature = "aws-credentials"))]
async fn from_chain(
    profile: Option<&str>,
    _region: Option<&str>,
) -> Result<(Credentials, Option<String>), ChainError> {
    Err(ChainError {
        profile: profile.map(str::to_owned),
        message: "this conform was built without the aws-credentials feature: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
    })
}

#[cfg(feature = "aws-credentials")]
async fn from_chain(
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<(Credentials, Option<String>), ChainError> {
    let err = |message: String| ChainError {
        profile: profile.map(str::to_owned),
        message,
    };
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https);
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_owned()));
    }
    let conf = loader.load().await;
    let provider = conf
        .credentials_provider()
        .ok_or_else(|| err("no provider is configured".into()))?;
    let c = provider
        .provide_credentials()
        .await
        .map_err(|e| err(e.to_string()))?;
    Ok((
        Credentials {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: c.secret_access_key().to_owned(),
            session_token: c.session_token().map(str::to_owned),
        },
        conf.region().map(|r| r.to_string()),
    ))
}
