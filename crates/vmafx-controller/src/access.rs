//! Nodes' credentials and the API tokens, as the controller changes them: issued, revoked,
//! rotated. The secrets are handed out once; the store keeps their SHA-256 ([`crate::auth`]).

use vmafx_store::{NodeRecord, Store, TokenRecord};

use crate::auth::{new_token, Role};
use crate::{now_ms, Controller, ControllerError};

/// Longest token name.
pub const MAX_TOKEN_NAME: usize = 64;

impl<S: Store> Controller<S> {
    /// Whether a node with this id is registered.
    pub async fn node_exists(&self, id: &str) -> Result<bool, ControllerError> {
        Ok(self.store.nodes().await?.iter().any(|n| n.id == id))
    }

    /// A fresh credential for `node`, valid for it only: the secret, and what the store keeps.
    pub async fn issue_node_credential(
        &self,
        node: &NodeRecord,
    ) -> Result<(String, TokenRecord), ControllerError> {
        let (secret, record) = new_token(Role::Node, &node.name, Some(&node.id), now_ms())
            .map_err(|e| ControllerError::Internal(format!("cannot make a credential: {e}")))?;
        self.store.put_token(&record).await?;
        Ok((secret, record))
    }

    /// Forgets a node and revokes its credentials; its leases expire and go back to the queue.
    pub async fn remove_node(&self, id: &str) -> Result<(), ControllerError> {
        if !self.store.remove_node(id, now_ms()).await? {
            return Err(ControllerError::NodeNotFound(id.into()));
        }
        self.forget_touch(id);
        Ok(())
    }

    /// A new API token: role `read`, `submit` or `admin`, and a name that says whose it is.
    pub async fn create_token(
        &self,
        role: &str,
        name: &str,
    ) -> Result<(String, TokenRecord), ControllerError> {
        let role = match Role::from_kind(role) {
            Some(r @ (Role::Read | Role::Submit | Role::Admin)) => r,
            _ => {
                return Err(ControllerError::invalid(
                    "role",
                    format!("`{role}` is not read, submit or admin"),
                ))
            }
        };
        check_token_name(name)?;
        let (secret, record) = new_token(role, name, None, now_ms())
            .map_err(|e| ControllerError::Internal(format!("cannot make a token: {e}")))?;
        self.store.put_token(&record).await?;
        Ok((secret, record))
    }

    /// Revokes every token called `name` (not node credentials: remove the node for that);
    /// how many there were.
    pub async fn revoke_token(&self, name: &str) -> Result<u64, ControllerError> {
        let n = self.store.revoke_tokens(name, None, now_ms()).await?;
        if n == 0 {
            return Err(ControllerError::invalid(
                "name",
                format!("no token called `{name}` that is not revoked"),
            ));
        }
        Ok(n)
    }

    /// Revokes every join token and makes a new one; registered nodes keep their credentials.
    pub async fn rotate_join_token(&self) -> Result<(String, TokenRecord), ControllerError> {
        let now = now_ms();
        self.store.revoke_tokens(Role::Join.kind(), Some(Role::Join.kind()), now).await?;
        let (secret, record) = new_token(Role::Join, Role::Join.kind(), None, now)
            .map_err(|e| ControllerError::Internal(format!("cannot make a token: {e}")))?;
        self.store.put_token(&record).await?;
        Ok((secret, record))
    }
}

/// A token name: 1 to 64 letters, digits, `-`, `_` or `.`.
fn check_token_name(name: &str) -> Result<(), ControllerError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TOKEN_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ControllerError::invalid(
            "name",
            format!("`{name}`: use 1 to {MAX_TOKEN_NAME} letters, digits, -, _ or ."),
        ))
    }
}
