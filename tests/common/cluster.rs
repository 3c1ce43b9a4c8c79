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
    let listen: &[&str] = if extra.contains(&"--listen") { &[] } else { &["--listen", "127.0.0.1:0"] };
    let mut child = Command::new(super::bin("vmafx-controller"))
        .args(listen)
        .args(["--http-listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
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
    Proc(
        Command::new(super::bin("vmafx-node"))
            .args(["--controller", &format!("http://{addr}"), "--name", name, "--threads", "1"])
            .env("VMAFX_TOKEN", token(data, "node.token"))
            .stdout(Stdio::null())
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
