//! [`Store`] on PostgreSQL: the queue a team already runs, shared by several controllers.
//!
//! - Durability is split by what a client was promised, as on SQLite: submissions, cancels
//!   and every other change commit durably (`synchronous_commit` as the server sets it);
//!   leases and results commit with `synchronous_commit = off`, so that a database crash
//!   can forget only the last moments of dispatch, which is then redone (the same scores).
//!   So that a forgotten lease's fencing token is never handed out again, every new
//!   connection moves the fence sequence past anything that may have been lost.
//! - Pulls lease with `FOR UPDATE SKIP LOCKED`, so concurrent pulls, on one controller or
//!   several, never wait on each other's candidate rows and never share an item.
//! - Fencing tokens come from a sequence: never reused, even across crashes (see above).
//! - Changes that wake pulls and watches are sent with `NOTIFY` inside the transaction (so
//!   they arrive only once committed) and relayed to every controller by [`Store::subscribe`].
//! - Transactions touch item rows before their job's row, so that they cannot deadlock; a
//!   transaction PostgreSQL aborts anyway (deadlock, serialization) is run again.
//! - Migrations take PostgreSQL's advisory lock (sqlx's migrator), so controllers starting
//!   together migrate once.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
// Queries are formatted only from the column-list constants below; values are always bound.
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};
use tokio::sync::broadcast;
use vmafx_core::JobState;

use crate::codec;
use crate::records::*;
use crate::rows::{item_from_row, job_from_row, parse};
use crate::{Millis, Store, StoreError, StoreEvent};

/// A handle on the queue in a PostgreSQL database. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    events: broadcast::Sender<StoreEvent>,
}

const JOB_COLUMNS: &str = "j.seq, j.id, j.idempotency_key, j.spec, j.state, j.priority, j.total_frames, \
     j.submitted_ms, j.started_ms, j.finished_ms, j.error, j.items_total, \
     j.items_total - j.items_left AS items_done, j.vmaf, j.owner";

const ITEM_COLUMNS: &str =
    "id, job_id, idx, start_frame, frames, state, attempts, not_before_ms, lease_node, \
     lease_expires_ms, fence, result, result_version, last_error";

/// The settings of a dispatch transaction (leases, results): commit without waiting for the
/// disk (see the module documentation), and walk the dispatch index in its order rather
/// than sort what a bitmap scan finds: on a queue's churning table the statistics lag, and
/// the planner, thinking a handful of items pending, sorted thousands on every pull.
/// (Penalising sorts makes plans look costly enough for JIT compilation, which alone takes
/// longer than the query: JIT is off on every connection.)
/// They go with the `BEGIN`, as one simple query: one round trip fewer per transaction on
/// the dispatch path, where round trips are most of the server's work.
const DISPATCH_BEGIN: &str = "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL enable_sort = off; \
                              SET LOCAL enable_bitmapscan = off";

/// Before the requirement key in a `WORK` notification of new jobs (a retry sends none).
const KEY_PREFIX: &str = "key:";

/// The channels changes are announced on.
const WORK: &str = "vmafx_work";
const CHANGED: &str = "vmafx_changed";

/// More leases than can be granted between two durable commits: the fence sequence jumps
/// this far on every new connection.
const FENCE_GAP_ON_CONNECT: i64 = 1 << 32;

/// Connections per controller: pulls, heartbeats and reports run concurrently.
const POOL_SIZE: u32 = 16;

/// How often a transaction PostgreSQL aborted for a conflict is tried again.
const CONFLICT_RETRIES: usize = 8;

/// Runs `$body` (with `$conn`, the transaction's connection) in a transaction, again when
/// PostgreSQL aborts it for a deadlock or a serialization conflict. `return` in the body
/// ends the attempt with that value.
macro_rules! in_tx {
    ($store:expr, $conn:ident, relaxed, $body:block) => {
        in_tx!(@run $store, $conn, $store.pool.begin_with(DISPATCH_BEGIN), $body)
    };
    ($store:expr, $conn:ident, $body:block) => {
        in_tx!(@run $store, $conn, $store.pool.begin(), $body)
    };
    (@run $store:expr, $conn:ident, $begin:expr, $body:block) => {{
        let mut tries = 0;
        loop {
            let mut tx = $begin.await?;
            let attempt: Result<_, StoreError> = async {
                let $conn: &mut PgConnection = &mut *tx;
                $body
            }
            .await;
            let result = match attempt {
                Ok(v) => tx.commit().await.map(|_| v).map_err(StoreError::from),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            };
            match result {
                Err(StoreError::Database(e)) if tries < CONFLICT_RETRIES && is_conflict(&e) => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(2 << tries)).await;
                }
                other => break other,
            }
        }
    }};
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`), brings the schema up to date and
    /// starts relaying other controllers' changes.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // Queue queries are short: compiling them costs more than it saves.
                    sqlx::query("SET jit = off").execute(&mut *conn).await?;
                    // Past any fence a commit lost in a database crash may have handed out
                    // (before the schema exists there is nothing to move).
                    let exists: bool = sqlx::query_scalar("SELECT to_regclass('fence_seq') IS NOT NULL")
                        .fetch_one(&mut *conn)
                        .await?;
                    if exists {
                        sqlx::query("SELECT setval('fence_seq', nextval('fence_seq') + $1)")
                            .bind(FENCE_GAP_ON_CONNECT)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let (events, _) = broadcast::channel(1024);
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen_all([WORK, CHANGED]).await?;
        let relay = events.clone();
        tokio::spawn(async move {
            loop {
                // `recv` reconnects after a lost connection; what was sent meanwhile is lost,
                // which the controllers' periodic look covers.
                match listener.recv().await {
                    Ok(n) => {
                        let event = if n.channel() == WORK {
                            StoreEvent::Work {
                                requirement: n.payload().strip_prefix(KEY_PREFIX).map(String::from),
                            }
                        } else {
                            StoreEvent::Changed { job_id: n.payload().to_string() }
                        };
                        if relay.send(event).is_err() && relay.receiver_count() == 0 {
                            // Nobody listens yet (or any more): keep draining.
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the PostgreSQL notification connection; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(Self { pool, events })
    }

    async fn job_in(conn: &mut PgConnection, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.id = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(conn)
            .await?
            .map(|r| job_from_row(&r))
            .transpose()
    }

    /// Leases one pending item per pull (`Some(item)`: that item; `None`: the first in
    /// dispatch order among the pull's eligible keys), in one transaction.
    async fn lease_batch(
        &self,
        picks: &[(Option<i64>, &[String], &str)],
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Vec<Option<Lease>>, StoreError> {
        let expires = now + ttl_ms;
        let returning = ITEM_COLUMNS.split(", ").map(|c| format!("w.{c}")).collect::<Vec<_>>().join(", ");
        // Pulls by what they can run, in order of arrival: one statement per group.
        let mut groups: Vec<(&[String], Vec<usize>)> = Vec::new();
        for (i, &(item, eligible, _)) in picks.iter().enumerate() {
            if item.is_some() || eligible.is_empty() {
                continue;
            }
            match groups.iter_mut().find(|(e, _)| *e == eligible) {
                Some((_, members)) => members.push(i),
                None => groups.push((eligible, vec![i])),
            }
        }
        in_tx!(self, conn, relaxed, {
            let mut items: Vec<Option<ItemRecord>> = vec![None; picks.len()];
            for (i, &(item, _, node)) in picks.iter().enumerate() {
                let Some(item) = item else { continue };
                let sql = format!(
                    "UPDATE work_items w SET state = 'leased', lease_node = $1, lease_expires_ms = $2, \
                     fence = nextval('fence_seq'), attempts = w.attempts + 1 \
                     WHERE w.id = $3 AND w.state = 'pending' AND w.not_before_ms <= $4 RETURNING {returning}"
                );
                let row = sqlx::query(AssertSqlSafe(sql))
                    .bind(node)
                    .bind(expires)
                    .bind(item)
                    .bind(now)
                    .fetch_optional(&mut *conn)
                    .await?;
                items[i] = row.map(|r| item_from_row(&r)).transpose()?;
            }
            for (eligible, members) in &groups {
                // Items of ended jobs are never pending (ending a job cancels them). The n-th
                // item in dispatch order goes to the group's n-th pull.
                let nodes: Vec<&str> = members.iter().map(|&i| picks[i].2).collect();
                let sql = format!(
                    "WITH next AS ( \
                       SELECT c.id, row_number() OVER (ORDER BY c.priority DESC, c.job_seq, c.idx) AS rn FROM ( \
                         SELECT id, priority, job_seq, idx FROM work_items \
                         WHERE state = 'pending' AND not_before_ms <= $1 AND requirement = ANY($2) \
                         ORDER BY priority DESC, job_seq, idx LIMIT $3 FOR UPDATE SKIP LOCKED) c), \
                     takers AS (SELECT t.node, t.rn FROM unnest($4::TEXT[]) WITH ORDINALITY AS t(node, rn)) \
                     UPDATE work_items w SET state = 'leased', lease_node = takers.node, lease_expires_ms = $5, \
                       fence = nextval('fence_seq'), attempts = w.attempts + 1 \
                     FROM next JOIN takers ON takers.rn = next.rn WHERE w.id = next.id \
                     RETURNING {returning}, next.rn AS rank"
                );
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .bind(now)
                    .bind(*eligible)
                    .bind(nodes.len() as i64)
                    .bind(&nodes)
                    .bind(expires)
                    .fetch_all(&mut *conn)
                    .await?;
                for row in rows {
                    let rank: i64 = row.try_get("rank")?;
                    let slot = members
                        .get((rank - 1) as usize)
                        .ok_or_else(|| StoreError::Corrupt("lease out of rank".into()))?;
                    items[*slot] = Some(item_from_row(&row)?);
                }
            }
            // The leased items' jobs: running from their first lease (locked in id order, the
            // same lock order in every transaction), then read, in two statements.
            let leased: std::collections::BTreeSet<&String> =
                items.iter().flatten().map(|i| &i.job_id).collect();
            let leased: Vec<&String> = leased.into_iter().collect();
            let mut jobs: std::collections::HashMap<String, JobRecord> = std::collections::HashMap::new();
            if !leased.is_empty() {
                sqlx::query(
                    "UPDATE jobs SET state = 'running', started_ms = COALESCE(started_ms, $1) WHERE id IN \
                     (SELECT id FROM jobs WHERE id = ANY($2) AND state = 'queued' ORDER BY id FOR UPDATE)",
                )
                .bind(now)
                .bind(&leased)
                .execute(&mut *conn)
                .await?;
                let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.id = ANY($1)");
                for row in sqlx::query(AssertSqlSafe(sql)).bind(&leased).fetch_all(&mut *conn).await? {
                    let job = job_from_row(&row)?;
                    jobs.insert(job.id.clone(), job);
                }
            }
            Ok(items
                .into_iter()
                .map(|item| {
                    let item = item?;
                    let job = jobs.get(&item.job_id)?.clone();
                    Some(Lease { fence: item.fence, expires_ms: expires, item, job })
                })
                .collect())
        })
    }

    /// Applies `transition` to `item` if its lease is still the one with `fence` (and, for an
    /// expiry, still expired at `expired_at`).
    async fn settle_attempt(
        &self,
        item: i64,
        fence: i64,
        transition: &Transition,
        expired_at: Option<Millis>,
        now: Millis,
    ) -> Result<Completion, StoreError> {
        let (state, not_before, error) = match transition {
            Transition::Retry { not_before_ms, error } => ("pending", *not_before_ms, error),
            Transition::Fail { error, .. } => ("failed", 0, error),
        };
        in_tx!(self, conn, {
            let job_id: Option<String> = sqlx::query_scalar(
                "UPDATE work_items SET state = $1, last_error = $2, lease_node = NULL, lease_expires_ms = NULL, \
                 not_before_ms = GREATEST(not_before_ms, $3) WHERE id = $4 AND fence = $5 AND state = 'leased' \
                 AND ($6::BIGINT IS NULL OR lease_expires_ms < $6) RETURNING job_id",
            )
            .bind(state)
            .bind(error)
            .bind(not_before)
            .bind(item)
            .bind(fence)
            .bind(expired_at)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(job_id) = job_id else { return Ok(Completion::Stale) };
            match transition {
                Transition::Fail { job_error, .. } => {
                    Self::end_job(conn, &job_id, JobState::Failed, Some(job_error), now).await?
                }
                Transition::Retry { .. } => notify(conn, WORK, "").await?,
            }
            notify(conn, CHANGED, &job_id).await?;
            let state: String = sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1")
                .bind(&job_id)
                .fetch_one(&mut *conn)
                .await?;
            Ok(Completion::Applied { job: parse(&state)?, job_id })
        })
    }

    /// Records one job and its items inside the caller's transaction.
    async fn submit_in(
        conn: &mut PgConnection,
        job: &NewJob,
        spec: &str,
        now: Millis,
    ) -> Result<(JobRecord, bool), StoreError> {
        let n = job.segments.len() as i64;
        let sql = format!(
            "INSERT INTO jobs AS j (id, idempotency_key, spec, state, priority, total_frames, submitted_ms, \
             items_total, items_left, owner) VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $7, $8) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING {JOB_COLUMNS}"
        );
        let inserted = sqlx::query(AssertSqlSafe(sql))
            .bind(&job.id)
            .bind(&job.idempotency_key)
            .bind(spec)
            .bind(job.priority as i64)
            .bind(job.total_frames as i64)
            .bind(now)
            .bind(n)
            .bind(&job.owner)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = inserted else {
            // The key was used before: that job is the answer.
            let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.idempotency_key = $1");
            let row =
                sqlx::query(AssertSqlSafe(sql)).bind(&job.idempotency_key).fetch_one(&mut *conn).await?;
            return Ok((job_from_row(&row)?, false));
        };
        let record = job_from_row(&row)?;
        let seq = record.seq;
        let (mut idx, mut start, mut frames) = (Vec::new(), Vec::new(), Vec::new());
        for (i, s) in job.segments.iter().enumerate() {
            idx.push(i as i64);
            start.push(s.start as i64);
            frames.push(s.frames as i64);
        }
        sqlx::query(
            "INSERT INTO work_items (job_id, idx, start_frame, frames, state, priority, job_seq, requirement) \
             SELECT $1, t.idx, t.start_frame, t.frames, 'pending', $5, $6, $7 \
             FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::BIGINT[]) AS t(idx, start_frame, frames)",
        )
        .bind(&job.id)
        .bind(&idx)
        .bind(&start)
        .bind(&frames)
        .bind(job.priority as i64)
        .bind(seq)
        .bind(&job.requirement)
        .execute(&mut *conn)
        .await?;
        let record =
            Self::job_in(conn, &job.id).await?.ok_or_else(|| StoreError::Corrupt("job vanished".into()))?;
        Ok((record, true))
    }

    /// Ends a job that has not ended (failed or cancelled), cancelling its unfinished items
    /// first (items before the job: the lock order every transaction keeps).
    async fn end_job(
        conn: &mut PgConnection,
        job_id: &str,
        state: JobState,
        error: Option<&str>,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE work_items SET state = 'cancelled', lease_node = NULL, lease_expires_ms = NULL \
             WHERE job_id = $1 AND state IN ('pending', 'leased')",
        )
        .bind(job_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE jobs SET state = $1, error = COALESCE($2, error), finished_ms = $3 \
             WHERE id = $4 AND state IN ('queued', 'running')",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(now)
        .bind(job_id)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Sends `payload` on `channel` when the transaction commits.
async fn notify(conn: &mut PgConnection, channel: &str, payload: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(conn).await?;
    Ok(())
}

/// A deadlock (40P01) or serialization failure (40001): the transaction may simply run again.
fn is_conflict(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "40P01" || c == "40001")
}

impl Store for PgStore {
    async fn submit_many(
        &self,
        jobs: Vec<NewJob>,
        now: Millis,
    ) -> Result<Vec<(JobRecord, bool)>, StoreError> {
        let mut specs = Vec::with_capacity(jobs.len());
        for job in &jobs {
            specs.push(serde_json::to_string(&job.spec).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        in_tx!(self, conn, {
            let mut answers = Vec::with_capacity(jobs.len());
            for (job, spec) in jobs.iter().zip(&specs) {
                answers.push(Self::submit_in(conn, job, spec, now).await?);
            }
            // Each new requirement key is announced, so that every controller's pulls match it.
            let keys: std::collections::BTreeSet<&str> = jobs
                .iter()
                .zip(&answers)
                .filter(|(_, (_, created))| *created)
                .map(|(job, _)| job.requirement.as_str())
                .collect();
            for key in keys {
                sqlx::query("INSERT INTO requirement_keys (key) VALUES ($1) ON CONFLICT DO NOTHING")
                    .bind(key)
                    .execute(&mut *conn)
                    .await?;
                notify(conn, WORK, &format!("{KEY_PREFIX}{key}")).await?;
            }
            Ok(answers)
        })
    }

    async fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        Self::job_in(&mut *self.pool.acquire().await?, id).await
    }

    async fn list_jobs(&self, q: JobQuery) -> Result<Vec<JobRecord>, StoreError> {
        let (bound, order) = if q.newest_first { ("<", "DESC") } else { (">", "ASC") };
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs j WHERE ($1::TEXT IS NULL OR j.state = $1) \
             AND ($2::BIGINT IS NULL OR j.seq {bound} $2) ORDER BY j.seq {order} LIMIT $3"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(q.state.map(|s| s.as_str()))
            .bind(q.cursor)
            .bind(q.limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn set_job_vmaf(&self, id: &str, vmaf: f64) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET vmaf = $1 WHERE id = $2")
            .bind(vmaf)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn items(&self, job_id: &str) -> Result<Vec<ItemRecord>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM work_items WHERE job_id = $1 ORDER BY idx");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(job_id).fetch_all(&self.pool).await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn items_without_results(&self, job_id: &str) -> Result<Vec<ItemRecord>, StoreError> {
        let columns = ITEM_COLUMNS.replace("result,", "NULL::BYTEA AS result,");
        let sql = format!("SELECT {columns} FROM work_items WHERE job_id = $1 ORDER BY idx");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(job_id).fetch_all(&self.pool).await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn report_context(&self, item: i64) -> Result<Option<ReportContext>, StoreError> {
        let columns = ITEM_COLUMNS.replace("result,", "NULL::BYTEA AS result,");
        let sql = format!(
            "SELECT {columns}, (SELECT spec FROM jobs WHERE jobs.id = work_items.job_id) AS job_spec, \
             (SELECT total_frames FROM jobs WHERE jobs.id = work_items.job_id) AS job_frames \
             FROM work_items WHERE id = $1"
        );
        let Some(row) = sqlx::query(AssertSqlSafe(sql)).bind(item).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let spec: String = row.try_get("job_spec")?;
        Ok(Some(ReportContext {
            item: item_from_row(&row)?,
            spec: serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            total_frames: row.try_get::<i64, _>("job_frames")? as u64,
        }))
    }

    async fn cancel(&self, id: &str, now: Millis) -> Result<Option<JobRecord>, StoreError> {
        in_tx!(self, conn, {
            // The fence stays: a node still working on a cancelled item learns it from its next
            // heartbeat, and its late result is refused because the item is no longer leased.
            Self::end_job(conn, id, JobState::Cancelled, None, now).await?;
            notify(conn, CHANGED, id).await?;
            Self::job_in(conn, id).await
        })
    }

    async fn candidates(&self, now: Millis, limit: u32) -> Result<Vec<Candidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT w.id, w.job_id, w.job_seq, w.priority, w.idx FROM work_items w \
             WHERE w.state = 'pending' AND w.not_before_ms <= $1 \
             ORDER BY w.priority DESC, w.job_seq, w.idx LIMIT $2",
        )
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Candidate {
                    item: r.try_get(0)?,
                    job_id: r.try_get(1)?,
                    job_seq: r.try_get(2)?,
                    priority: r.try_get::<i64, _>(3)? as i32,
                    index: r.try_get::<i64, _>(4)? as u32,
                })
            })
            .collect()
    }

    async fn lease(
        &self,
        item: i64,
        node: &str,
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Option<Lease>, StoreError> {
        Ok(self.lease_batch(&[(Some(item), &[], node)], now, ttl_ms).await?.pop().flatten())
    }

    async fn lease_many(
        &self,
        pulls: &[Pull],
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Vec<Option<Lease>>, StoreError> {
        let picks: Vec<(Option<i64>, &[String], &str)> =
            pulls.iter().map(|p| (None, p.eligible.as_slice(), p.node.as_str())).collect();
        self.lease_batch(&picks, now, ttl_ms).await
    }

    async fn requirement_keys(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT key FROM requirement_keys ORDER BY key").fetch_all(&self.pool).await?)
    }

    async fn extend(
        &self,
        node: &str,
        leases: &[(i64, i64)],
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Vec<i64>, StoreError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, fences): (Vec<i64>, Vec<i64>) = leases.iter().copied().unzip();
        let kept: Vec<i64> = sqlx::query_scalar(
            "UPDATE work_items w SET lease_expires_ms = $1 \
             FROM UNNEST($2::BIGINT[], $3::BIGINT[]) AS l(id, fence) \
             WHERE w.id = l.id AND w.fence = l.fence AND w.lease_node = $4 AND w.state = 'leased' \
             RETURNING w.id",
        )
        .bind(now + ttl_ms)
        .bind(&ids)
        .bind(&fences)
        .bind(node)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().filter(|i| !kept.contains(i)).collect())
    }

    async fn complete_many(
        &self,
        reports: &[ItemResult],
        now: Millis,
    ) -> Result<Vec<Completion>, StoreError> {
        // One statement; a second report of the same item in a batch is stale.
        let mut first: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        let unique: Vec<&ItemResult> = reports
            .iter()
            .enumerate()
            .filter(|(i, r)| first.entry(r.item).or_insert(*i) == i)
            .map(|(_, r)| r)
            .collect();
        let ids: Vec<i64> = unique.iter().map(|r| r.item).collect();
        let fences: Vec<i64> = unique.iter().map(|r| r.fence).collect();
        let encoded: Vec<Vec<u8>> = unique.iter().map(|r| codec::encode(&r.result)).collect();
        in_tx!(self, conn, relaxed, {
            // Jobs in id order: the same lock order in every transaction.
            let mut per_job: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
            let mut applied: Vec<Option<String>> = vec![None; reports.len()];
            let done: Vec<(i64, String)> = sqlx::query_as(
                "UPDATE work_items w SET state = 'done', result = r.result, result_version = $1, \
                 lease_expires_ms = NULL FROM unnest($2::BIGINT[], $3::BIGINT[], $4::BYTEA[]) AS r(id, fence, result) \
                 WHERE w.id = r.id AND w.fence = r.fence AND w.state = 'leased' RETURNING w.id, w.job_id",
            )
            .bind(codec::RESULT_VERSION)
            .bind(&ids)
            .bind(&fences)
            .bind(&encoded)
            .fetch_all(&mut *conn)
            .await?;
            for (item, job_id) in done {
                *per_job.entry(job_id.clone()).or_default() += 1;
                applied[first[&item]] = Some(job_id);
            }
            // The completion that takes a job's count to zero ends it; the row lock orders them.
            let mut states = std::collections::HashMap::new();
            for (job_id, n) in &per_job {
                let state: String = sqlx::query_scalar(
                    "UPDATE jobs SET items_left = items_left - $1, \
                     state = CASE WHEN items_left = $1 AND state = 'running' THEN 'succeeded' ELSE state END, \
                     finished_ms = CASE WHEN items_left = $1 AND state = 'running' THEN $2 ELSE finished_ms END \
                     WHERE id = $3 RETURNING state",
                )
                .bind(n)
                .bind(now)
                .bind(job_id)
                .fetch_one(&mut *conn)
                .await?;
                notify(conn, CHANGED, job_id).await?;
                states.insert(job_id.clone(), parse::<JobState>(&state)?);
            }
            Completion::of_batch(applied, &states)
        })
    }

    async fn settle_failed(
        &self,
        item: i64,
        fence: i64,
        transition: &Transition,
        now: Millis,
    ) -> Result<Completion, StoreError> {
        self.settle_attempt(item, fence, transition, None, now).await
    }

    async fn expired_leases(&self, now: Millis, limit: u32) -> Result<Vec<ItemRecord>, StoreError> {
        let columns = ITEM_COLUMNS.replace("result,", "NULL::BYTEA AS result,");
        let sql = format!(
            "SELECT {columns} FROM work_items WHERE state = 'leased' AND lease_expires_ms < $1 \
             ORDER BY lease_expires_ms LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(now).bind(limit as i64).fetch_all(&self.pool).await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn settle_expired(
        &self,
        item: i64,
        fence: i64,
        transition: &Transition,
        now: Millis,
    ) -> Result<Completion, StoreError> {
        self.settle_attempt(item, fence, transition, Some(now), now).await
    }

    async fn prune(&self, ended_before: Millis, seen_before: Millis) -> Result<Pruned, StoreError> {
        in_tx!(self, conn, {
            let ended = "SELECT id FROM jobs WHERE finished_ms IS NOT NULL AND finished_ms < $1 \
                         AND state IN ('succeeded', 'failed', 'cancelled')";
            sqlx::query(AssertSqlSafe(format!("DELETE FROM work_items WHERE job_id IN ({ended})")))
                .bind(ended_before)
                .execute(&mut *conn)
                .await?;
            let jobs = sqlx::query(AssertSqlSafe(format!("DELETE FROM jobs WHERE id IN ({ended})")))
                .bind(ended_before)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            let nodes = sqlx::query(
                "DELETE FROM nodes WHERE last_seen_ms < $1 AND id NOT IN \
                 (SELECT lease_node FROM work_items WHERE state = 'leased' AND lease_node IS NOT NULL)",
            )
            .bind(seen_before)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            // A forgotten node's credentials go with it: one is made at every registration.
            sqlx::query("DELETE FROM tokens WHERE kind = 'node' AND node_id NOT IN (SELECT id FROM nodes)")
                .execute(&mut *conn)
                .await?;
            Ok(Pruned { jobs, nodes })
        })
    }

    async fn upsert_node(&self, node: &NodeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nodes (id, name, capabilities, registered_ms, last_seen_ms, draining) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             capabilities = excluded.capabilities, last_seen_ms = excluded.last_seen_ms, draining = excluded.draining",
        )
        .bind(&node.id)
        .bind(&node.name)
        .bind(node.capabilities.to_string())
        .bind(node.registered_ms)
        .bind(node.last_seen_ms)
        .bind(node.draining)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn touch_node(&self, id: &str, now: Millis) -> Result<Option<bool>, StoreError> {
        // The controller touches a node at most every TOUCH_EVERY_MS: one write each time.
        Ok(sqlx::query_scalar(
            "UPDATE nodes SET last_seen_ms = GREATEST(last_seen_ms, $1) WHERE id = $2 RETURNING draining",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn set_draining(&self, id: &str, draining: bool) -> Result<bool, StoreError> {
        let n = sqlx::query("UPDATE nodes SET draining = $1 WHERE id = $2")
            .bind(draining)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    async fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let rows: Vec<(String, String, String, i64, i64, bool)> = sqlx::query_as(
            "SELECT id, name, capabilities, registered_ms, last_seen_ms, draining FROM nodes ORDER BY name, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, name, caps, registered_ms, last_seen_ms, draining)| {
                Ok(NodeRecord {
                    id,
                    name,
                    capabilities: serde_json::from_str(&caps)
                        .map_err(|e| StoreError::Corrupt(format!("node capabilities: {e}")))?,
                    registered_ms,
                    last_seen_ms,
                    draining,
                })
            })
            .collect()
    }

    async fn put_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (hash, kind, name, node_id, created_ms, revoked_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&t.hash)
        .bind(&t.kind)
        .bind(&t.name)
        .bind(&t.node_id)
        .bind(t.created_ms)
        .bind(t.revoked_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn revoke_tokens(&self, name: &str, kind: Option<&str>, now: Millis) -> Result<u64, StoreError> {
        let n = sqlx::query(
            "UPDATE tokens SET revoked_ms = $1 WHERE name = $2 AND revoked_ms IS NULL \
             AND (($3::TEXT IS NULL AND kind <> 'node') OR kind = $4)",
        )
        .bind(now)
        .bind(name)
        .bind(kind)
        .bind(kind)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n)
    }

    async fn remove_node(&self, id: &str, now: Millis) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE tokens SET revoked_ms = $1 WHERE node_id = $2 AND revoked_ms IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n =
            sqlx::query("DELETE FROM nodes WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn import_job(&self, job: &JobRecord, items: &[ItemRecord]) -> Result<bool, StoreError> {
        let spec = serde_json::to_string(&job.spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let requirement = job.spec.requirements.key();
        let left = items.iter().filter(|i| i.state != vmafx_core::ItemState::Done).count() as i64;
        in_tx!(self, conn, {
            let seq: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (id, idempotency_key, spec, state, priority, total_frames, submitted_ms, \
                 started_ms, finished_ms, error, items_total, items_left, vmaf, owner) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (id) DO NOTHING RETURNING seq",
            )
            .bind(&job.id)
            .bind(&job.idempotency_key)
            .bind(&spec)
            .bind(job.state.as_str())
            .bind(job.priority as i64)
            .bind(job.total_frames as i64)
            .bind(job.submitted_ms)
            .bind(job.started_ms)
            .bind(job.finished_ms)
            .bind(&job.error)
            .bind(items.len() as i64)
            .bind(left)
            .bind(job.vmaf)
            .bind(&job.owner)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(seq) = seq else { return Ok(false) };
            sqlx::query("INSERT INTO requirement_keys (key) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(&requirement)
                .execute(&mut *conn)
                .await?;
            for item in items {
                sqlx::query(
                    "INSERT INTO work_items (job_id, idx, start_frame, frames, state, attempts, not_before_ms, \
                     lease_node, lease_expires_ms, fence, result, result_version, last_error, priority, job_seq, \
                     requirement) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(&job.id)
                .bind(item.index as i64)
                .bind(item.segment.start as i64)
                .bind(item.segment.frames as i64)
                .bind(item.state.as_str())
                .bind(item.attempts as i64)
                .bind(item.not_before_ms)
                .bind(&item.lease_node)
                .bind(item.lease_expires_ms)
                .bind(item.fence)
                .bind(item.result.as_ref().map(codec::encode))
                .bind(codec::RESULT_VERSION)
                .bind(&item.last_error)
                .bind(job.priority as i64)
                .bind(seq)
                .bind(&requirement)
                .execute(&mut *conn)
                .await?;
            }
            notify(conn, WORK, &format!("{KEY_PREFIX}{requirement}")).await?;
            Ok(true)
        })
    }

    async fn raise_fence(&self, fence: i64) -> Result<(), StoreError> {
        // setval to the larger of the two, so that a raise never lowers the sequence.
        sqlx::query("SELECT setval('fence_seq', GREATEST($1, (SELECT last_value FROM fence_seq)))")
            .bind(fence.max(1))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT hash, kind, name, node_id, created_ms, revoked_ms FROM tokens ORDER BY created_ms, hash",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenRecord {
                    hash: r.try_get("hash")?,
                    kind: r.try_get("kind")?,
                    name: r.try_get("name")?,
                    node_id: r.try_get("node_id")?,
                    created_ms: r.try_get("created_ms")?,
                    revoked_ms: r.try_get("revoked_ms")?,
                })
            })
            .collect()
    }

    async fn stats(&self) -> Result<QueueStats, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        let jobs = rows
            .into_iter()
            .map(|(state, n)| Ok((parse(&state)?, n as u64)))
            .collect::<Result<_, StoreError>>()?;
        let (pending, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(j.submitted_ms) FROM work_items w JOIN jobs j ON j.id = w.job_id \
             WHERE w.state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        let work: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT requirement, COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'leased') \
             FROM work_items WHERE state IN ('pending', 'leased') GROUP BY requirement ORDER BY requirement",
        )
        .fetch_all(&self.pool)
        .await?;
        let work_by_requirement = work
            .into_iter()
            .map(|(requirement, pending, leased)| RequirementWork {
                requirement,
                pending: pending as u64,
                leased: leased as u64,
            })
            .collect();
        Ok(QueueStats { jobs, pending_items: pending as u64, oldest_pending_ms: oldest, work_by_requirement })
    }

    async fn pending_items(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_items WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    fn subscribe(&self) -> Option<broadcast::Receiver<StoreEvent>> {
        Some(self.events.subscribe())
    }

    fn concurrent_batches(&self) -> usize {
        // Concurrent lease transactions would skip each other's rows (SKIP LOCKED), but on
        // the benchmark machine two or four in flight were slower than one (contention):
        // one batch at a time, as on SQLite. Several controllers still run theirs in parallel.
        1
    }
}
