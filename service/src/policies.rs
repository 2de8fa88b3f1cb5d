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

/// A policy given at start, parsed into a gateway before the database is touched.
pub(crate) struct Given {
    document: String,
    gateway: Gateway,
}

/// Parses the policy given at start: an invalid one is refused before anything else.
pub(crate) fn compile(runtime: &Runtime, document: &str) -> Result<Given, ServiceError> {
    let gateway = runtime.gateway(document).map_err(|e| start("the policy given with `--policy`", &e))?;
    Ok(Given { document: document.to_string(), gateway })
}

/// The gateway at start, and the newest stored version.
///
/// The policy given at start is stored (as a version by `startup`) when the database holds
/// no live policy, or when `replace` says so; otherwise the stored one decides, since it
/// is what every replica follows and an admin's `PUT` is newer than any file. Then the
/// shadow policy, if one is stored.
pub(crate) async fn load(
    runtime: &Runtime,
    store: &Store,
    given: Option<Given>,
    replace: bool,
    now_ms: i64,
    source: &str,
) -> Result<(Gateway, i64), ServiceError> {
    let stored = store.policy("live").await.map_err(|e| start("reading the stored policy", &e))?;
    let gateway = match (given, stored) {
        (Some(given), stored) => {
            let digest = given.gateway.policy_digest();
            let stored_digest = stored.as_ref().and_then(|p| p.digest.clone());
            match (stored, stored_digest) {
                (Some(_), Some(d)) if d == *digest => given.gateway,
                (Some(p), _) if !replace => {
                    tracing::warn!(
                        stored_version = p.version,
                        stored_digest = p.digest.as_deref().unwrap_or_default(),
                        given_digest = &*digest,
                        "the database's live policy stays in force: the one given with `--policy` differs \
                         and is not stored (`--replace-policy` stores it)"
                    );
                    let doc = p.document.ok_or_else(|| {
                        ServiceError::Start("the stored live policy has no document".into())
                    })?;
                    runtime.gateway(&doc).map_err(|e| start("the stored policy", &e))?
                }
                (stored, _) => {
                    let id = crate::webhooks::event_id()?;
                    let changed = |v| {
                        crate::webhooks::policy_changed(id.clone(), source, v, &digest, "startup", now_ms)
                    };
                    let version = store
                        .put_policy(
                            "live",
                            Some(&given.document),
                            Some(&digest),
                            now_ms,
                            "startup",
                            Some(&changed),
                        )
                        .await
                        .map_err(|e| start("storing the policy", &e))?;
                    let why = if stored.is_some() { "replacing the stored one" } else { "the first one" };
                    tracing::info!(version, digest = &*digest, "stored the policy given at start: {why}");
                    given.gateway
                }
            }
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
/// replica's. The version counts as applied only once both are.
pub(crate) async fn sync(app: &App) -> Result<(), ServiceError> {
    let _changing = app.policy_changes.lock().await;
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

/// The digest a policy document is stored and reported under, as the host computes it.
pub(crate) fn digest(document: &str) -> String {
    use sha2::Digest as _;
    let mut out = String::from("sha256:");
    for b in sha2::Sha256::digest(document.as_bytes()) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_digest_is_the_hosts() {
        assert_eq!(
            super::digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
