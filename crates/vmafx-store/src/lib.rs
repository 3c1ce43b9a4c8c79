//! Durable state of the controller: jobs, work items, leases with fencing tokens, nodes and
//! API tokens.
//!
//! [`Store`] is the contract; [`SqliteStore`] keeps everything in one SQLite file (the
//! default, single controller). Every state change is one transaction, so a controller that
//! dies at any point restarts into a consistent queue: an accepted job is never lost, a lease
//! that expires puts its item back with backoff, and a result carrying a stale fencing token
//! is refused, so results apply at most once while work runs at least once.

mod any;
pub mod codec;
mod error;
mod migrate;
mod postgres;
mod records;
mod rows;
mod sqlite;

pub use any::{AnyStore, StoreLocation};
pub use error::StoreError;
pub use migrate::{migrate, Migrated};
pub use postgres::PgStore;
pub use records::{
    Candidate, Completion, ItemRecord, ItemResult, JobQuery, JobRecord, Lease, NewJob, NodeRecord, Pruned,
    Pull, QueueStats, ReportContext, RequirementWork, TokenRecord, Transition,
};
pub use sqlite::SqliteStore;

use std::future::Future;

use vmafx_core::SegmentResult;

/// A change another controller made, as the store relays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// Work may have become leasable: a submission (with its jobs' requirement key, see
    /// [`vmafx_core::Requirements::key`]) or a retry (`None`: a key already announced).
    Work { requirement: Option<String> },
    /// An item of this job finished or failed, or the job was cancelled.
    Changed { job_id: String },
}

/// Milliseconds since the Unix epoch; every time in the store is one.
pub type Millis = i64;

/// The operations the controller needs from durable state. Implementations make each call
/// atomic.
pub trait Store: Send + Sync + 'static {
    /// Records a job and its work items; with an idempotency key already used, returns the
    /// existing job and `false`.
    fn submit(
        &self,
        job: NewJob,
        now: Millis,
    ) -> impl Future<Output = Result<(JobRecord, bool), StoreError>> + Send {
        async move {
            let mut done = self.submit_many(vec![job], now).await?;
            done.pop().ok_or_else(|| StoreError::Corrupt("a submission went unanswered".into()))
        }
    }
    /// [`Store::submit`] for several jobs in one durable commit (group commit), in order.
    fn submit_many(
        &self,
        jobs: Vec<NewJob>,
        now: Millis,
    ) -> impl Future<Output = Result<Vec<(JobRecord, bool)>, StoreError>> + Send;
    fn job(&self, id: &str) -> impl Future<Output = Result<Option<JobRecord>, StoreError>> + Send;
    /// A page of jobs in submission order (or its reverse), as `query` says.
    fn list_jobs(&self, query: JobQuery) -> impl Future<Output = Result<Vec<JobRecord>, StoreError>> + Send;
    /// Records the pooled VMAF of a succeeded job (see [`JobRecord::vmaf`]).
    fn set_job_vmaf(&self, id: &str, vmaf: f64) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn items(&self, job_id: &str) -> impl Future<Output = Result<Vec<ItemRecord>, StoreError>> + Send;
    /// A job's items without their results (`result` is `None`): what watching a job needs,
    /// without rereading every segment's scores.
    fn items_without_results(
        &self,
        job_id: &str,
    ) -> impl Future<Output = Result<Vec<ItemRecord>, StoreError>> + Send;
    /// A work item (without its result) with what judging a report on it needs: its job's
    /// spec and frame count. One read, on the report path.
    fn report_context(
        &self,
        item: i64,
    ) -> impl Future<Output = Result<Option<ReportContext>, StoreError>> + Send;
    /// Cancels a job that has not finished; its pending and leased items are cancelled too.
    fn cancel(
        &self,
        id: &str,
        now: Millis,
    ) -> impl Future<Output = Result<Option<JobRecord>, StoreError>> + Send;
    /// Items that could be leased now, highest priority first, then oldest job, then segment.
    fn candidates(
        &self,
        now: Millis,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Candidate>, StoreError>> + Send;
    /// Leases `item` to `node` if it is still pending; the lease carries a fresh fencing token.
    fn lease(
        &self,
        item: i64,
        node: &str,
        now: Millis,
        ttl_ms: Millis,
    ) -> impl Future<Output = Result<Option<Lease>, StoreError>> + Send;
    /// Leases the best item that could be leased now (highest priority, then oldest job, then
    /// segment order) to `node`, choosing and leasing in one transaction so that concurrent
    /// pulls never race for the same item. `None` when nothing is pending.
    /// Only items whose requirement key is in `eligible` are considered (the keys the node
    /// satisfies, from [`Store::requirement_keys`]).
    fn lease_next(
        &self,
        node: &str,
        now: Millis,
        ttl_ms: Millis,
        eligible: &[String],
    ) -> impl Future<Output = Result<Option<Lease>, StoreError>> + Send {
        async move {
            let pull = Pull { node: node.to_string(), eligible: eligible.to_vec() };
            Ok(self.lease_many(std::slice::from_ref(&pull), now, ttl_ms).await?.pop().flatten())
        }
    }
    /// [`Store::lease_next`] for several pulls in one transaction, answered in order (each
    /// gets a different item, or `None` once nothing it can run is left).
    fn lease_many(
        &self,
        pulls: &[Pull],
        now: Millis,
        ttl_ms: Millis,
    ) -> impl Future<Output = Result<Vec<Option<Lease>>, StoreError>> + Send;
    /// Every requirement key submitted so far (those of the pending items among them): what
    /// a starting controller matches pulls against. One small read, however long the queue.
    fn requirement_keys(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Extends `node`'s leases that still match their fencing tokens; returns the items of
    /// those that no longer do (cancelled or taken away), which the node should stop.
    fn extend(
        &self,
        node: &str,
        leases: &[(i64, i64)],
        now: Millis,
        ttl_ms: Millis,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Records an item's result if `fence` is its current lease's token; the job succeeds with
    /// its last item.
    fn complete(
        &self,
        item: i64,
        fence: i64,
        result: &SegmentResult,
        now: Millis,
    ) -> impl Future<Output = Result<Completion, StoreError>> + Send {
        async move {
            let report = ItemResult { item, fence, result: result.clone() };
            let mut done = self.complete_many(std::slice::from_ref(&report), now).await?;
            done.pop().ok_or_else(|| StoreError::Corrupt("a result went unanswered".into()))
        }
    }
    /// [`Store::complete`] for several results in one transaction, answered in order.
    fn complete_many(
        &self,
        reports: &[ItemResult],
        now: Millis,
    ) -> impl Future<Output = Result<Vec<Completion>, StoreError>> + Send;
    /// Ends a failed attempt as `transition` says (decided by the controller's scheduling
    /// rules from the item as [`Store::report_context`] read it), if `fence` is still the
    /// item's current lease token.
    fn settle_failed(
        &self,
        item: i64,
        fence: i64,
        transition: &Transition,
        now: Millis,
    ) -> impl Future<Output = Result<Completion, StoreError>> + Send;
    /// Leased items (without results) whose lease expired before `now`, at most `limit`.
    fn expired_leases(
        &self,
        now: Millis,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ItemRecord>, StoreError>> + Send;
    /// Ends an attempt whose lease expired as `transition` says, if `fence` is still the
    /// item's lease token and the lease is still expired at `now` (a heartbeat in between
    /// wins). Several controllers may sweep at once: only one settles each lease.
    fn settle_expired(
        &self,
        item: i64,
        fence: i64,
        transition: &Transition,
        now: Millis,
    ) -> impl Future<Output = Result<Completion, StoreError>> + Send;
    /// Deletes jobs (with their items) that ended before `ended_before`, and nodes last seen
    /// before `seen_before` that hold no lease. Returns how many of each went.
    fn prune(
        &self,
        ended_before: Millis,
        seen_before: Millis,
    ) -> impl Future<Output = Result<Pruned, StoreError>> + Send;
    fn upsert_node(&self, node: &NodeRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Marks the node seen at `now` (never moving its time back); its draining flag, or `None`
    /// for an unknown node. The controller calls it at most every few hundred milliseconds
    /// per node, whatever the node's pull rate.
    fn touch_node(
        &self,
        id: &str,
        now: Millis,
    ) -> impl Future<Output = Result<Option<bool>, StoreError>> + Send;
    /// Sets or clears the node's draining flag (no new work while set); `false` for an
    /// unknown node.
    fn set_draining(&self, id: &str, draining: bool)
        -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn nodes(&self) -> impl Future<Output = Result<Vec<NodeRecord>, StoreError>> + Send;
    /// Records a token; one with the same hash already there stays as it is.
    fn put_token(&self, token: &TokenRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every token, revoked ones included, oldest first: what the controllers sharing this
    /// store accept (and refuse).
    fn tokens(&self) -> impl Future<Output = Result<Vec<TokenRecord>, StoreError>> + Send;
    /// Revokes the tokens not yet revoked whose name is `name` (tokens of `kind`, or any kind
    /// but node credentials when `None`); returns how many.
    fn revoke_tokens(
        &self,
        name: &str,
        kind: Option<&str>,
        now: Millis,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Removes a node: its record goes and its credentials are revoked (a removed node is
    /// refused; it may join again with the join token as a new node). `false`: no such node.
    fn remove_node(&self, id: &str, now: Millis) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records a job and its items exactly as another store holds them (states, attempts,
    /// fences, results), for moving a queue between backends; `false` (nothing written) when a
    /// job with this id is already here. Submission order is the order of the calls.
    fn import_job(
        &self,
        job: &JobRecord,
        items: &[ItemRecord],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Makes every fencing token handed out from now on greater than `fence`.
    fn raise_fence(&self, fence: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Changes made through other handles on the same database (other controllers), as they
    /// commit; `None` when nothing else can write (one SQLite file, one controller).
    fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<StoreEvent>> {
        None
    }
    /// How many batches of one kind (leases, results, submissions) may run at once: more than
    /// one where the backend runs transactions in parallel.
    fn concurrent_batches(&self) -> usize {
        1
    }
    /// Figures for `/metrics`.
    fn stats(&self) -> impl Future<Output = Result<QueueStats, StoreError>> + Send;
    /// Work items waiting for a node (cheaper than [`Store::stats`]: one index range).
    fn pending_items(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
