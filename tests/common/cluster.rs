//! Starting the controller and nodes for cluster tests, and calling them with tokens.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use tonic::transport::Channel;
use tonic::Request;

/// A child process killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The CA each started controller's certificate is checked against, by `host:port` (gRPC
/// and HTTP); `None`: plaintext (`--insecure-plaintext`).
static TRUST: Mutex<Option<HashMap<String, Option<PathBuf>>>> = Mutex::new(None);

pub fn trust(addr: &str, ca: Option<PathBuf>) {
    TRUST.lock().unwrap().get_or_insert_with(HashMap::new).insert(addr.to_string(), ca);
}

/// `host:port` of an address that may carry a scheme.
pub fn host_port(addr: &str) -> &str {
    addr.split_once("://").map_or(addr, |(_, rest)| rest).trim_end_matches('/')
}

/// The CA of the controller at `addr` (`host:port`, with or without a scheme); `None` when it
/// serves plaintext.
pub fn ca_of(addr: &str) -> Option<PathBuf> {
    let addr = host_port(addr);
    TRUST
        .lock()
        .unwrap()
        .as_ref()
        .and_then(|t| t.get(addr).cloned())
        .unwrap_or_else(|| panic!("no controller was started at {addr} by this test"))
}

/// The URL a client uses for `addr`: `https://` unless that controller serves plaintext.
/// Several comma-separated addresses give several URLs.
pub fn url(addrs: &str) -> String {
    addrs
        .split(',')
        .map(|a| {
            let a = host_port(a.trim());
            format!("{}://{a}", if ca_of(a).is_some() { "https" } else { "http" })
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The CA file for the CLI's `VMAFX_CA` when talking to `addr` (first of several).
pub fn ca_env(addrs: &str) -> PathBuf {
    ca_of(addrs.split(',').next().unwrap()).expect("a TLS controller")
}

/// The CA a controller started with `extra` on `data` serves under: its generated one, the
/// `ca.pem` beside a `--tls-cert` given, or none with `--insecure-plaintext`.
fn controller_ca(data: &Path, extra: &[&str]) -> Option<PathBuf> {
    if extra.contains(&"--insecure-plaintext") {
        return None;
    }
    match extra.iter().position(|a| *a == "--tls-cert") {
        Some(i) => Some(Path::new(extra[i + 1]).parent().unwrap().join("ca.pem")),
        None => Some(data.join("tls").join("ca.pem")),
    }
}

/// `--allow-root` for what tests read: the temporary directory (test clips) and the corpus.
pub fn test_roots() -> Vec<String> {
    let tmp = std::env::temp_dir().canonicalize().unwrap();
    let corpus = super::corpus().canonicalize().unwrap();
    ["--allow-root".into(), tmp.display().to_string(), "--allow-root".into(), corpus.display().to_string()]
        .into()
}

/// Given to [`spawn_controller`] or [`spawn_node`]: start it with no `--allow-root` at all
/// (not passed on).
pub const NO_ROOTS: &str = "--test-no-roots";

fn roots_for(extra: &[&str]) -> Vec<String> {
    if extra.contains(&"--allow-root") || extra.contains(&NO_ROOTS) {
        vec![]
    } else {
        test_roots()
    }
}

fn without_marker<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    extra.iter().copied().filter(|a| *a != NO_ROOTS).collect()
}

/// A running controller and the addresses it printed.
pub struct Controller {
    pub proc: Proc,
    pub addr: String,
    pub http: String,
}

/// Starts the controller on free loopback ports (gRPC on `--listen` from `extra` if given).
pub fn start_controller(data: &Path, extra: &[&str]) -> Controller {
    spawn_controller(data, extra, Stdio::inherit())
}

/// The backend the cluster tests run on (the controller's and `vmafx up`'s): SQLite (the
/// default), or PostgreSQL when `VMAFX_TEST_STORE=postgres` (`make test` runs the cluster
/// tests both ways).
pub fn on_postgres() -> bool {
    std::env::var("VMAFX_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// A fresh database on the test PostgreSQL server (`VMAFX_TEST_POSTGRES`, started by
/// scripts/with-postgres.sh), as a `--store` URL.
pub fn fresh_database() -> String {
    let server = std::env::var("VMAFX_TEST_POSTGRES").expect(
        "VMAFX_TEST_POSTGRES is not set: run the tests through `make test` or scripts/with-postgres.sh",
    );
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!("e2e_{}_{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let out = Command::new("psql")
        .args([server.as_str(), "-qAt", "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("run psql");
    assert!(out.status.success(), "CREATE DATABASE: {}", String::from_utf8_lossy(&out.stderr));
    format!("{}/{name}", server.rsplit_once('/').unwrap().0)
}

/// The `--store` a controller on `data` uses: on PostgreSQL, one database per data
/// directory (kept in `data/test-store`, so that a restarted controller finds its queue).
fn store_args(data: &Path, extra: &[&str]) -> Vec<String> {
    if !on_postgres() || extra.contains(&"--store") {
        return vec![];
    }
    let file = data.join("test-store");
    let url = std::fs::read_to_string(&file).unwrap_or_else(|_| {
        let url = fresh_database();
        std::fs::create_dir_all(data).unwrap();
        std::fs::write(&file, &url).unwrap();
        url
    });
    vec!["--store".into(), url]
}

/// A controller on PostgreSQL serves a certificate from files: made with `tls-init` in
/// `data/tls` (where a controller would make its own, so [`controller_ca`] finds the CA).
fn shared_queue_tls(data: &Path, extra: &[&str]) -> Vec<String> {
    let on_pg =
        extra.iter().any(|a| a.starts_with("postgres://")) || (on_postgres() && !extra.contains(&"--store"));
    if !on_pg || extra.contains(&"--tls-cert") || extra.contains(&"--insecure-plaintext") {
        return vec![];
    }
    let dir = data.join("tls");
    let out = Command::new(super::bin("vmafx-controller"))
        .args(["tls-init", "--dir"])
        .arg(&dir)
        .output()
        .expect("run vmafx-controller tls-init");
    assert!(out.status.success(), "tls-init: {}", String::from_utf8_lossy(&out.stderr));
    let file = |name: &str| dir.join(name).display().to_string();
    vec!["--tls-cert".into(), file("server.pem"), "--tls-key".into(), file("server.key")]
}

/// Like [`start_controller`], with its stderr (its log) sent to `stderr`.
pub fn spawn_controller(data: &Path, extra: &[&str], stderr: Stdio) -> Controller {
    spawn_controller_with_env(data, extra, stderr, &[])
}

/// Like [`spawn_controller`], with environment variables only the controller sees (its
/// object-store credentials, say).
pub fn spawn_controller_with_env(
    data: &Path,
    extra: &[&str],
    stderr: Stdio,
    env: &[(&str, &str)],
) -> Controller {
    let listen: &[&str] = if extra.contains(&"--listen") { &[] } else { &["--listen", "127.0.0.1:0"] };
    let mut child = Command::new(super::bin("vmafx-controller"))
        .args(listen)
        .args(store_args(data, extra))
        .args(roots_for(extra))
        .args(if extra.contains(&"--http-listen") { &[][..] } else { &["--http-listen", "127.0.0.1:0"][..] })
        .arg("--data-dir")
        .arg(data)
        .args(without_marker(extra))
        .args(shared_queue_tls(data, extra))
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start vmafx-controller");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut http = String::new();
    let addr = loop {
        let line = lines.next().expect("controller exited before listening").unwrap();
        if let Some(a) = line.strip_prefix("vmafx-controller: HTTP listening on ") {
            http = a.to_string();
        }
        if let Some(a) = line.strip_prefix("vmafx-controller: gRPC listening on ") {
            break a.to_string();
        }
    };
    // Keep draining stdout so the controller never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    let ca = controller_ca(data, extra);
    trust(&addr, ca.clone());
    trust(&http, ca);
    Controller { proc: Proc(child), addr, http }
}

impl Controller {
    /// The gRPC URL clients use (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        url(&self.addr)
    }

    /// The CA its certificate is checked against.
    pub fn ca(&self) -> PathBuf {
        ca_env(&self.addr)
    }

    /// Runs the `vmafx` CLI against this controller with `token` (two minutes at most).
    pub fn cli(&self, token: &str, args: &[&str]) -> std::process::Output {
        super::run_with_timeout(
            Command::new(super::bin("vmafx"))
                .args(args)
                .env("VMAFX_CONTROLLER", self.url())
                .env("VMAFX_CA", self.ca())
                .env("VMAFX_TOKEN", token),
            Duration::from_secs(120),
        )
    }
}

/// Starts a node with one libvmaf thread, joined with the controller's node token.
pub fn start_node(addr: &str, data: &Path, name: &str) -> Proc {
    spawn_node(addr, data, name, &[], Stdio::inherit())
}

/// Like [`start_node`], with more arguments and its stderr (its log) sent to `stderr`. `addr`:
/// one `host:port` or several, comma separated, of controllers this test started.
pub fn spawn_node(addr: &str, data: &Path, name: &str, args: &[&str], stderr: Stdio) -> Proc {
    let mut command = Command::new(super::bin("vmafx-node"));
    if let Some(ca) = ca_of(addr.split(',').next().unwrap()) {
        command.arg("--ca").arg(ca);
    }
    Proc(
        command
            .args(["--controller", &url(addr), "--name", name, "--threads", "1"])
            .args(roots_for(args))
            .args(without_marker(args))
            .env("VMAFX_TOKEN", token(data, "node.token"))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start vmafx-node"),
    )
}

/// A token the controller wrote into its data directory.
pub fn token(data: &Path, name: &str) -> String {
    std::fs::read_to_string(data.join(name)).unwrap().trim().to_string()
}

/// `msg` with `authorization: Bearer <token>`.
pub fn authed<T>(msg: T, token: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// A gRPC connection to the controller at `addr` (`host:port`, or a URL), over TLS checked
/// against its CA unless it serves plaintext.
pub async fn connect(addr: &str) -> Channel {
    let mut endpoint = Channel::from_shared(url(addr)).unwrap().connect_timeout(Duration::from_secs(5));
    if let Some(ca) = ca_of(addr) {
        let pem = std::fs::read(ca).unwrap();
        let tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(pem));
        endpoint = endpoint.tls_config(tls).unwrap();
    }
    endpoint.connect().await.unwrap()
}

/// A rustls client configuration trusting the certificates in `ca`.
pub fn tls_client_config(ca: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A stream to the controller's HTTP address: TLS checked against its CA, or plain TCP.
pub fn http_stream(addr: &str) -> Box<dyn ReadWrite> {
    let tcp = std::net::TcpStream::connect(host_port(addr)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    match ca_of(addr) {
        None => Box::new(tcp),
        Some(ca) => {
            let host = host_port(addr).rsplit_once(':').unwrap().0.trim_matches(['[', ']']).to_string();
            let name = rustls::pki_types::ServerName::try_from(host).unwrap();
            let conn = rustls::ClientConnection::new(tls_client_config(&ca), name).unwrap();
            Box::new(rustls::StreamOwned::new(conn, tcp))
        }
    }
}

pub trait ReadWrite: std::io::Read + std::io::Write + Send {}
impl<T: std::io::Read + std::io::Write + Send> ReadWrite for T {}

/// What an HTTP request answered: status, headers (lower-case names), body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// An HTTP/1.1 request (over TLS to a TLS controller) with extra header lines (`Name:
/// value`) and a JSON body; a chunked answer's body is joined.
pub fn request(addr: &str, method: &str, path: &str, headers: &[String], body: &str) -> Answer {
    use std::io::{Read, Write};
    let mut s = http_stream(addr);
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        head += &format!("{h}\r\n");
    }
    if !body.is_empty() || method == "POST" {
        head += &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    }
    write!(s, "{head}\r\n{body}").unwrap();
    let mut raw = Vec::new();
    match s.read_to_end(&mut raw) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("reading the answer to {method} {path}: {e}"),
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    // Chunked answers (axum's for streamed bodies): join the chunks.
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut joined = Vec::new();
        let mut rest = &body[..];
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).unwrap().trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            joined.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[end + 2 + size + 2..];
        }
        body = joined;
    }
    Answer { status, headers, body }
}

/// An HTTP/1.1 request with an optional bearer token and JSON body; returns the status code
/// and body.
pub fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    let auth: Vec<String> = token.map(|t| format!("Authorization: Bearer {t}")).into_iter().collect();
    let a = request(addr, method, path, &auth, body.unwrap_or(""));
    (a.status, String::from_utf8_lossy(&a.body).into_owned())
}

/// A GET without a token.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    http(addr, "GET", path, None, None)
}

/// Parses Prometheus text with the reference parser (PyPI prometheus-client); returns
/// `name[labels] value` lines.
pub fn parse_prometheus(text: &str) -> Vec<String> {
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\n\
                  for f in p(sys.stdin.read()):\n    for s in f.samples:\n        \
                  print(s.name + str(sorted(s.labels.items())), s.value)";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not valid Prometheus text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect()
}

/// Starts `vmafx up` on free loopback ports with one libvmaf thread; returns it and its
/// gRPC URL (`https://127.0.0.1:PORT`).
pub fn start_up(data: &Path) -> (Proc, String) {
    let (up, grpc, _) = start_up_with_http(data);
    (up, grpc)
}

/// `vmafx up` on free loopback ports; returns it, its gRPC URL and its HTTP address.
pub fn start_up_with_http(data: &Path) -> (Proc, String, String) {
    start_up_with(data, &[])
}

/// Like [`start_up_with_http`], with more arguments.
pub fn start_up_with(data: &Path, extra: &[&str]) -> (Proc, String, String) {
    let mut child = Command::new(super::bin("vmafx"))
        .args([
            "up",
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--threads",
            "1",
            "--data-dir",
        ])
        .arg(data)
        .args(store_args(data, &[]))
        .args(test_roots())
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start vmafx up");
    // vmafx up: controller on https://A (gRPC) and https://B (HTTP)
    let rest = super::line_after(child.stdout.take().unwrap(), "vmafx up: controller on ", "vmafx up");
    let up = Proc(child);
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (grpc, http) = (words[0].to_string(), host_port(words[3]).to_string());
    let ca = Some(data.join("tls").join("ca.pem"));
    trust(host_port(&grpc), ca.clone());
    trust(&http, ca);
    (up, grpc, http)
}

/// An HTTP request with `token` and a JSON body; returns the status and the JSON answer.
pub fn call(addr: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string());
    let (status, text) = http(addr, method, path, Some(token), body.as_deref());
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}")))
}

/// Waits (over HTTP) until the job reaches `state`; panics if it ends otherwise.
pub fn wait_for(addr: &str, token: &str, id: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (status, job) = call(addr, token, "GET", &format!("/v1/jobs/{id}"), None);
        assert_eq!(status, 200, "{job}");
        if job["state"] == state {
            return job;
        }
        assert!(!["failed", "cancelled", "succeeded"].contains(&job["state"].as_str().unwrap()), "{job}");
        assert!(Instant::now() < deadline, "job still {}", job["state"]);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The named error's status, code and field.
pub fn assert_error(got: (u16, Value), status: u16, field: Option<&str>, says: &str) {
    let (s, body) = got;
    assert_eq!(s, status, "{body}");
    let error = &body["error"];
    assert_eq!(error["field"].as_str(), field, "{body}");
    assert!(error["message"].as_str().unwrap().contains(says), "`{says}` not in {body}");
}
