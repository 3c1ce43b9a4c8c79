//! Finding the token to show a controller: the one given (`--token` or `VMAFX_TOKEN`), else
//! the one the controller wrote into its data directory, for tools run on its machine.

use std::path::PathBuf;

/// Which API a token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// The job API: clients (CLI, vmafx-tune, vmafx-mcp).
    Admin,
    /// The node API: workers.
    Node,
}

impl TokenKind {
    fn file(self) -> &'static str {
        match self {
            TokenKind::Admin => "admin.token",
            TokenKind::Node => "node.token",
        }
    }

    fn name(self) -> &'static str {
        match self {
            TokenKind::Admin => "admin",
            TokenKind::Node => "node",
        }
    }
}

/// No token was given and none was found where the controller writes it.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "no {kind} token: pass --token or set VMAFX_TOKEN; on the controller's machine it is read from \
     `{path}` (the controller's --data-dir; set VMAFX_DATA_DIR if that is elsewhere), which {why}"
)]
pub struct MissingToken {
    pub kind: &'static str,
    pub path: String,
    pub why: &'static str,
}

/// Where a controller on this machine keeps `kind`'s token: `$VMAFX_DATA_DIR/FILE`, else
/// `vmafx-data/FILE` in the working directory (where `vmafx up` and `vmafx-controller` write
/// it by default).
pub fn local_token_path(kind: TokenKind) -> PathBuf {
    local_data_dir().join(kind.file())
}

/// Where a controller on this machine keeps the CA it made: `tls/ca.pem` in the same data
/// directory as the tokens.
pub fn local_ca_path() -> PathBuf {
    local_data_dir().join("tls").join("ca.pem")
}

fn local_data_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("VMAFX_DATA_DIR").unwrap_or_else(|| "vmafx-data".into()))
}

/// The token to use: `given` when set (not blank), else the local controller's.
pub fn find_token(kind: TokenKind, given: Option<&str>) -> Result<String, MissingToken> {
    if let Some(t) = given.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(t.to_string());
    }
    let path = local_token_path(kind);
    let missing = |why| MissingToken { kind: kind.name(), path: path.display().to_string(), why };
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        Ok(_) => Err(missing("is empty")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(missing("does not exist")),
        Err(_) => Err(missing("cannot be read")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_token_wins_and_a_missing_one_says_where_it_was_looked_for() {
        assert_eq!(find_token(TokenKind::Node, Some(" t0k \n")).unwrap(), "t0k");
        let dir = tempfile::tempdir().unwrap();
        // The only test in this crate that sets the variable.
        std::env::set_var("VMAFX_DATA_DIR", dir.path());
        let e = find_token(TokenKind::Node, Some("")).unwrap_err().to_string();
        assert!(e.contains(&format!("`{}`", dir.path().join("node.token").display())), "{e}");
        assert!(e.contains("does not exist") && e.contains("--token"), "{e}");
        std::fs::write(dir.path().join("node.token"), "abc\n").unwrap();
        assert_eq!(find_token(TokenKind::Node, None).unwrap(), "abc");
        assert!(find_token(TokenKind::Admin, None).unwrap_err().to_string().contains("admin.token"));
    }
}
