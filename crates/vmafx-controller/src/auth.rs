//! API tokens: made on first start, kept in the data directory (mode 0600), checked on every
//! call as `authorization: Bearer <token>`. Only their SHA-256 is held in memory and in the
//! store; controllers sharing a store accept each other's tokens (learned from the store).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

/// Who may call what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Clients: the job API (and anything a node may do).
    Admin,
    /// Workers: the node API only.
    Node,
}

/// The token hashes the controller accepts.
#[derive(Debug, Clone)]
pub struct Tokens {
    admin: [u8; 32],
    node: [u8; 32],
    pub admin_path: PathBuf,
    pub node_path: PathBuf,
    /// Hashes other controllers on the same store made ([`Tokens::learn`]).
    shared: Arc<RwLock<HashMap<[u8; 32], Role>>>,
}

impl Role {
    /// The name the store keeps.
    pub fn kind(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Node => "node",
        }
    }

    fn from_kind(kind: &str) -> Option<Self> {
        match kind {
            "admin" => Some(Role::Admin),
            "node" => Some(Role::Node),
            _ => None,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads `path`, or writes a fresh token there (readable by the owner only) first.
fn load_or_create(path: &Path) -> std::io::Result<(String, bool)> {
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => return Ok((t.trim().to_string(), false)),
        Ok(_) => {} // empty: replace it
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = random_token()?;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    writeln!(f, "{token}")?;
    Ok((token, true))
}

impl Tokens {
    /// Loads `admin.token` and `node.token` from `dir`, creating them on first start.
    /// Returns the tokens and whether they were just created.
    pub fn load_or_create(dir: &Path) -> std::io::Result<(Self, bool)> {
        let (admin_path, node_path) = (dir.join("admin.token"), dir.join("node.token"));
        let (admin, new_admin) = load_or_create(&admin_path)?;
        let (node, new_node) = load_or_create(&node_path)?;
        let tokens =
            Self { admin: hash(&admin), node: hash(&node), admin_path, node_path, shared: Arc::default() };
        Ok((tokens, new_admin || new_node))
    }

    /// This controller's token hashes as the store keeps them: (hex SHA-256, kind).
    pub fn stored(&self) -> [(String, &'static str); 2] {
        [(hex(&self.admin), Role::Admin.kind()), (hex(&self.node), Role::Node.kind())]
    }

    /// Accepts the tokens the store lists (hex SHA-256 and kind), replacing those learned
    /// before; entries that do not parse are ignored.
    pub fn learn(&self, stored: &[(String, String)]) {
        let learned = stored
            .iter()
            .filter_map(|(h, kind)| {
                let role = Role::from_kind(kind)?;
                let bytes: Vec<u8> = (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
                    .collect::<Option<_>>()?;
                Some((<[u8; 32]>::try_from(bytes).ok()?, role))
            })
            .collect();
        *self.shared.write().unwrap_or_else(|p| p.into_inner()) = learned;
    }

    /// The role a request's bearer token grants, if any.
    pub fn role<T>(&self, req: &Request<T>) -> Option<Role> {
        self.role_of(req.metadata().get("authorization")?.to_str().ok()?)
    }

    /// The role an `authorization` header value (`Bearer <token>`) grants, if any.
    pub fn role_of(&self, value: &str) -> Option<Role> {
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
        let h = hash(token);
        if h == self.admin {
            Some(Role::Admin)
        } else if h == self.node {
            Some(Role::Node)
        } else {
            self.shared.read().unwrap_or_else(|p| p.into_inner()).get(&h).copied()
        }
    }

    /// A gRPC interceptor that admits `allowed` roles.
    pub fn interceptor(
        &self,
        allowed: &'static [Role],
    ) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + Send + Sync + 'static {
        let tokens = self.clone();
        move |req: Request<()>| {
            match tokens.role(&req) {
            Some(role) if allowed.contains(&role) => Ok(req),
            Some(_) => Err(Status::permission_denied("this token may not call this API")),
            None => Err(Status::unauthenticated(
                "missing or wrong token: send `authorization: Bearer <token>` (see admin.token in --data-dir)",
            )),
        }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn tokens_are_made_once_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let (t, created) = Tokens::load_or_create(dir.path()).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&t.admin_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, created) = Tokens::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(again.admin, t.admin);
        let admin = std::fs::read_to_string(&t.admin_path).unwrap();
        let node = std::fs::read_to_string(&t.node_path).unwrap();
        assert_ne!(admin, node);
        let with = |v: String| {
            let mut r = Request::new(());
            r.metadata_mut().insert("authorization", v.parse().unwrap());
            r
        };
        assert_eq!(t.role(&with(format!("Bearer {}", admin.trim()))), Some(Role::Admin));
        assert_eq!(t.role(&with(format!("Bearer {}", node.trim()))), Some(Role::Node));
        assert_eq!(t.role(&with("Bearer nope".into())), None);
        assert_eq!(t.role(&Request::new(())), None);
        let mut only_admin = t.interceptor(&[Role::Admin]);
        assert_eq!(
            only_admin(with(format!("Bearer {}", node.trim()))).unwrap_err().code(),
            tonic::Code::PermissionDenied
        );
        assert_eq!(only_admin(Request::new(())).unwrap_err().code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn tokens_of_other_controllers_are_learned_from_the_store() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (ta, _) = Tokens::load_or_create(a.path()).unwrap();
        let (tb, _) = Tokens::load_or_create(b.path()).unwrap();
        let b_admin = std::fs::read_to_string(&tb.admin_path).unwrap();
        let b_node = std::fs::read_to_string(&tb.node_path).unwrap();
        let bearer = |t: &str| format!("Bearer {}", t.trim());
        assert_eq!(ta.role_of(&bearer(&b_admin)), None);
        let stored: Vec<(String, String)> = tb
            .stored()
            .into_iter()
            .map(|(h, k)| (h, k.to_string()))
            .chain([("zz".into(), "admin".into())])
            .collect();
        ta.learn(&stored);
        assert_eq!(ta.role_of(&bearer(&b_admin)), Some(Role::Admin));
        assert_eq!(ta.role_of(&bearer(&b_node)), Some(Role::Node), "a node token stays a node token");
        ta.learn(&[]);
        assert_eq!(ta.role_of(&bearer(&b_admin)), None, "forgotten once the store no longer lists it");
    }
}
