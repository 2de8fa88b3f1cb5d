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

/// The shortest token accepted.
const MIN_TOKEN_CHARS: usize = 16;

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
    /// Tokens from their texts (one or more per role). A token is trimmed and must then
    /// have at least 16 characters: a blank one is refused, never read as "no token".
    pub fn new<G: AsRef<str>, A: AsRef<str>>(gateway: &[G], admin: &[A]) -> Result<Tokens, ServiceError> {
        let digests = |role: Role, tokens: Vec<&str>| -> Result<Vec<[u8; 32]>, ServiceError> {
            tokens
                .into_iter()
                .map(|t| {
                    let t = t.trim();
                    if t.chars().count() < MIN_TOKEN_CHARS {
                        return Err(ServiceError::Start(format!(
                            "a {} token has {} characters after trimming: at least {MIN_TOKEN_CHARS} are needed",
                            role.as_str(),
                            t.chars().count()
                        )));
                    }
                    Ok(Sha256::digest(t.as_bytes()).into())
                })
                .collect()
        };
        let tokens = Tokens {
            gateway: digests(Role::Gateway, gateway.iter().map(AsRef::as_ref).collect())?,
            admin: digests(Role::Admin, admin.iter().map(AsRef::as_ref).collect())?,
        };
        if tokens.gateway.iter().any(|t| tokens.admin.iter().any(|a| bool::from(a.ct_eq(t)))) {
            return Err(ServiceError::Start("a token cannot be both the gateway's and an admin's".into()));
        }
        Ok(tokens)
    }

    /// Whether the gateway's role has no token.
    pub fn gateway_open(&self) -> bool {
        self.gateway.is_empty()
    }

    /// Whether the admins' role has no token.
    pub fn admin_open(&self) -> bool {
        self.admin.is_empty()
    }

    /// Whether a role has no token, so that it is open to every caller on loopback.
    pub fn any_open(&self) -> bool {
        self.gateway.is_empty() || self.admin.is_empty()
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
        let token = header.and_then(bearer).ok_or(ServiceError::Unauthorized)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
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

/// One role's tokens as an operator gives them: the environment variable `var` (its
/// value, if set) and a file of tokens, one per line.
///
/// A variable that is set but blank is refused (it would leave the role open, silently).
/// In the file, empty lines and lines starting with `#` are skipped; a line of only
/// spaces or tabs is refused, as is a file without a token.
pub fn role_tokens(
    var: &str,
    value: Option<std::ffi::OsString>,
    file: Option<&std::path::Path>,
) -> Result<Vec<String>, ServiceError> {
    let mut tokens = Vec::new();
    if let Some(value) = value {
        let value = value.into_string().map_err(|_| ServiceError::Start(format!("`{var}` is not text")))?;
        if value.trim().is_empty() {
            return Err(ServiceError::Start(format!(
                "`{var}` is set but blank: unset it to leave the role open (loopback only), \
                 or set a token of at least {MIN_TOKEN_CHARS} characters"
            )));
        }
        tokens.push(value);
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServiceError::Start(format!("cannot read `{}`: {e}", path.display())))?;
        let before = tokens.len();
        tokens.extend(token_lines(&text).map_err(|line| {
            ServiceError::Start(format!(
                "`{}` line {line} holds only spaces: delete it, or put the token there",
                path.display()
            ))
        })?);
        if tokens.len() == before {
            return Err(ServiceError::Start(format!("`{}` holds no token", path.display())));
        }
    }
    Ok(tokens)
}

/// The tokens of a token file's text, or the number of its first blank line.
fn token_lines(text: &str) -> Result<Vec<String>, usize> {
    let mut tokens = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            return Err(i + 1);
        }
        tokens.push(line.trim().to_string());
    }
    Ok(tokens)
}

/// The token of a `Bearer` credential. The scheme is case-insensitive (RFC 9110,
/// section 11.1); the token is what follows the spaces after it.
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim_matches(' ');
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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
    let mut headers = request.headers().get_all(AUTHORIZATION).iter();
    let header = headers.next().map(|v| v.to_str().map_err(|_| ServiceError::Unauthorized)).transpose()?;
    // Which one would count is a guess a proxy and the service might make differently.
    if headers.next().is_some() {
        return Err(ServiceError::bad("", "more than one `Authorization` header"));
    }
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
        assert!(Tokens::new(&[G], &[format!("  {A}  ")]).unwrap().both_set(), "trimmed");
    }

    /// Issue 28, 4: an empty or blank `MDM_ADMIN_TOKEN` opened every admin route.
    #[test]
    fn a_blank_token_is_refused_not_read_as_none() {
        for blank in ["", "   ", "\t"] {
            let e = Tokens::new(&[G], &[blank]).unwrap_err();
            assert_eq!(e.code(), "service.start");
            assert!(e.to_string().contains("admin token"), "{e}");
        }
    }

    /// Issue 28, 11: every line of 16 characters or more was a token, a `# comment` too.
    #[test]
    fn token_files_skip_comments_and_refuse_blank_lines() {
        let text = "# the admins, one per line\n\nadmin-token-0123456789\r\n  # another comment line\nsecond-admin-token-xyz\n";
        assert_eq!(token_lines(text).unwrap(), ["admin-token-0123456789", "second-admin-token-xyz"]);
        assert_eq!(token_lines("admin-token-0123456789\n   \nx\n"), Err(2));
        assert_eq!(token_lines("\t\n"), Err(1));
    }

    /// Issue 28, 4: `MDM_ADMIN_TOKEN=` (set, empty) left the admin role open.
    #[test]
    fn a_blank_variable_is_refused() {
        for blank in ["", " ", "\n"] {
            let e = role_tokens("MDM_ADMIN_TOKEN", Some(blank.into()), None).unwrap_err();
            assert!(e.to_string().contains("`MDM_ADMIN_TOKEN` is set but blank"), "{e}");
        }
        assert_eq!(role_tokens("MDM_ADMIN_TOKEN", None, None).unwrap(), Vec::<String>::new());
        assert_eq!(role_tokens("MDM_ADMIN_TOKEN", Some(A.into()), None).unwrap(), [A]);
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER  abc "), Some("abc"));
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Basic abc"), None);
    }

    #[test]
    fn a_role_without_tokens_is_open() {
        let t = Tokens::new(&[G], &[] as &[&str]).unwrap();
        assert_eq!(t.check(Role::Admin, None, "/v1/pending").unwrap().0, "open");
        assert!(t.check(Role::Gateway, None, "/v1/login").is_err());
    }
}
