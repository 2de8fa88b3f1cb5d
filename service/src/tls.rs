//! HTTPS for the service itself: rustls (with *ring*, as the webhooks' client) and the
//! certificate chain and private key of `--tls-cert` and `--tls-key`, in PEM.
//!
//! The files are read again on SIGHUP (a renewed certificate): each new handshake takes
//! the current pair from a resolver, so connections already open keep their session and
//! are never dropped. A pair that does not load (a file half-written, a key of another
//! certificate) is refused and the one in use stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Where the service's certificate chain and key are, in PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, the service's own certificate first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The TLS side of the listener: its acceptor, and the pair it can read again.
pub(crate) struct Tls {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    resolver: Arc<Current>,
    acceptor: tokio_rustls::TlsAcceptor,
}

/// The certificate and key every new handshake gets.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(PoisonError::into_inner).clone())
    }
}

/// The crypto both sides of the service use: *ring*'s defaults.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the pair; the error names the file and why.
fn load(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let shown = |p: &Path| p.display().to_string();
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("`{}`: {e}", shown(&files.cert)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("`{}`: {e}", shown(&files.cert)))?;
    if chain.is_empty() {
        return Err(format!("`{}` holds no PEM certificate", shown(&files.cert)));
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|e| format!("`{}`: {e}", shown(&files.key)))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        format!(
            "`{}` and `{}` do not make a certificate and its key: {e}",
            shown(&files.cert),
            shown(&files.key)
        )
    })
}

impl Tls {
    /// Reads the pair and makes the acceptor (HTTP/1.1 by ALPN).
    pub(crate) fn new(files: TlsFiles) -> Result<Tls, String> {
        let provider = provider();
        let resolver = Arc::new(Current(RwLock::new(Arc::new(load(&files, &provider)?))));
        let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        Ok(Tls { files, provider, resolver, acceptor })
    }

    /// Reads the files again; on success, every later handshake gets the new pair.
    pub(crate) fn reload(&self) -> Result<(), String> {
        let pair = load(&self.files, &self.provider)?;
        *self.resolver.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(pair);
        Ok(())
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        self.acceptor.clone()
    }
}
