//! Two roles, each with its own bearer tokens: the gateway may only decide logins, the
//! admin everything else. Tokens are compared as SHA-256 digests in constant time, so
//! neither a token's content nor its length leaks through timing.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::ServiceError;

/// Who may call which route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The identity gateway: `POST /v1/login` only.
    Gateway,
    /// An administrator: events, policies, the inbox, users, decisions, preview, shadow.
    Admin,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Gateway => "gateway",
            Role::Admin => "admin",
        }
    }
}

/// The configured tokens of both roles.
#[derive(Clone, Default)]
pub struct Tokens {
    gateway: Vec<[u8; 32]>,
    admin: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens {{ gateway: {}, admin: {} }}", self.gateway.len(), self.admin.len())
    }
}

/// Who made a request, as the decision log records it: a token's fingerprint (never the
/// token), or `open` when the role has no token (loopback only).
#[derive(Debug, Clone)]
pub(crate) struct Actor(pub(crate) String);

impl Tokens {
    /// Tokens from their texts (one or more per role); blank ones are ignored.
    pub fn new<G: AsRef<str>, A: AsRef<str>>(gateway: &[G], admin: &[A]) -> Result<Tokens, ServiceError> {
        let digests = |tokens: &[&str]| -> Result<Vec<[u8; 32]>, ServiceError> {
            tokens
                .iter()
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .map(|t| {
                    if t.len() < 16 {
                        return Err(ServiceError::Start("a token must have at least 16 characters".into()));
                    }
                    Ok(Sha256::digest(t.as_bytes()).into())
                })
                .collect()
        };
        let g: Vec<&str> = gateway.iter().map(AsRef::as_ref).collect();
        let a: Vec<&str> = admin.iter().map(AsRef::as_ref).collect();
        let tokens = Tokens { gateway: digests(&g)?, admin: digests(&a)? };
        if tokens.gateway.iter().any(|t| tokens.admin.iter().any(|a| bool::from(a.ct_eq(t)))) {
            return Err(ServiceError::Start("a token cannot be both the gateway's and an admin's".into()));
        }
        Ok(tokens)
    }

    /// Whether both roles have tokens: what listening beyond loopback requires.
    pub fn both_set(&self) -> bool {
        !self.gateway.is_empty() && !self.admin.is_empty()
    }

    fn of(&self, role: Role) -> &[[u8; 32]] {
        match role {
            Role::Gateway => &self.gateway,
            Role::Admin => &self.admin,
        }
    }

    /// Checks `header` (the `Authorization` value) for a route of `role`.
    pub(crate) fn check(&self, role: Role, header: Option<&str>, route: &str) -> Result<Actor, ServiceError> {
        if self.of(role).is_empty() {
            return Ok(Actor("open".into()));
        }
        let token = header.and_then(|h| h.strip_prefix("Bearer ")).ok_or(ServiceError::Unauthorized)?;
        let digest: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        // Every configured token is compared, whichever matches.
        let matches = |set: &[[u8; 32]]| set.iter().fold(0u8, |m, t| m | t.ct_eq(&digest).unwrap_u8()) == 1;
        if matches(self.of(role)) {
            return Ok(Actor(fingerprint(&digest)));
        }
        let other = match role {
            Role::Gateway => Role::Admin,
            Role::Admin => Role::Gateway,
        };
        if matches(self.of(other)) {
            return Err(ServiceError::Forbidden { role: other.as_str(), route: route.to_string() });
        }
        Err(ServiceError::Unauthorized)
    }
}

/// The first 12 hex digits of a token's SHA-256: enough to tell an organisation's admins
/// apart in the log, useless for logging in.
fn fingerprint(digest: &[u8; 32]) -> String {
    let mut s = String::from("token:");
    for b in digest.iter().take(6) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The middleware in front of every route of `role`.
pub(crate) async fn require(
    State((tokens, role)): State<(std::sync::Arc<Tokens>, Role)>,
    mut request: Request,
    next: Next,
) -> Result<Response, ServiceError> {
    let header = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let actor = tokens.check(role, header, request.uri().path())?;
    request.extensions_mut().insert(actor);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const G: &str = "gateway-token-0123456789";
    const A: &str = "admin-token-0123456789";

    #[test]
    fn each_role_takes_only_its_own_tokens() {
        let t = Tokens::new(&[G], &[A, "second-admin-token-xyz"]).unwrap();
        assert!(t.check(Role::Gateway, Some(&format!("Bearer {G}")), "/v1/login").is_ok());
        let a1 = t.check(Role::Admin, Some(&format!("Bearer {A}")), "/v1/pending").unwrap();
        let a2 = t.check(Role::Admin, Some("Bearer second-admin-token-xyz"), "/v1/pending").unwrap();
        assert_ne!(a1.0, a2.0, "two admins are told apart");
        assert!(!a1.0.contains(A));
        let forbidden = t.check(Role::Admin, Some(&format!("Bearer {G}")), "/v1/pending").unwrap_err();
        assert_eq!(forbidden.code(), "service.forbidden");
        let forbidden = t.check(Role::Gateway, Some(&format!("Bearer {A}")), "/v1/login").unwrap_err();
        assert_eq!(forbidden.code(), "service.forbidden");
        for header in [None, Some("Bearer nope-nope-nope-nope"), Some(G), Some("Basic abc")] {
            let e = t.check(Role::Gateway, header, "/v1/login").unwrap_err();
            assert_eq!(e.code(), "service.unauthorized", "{header:?}");
        }
    }

    #[test]
    fn short_or_shared_tokens_are_refused() {
        assert!(Tokens::new(&["short"], &[A]).is_err());
        assert!(Tokens::new(&[A], &[A]).is_err());
        assert!(!Tokens::new(&[G], &[""]).unwrap().both_set());
    }

    #[test]
    fn a_role_without_tokens_is_open() {
        let t = Tokens::new(&[G], &[] as &[&str]).unwrap();
        assert_eq!(t.check(Role::Admin, None, "/v1/pending").unwrap().0, "open");
        assert!(t.check(Role::Gateway, None, "/v1/login").is_err());
    }
}
