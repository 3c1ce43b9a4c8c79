//! Errors of the store.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt record in the store: {0}")]
    Corrupt(String),
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
        matches!(e, sqlx::Error::Io(_))
    }
}
