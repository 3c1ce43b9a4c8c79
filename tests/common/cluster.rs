//! Starting the controller and nodes for cluster tests, and calling them with tokens.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// Like [`start_controller`], with its stderr (its log) sent to `stderr`.
pub fn spawn_controller(data: &Path, extra: &[&str], stderr: Stdio) -> Controller {
    let listen: &[&str] = if extra.contains(&"--listen") { &[] } else { &["--listen", "127.0.0.1:0"] };
    let mut child = Command::new(super::bin("vmafx-controller"))
        .args(listen)
        .args(store_args(data, extra))
        .args(["--http-listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra)
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
    Controller { proc: Proc(child), addr, http }
}

/// Starts a node with one libvmaf thread, joined with the controller's node token.
pub fn start_node(addr: &str, data: &Path, name: &str) -> Proc {
    spawn_node(addr, data, name, &[], Stdio::inherit())
}

/// Like [`start_node`], with more arguments and its stderr (its log) sent to `stderr`.
pub fn spawn_node(addr: &str, data: &Path, name: &str, args: &[&str], stderr: Stdio) -> Proc {
    Proc(
        Command::new(super::bin("vmafx-node"))
            .args(["--controller", &format!("http://{addr}"), "--name", name, "--threads", "1"])
            .args(args)
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

pub async fn connect(addr: &str) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap()
}

/// A plain HTTP/1.1 request with an optional bearer token and JSON body; returns the status
/// code and body.
pub fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head += &format!("Authorization: Bearer {t}\r\n");
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        head += &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    }
    write!(s, "{head}\r\n{body}").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
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
/// gRPC URL (`http://127.0.0.1:PORT`).
pub fn start_up(data: &Path) -> (Proc, String) {
    let (up, grpc, _) = start_up_with_http(data);
    (up, grpc)
}

/// `vmafx up` on free loopback ports; returns it, its gRPC URL and its HTTP address.
pub fn start_up_with_http(data: &Path) -> (Proc, String, String) {
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
        .stdout(Stdio::piped())
        .spawn()
        .expect("start vmafx up");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let up = Proc(child);
    let (grpc, http) = loop {
        let line = lines.next().expect("vmafx up exited before listening").unwrap();
        // vmafx up: controller on http://A (gRPC) and http://B (HTTP)
        if let Some(rest) = line.strip_prefix("vmafx up: controller on ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            break (words[0].to_string(), words[3].trim_start_matches("http://").to_string());
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (up, grpc, http)
}
