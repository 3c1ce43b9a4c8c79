//! rclone remotes (`rclone:REMOTE:PATH`), read by rclone processes that this process starts
//! on first use and stops with it (a node's drain, the end of a `vmafx score`). Remotes come
//! from the rclone configuration of the machine that reads them (`--rclone-config`, else
//! rclone's own default), so their credentials never leave it. Two ways, both with no copy on
//! disk:
//!
//! - **serve** (the default): one `rclone serve http --read-only` per remote on loopback,
//!   answering under a random path prefix given to it in its environment (`RCLONE_BASEURL`, not
//!   on its command line, which other local users can read): another user of the machine
//!   cannot read a remote through it. Readers get a URL.
//! - **mount**: one `rclone mount --read-only --vfs-cache-mode off` per remote under a mount
//!   root (`/mnt/source/REMOTE`, FUSE). Readers get a path. A mount is checked before each use
//!   and mounted again when it failed; one left by a killed process is cleaned up by the next
//!   start ([`Rclone::clean_stale_mounts`]); it is unmounted on [`Rclone::stop_all`].

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use crate::StorageError;

/// How long a starting `rclone serve http` or `rclone mount` may take to be ready.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a stopping `rclone mount` may take to unmount before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How rclone remotes reach readers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Serve,
    Mount { root: PathBuf },
}

/// A running rclone process for one remote root (`REMOTE:` or `REMOTE:/`).
struct Running {
    child: Child,
    /// The URL prefix (serve) or the mount point (mount) paths are read under.
    base: String,
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// The rclone processes of this process, by remote root.
pub struct Rclone {
    rclone: PathBuf,
    config: Option<PathBuf>,
    mode: Mode,
    running: Mutex<HashMap<String, Running>>,
    /// Processes are started by one thread that lives as long as this value: each is told to
    /// die with that thread (`PR_SET_PDEATHSIG`), so a process killed outright (SIGKILL, the
    /// OOM killer) leaves no server behind (a mount it leaves is stale, and cleaned up by the
    /// next start). The signal follows the thread that forked, which is why it is not any
    /// thread of a pool.
    spawner: Mutex<mpsc::Sender<SpawnRequest>>,
}

impl std::fmt::Debug for Rclone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rclone")
            .field("rclone", &self.rclone)
            .field("config", &self.config)
            .field("mode", &self.mode)
            .finish()
    }
}

impl Rclone {
    /// Remotes served over loopback HTTP, with the `rclone` program and the configuration file
    /// `config` (rclone's default when `None`).
    pub fn serving(rclone: PathBuf, config: Option<PathBuf>) -> Self {
        Self::new(rclone, config, Mode::Serve)
    }

    /// Remotes mounted under `root` (FUSE: `/dev/fuse` and, unless root, `fusermount3`).
    pub fn mounting(rclone: PathBuf, config: Option<PathBuf>, root: PathBuf) -> Self {
        Self::new(rclone, config, Mode::Mount { root })
    }

    fn new(rclone: PathBuf, config: Option<PathBuf>, mode: Mode) -> Self {
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
        Self { rclone, config, mode, running: Mutex::default(), spawner: Mutex::new(tx) }
    }

    /// Starts `cmd` from the spawner thread.
    fn spawn(&self, cmd: Command) -> std::io::Result<Child> {
        let (tx, rx) = mpsc::channel();
        let sent = self.spawner.lock().unwrap_or_else(|p| p.into_inner()).send((cmd, tx));
        sent.map_err(|_| std::io::Error::other("the rclone spawner thread is gone"))?;
        rx.recv().map_err(|_| std::io::Error::other("the rclone spawner thread is gone"))?
    }

    /// Where a reader opens `path` on `remote` (a name from the configuration, or
    /// `:backend,opts`): a loopback URL, or a path under the mount root. Starts the remote's
    /// server or mount if it is not running, or mounts again a mount that failed; blocks while
    /// it starts.
    pub fn locate(&self, remote: &str, path: &str) -> Result<String, StorageError> {
        let input = format!("rclone:{remote}:{path}");
        if path.split('/').any(|seg| seg == "..") {
            return Err(StorageError::Refused(format!("`{input}`: `..` in an rclone path is refused")));
        }
        // A path from the remote's root (`/srv/a.mp4`) is read from `REMOTE:/`, any other
        // from the remote's own starting point (`REMOTE:`, a home or a working directory).
        let root = format!("{remote}:{}", if path.starts_with('/') { "/" } else { "" });
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let healthy = running.get_mut(&root).is_some_and(|r| self.healthy(r));
        if !healthy {
            if let Some(failed) = running.remove(&root) {
                tracing::warn!(remote, "rclone for `{root}` had failed; starting it again");
                self.stop(&root, failed);
            }
            let started = match &self.mode {
                Mode::Serve => self.serve(&root, &input)?,
                Mode::Mount { root: mounts } => self.mount(&root, &mounts.join(mount_name(&root)), &input)?,
            };
            running.insert(root.clone(), started);
        }
        let base = &running[&root].base;
        let relative = path.trim_start_matches('/');
        Ok(match self.mode {
            Mode::Serve => format!("{base}{}", encode_path(relative)),
            Mode::Mount { .. } => format!("{base}/{relative}"),
        })
    }

    /// The process is alive and, for a mount, the mount answers.
    fn healthy(&self, r: &mut Running) -> bool {
        if !matches!(r.child.try_wait(), Ok(None)) {
            return false;
        }
        match self.mode {
            Mode::Serve => true,
            // A FUSE mount whose process hangs or died answers ENOTCONN (or nothing).
            Mode::Mount { .. } => mounted(Path::new(&r.base)) && std::fs::read_dir(&r.base).is_ok(),
        }
    }

    /// Starts `rclone serve http ROOT` (`REMOTE:` or `REMOTE:/`).
    fn serve(&self, root: &str, input: &str) -> Result<Running, StorageError> {
        let unreachable = |reason: String| StorageError::Unreachable { input: input.to_string(), reason };
        // A port free now; a clash with another process starting at the same moment shows as
        // the server exiting, and the next use tries again.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| unreachable(format!("no free loopback port: {e}")))?
            .port();
        let prefix = random_prefix().map_err(|e| unreachable(format!("no randomness: {e}")))?;
        let mut cmd = self.command(&["serve", "http", "--read-only", "--addr", &format!("127.0.0.1:{port}")]);
        // `--` ends the options: a remote is never taken for one.
        cmd.arg("--").arg(root);
        cmd.env("RCLONE_BASEURL", format!("/{prefix}"));
        let child =
            self.start(cmd, input, "rclone serve http", || TcpStream::connect(("127.0.0.1", port)).is_ok())?;
        tracing::info!(root, port, "rclone serve http started");
        Ok(Running { child, base: format!("http://127.0.0.1:{port}/{prefix}/") })
    }

    /// Mounts ROOT (`REMOTE:` or `REMOTE:/`) at `dir`, read-only and without a cache on disk.
    fn mount(&self, root: &str, dir: &Path, input: &str) -> Result<Running, StorageError> {
        let unreachable = |reason: String| StorageError::Unreachable { input: input.to_string(), reason };
        if mounted(dir) {
            // Left by a process that died (ours was checked): nothing reads it any more.
            unmount(dir)
                .map_err(|e| unreachable(format!("cannot unmount the stale mount {}: {e}", dir.display())))?;
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| unreachable(format!("cannot make the mount point {}: {e}", dir.display())))?;
        let mut cmd = self.command(&["mount", "--read-only", "--vfs-cache-mode", "off"]);
        cmd.arg("--").arg(root).arg(dir);
        let child = self.start(cmd, input, "rclone mount", || mounted(dir))?;
        tracing::info!(root, dir = %dir.display(), "rclone mount up");
        Ok(Running { child, base: dir.display().to_string() })
    }

    /// `rclone ARGS [--config C]`, quiet but for its log on stderr.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.rclone);
        cmd.args(args);
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        cmd
    }

    /// Starts `cmd` and waits until `ready`; its log then goes to ours. An rclone that exits
    /// first is an error with its last line.
    fn start(
        &self,
        cmd: Command,
        input: &str,
        what: &str,
        ready: impl Fn() -> bool,
    ) -> Result<Child, StorageError> {
        let unreachable = |reason: String| StorageError::Unreachable { input: input.to_string(), reason };
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
                return Err(StorageError::Refused(format!("`{input}`: {what} failed ({status}): {line}")));
            }
            if ready() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(unreachable(format!("{what} was not ready within {START_TIMEOUT:?}")));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        // Closing the pipe instead would kill it at its next line.
        if let Some(err) = child.stderr.take() {
            let input = input.to_string();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                    tracing::debug!(input = %input, "rclone: {line}");
                }
            });
        }
        Ok(child)
    }

    /// Stops one process: a mount is asked to unmount (SIGTERM), then killed and unmounted.
    fn stop(&self, root: &str, mut r: Running) {
        match self.mode {
            Mode::Serve => {
                let _ = r.child.kill();
                let _ = r.child.wait();
                tracing::info!(root, "rclone serve http stopped");
            }
            Mode::Mount { .. } => {
                // SAFETY: a plain signal to our own child, which has not been reaped.
                unsafe { libc::kill(r.child.id() as libc::pid_t, libc::SIGTERM) };
                let deadline = Instant::now() + STOP_TIMEOUT;
                while matches!(r.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(25));
                }
                let _ = r.child.kill();
                let _ = r.child.wait();
                let dir = Path::new(&r.base);
                if mounted(dir) {
                    if let Err(e) = unmount(dir) {
                        tracing::warn!(root, dir = %dir.display(), "cannot unmount: {e}");
                    }
                }
                tracing::info!(root, dir = %dir.display(), "rclone mount down");
            }
        }
    }

    /// Unmounts what rclone left mounted under the mount root (a node killed with its mounts
    /// up): run at start, before any mount. Returns the mount points cleaned.
    pub fn clean_stale_mounts(&self) -> Vec<PathBuf> {
        let Mode::Mount { root } = &self.mode else { return Vec::new() };
        let mut cleaned = Vec::new();
        for (point, fstype) in mount_points() {
            if point.starts_with(root) && point != *root && fstype.starts_with("fuse.rclone") {
                match unmount(&point) {
                    Ok(()) => {
                        tracing::warn!(dir = %point.display(), "unmounted a stale rclone mount");
                        cleaned.push(point);
                    }
                    Err(e) => {
                        tracing::warn!(dir = %point.display(), "cannot unmount a stale rclone mount: {e}")
                    }
                }
            }
        }
        cleaned
    }

    /// Stops every server and unmounts every mount (a node draining).
    pub fn stop_all(&self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        for (root, r) in running.drain() {
            self.stop(&root, r);
        }
    }
}

impl Drop for Rclone {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// The directory under the mount root for `root` (`REMOTE:` or `REMOTE:/`): the remote's
/// name (`nas`, or `nas:` for its root directory); an inline remote, whose options may hold
/// any character, gets `inline-` and a digest.
fn mount_name(root: &str) -> String {
    let (remote, from_root) = match root.strip_suffix(":/") {
        Some(r) => (r, true),
        None => (root.trim_end_matches(':'), false),
    };
    let plain = !remote.starts_with(':') && !remote.is_empty() && !remote.chars().all(|c| c == '.');
    let name = if plain {
        remote.to_string()
    } else {
        // FNV-1a: a stable name, not a secret.
        let digest = remote
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        format!("inline-{digest:016x}")
    };
    if from_root {
        format!("{name}:")
    } else {
        name
    }
}

/// Mount points and their file-system types, from `/proc/self/mountinfo`.
fn mount_points() -> Vec<(PathBuf, String)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
            let mut fields = line.split(' ');
            let point = fields.nth(4)?;
            let fstype = line.split(" - ").nth(1)?.split(' ').next()?;
            Some((PathBuf::from(unescape_mountinfo(point)), fstype.to_string()))
        })
        .collect()
}

/// A mount point as `/proc/self/mountinfo` writes it: space, tab, newline and `\` as octal.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `dir` is a mount point.
fn mounted(dir: &Path) -> bool {
    mount_points().iter().any(|(p, _)| p == dir)
}

/// Detaches the mount at `dir` (lazily: a reader still in it keeps its files): with
/// `umount2` as root, else with `fusermount3 -uz` / `fusermount -uz`.
fn unmount(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: a NUL-terminated path that lives across the call.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        return Ok(());
    }
    let direct = std::io::Error::last_os_error();
    for tool in ["fusermount3", "fusermount"] {
        if let Ok(status) = Command::new(tool).arg("-uz").arg(dir).stderr(Stdio::null()).status() {
            if status.success() {
                return Ok(());
            }
        }
    }
    Err(direct)
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
    fn mount_points_are_named_after_their_remote() {
        assert_eq!(mount_name("nas:"), "nas");
        assert_eq!(mount_name("nas:/"), "nas:");
        assert_eq!(mount_name("..:"), mount_name("..:"));
        assert!(mount_name("..:").starts_with("inline-"));
        let inline = mount_name(":sftp,host=a/b:/");
        assert!(inline.starts_with("inline-") && inline.ends_with(':') && !inline.contains('/'), "{inline}");
        assert_ne!(mount_name(":sftp,host=a:"), mount_name(":sftp,host=b:"));
    }

    #[test]
    fn mountinfo_fields_are_unescaped() {
        assert_eq!(unescape_mountinfo(r"/mnt/source/my\040nas"), "/mnt/source/my nas");
        assert_eq!(unescape_mountinfo(r"/a\134b"), r"/a\b");
        assert!(mount_points().iter().any(|(p, _)| p == Path::new("/")), "the root is a mount point");
    }

    #[test]
    fn paths_are_escaped_segment_by_segment() {
        assert_eq!(encode_path("dir/a b?#%.mp4"), "dir/a%20b%3F%23%25.mp4");
        assert_eq!(encode_path("plain/x.y4m"), "plain/x.y4m");
    }

    #[test]
    fn a_remote_rclone_cannot_serve_is_an_error_naming_it() {
        let config = tempfile::NamedTempFile::new().unwrap();
        let servers = Rclone::serving("rclone".into(), Some(config.path().into()));
        let e = servers.locate("nosuchremote", "a.mp4").unwrap_err().to_string();
        assert!(e.contains("rclone:nosuchremote:a.mp4") && e.contains("rclone serve http failed"), "{e}");
        let e = servers.locate("nosuchremote", "a/../../etc/passwd").unwrap_err().to_string();
        assert!(e.contains("`..` in an rclone path is refused"), "{e}");
    }

    #[test]
    fn a_served_directory_is_read_through_a_secret_prefix_and_stops_with_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a b.txt"), "hello").unwrap();
        let config = tempfile::NamedTempFile::new().unwrap();
        let servers = Rclone::serving("rclone".into(), Some(config.path().into()));
        let file = format!("{}/a b.txt", dir.path().display());
        let url = servers.locate(":local", &file).unwrap();
        let again = servers.locate(":local", &file).unwrap();
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
