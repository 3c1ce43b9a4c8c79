//! rclone remotes (`rclone:REMOTE:PATH`), read through `rclone serve http` processes that
//! this process starts on loopback, one per remote, on first use; they stop with it (a
//! node's drain, the end of a `vmafx score`). Remotes come from the rclone configuration of
//! the machine that reads them (`--rclone-config`, else rclone's own default), so their
//! credentials never leave it.
//!
//! Each server answers under a random path prefix given to it in its environment
//! (`RCLONE_BASEURL`, not on its command line, which other local users can read): another
//! user of the machine cannot read a remote through it.

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use crate::StorageError;

/// How long a starting `rclone serve http` may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

struct Served {
    child: Child,
    base: String,
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// The `rclone serve http` processes of this process, by remote.
pub struct RcloneServers {
    rclone: PathBuf,
    config: Option<PathBuf>,
    running: Mutex<HashMap<String, Served>>,
    /// Servers are started by one thread that lives as long as this value: each is told to die
    /// with that thread (`PR_SET_PDEATHSIG`), so a process killed outright (SIGKILL, the OOM
    /// killer) leaves no server behind. (The signal follows the thread that forked, which is
    /// why it is not any thread of a pool.)
    spawner: Mutex<mpsc::Sender<SpawnRequest>>,
}

impl std::fmt::Debug for RcloneServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RcloneServers").field("rclone", &self.rclone).field("config", &self.config).finish()
    }
}

impl RcloneServers {
    /// Servers run with the `rclone` program and the configuration file `config` (rclone's
    /// default when `None`).
    pub fn new(rclone: PathBuf, config: Option<PathBuf>) -> Self {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("rclone-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
                    unsafe {
                        cmd.pre_exec(|| match libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) {
                            0 => Ok(()),
                            _ => Err(std::io::Error::last_os_error()),
                        });
                    }
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("a thread to start rclone from");
        Self { rclone, config, running: Mutex::default(), spawner: Mutex::new(tx) }
    }

    /// Starts `cmd` from the spawner thread.
    fn spawn(&self, cmd: Command) -> std::io::Result<Child> {
        let (tx, rx) = mpsc::channel();
        let sent = self.spawner.lock().unwrap_or_else(|p| p.into_inner()).send((cmd, tx));
        sent.map_err(|_| std::io::Error::other("the rclone spawner thread is gone"))?;
        rx.recv().map_err(|_| std::io::Error::other("the rclone spawner thread is gone"))?
    }

    /// The URL of `path` on `remote` (a name from the configuration, or `:backend,opts`),
    /// starting the remote's server if it is not running (or died). Blocks while it starts.
    pub fn url(&self, remote: &str, path: &str) -> Result<String, StorageError> {
        let input = format!("rclone:{remote}:{path}");
        // A path from the remote's root (`/srv/a.mp4`) is served from `REMOTE:/`, any other
        // from the remote's own starting point (`REMOTE:`, a home or a working directory).
        let root = format!("{remote}:{}", if path.starts_with('/') { "/" } else { "" });
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let alive = running.get_mut(&root).is_some_and(|s| matches!(s.child.try_wait(), Ok(None)));
        if !alive {
            if let Some(mut dead) = running.remove(&root) {
                let _ = dead.child.wait();
                tracing::warn!(remote, "rclone serve http had exited; starting it again");
            }
            let served = self.start(&root, &input)?;
            running.insert(root.clone(), served);
        }
        let base = &running[&root].base;
        Ok(format!("{base}{}", encode_path(path.trim_start_matches('/'))))
    }

    /// Starts `rclone serve http ROOT` (`REMOTE:` or `REMOTE:/`).
    fn start(&self, root: &str, input: &str) -> Result<Served, StorageError> {
        let unreachable = |reason: String| StorageError::Unreachable { input: input.to_string(), reason };
        // A port free now; a clash with another process starting at the same moment shows as
        // the server exiting, and the next use tries again.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| unreachable(format!("no free loopback port: {e}")))?
            .port();
        let prefix = random_prefix().map_err(|e| unreachable(format!("no randomness: {e}")))?;
        let mut cmd = Command::new(&self.rclone);
        cmd.args(["serve", "http", "--read-only", "--addr", &format!("127.0.0.1:{port}")]);
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        // `--` ends the options: a remote is never taken for one.
        cmd.arg("--").arg(root);
        cmd.env("RCLONE_BASEURL", format!("/{prefix}"));
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = self.spawn(cmd).map_err(|e| {
            unreachable(format!("cannot run `{}` (is rclone installed?): {e}", self.rclone.display()))
        })?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut text = String::new();
                if let Some(mut err) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut err, &mut text);
                }
                let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message").trim();
                return Err(StorageError::Refused(format!(
                    "`{input}`: rclone could not serve the remote ({status}): {line}"
                )));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(unreachable(format!(
                    "rclone serve http did not listen within {START_TIMEOUT:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        // Its log goes to ours. (Closing the pipe instead would kill it at its next line.)
        if let Some(err) = child.stderr.take() {
            let root = root.to_string();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                    tracing::debug!(root = %root, "rclone: {line}");
                }
            });
        }
        tracing::info!(root, port, "rclone serve http started");
        Ok(Served { child, base: format!("http://127.0.0.1:{port}/{prefix}/") })
    }

    /// Stops every server (a node draining).
    pub fn stop_all(&self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        for (root, mut s) in running.drain() {
            let _ = s.child.kill();
            let _ = s.child.wait();
            tracing::info!(root, "rclone serve http stopped");
        }
    }
}

impl Drop for RcloneServers {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// 128 random bits, hex.
fn random_prefix() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `path` with each segment percent-encoded (spaces, `?`, `#`, `%` and the like).
fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_escaped_segment_by_segment() {
        assert_eq!(encode_path("dir/a b?#%.mp4"), "dir/a%20b%3F%23%25.mp4");
        assert_eq!(encode_path("plain/x.y4m"), "plain/x.y4m");
    }

    #[test]
    fn a_remote_rclone_cannot_serve_is_an_error_naming_it() {
        let config = tempfile::NamedTempFile::new().unwrap();
        let servers = RcloneServers::new("rclone".into(), Some(config.path().into()));
        let e = servers.url("nosuchremote", "a.mp4").unwrap_err().to_string();
        assert!(e.contains("rclone:nosuchremote:a.mp4") && e.contains("rclone could not serve"), "{e}");
    }

    #[test]
    fn a_served_directory_is_read_through_a_secret_prefix_and_stops_with_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a b.txt"), "hello").unwrap();
        let config = tempfile::NamedTempFile::new().unwrap();
        let servers = RcloneServers::new("rclone".into(), Some(config.path().into()));
        let file = format!("{}/a b.txt", dir.path().display());
        let url = servers.url(":local", &file).unwrap();
        let again = servers.url(":local", &file).unwrap();
        assert_eq!(url, again, "one server per remote");
        let port: u16 = url.split(':').nth(2).unwrap().split('/').next().unwrap().parse().unwrap();
        let get = |path: &str| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            std::io::Write::write_all(
                &mut s,
                format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .unwrap();
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut s, &mut text);
            text
        };
        let with_prefix = url.strip_prefix(&format!("http://127.0.0.1:{port}")).unwrap();
        assert!(get(with_prefix).ends_with("hello"), "{}", get(with_prefix));
        let without = format!("{}/a%20b.txt", dir.path().display());
        assert!(get(&without).starts_with("HTTP/1.1 404"), "no prefix, no file: {}", get(&without));
        drop(servers);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the server outlived its owner");
    }
}
