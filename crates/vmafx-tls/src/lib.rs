//! TLS for vmafx's listeners — the controller's gRPC and HTTP, `vmafx up`, vmafx-mcp's
//! streamable HTTP — with rustls and the ring provider.
//!
//! Without `--tls-cert/--tls-key` the controller makes a private certificate authority and a
//! server certificate in `DATA_DIR/tls/` on first start and keeps them: clients on this
//! machine find `tls/ca.pem` there as they find the admin token, others are given it with
//! `--ca`. The certificate in use is read again when its files change, so a renewed one is
//! picked up without a restart. `--client-ca` asks clients for a certificate, and node calls
//! then need one that CA signed. `--insecure-plaintext` turns TLS off, loudly.

use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a client may take to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the certificate files are looked at for changes (at most, on handshakes).
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// A generated server certificate is issued again at start when it expires sooner than this.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 86_400);

/// The TLS flags of `vmafx-controller` and `vmafx up`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// Server certificate chain (PEM) [default: DATA_DIR/tls/server.pem, made on first start
    /// and signed by a private CA in DATA_DIR/tls/ca.pem]. Reloaded when the file changes.
    #[arg(long, env = "VMAFX_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "VMAFX_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Another host name or IP address clients use to reach this controller, added to the
    /// generated certificate (repeatable; localhost, the loopback addresses, the host name and
    /// the listen addresses are always in it).
    #[arg(long = "tls-name", env = "VMAFX_TLS_NAMES", value_name = "NAME", value_delimiter = ',')]
    pub tls_names: Vec<String>,
    /// Ask clients for a certificate and require one signed by this CA (PEM) on node calls
    /// (mutual TLS for nodes; vmafx-node --tls-cert/--tls-key).
    #[arg(long, env = "VMAFX_CLIENT_CA", value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Serve gRPC and HTTP without TLS: tokens and scores cross the network in the clear.
    /// Only for a trusted network or a TLS-terminating proxy in front.
    #[arg(long, env = "VMAFX_INSECURE_PLAINTEXT", conflicts_with_all = ["tls_cert", "client_ca"])]
    pub insecure_plaintext: bool,
}

/// Where a data directory keeps its generated TLS files.
pub fn tls_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
}

/// The controller's TLS, ready to accept connections.
#[derive(Clone)]
pub struct ServerTls {
    certs: Arc<ReloadingCert>,
    client_verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    /// The CA clients should trust, when this controller made it.
    pub generated_ca: Option<PathBuf>,
    /// Node calls need a client certificate (`--client-ca`).
    pub nodes_need_certificates: bool,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl ServerTls {
    /// The TLS this controller serves with: `None` with `--insecure-plaintext` (refused on an
    /// address other hosts can reach unless that flag says so; then a warning). Makes the
    /// private CA and server certificate on first start.
    pub fn prepare(data_dir: &Path, args: &TlsArgs, listen: &[SocketAddr]) -> anyhow::Result<Option<Self>> {
        if args.insecure_plaintext {
            if let Some(open) = listen.iter().find(|a| !a.ip().is_loopback()) {
                tracing::warn!(
                    address = %open,
                    "serving without TLS on an address other machines can reach (--insecure-plaintext): \
                     tokens and scores cross the network in the clear"
                );
            }
            return Ok(None);
        }
        let (cert, key, generated_ca) = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone(), None),
            _ => {
                let names = certificate_names(listen, &args.tls_names);
                let files = ensure_generated(&tls_dir(data_dir), &names)?;
                (files.cert, files.key, Some(files.ca))
            }
        };
        let certs = Arc::new(ReloadingCert::load(cert, key)?);
        let client_verifier = match &args.client_ca {
            None => None,
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for cert in read_certs(path).with_context(|| format!("--client-ca `{}`", path.display()))? {
                    roots.add(cert).with_context(|| {
                        format!("--client-ca `{}`: not a usable CA certificate", path.display())
                    })?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider())
                    .allow_unauthenticated()
                    .build()
                    .with_context(|| format!("--client-ca `{}`", path.display()))?;
                Some(verifier)
            }
        };
        Ok(Some(Self {
            certs,
            nodes_need_certificates: client_verifier.is_some(),
            client_verifier,
            generated_ca,
        }))
    }

    /// An acceptor offering `alpn` (`h2` for gRPC, `http/1.1` for the HTTP API).
    fn acceptor(&self, alpn: &[&[u8]]) -> anyhow::Result<TlsAcceptor> {
        let builder =
            ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
        let builder = match &self.client_verifier {
            Some(v) => builder.with_client_cert_verifier(v.clone()),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(self.certs.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Accepts TCP connections on `listener` and hands over those that completed a TLS
    /// handshake; handshakes run concurrently, each within [`HANDSHAKE_TIMEOUT`], so a slow or
    /// silent client holds up nobody. Stops when the receiver is dropped.
    pub fn incoming(&self, listener: TcpListener, alpn: &[&[u8]]) -> anyhow::Result<TlsIncoming> {
        let acceptor = self.acceptor(alpn)?;
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: do not spin.
                            tracing::warn!(error = %e, "accepting a connection failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    _ = tx.closed() => return,
                };
                let _ = tcp.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        // Plaintext clients, clients that do not trust this CA, port scanners.
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsIncoming { rx, local })
    }
}

/// Connections that completed a TLS handshake: an axum listener, and a stream for tonic.
pub struct TlsIncoming {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsIncoming {
    /// The connections as a stream of `Ok` values (tonic's incoming).
    pub fn into_stream(
        self,
    ) -> impl tokio_stream::Stream<Item = Result<TlsStream<TcpStream>, std::io::Error>> + Send + 'static {
        use tokio_stream::StreamExt as _;
        tokio_stream::wrappers::ReceiverStream::new(self.rx).map(|(tls, _)| Ok(tls))
    }
}

impl axum::serve::Listener for TlsIncoming {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept loop ended (never while this listener lives): wait for shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The names a generated server certificate carries: localhost, the loopback addresses, this
/// host's name, the specific listen addresses, and `extra`.
pub fn certificate_names(listen: &[SocketAddr], extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    if let Some(host) =
        std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string())
    {
        if !host.is_empty() {
            names.push(host);
        }
    }
    for a in listen {
        if !a.ip().is_unspecified() {
            names.push(a.ip().to_string());
        }
    }
    names.extend(extra.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()));
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.to_ascii_lowercase()));
    names
}

/// The generated files in `DATA_DIR/tls/`.
pub struct GeneratedFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Makes the private CA (first start) and a server certificate it signs for `names` (first
/// start, or when the kept one misses a name or expires within [`RENEW_BEFORE`]).
pub fn ensure_generated(dir: &Path, names: &[String]) -> anyhow::Result<GeneratedFiles> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let files =
        GeneratedFiles { ca: dir.join("ca.pem"), cert: dir.join("server.pem"), key: dir.join("server.key") };
    let ca_key_path = dir.join("ca.key");
    let (ca_pem, ca_key_pem) = if files.ca.exists() && ca_key_path.exists() {
        (read_text(&files.ca)?, read_text(&ca_key_path)?)
    } else {
        let (ca_pem, ca_key_pem) = make_ca()?;
        write_private(&ca_key_path, &ca_key_pem)?;
        write_public(&files.ca, &ca_pem)?;
        tracing::info!(ca = %files.ca.display(), "made a private certificate authority");
        (ca_pem, ca_key_pem)
    };
    let keep = files.cert.exists()
        && files.key.exists()
        && server_cert_serves(&ca_pem, &read_text(&files.cert)?, names, SystemTime::now() + RENEW_BEFORE);
    if !keep {
        let (cert_pem, key_pem) = issue_server_cert(&ca_pem, &ca_key_pem, names)?;
        // The key first: a reload between the two writes sees a mismatch and keeps the old pair.
        write_private(&files.key, &key_pem)?;
        write_public(&files.cert, &cert_pem)?;
        tracing::info!(names = %names.join(","), cert = %files.cert.display(), "issued the server certificate");
    }
    Ok(files)
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// Writes `text` to `path` through a temporary file and a rename, readable by the owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    write_file(path, text, 0o600)
}

fn write_public(path: &Path, text: &str) -> anyhow::Result<()> {
    write_file(path, text, 0o644)
}

fn write_file(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write `{}`", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write `{}`", path.display()))
}

fn now_plus(d: Duration) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + d
}

/// A fresh CA: (certificate PEM, key PEM).
fn make_ca() -> anyhow::Result<(String, String)> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::default();
    let mut id = [0u8; 4];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut id)?;
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("vmafx private CA {id}"));
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    params.not_before = now_plus(Duration::ZERO) - Duration::from_secs(86_400);
    params.not_after = now_plus(Duration::from_secs(10 * 365 * 86_400));
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A server certificate for `names`, signed by the CA: (certificate PEM, key PEM).
pub fn issue_server_cert(
    ca_pem: &str,
    ca_key_pem: &str,
    names: &[String],
) -> anyhow::Result<(String, String)> {
    let ca_key = rcgen::KeyPair::from_pem(ca_key_pem).context("the CA key does not parse")?;
    let issuer =
        rcgen::Issuer::from_ca_cert_pem(ca_pem, ca_key).context("the CA certificate does not parse")?;
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .with_context(|| format!("not a valid certificate name among {}", names.join(", ")))?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "vmafx controller");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now_plus(Duration::ZERO) - Duration::from_secs(86_400);
    params.not_after = now_plus(Duration::from_secs(397 * 86_400));
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Whether `cert_pem`, checked against the CA as a client would, is valid for every name at
/// `at`.
fn server_cert_serves(ca_pem: &str, cert_pem: &str, names: &[String], at: SystemTime) -> bool {
    let Ok(ca) = CertificateDer::from_pem_slice(ca_pem.as_bytes()) else { return false };
    let Ok(chain) = CertificateDer::pem_slice_iter(cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>() else {
        return false;
    };
    let Some((leaf, rest)) = chain.split_first() else { return false };
    let mut roots = RootCertStore::empty();
    if roots.add(ca).is_err() {
        return false;
    }
    let Ok(verifier) =
        rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider()).build()
    else {
        return false;
    };
    use rustls::client::danger::ServerCertVerifier as _;
    let at = UnixTime::since_unix_epoch(at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default());
    names.iter().all(|name| {
        ServerName::try_from(name.as_str())
            .is_ok_and(|n| verifier.verify_server_cert(leaf, rest, &n, &[], at).is_ok())
    })
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("`{}` is not PEM", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "`{}` holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(certs)
}

/// A certificate and key from files, loaded again when either file changes.
struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    state: Mutex<Loaded>,
}

struct Loaded {
    key: Arc<CertifiedKey>,
    stamp: Stamp,
    checked: Instant,
}

type Stamp = [(Option<SystemTime>, u64); 2];

impl ReloadingCert {
    fn load(cert: PathBuf, key: PathBuf) -> anyhow::Result<Self> {
        let stamp = stamp(&cert, &key);
        let certified = load_pair(&cert, &key)?;
        Ok(Self { cert, key, state: Mutex::new(Loaded { key: certified, stamp, checked: Instant::now() }) })
    }

    fn current(&self) -> Arc<CertifiedKey> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.checked.elapsed() >= RELOAD_CHECK {
            s.checked = Instant::now();
            let now = stamp(&self.cert, &self.key);
            if now != s.stamp {
                match load_pair(&self.cert, &self.key) {
                    Ok(k) => {
                        s.key = k;
                        s.stamp = now;
                        tracing::info!(cert = %self.cert.display(), "reloaded the TLS certificate");
                    }
                    // Half-written (or broken): keep serving the old one, look again later.
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "the TLS certificate changed but does not load; still serving the previous one")
                    }
                }
            }
        }
        s.key.clone()
    }
}

impl std::fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingCert").field("cert", &self.cert).field("key", &self.key).finish()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn stamp(cert: &Path, key: &Path) -> Stamp {
    let one = |p: &Path| std::fs::metadata(p).map_or((None, 0), |m| (m.modified().ok(), m.len()));
    [one(cert), one(key)]
}

fn load_pair(cert: &Path, key: &Path) -> anyhow::Result<Arc<CertifiedKey>> {
    let certs = read_certs(cert).context("--tls-cert")?;
    let der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("--tls-key `{}`: no private key in it (expected PEM)", key.display()))?;
    let signing = provider()
        .key_provider
        .load_private_key(der)
        .with_context(|| format!("--tls-key `{}`: unsupported key", key.display()))?;
    let certified = CertifiedKey::new(certs, signing);
    certified.keys_match().with_context(|| {
        format!("--tls-key `{}` is not the key of --tls-cert `{}`", key.display(), cert.display())
    })?;
    Ok(Arc::new(certified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_certificate_is_kept_and_issued_again_for_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let f = ensure_generated(dir.path(), &names).unwrap();
        let (ca, cert) = (read_text(&f.ca).unwrap(), read_text(&f.cert).unwrap());
        assert!(server_cert_serves(&ca, &cert, &names, SystemTime::now()));
        // Not valid for a name it lacks, nor in two years.
        assert!(!server_cert_serves(&ca, &cert, &["other.example".into()], SystemTime::now()));
        let later = SystemTime::now() + Duration::from_secs(2 * 365 * 86_400);
        assert!(!server_cert_serves(&ca, &cert, &names, later));
        // Kept across starts with the same names.
        ensure_generated(dir.path(), &names).unwrap();
        assert_eq!(read_text(&f.cert).unwrap(), cert);
        // A new name: issued again by the same CA.
        let more = [names.clone(), vec!["vmafx.example".into()]].concat();
        ensure_generated(dir.path(), &more).unwrap();
        assert_eq!(read_text(&f.ca).unwrap(), ca);
        assert!(server_cert_serves(&ca, &read_text(&f.cert).unwrap(), &more, SystemTime::now()));
        // The keys are the owner's only.
        use std::os::unix::fs::PermissionsExt as _;
        for key in ["ca.key", "server.key"] {
            let mode = std::fs::metadata(dir.path().join(key)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{key}: {mode:o}");
        }
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = ensure_generated(dir.path(), &["localhost".into()]).unwrap();
        let e = format!("{:#}", load_pair(&f.cert, &dir.path().join("ca.key")).unwrap_err());
        assert!(e.contains("is not the key of --tls-cert") && e.contains("ca.key"), "{e}");
        let e = format!("{:#}", load_pair(&f.key, &f.key).unwrap_err());
        assert!(e.contains("no certificate"), "{e}");
    }

    #[test]
    fn a_changed_certificate_file_is_served_after_the_next_check() {
        let dir = tempfile::tempdir().unwrap();
        let f = ensure_generated(dir.path(), &["localhost".into()]).unwrap();
        let r = ReloadingCert::load(f.cert.clone(), f.key.clone()).unwrap();
        let before = r.current().cert[0].clone();
        // Issue a new one for another name into the same files.
        ensure_generated(dir.path(), &["localhost".into(), "renewed.example".into()]).unwrap();
        r.state.lock().unwrap().checked = Instant::now() - RELOAD_CHECK;
        assert_ne!(r.current().cert[0], before);
    }

    #[test]
    fn certificate_names_have_loopback_the_listen_address_and_extras_once() {
        let listen: Vec<SocketAddr> =
            vec!["10.1.2.3:50051".parse().unwrap(), "0.0.0.0:8080".parse().unwrap()];
        let names = certificate_names(&listen, &["ctl.example".into(), "LOCALHOST".into()]);
        for n in ["localhost", "127.0.0.1", "::1", "10.1.2.3", "ctl.example"] {
            assert!(names.contains(&n.to_string()), "{names:?}");
        }
        assert!(!names.contains(&"0.0.0.0".to_string()));
        assert_eq!(names.iter().filter(|n| n.eq_ignore_ascii_case("localhost")).count(), 1);
    }
}
