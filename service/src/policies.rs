//! The policies a replica decides with: loaded at start (from `--policy` or the
//! database) and kept in step with the versions other replicas store.

use std::sync::atomic::Ordering;

use mdm_host::{Gateway, Runtime};

use crate::error::chain;
use crate::store::{PolicyRow, Store};
use crate::{App, ServiceError};

fn start(what: &str, e: &(dyn std::error::Error + 'static)) -> ServiceError {
    ServiceError::Start(format!("{what}: {}", chain(e)))
}

/// The gateway at start: `document` if given (stored when new), else the stored one;
/// and the shadow policy, if one is stored. Returns the newest stored version too.
pub(crate) async fn load(
    runtime: &Runtime,
    store: &Store,
    document: Option<&str>,
    now_ms: i64,
) -> Result<(Gateway, i64), ServiceError> {
    let stored = store.policy("live").await.map_err(|e| start("reading the stored policy", &e))?;
    let gateway = match (document, stored) {
        (Some(doc), stored) => {
            let gateway = runtime.gateway(doc).map_err(|e| start("the policy", &e))?;
            let digest = gateway.policy_digest();
            if stored.as_ref().and_then(|p| p.digest.as_deref()) != Some(&*digest) {
                store
                    .put_policy("live", Some(doc), Some(&digest), now_ms, "startup")
                    .await
                    .map_err(|e| start("storing the policy", &e))?;
                tracing::info!(digest = &*digest, "stored the policy given at start as a new version");
            }
            gateway
        }
        (None, Some(PolicyRow { document: Some(doc), .. })) => {
            runtime.gateway(&doc).map_err(|e| start("the stored policy", &e))?
        }
        (None, _) => {
            return Err(ServiceError::Start("the database holds no policy: give one with `--policy`".into()));
        }
    };
    let shadow = store.policy("shadow").await.map_err(|e| start("reading the stored shadow policy", &e))?;
    if let Some(doc) = shadow.and_then(|p| p.document) {
        gateway.set_shadow(Some(&doc)).map_err(|e| start("the stored shadow policy", &e))?;
    }
    let version = store.policy_version().await.map_err(|e| start("reading the policy versions", &e))?;
    Ok((gateway, version))
}

/// Applies the latest stored live and shadow policies when they differ from this
/// replica's.
pub(crate) async fn sync(app: &App) -> Result<(), ServiceError> {
    let version = app.store.policy_version().await?;
    let live = app.store.policy("live").await?.and_then(|p| p.document.zip(p.digest));
    if let Some((doc, digest)) = live.filter(|(_, d)| *app.gateway.policy_digest() != **d) {
        app.gateway.set_policy(&doc)?;
        tracing::info!(digest, "applied a policy another replica stored");
    }
    let shadow = app.store.policy("shadow").await?.and_then(|p| p.document.zip(p.digest));
    let current = app.gateway.shadow_digest();
    match (shadow, current) {
        (Some((doc, digest)), current) if current.as_deref() != Some(digest.as_str()) => {
            app.gateway.set_shadow(Some(&doc))?;
            tracing::info!(digest, "applied a shadow policy another replica stored");
        }
        (None, Some(_)) => {
            app.gateway.set_shadow(None)?;
            tracing::info!("removed the shadow policy, as another replica did");
        }
        _ => {}
    }
    app.applied.fetch_max(version, Ordering::AcqRel);
    Ok(())
}
