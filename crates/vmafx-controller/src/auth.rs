//! Who is calling, and what they may do.
//!
//! Every token is a random secret that only its holder knows; the store (shared by the
//! controllers of one queue) keeps its SHA-256 with a role and a name:
//!
//! - `admin` (admin.token, written on first start, and any made with `vmafx tokens create`):
//!   everything;
//! - `submit`: read, submit, and cancel the jobs it submitted;
//! - `read`: list and get jobs, watch them, list nodes and models;
//! - `join` (node.token): registers a node, and nothing else;
//! - `node`: one node's credential, returned by `RegisterNode`; every later node call must
//!   carry it and name that node.
//!
//! Checking a token is one SHA-256 and a map lookup by that digest, so dispatch stays fast
//! (the lookup's timing can tell a caller about digests, never about a secret: finding a
//! digest's prefix gives no prefix of what hashes to it); the map is read
//! again from the store every few seconds (and at once, at most once a second, when an
//! unknown token arrives: a node that registered with another controller), so revocations
//! reach every controller within seconds. Failed attempts are logged with the token's name
//! when it is a revoked one (never the token), and a peer that keeps failing is refused for
//! a while without looking.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use vmafx_store::{Store, TokenRecord};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// List and get jobs and nodes, watch jobs.
    Read,
    /// Also submit jobs, and cancel its own.
    Submit,
    /// Everything on the job API: anyone's jobs, drain and remove nodes, tokens.
    Admin,
    /// Register a node (node.token, the join token).
    Join,
    /// Act as one node (its credential).
    Node,
}

impl Role {
    /// The name the store keeps.
    pub fn kind(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Submit => "submit",
            Role::Admin => "admin",
            Role::Join => "join",
            Role::Node => "node",
        }
    }

    pub fn from_kind(kind: &str) -> Option<Self> {
        Some(match kind {
            "read" => Role::Read,
            "submit" => Role::Submit,
            "admin" => Role::Admin,
            "join" => Role::Join,
            "node" => Role::Node,
            _ => return None,
        })
    }

    /// Whether a token of this role may do what `need` allows: admin ⊇ submit ⊇ read; join
    /// and node credentials only their own calls.
    pub fn allows(self, need: Role) -> bool {
        match (self, need) {
            (Role::Read | Role::Submit | Role::Admin, Role::Read | Role::Submit | Role::Admin) => {
                self >= need
            }
            _ => self == need,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// The token's name (`admin`, `grafana`; a node credential: the node's name).
    pub name: String,
    /// The node a credential belongs to.
    pub node_id: Option<String>,
}

impl Caller {
    /// `Ok` when this caller may do what `need` allows.
    pub fn need(&self, need: Role) -> Result<(), Denied> {
        if self.role.allows(need) {
            Ok(())
        } else {
            Err(Denied::Forbidden { role: self.role, need })
        }
    }

    /// `Ok` when this caller is the credential of `node`.
    pub fn is_node(&self, node: &str) -> Result<(), Denied> {
        self.need(Role::Node)?;
        match self.node_id.as_deref() {
            Some(id) if id == node => Ok(()),
            other => {
                Err(Denied::OtherNode { holder: other.unwrap_or_default().into(), claimed: node.into() })
            }
        }
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error(
        "missing token: send `authorization: Bearer <token>` (admin.token in the controller's --data-dir, or one \
         from `vmafx tokens create`)"
    )]
    Missing,
    #[error("unknown token: it was never issued by a controller of this queue")]
    Unknown,
    #[error("token `{name}` was revoked")]
    Revoked { name: String },
    #[error("too many failed attempts from this address: try again in a few seconds")]
    Throttled,
    #[error("a {} token may not do this: it needs a {} token", .role.kind(), .need.kind())]
    Forbidden { role: Role, need: Role },
    #[error("this credential belongs to node `{holder}`, not `{claimed}`")]
    OtherNode { holder: String, claimed: String },
}

impl Denied {
    /// Not authenticated at all (401 / UNAUTHENTICATED), as opposed to not allowed (403).
    pub fn unauthenticated(&self) -> bool {
        matches!(self, Denied::Missing | Denied::Unknown | Denied::Revoked { .. })
    }
}

#[derive(Debug, Clone)]
struct Known {
    caller: Caller,
    revoked: bool,
}

/// How often the token map is read again from the store.
pub const REFRESH_EVERY: Duration = Duration::from_secs(3);
/// An unknown token triggers a read at most this often.
const REFRESH_ON_MISS: Duration = Duration::from_secs(1);
/// Failed attempts a peer may make per window before it is refused without a look.
const FAILURES_PER_WINDOW: u32 = 20;
const FAILURE_WINDOW: Duration = Duration::from_secs(10);

struct Inner {
    known: RwLock<HashMap<[u8; 32], Known>>,
    /// When the map was last read from the store; held while a miss reads it again.
    refreshed: tokio::sync::Mutex<Instant>,
    failures: RwLock<HashMap<IpAddr, (u32, Instant)>>,
}

/// The tokens a controller accepts. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
    pub admin_path: PathBuf,
    pub node_path: PathBuf,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("admin_path", &self.admin_path).finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(h: &str) -> Option<[u8; 32]> {
    let bytes: Vec<u8> = (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// A fresh secret: 32 random bytes, hex.
pub fn random_secret() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(hex(&bytes))
}

/// Reads `path`, or writes a fresh token there (readable by the owner only) first.
fn load_or_create(path: &Path) -> std::io::Result<(String, bool)> {
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => return Ok((t.trim().to_string(), false)),
        Ok(_) => {} // empty: replace it
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = random_secret()?;
    write_secret(path, &token)?;
    Ok((token, true))
}

/// Writes a secret to `path`, readable by the owner only, replacing what was there.
pub fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
    writeln!(f, "{secret}")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A token the controller is given rather than makes: `ROLE:NAME:FILE` (`--token-file`), the
/// secret read from FILE (a mounted Kubernetes Secret, say). Recorded in the store at start
/// like the tokens `vmafx tokens create` makes, so a platform can hand its operator a `submit`
/// token and its Prometheus a `read` one without anyone running the CLI. Revoking it by name
/// holds across restarts.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenFile {
    pub role: Role,
    pub name: String,
    pub path: PathBuf,
}

impl std::str::FromStr for TokenFile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, ':');
        let (role, name, path) = (parts.next().unwrap_or(""), parts.next(), parts.next());
        let (Some(name), Some(path)) = (name, path.filter(|p| !p.is_empty())) else {
            return Err(format!(
                "`{s}` is not ROLE:NAME:FILE (e.g. submit:operator:/etc/vmafx/operator.token)"
            ));
        };
        let role = Role::from_kind(role)
            .filter(|r| *r != Role::Node)
            .ok_or_else(|| format!("`{role}` in `{s}` is not read, submit, admin or join"))?;
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "the name `{name}` in `{s}` must be 1 to 64 letters, digits, `-`, `_` or `.`"
            ));
        }
        Ok(Self { role, name: name.into(), path: path.into() })
    }
}

impl TokenFile {
    /// The store's record of the token in the file.
    pub fn record(&self, now: i64) -> Result<TokenRecord, String> {
        let path = self.path.display();
        let secret =
            std::fs::read_to_string(&self.path).map_err(|e| format!("--token-file `{path}`: {e}"))?;
        let secret = secret.trim();
        if secret.len() < 32 {
            return Err(format!(
                "--token-file `{path}`: the token is {} characters; use at least 32 random ones (`openssl rand -hex 32`)",
                secret.len()
            ));
        }
        Ok(TokenRecord {
            hash: hex(&hash(secret)),
            kind: self.role.kind().into(),
            name: self.name.clone(),
            node_id: None,
            created_ms: now,
            revoked_ms: None,
        })
    }
}

/// A new token's record: the secret to hand out once, and what the store keeps.
pub fn new_token(
    role: Role,
    name: &str,
    node_id: Option<&str>,
    now: i64,
) -> std::io::Result<(String, TokenRecord)> {
    let secret = random_secret()?;
    let record = TokenRecord {
        hash: hex(&hash(&secret)),
        kind: role.kind().into(),
        name: name.into(),
        node_id: node_id.map(String::from),
        created_ms: now,
        revoked_ms: None,
    };
    Ok((secret, record))
}

impl Auth {
    /// Loads `admin.token` and `node.token` (the join token) from `dir`, creating them on
    /// first start. Returns the tokens, their records for the store, and whether they were
    /// just created. Until [`Auth::learn`] runs they are the only tokens accepted.
    pub fn load_or_create(dir: &Path, now: i64) -> std::io::Result<(Self, Vec<TokenRecord>, bool)> {
        let (admin_path, node_path) = (dir.join("admin.token"), dir.join("node.token"));
        let (admin, new_admin) = load_or_create(&admin_path)?;
        let (join, new_join) = load_or_create(&node_path)?;
        let record = |secret: &str, role: Role| TokenRecord {
            hash: hex(&hash(secret)),
            kind: role.kind().into(),
            name: role.kind().into(),
            node_id: None,
            created_ms: now,
            revoked_ms: None,
        };
        let records = vec![record(&admin, Role::Admin), record(&join, Role::Join)];
        let auth = Self {
            inner: Arc::new(Inner {
                known: RwLock::default(),
                refreshed: tokio::sync::Mutex::new(Instant::now()),
                failures: RwLock::default(),
            }),
            admin_path,
            node_path,
        };
        auth.learn(&records);
        Ok((auth, records, new_admin || new_join))
    }

    /// Accepts (or refuses, when revoked) exactly the tokens the store lists; rows that do not
    /// parse are ignored.
    pub fn learn(&self, stored: &[TokenRecord]) {
        let map = stored
            .iter()
            .filter_map(|t| {
                let caller = Caller {
                    role: Role::from_kind(&t.kind)?,
                    name: t.name.clone(),
                    node_id: t.node_id.clone(),
                };
                Some((unhex(&t.hash)?, Known { caller, revoked: t.revoked_ms.is_some() }))
            })
            .collect();
        *self.inner.known.write().unwrap_or_else(|p| p.into_inner()) = map;
    }

    /// Accepts one more token at once (made here; the store has it too).
    pub fn add(&self, t: &TokenRecord) {
        if let (Some(h), Some(role)) = (unhex(&t.hash), Role::from_kind(&t.kind)) {
            let caller = Caller { role, name: t.name.clone(), node_id: t.node_id.clone() };
            self.inner
                .known
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(h, Known { caller, revoked: false });
        }
    }

    /// Reads the store's tokens again.
    pub async fn refresh<S: Store>(&self, store: &S) -> Result<(), vmafx_store::StoreError> {
        let mut refreshed = self.inner.refreshed.lock().await;
        let stored = store.tokens().await?;
        self.learn(&stored);
        *refreshed = Instant::now();
        Ok(())
    }

    /// After a miss: reads the store again unless that happened since `asked`, waiting so
    /// that misses read it at most every [`REFRESH_ON_MISS`] (a node failing over from
    /// another controller, whose credential that one issued, waits at most that long).
    async fn refresh_after_miss<S: Store>(&self, store: &S, asked: Instant) {
        let mut refreshed = self.inner.refreshed.lock().await;
        if *refreshed > asked {
            return; // another call read the store meanwhile
        }
        let wait = REFRESH_ON_MISS.saturating_sub(refreshed.elapsed());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match store.tokens().await {
            Ok(stored) => self.learn(&stored),
            Err(e) => tracing::error!(error = %e, "reading the tokens failed"),
        }
        *refreshed = Instant::now();
    }

    fn lookup(&self, h: &[u8; 32]) -> Option<Known> {
        self.inner.known.read().unwrap_or_else(|p| p.into_inner()).get(h).cloned()
    }

    /// Who `authorization` (`Bearer <token>`) is, from `peer`.
    pub async fn authenticate<S: Store>(
        &self,
        store: &S,
        authorization: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<Caller, Denied> {
        if let Some(ip) = peer {
            // Every call reads this; only failures write it.
            let failures = self.inner.failures.read().unwrap_or_else(|p| p.into_inner());
            if let Some((n, since)) = failures.get(&ip) {
                if *n >= FAILURES_PER_WINDOW && since.elapsed() < FAILURE_WINDOW {
                    return Err(Denied::Throttled);
                }
            }
        }
        let result = self.check(store, authorization).await;
        if let Err(e) = &result {
            self.failed(e, peer);
        }
        result
    }

    async fn check<S: Store>(&self, store: &S, authorization: Option<&str>) -> Result<Caller, Denied> {
        let value = authorization.ok_or(Denied::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Denied::Missing)?;
        let asked = Instant::now();
        let h = hash(token);
        let known = match self.lookup(&h) {
            Some(k) => Some(k),
            None => {
                // Maybe made by another controller since the last read.
                self.refresh_after_miss(store, asked).await;
                self.lookup(&h)
            }
        };
        match known {
            Some(k) if k.revoked => Err(Denied::Revoked { name: k.caller.name }),
            Some(k) => Ok(k.caller),
            None => Err(Denied::Unknown),
        }
    }

    fn failed(&self, e: &Denied, peer: Option<IpAddr>) {
        let peer_text = peer.map(|p| p.to_string()).unwrap_or_default();
        match e {
            Denied::Revoked { name } => {
                tracing::warn!(peer = %peer_text, token = %name, "refused a revoked token")
            }
            Denied::Unknown => tracing::warn!(peer = %peer_text, "refused an unknown token"),
            Denied::Missing => tracing::debug!(peer = %peer_text, "refused a call without a token"),
            _ => {}
        }
        if let Some(ip) = peer {
            let mut failures = self.inner.failures.write().unwrap_or_else(|p| p.into_inner());
            let entry = failures.entry(ip).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= FAILURE_WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
            if entry.0 == FAILURES_PER_WINDOW {
                tracing::warn!(peer = %peer_text, "too many failed authentications: refusing this address for a while");
            }
            // Forget quiet peers now and then, so the map stays small.
            if failures.len() > 10_000 {
                failures.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn roles_nest_and_credentials_stand_apart() {
        assert!(Role::Admin.allows(Role::Submit) && Role::Admin.allows(Role::Read));
        assert!(Role::Submit.allows(Role::Read) && !Role::Submit.allows(Role::Admin));
        assert!(!Role::Read.allows(Role::Submit));
        for r in [Role::Read, Role::Submit, Role::Admin] {
            assert!(!r.allows(Role::Join) && !r.allows(Role::Node), "{r:?}");
            assert!(!Role::Join.allows(r) && !Role::Node.allows(r), "{r:?}");
        }
        assert!(!Role::Join.allows(Role::Node) && !Role::Node.allows(Role::Join));
        let node = Caller { role: Role::Node, name: "a".into(), node_id: Some("n1".into()) };
        assert!(node.is_node("n1").is_ok());
        assert_eq!(node.is_node("n2"), Err(Denied::OtherNode { holder: "n1".into(), claimed: "n2".into() }));
        let join = Caller { role: Role::Join, name: "join".into(), node_id: None };
        assert!(matches!(join.is_node("n1"), Err(Denied::Forbidden { .. })));
    }

    #[tokio::test]
    async fn tokens_are_made_once_private_and_checked_against_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = vmafx_store::SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        let (auth, records, created) = Auth::load_or_create(dir.path(), 1).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&auth.admin_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, _, created) = Auth::load_or_create(dir.path(), 2).unwrap();
        assert!(!created);
        for r in &records {
            store.put_token(r).await.unwrap();
        }
        let admin = std::fs::read_to_string(&auth.admin_path).unwrap();
        let join = std::fs::read_to_string(&auth.node_path).unwrap();
        let bearer = |t: &str| format!("Bearer {}", t.trim());
        let who = |a: &Auth, t: &str| {
            let (a, store, t) = (a.clone(), store.clone(), bearer(t));
            async move { a.authenticate(&store, Some(&t), None).await }
        };
        assert_eq!(who(&again, &admin).await.unwrap().role, Role::Admin);
        assert_eq!(who(&auth, &join).await.unwrap().role, Role::Join);
        assert_eq!(auth.authenticate(&store, None, None).await, Err(Denied::Missing));
        assert_eq!(who(&auth, "nope").await, Err(Denied::Unknown));

        // A token made by another controller is found in the store on a miss.
        let (secret, record) = new_token(Role::Read, "grafana", None, 3).unwrap();
        store.put_token(&record).await.unwrap();
        let caller = who(&auth, &secret).await.unwrap();
        assert_eq!((caller.role, caller.name.as_str()), (Role::Read, "grafana"));
        // Revoked: refused by name once the store is read again.
        store.revoke_tokens("grafana", None, 4).await.unwrap();
        auth.refresh(&store).await.unwrap();
        assert_eq!(who(&auth, &secret).await, Err(Denied::Revoked { name: "grafana".into() }));
    }

    #[tokio::test]
    async fn a_peer_that_keeps_failing_is_refused_without_a_look() {
        let dir = tempfile::tempdir().unwrap();
        let store = vmafx_store::SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        let (auth, records, _) = Auth::load_or_create(dir.path(), 1).unwrap();
        store.put_token(&records[0]).await.unwrap();
        let admin = format!("Bearer {}", std::fs::read_to_string(&auth.admin_path).unwrap().trim());
        let (bad, other): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        // At once, as an attacker would: the misses share one read of the store.
        let mut tries = tokio::task::JoinSet::new();
        for _ in 0..FAILURES_PER_WINDOW {
            let (auth, store) = (auth.clone(), store.clone());
            tries.spawn(async move { auth.authenticate(&store, Some("Bearer x"), Some(bad)).await });
        }
        while let Some(r) = tries.join_next().await {
            assert_eq!(r.unwrap(), Err(Denied::Unknown));
        }
        assert_eq!(auth.authenticate(&store, Some(&admin), Some(bad)).await, Err(Denied::Throttled));
        assert!(auth.authenticate(&store, Some(&admin), Some(other)).await.is_ok());
    }

    #[test]
    fn a_token_file_names_its_role_and_holds_a_long_enough_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("operator.token");
        std::fs::write(&path, format!("{}\n", "a".repeat(64))).unwrap();
        let spec: TokenFile = format!("submit:operator:{}", path.display()).parse().unwrap();
        assert_eq!((spec.role, spec.name.as_str()), (Role::Submit, "operator"));
        let record = spec.record(7).unwrap();
        assert_eq!((record.kind.as_str(), record.name.as_str()), ("submit", "operator"));
        assert_eq!(record.hash, hex(&hash(&"a".repeat(64))), "the file's secret, trimmed");

        for (bad, says) in [
            ("submit:operator", "is not ROLE:NAME:FILE"),
            ("root:x:/f", "`root` in `root:x:/f` is not read, submit, admin or join"),
            ("node:x:/f", "is not read, submit, admin or join"),
            ("read:a b:/f", "must be 1 to 64 letters"),
            ("read::/f", "must be 1 to 64 letters"),
        ] {
            let e = bad.parse::<TokenFile>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        std::fs::write(&path, "short\n").unwrap();
        assert!(spec.record(7).unwrap_err().contains("the token is 5 characters"));
        let missing: TokenFile = "read:grafana:/nonexistent/t".parse().unwrap();
        assert!(missing.record(7).unwrap_err().contains("--token-file `/nonexistent/t`"));
    }
}
