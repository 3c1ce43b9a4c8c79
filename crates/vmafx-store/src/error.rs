//! Errors of the store.

use std::sync::Arc;

/// Cheap to clone: one failed batch answers every request in it with the same error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(Arc<sqlx::Error>),
    #[error("database migration failed: {0}")]
    Migrate(Arc<sqlx::migrate::MigrateError>),
    #[error("corrupt record in the store: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(Arc::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(Arc::new(e))
    }
}

impl StoreError {
    /// The store cannot write for want of space or because its device fails: the service is
    /// unavailable until an operator acts, but nothing already committed is lost.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else { return false };
        if let Some(db) = e.as_database_error() {
            // SQLITE_FULL (13), SQLITE_IOERR (10) and its extended codes, SQLITE_CANTOPEN (14).
            let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
            return matches!(code & 0xff, 10 | 13 | 14);
        }
        matches!(**e, sqlx::Error::Io(_))
    }
}
