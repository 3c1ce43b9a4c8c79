//! [`AnyStore`]: the backend chosen at start (`--store`), behind the one [`Store`] contract.

use std::path::Path;

use tokio::sync::broadcast;

use crate::records::*;
use crate::{Millis, PgStore, SqliteStore, Store, StoreError, StoreEvent};

/// Either backend.
#[derive(Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Where the queue lives, as `--store` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file (`sqlite:PATH`): one controller.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database (`postgres://…`): several controllers may share it.
    Postgres(String),
}

impl std::str::FromStr for StoreLocation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_string()));
        }
        match s.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() => Ok(Self::Sqlite(path.trim_start_matches("//").into())),
            _ => Err(format!("`{s}` is not a store: give postgres://USER@HOST:PORT/DB or sqlite:PATH")),
        }
    }
}

impl std::fmt::Display for StoreLocation {
    /// The location without a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            Self::Postgres(url) => {
                // postgres://user:secret@host/db -> postgres://user:***@host/db
                match (url.find("://"), url.rfind('@')) {
                    (Some(scheme), Some(at)) if url[scheme + 3..at].contains(':') => {
                        let colon = scheme + 3 + url[scheme + 3..at].find(':').unwrap_or(0);
                        write!(f, "{}:***{}", &url[..colon], &url[at..])
                    }
                    _ => f.write_str(url),
                }
            }
        }
    }
}

impl AnyStore {
    /// Opens the store at `location`, creating and migrating it as needed.
    pub async fn open(location: &StoreLocation) -> Result<Self, StoreError> {
        Ok(match location {
            StoreLocation::Sqlite(path) => Self::Sqlite(SqliteStore::open(Path::new(path)).await?),
            StoreLocation::Postgres(url) => Self::Postgres(PgStore::connect(url).await?),
        })
    }
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::Postgres($s) => $e,
        }
    };
}

impl Store for AnyStore {
    async fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        both!(self, s => s.job(id).await)
    }

    async fn list_jobs(&self, query: JobQuery) -> Result<Vec<JobRecord>, StoreError> {
        both!(self, s => s.list_jobs(query).await)
    }

    async fn set_job_vmaf(&self, id: &str, vmaf: f64) -> Result<(), StoreError> {
        both!(self, s => s.set_job_vmaf(id, vmaf).await)
    }

    async fn items(&self, job_id: &str) -> Result<Vec<ItemRecord>, StoreError> {
        both!(self, s => s.items(job_id).await)
    }

    async fn items_without_results(&self, job_id: &str) -> Result<Vec<ItemRecord>, StoreError> {
        both!(self, s => s.items_without_results(job_id).await)
    }

    async fn report_context(&self, item: i64) -> Result<Option<ReportContext>, StoreError> {
        both!(self, s => s.report_context(item).await)
    }

    async fn cancel(&self, id: &str, now: Millis) -> Result<Option<JobRecord>, StoreError> {
        both!(self, s => s.cancel(id, now).await)
    }

    async fn candidates(&self, now: Millis, limit: u32) -> Result<Vec<Candidate>, StoreError> {
        both!(self, s => s.candidates(now, limit).await)
    }

    async fn lease(
        &self,
        item: i64,
        node: &str,
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Option<Lease>, StoreError> {
        both!(self, s => s.lease(item, node, now, ttl_ms).await)
    }

    async fn requirement_keys(&self) -> Result<Vec<String>, StoreError> {
        both!(self, s => s.requirement_keys().await)
    }

    async fn settle_failed(
        &self,
        item: i64,
        fence: i64,
        transition: &Transition,
        now: Millis,
    ) -> Result<Completion, StoreError> {
        both!(self, s => s.settle_failed(item, fence, transition, now).await)
    }

    async fn expired_leases(&self, now: Millis, limit: u32) -> Result<Vec<ItemRecord>, StoreError> {
        both!(self, s => s.expired_leases(now, limit).await)
    }

    async fn settle_expired(
        &self,
        item: i64,
        fence: i64,
        transition: &Transition,
        now: Millis,
    ) -> Result<Completion, StoreError> {
        both!(self, s => s.settle_expired(item, fence, transition, now).await)
    }

    async fn prune(&self, ended_before: Millis, seen_before: Millis) -> Result<Pruned, StoreError> {
        both!(self, s => s.prune(ended_before, seen_before).await)
    }

    async fn upsert_node(&self, node: &NodeRecord) -> Result<(), StoreError> {
        both!(self, s => s.upsert_node(node).await)
    }

    async fn touch_node(&self, id: &str, now: Millis) -> Result<Option<bool>, StoreError> {
        both!(self, s => s.touch_node(id, now).await)
    }

    async fn set_draining(&self, id: &str, draining: bool) -> Result<bool, StoreError> {
        both!(self, s => s.set_draining(id, draining).await)
    }

    async fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        both!(self, s => s.nodes().await)
    }

    async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        both!(self, s => s.put_token(token).await)
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        both!(self, s => s.tokens().await)
    }

    async fn revoke_tokens(&self, name: &str, kind: Option<&str>, now: Millis) -> Result<u64, StoreError> {
        both!(self, s => s.revoke_tokens(name, kind, now).await)
    }

    async fn remove_node(&self, id: &str, now: Millis) -> Result<bool, StoreError> {
        both!(self, s => s.remove_node(id, now).await)
    }

    async fn stats(&self) -> Result<QueueStats, StoreError> {
        both!(self, s => s.stats().await)
    }

    async fn pending_items(&self) -> Result<u64, StoreError> {
        both!(self, s => s.pending_items().await)
    }

    async fn extend(
        &self,
        node: &str,
        leases: &[(i64, i64)],
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Vec<i64>, StoreError> {
        both!(self, s => s.extend(node, leases, now, ttl_ms).await)
    }

    async fn import_job(&self, job: &JobRecord, items: &[ItemRecord]) -> Result<bool, StoreError> {
        both!(self, s => s.import_job(job, items).await)
    }

    async fn raise_fence(&self, fence: i64) -> Result<(), StoreError> {
        both!(self, s => s.raise_fence(fence).await)
    }

    async fn submit_many(
        &self,
        jobs: Vec<NewJob>,
        now: Millis,
    ) -> Result<Vec<(JobRecord, bool)>, StoreError> {
        both!(self, s => s.submit_many(jobs, now).await)
    }

    async fn lease_many(
        &self,
        pulls: &[Pull],
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Vec<Option<Lease>>, StoreError> {
        both!(self, s => s.lease_many(pulls, now, ttl_ms).await)
    }

    async fn complete_many(
        &self,
        reports: &[ItemResult],
        now: Millis,
    ) -> Result<Vec<Completion>, StoreError> {
        both!(self, s => s.complete_many(reports, now).await)
    }

    fn subscribe(&self) -> Option<broadcast::Receiver<StoreEvent>> {
        both!(self, s => s.subscribe())
    }

    fn concurrent_batches(&self) -> usize {
        both!(self, s => s.concurrent_batches())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_print_without_secrets() {
        let pg: StoreLocation = "postgres://vmafx:hunter2@db:5432/queue".parse().unwrap();
        assert_eq!(pg.to_string(), "postgres://vmafx:***@db:5432/queue");
        assert_eq!("postgresql://db/q".parse::<StoreLocation>().unwrap().to_string(), "postgresql://db/q");
        assert_eq!("sqlite:/var/lib/q.db".parse(), Ok(StoreLocation::Sqlite("/var/lib/q.db".into())));
        let e = "mysql://x".parse::<StoreLocation>().unwrap_err();
        assert!(e.contains("postgres://") && e.contains("sqlite:"), "{e}");
    }
}
