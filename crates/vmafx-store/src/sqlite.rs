//! [`Store`] on one SQLite file.
//!
//! One connection serialises every transaction: SQLite has a single writer anyway, and the
//! controller's queries are small. WAL journaling keeps readers cheap and a crash safe.
//!
//! Durability is split by what a client was promised. Accepting and cancelling a job commit
//! with `synchronous = FULL` (fsync before the answer), so an acknowledged job survives even
//! a power cut; in WAL mode that fsync also makes every earlier commit durable. Dispatch
//! (leases, results, heartbeats) commits with `NORMAL`: safe across a controller crash or
//! kill, and after a power cut it can only forget recent leases and results, which are then
//! redone (the same scores). So that a forgotten lease's fencing token is never handed out
//! again, each open moves the fence counter past anything that may have been lost.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
// Queries are formatted only from the column-list constants below; values are always bound.
use sqlx::{AssertSqlSafe, Row, SqliteConnection, SqlitePool};
use vmafx_core::JobState;

use crate::codec;
use crate::records::*;
use crate::rows::{item_from_row, job_from_row, parse};
use crate::{Millis, Store, StoreError};

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

const JOB_COLUMNS: &str = "j.seq, j.id, j.idempotency_key, j.spec, j.state, j.priority, j.total_frames, \
     j.submitted_ms, j.started_ms, j.finished_ms, j.error, j.items_total, \
     j.items_total - j.items_left AS items_done, j.vmaf, j.owner";

/// Results per statement (three bound values each, under SQLite's limit of 32766).
const COMPLETE_CHUNK: usize = 256;

/// More leases than can be granted between two fsyncs: the fence counter jumps this far on
/// every open, past any token a lost commit may have handed out.
const FENCE_GAP_ON_OPEN: i64 = 1 << 32;

/// Which item a lease is for.
#[derive(Clone, Copy)]
enum Pick<'a> {
    /// This one.
    Item(i64),
    /// The first pending one in dispatch order whose requirement key is one of these.
    Next(&'a [String]),
}

const ITEM_COLUMNS: &str =
    "id, job_id, idx, start_frame, frames, state, attempts, not_before_ms, lease_node, \
     lease_expires_ms, fence, result, result_version, last_error";

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        let store = Self::connect(options).await?;
        let mut conn = store.pool.acquire().await?;
        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
        sqlx::query("UPDATE counters SET value = value + ? WHERE name = 'fence'")
            .bind(FENCE_GAP_ON_OPEN)
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
        drop(conn);
        Ok(store)
    }

    /// Runs `work` in a transaction committed with `synchronous = FULL` (see the module
    /// documentation); the connection goes back to `NORMAL` afterwards, even on error.
    async fn durably<T>(
        &self,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
        let result = async {
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            match work(&mut conn).await {
                Ok(v) => match sqlx::query("COMMIT").execute(&mut *conn).await {
                    Ok(_) => Ok(v),
                    // A commit that fails (a full disk) leaves the transaction open: end it,
                    // so that the connection goes back to the pool clean.
                    Err(e) => {
                        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                        Err(e.into())
                    }
                },
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    Err(e)
                }
            }
        }
        .await;
        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
        result
    }

    /// A private in-memory database (tests, benchmarks).
    pub async fn in_memory() -> Result<Self, StoreError> {
        Self::connect(SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true)).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Leases the item `pick` names to `node` inside the caller's transaction, with fencing
    /// token `fence`; the item as leased, or `None` when there is none to lease.
    async fn lease_in(
        conn: &mut SqliteConnection,
        pick: Pick<'_>,
        node: &str,
        fence: i64,
        now: Millis,
        expires: Millis,
    ) -> Result<Option<ItemRecord>, StoreError> {
        // Walks the dispatch index from its first pending entry, skipping items the node
        // cannot run. Items of ended jobs are never pending (ending a job cancels them); the
        // job check guards the invariant anyway.
        let which = match pick {
            Pick::Item(_) => "w.id = ?".to_string(),
            Pick::Next(eligible) => format!(
                "w.id = (SELECT p.id FROM work_items p INDEXED BY work_items_dispatch WHERE p.state = 'pending' \
                 AND p.not_before_ms <= ? AND p.requirement IN ({}) \
                 AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = p.job_id AND j.state IN ('queued', 'running')) \
                 ORDER BY p.priority DESC, p.job_seq, p.idx LIMIT 1)",
                vec!["?"; eligible.len()].join(", ")
            ),
        };
        let sql = format!(
            "UPDATE work_items AS w SET state = 'leased', lease_node = ?, lease_expires_ms = ?, fence = ?, \
             attempts = attempts + 1 WHERE {which} AND w.state = 'pending' AND w.not_before_ms <= ? \
             AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = w.job_id AND j.state IN ('queued', 'running')) \
             RETURNING {ITEM_COLUMNS}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(node).bind(expires).bind(fence);
        match pick {
            Pick::Item(id) => query = query.bind(id),
            Pick::Next(eligible) => {
                query = query.bind(now);
                for key in eligible {
                    query = query.bind(key);
                }
            }
        }
        query.bind(now).fetch_optional(conn).await?.map(|r| item_from_row(&r)).transpose()
    }

    /// Leases up to `nodes.len()` items whose requirement key is in `eligible`, in dispatch
    /// order, in one statement: the n-th item (from 1) goes to `nodes[n - 1]` with fencing
    /// token `base + n`.
    async fn lease_group_in(
        conn: &mut SqliteConnection,
        eligible: &[String],
        nodes: &[&str],
        base: i64,
        now: Millis,
        expires: Millis,
    ) -> Result<Vec<ItemRecord>, StoreError> {
        // Walks the dispatch index from its first pending entry, skipping items the nodes
        // cannot run. Items of ended jobs are never pending (ending a job cancels them); the
        // job check guards the invariant anyway.
        let sql = format!(
            "WITH picked AS (SELECT p.id, p.priority, p.job_seq, p.idx FROM work_items p INDEXED BY work_items_dispatch \
               WHERE p.state = 'pending' AND p.not_before_ms <= ? AND p.requirement IN ({}) \
               AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = p.job_id AND j.state IN ('queued', 'running')) \
               ORDER BY p.priority DESC, p.job_seq, p.idx LIMIT ?), \
             numbered AS (SELECT id, row_number() OVER (ORDER BY priority DESC, job_seq, idx) AS rn FROM picked), \
             takers AS (SELECT key + 1 AS rn, value AS node FROM json_each(?)) \
             UPDATE work_items SET state = 'leased', lease_node = takers.node, lease_expires_ms = ?, \
               fence = ? + numbered.rn, attempts = attempts + 1 \
             FROM numbered JOIN takers ON takers.rn = numbered.rn WHERE work_items.id = numbered.id \
             RETURNING {ITEM_COLUMNS}",
            vec!["?"; eligible.len()].join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now);
        for key in eligible {
            query = query.bind(key);
        }
        let takers = serde_json::to_string(nodes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows =
            query.bind(nodes.len() as i64).bind(takers).bind(expires).bind(base).fetch_all(conn).await?;
        rows.iter().map(item_from_row).collect()
    }

    /// Leases one item per pull (`picks`) in one transaction: fences from one read of the
    /// counter, pulls that can run the same work leased by one statement, each leased job
    /// marked running once.
    async fn lease_batch(
        &self,
        picks: &[(Pick<'_>, &str)],
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Vec<Option<Lease>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let expires = now + ttl_ms;
        let base: i64 =
            sqlx::query_scalar("SELECT value FROM counters WHERE name = 'fence'").fetch_one(&mut *tx).await?;
        let mut fence = base;
        let mut items: Vec<Option<ItemRecord>> = vec![None; picks.len()];
        // Pulls by what they can run, in order of arrival.
        let mut groups: Vec<(&[String], Vec<usize>)> = Vec::new();
        for (i, &(pick, node)) in picks.iter().enumerate() {
            match pick {
                Pick::Item(id) => {
                    items[i] = Self::lease_in(&mut tx, Pick::Item(id), node, fence + 1, now, expires).await?;
                    if items[i].is_some() {
                        fence += 1;
                    }
                }
                Pick::Next([]) => {}
                Pick::Next(eligible) => match groups.iter_mut().find(|(e, _)| *e == eligible) {
                    Some((_, members)) => members.push(i),
                    None => groups.push((eligible, vec![i])),
                },
            }
        }
        for (eligible, members) in groups {
            let nodes: Vec<&str> = members.iter().map(|&i| picks[i].1).collect();
            let leased = Self::lease_group_in(&mut tx, eligible, &nodes, fence, now, expires).await?;
            let n = leased.len() as i64;
            for item in leased {
                let rank = (item.fence - fence - 1) as usize;
                let slot =
                    *members.get(rank).ok_or_else(|| StoreError::Corrupt("lease out of rank".into()))?;
                items[slot] = Some(item);
            }
            fence += n;
        }
        if fence == base {
            tx.rollback().await?;
            return Ok(vec![None; picks.len()]);
        }
        sqlx::query("UPDATE counters SET value = ? WHERE name = 'fence'")
            .bind(fence)
            .execute(&mut *tx)
            .await?;
        let mut jobs: std::collections::HashMap<String, JobRecord> = std::collections::HashMap::new();
        let leased: std::collections::BTreeSet<&String> = items.iter().flatten().map(|i| &i.job_id).collect();
        for job_id in leased {
            sqlx::query(
                "UPDATE jobs SET state = 'running', started_ms = COALESCE(started_ms, ?) WHERE id = ? AND state = 'queued'",
            )
            .bind(now)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
            let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.id = ?");
            let row = sqlx::query(AssertSqlSafe(sql)).bind(job_id).fetch_one(&mut *tx).await?;
            jobs.insert(job_id.clone(), job_from_row(&row)?);
        }
        tx.commit().await?;
        Ok(items
            .into_iter()
            .map(|item| {
                let item = item?;
                let job = jobs.get(&item.job_id)?.clone();
                Some(Lease { fence: item.fence, expires_ms: expires, item, job })
            })
            .collect())
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
        let mut tx = self.pool.begin().await?;
        let (state, not_before, error) = match transition {
            Transition::Retry { not_before_ms, error } => ("pending", *not_before_ms, error),
            Transition::Fail { error, .. } => ("failed", 0, error),
        };
        let job_id: Option<String> = sqlx::query_scalar(
            "UPDATE work_items SET state = ?, last_error = ?, lease_node = NULL, lease_expires_ms = NULL, \
             not_before_ms = MAX(not_before_ms, ?) WHERE id = ? AND fence = ? AND state = 'leased' \
             AND (? IS NULL OR lease_expires_ms < ?) RETURNING job_id",
        )
        .bind(state)
        .bind(error)
        .bind(not_before)
        .bind(item)
        .bind(fence)
        .bind(expired_at)
        .bind(expired_at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(job_id) = job_id else {
            tx.rollback().await?;
            return Ok(Completion::Stale);
        };
        if let Transition::Fail { job_error, .. } = transition {
            Self::fail_job(&mut tx, &job_id, job_error, now).await?;
        }
        let state: String = sqlx::query_scalar("SELECT state FROM jobs WHERE id = ?")
            .bind(&job_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Completion::Applied { job: parse(&state)?, job_id })
    }

    async fn job_by_id(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.id = ?");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| job_from_row(&r))
            .transpose()
    }

    /// Fails a job with `error` and cancels its unfinished items.
    async fn fail_job(
        conn: &mut sqlx::SqliteConnection,
        job_id: &str,
        error: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET state = 'failed', error = ?, finished_ms = ? WHERE id = ? AND state IN ('queued', 'running')")
            .bind(error)
            .bind(now)
            .bind(job_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE work_items SET state = 'cancelled', lease_node = NULL, lease_expires_ms = NULL \
             WHERE job_id = ? AND state IN ('pending', 'leased')",
        )
        .bind(job_id)
        .execute(conn)
        .await?;
        Ok(())
    }
}

impl Store for SqliteStore {
    async fn submit_many(
        &self,
        jobs: Vec<NewJob>,
        now: Millis,
    ) -> Result<Vec<(JobRecord, bool)>, StoreError> {
        let mut specs = Vec::with_capacity(jobs.len());
        for job in &jobs {
            specs.push(serde_json::to_string(&job.spec).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        self.durably(async |conn| {
            let mut answers = Vec::with_capacity(jobs.len());
            for (job, spec) in jobs.iter().zip(&specs) {
                if let Some(key) = &job.idempotency_key {
                    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.idempotency_key = ?");
                    if let Some(row) = sqlx::query(AssertSqlSafe(sql)).bind(key).fetch_optional(&mut *conn).await? {
                        answers.push((job_from_row(&row)?, false));
                        continue;
                    }
                }
                let n = job.segments.len() as i64;
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO jobs (id, idempotency_key, spec, state, priority, total_frames, submitted_ms, \
                     items_total, items_left, owner) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?) RETURNING seq",
                )
                .bind(&job.id)
                .bind(&job.idempotency_key)
                .bind(spec)
                .bind(job.priority)
                .bind(job.total_frames as i64)
                .bind(now)
                .bind(n)
                .bind(n)
                .bind(&job.owner)
                .fetch_one(&mut *conn)
                .await?;
                // All the segments in one statement: [[start, frames], ...] unpacked by SQLite.
                let segments: Vec<[u64; 2]> = job.segments.iter().map(|s| [s.start, s.frames]).collect();
                let segments = serde_json::to_string(&segments).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO work_items (job_id, idx, start_frame, frames, state, priority, job_seq, requirement) \
                     SELECT ?, s.key, json_extract(s.value, '$[0]'), json_extract(s.value, '$[1]'), 'pending', ?, ?, ? \
                     FROM json_each(?) AS s",
                )
                .bind(&job.id)
                .bind(job.priority)
                .bind(seq)
                .bind(&job.requirement)
                .bind(segments)
                .execute(&mut *conn)
                .await?;
                sqlx::query("INSERT OR IGNORE INTO requirement_keys (key) VALUES (?)")
                    .bind(&job.requirement)
                    .execute(&mut *conn)
                    .await?;
                let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.seq = ?");
                let row = sqlx::query(AssertSqlSafe(sql)).bind(seq).fetch_one(&mut *conn).await?;
                answers.push((job_from_row(&row)?, true));
            }
            Ok(answers)
        })
        .await
    }

    async fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        self.job_by_id(id).await
    }

    async fn list_jobs(&self, q: JobQuery) -> Result<Vec<JobRecord>, StoreError> {
        let (bound, order) = if q.newest_first { ("<", "DESC") } else { (">", "ASC") };
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs j WHERE (? IS NULL OR j.state = ?) AND (? IS NULL OR j.seq {bound} ?) \
             ORDER BY j.seq {order} LIMIT ?"
        );
        let state = q.state.map(|s| s.as_str());
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(state)
            .bind(state)
            .bind(q.cursor)
            .bind(q.cursor)
            .bind(q.limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn set_job_vmaf(&self, id: &str, vmaf: f64) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET vmaf = ? WHERE id = ?").bind(vmaf).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn items(&self, job_id: &str) -> Result<Vec<ItemRecord>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM work_items WHERE job_id = ? ORDER BY idx");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(job_id).fetch_all(&self.pool).await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn items_without_results(&self, job_id: &str) -> Result<Vec<ItemRecord>, StoreError> {
        let columns = ITEM_COLUMNS.replace("result,", "NULL AS result,");
        let sql = format!("SELECT {columns} FROM work_items WHERE job_id = ? ORDER BY idx");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(job_id).fetch_all(&self.pool).await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn report_context(&self, item: i64) -> Result<Option<ReportContext>, StoreError> {
        let columns = ITEM_COLUMNS.replace("result,", "NULL AS result,");
        let sql = format!(
            "SELECT {columns}, (SELECT spec FROM jobs WHERE jobs.id = work_items.job_id) AS job_spec, \
             (SELECT total_frames FROM jobs WHERE jobs.id = work_items.job_id) AS job_frames \
             FROM work_items WHERE id = ?"
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
        self.durably(async |conn| {
            sqlx::query("UPDATE jobs SET state = 'cancelled', finished_ms = ? WHERE id = ? AND state IN ('queued', 'running')")
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            // The fence stays: a node still working on a cancelled item learns it from its next
            // heartbeat, and its late result is refused because the item is no longer leased.
            sqlx::query(
                "UPDATE work_items SET state = 'cancelled', lease_node = NULL, lease_expires_ms = NULL \
                 WHERE job_id = ? AND state IN ('pending', 'leased')",
            )
            .bind(id)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
        .await?;
        self.job(id).await
    }

    async fn candidates(&self, now: Millis, limit: u32) -> Result<Vec<Candidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT w.id, w.job_id, w.job_seq, w.priority, w.idx FROM work_items w INDEXED BY work_items_dispatch \
             WHERE w.state = 'pending' AND w.not_before_ms <= ? \
             AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = w.job_id AND j.state IN ('queued', 'running')) \
             ORDER BY w.priority DESC, w.job_seq, w.idx LIMIT ?",
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
                    priority: r.try_get(3)?,
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
        Ok(self.lease_batch(&[(Pick::Item(item), node)], now, ttl_ms).await?.pop().flatten())
    }

    async fn lease_many(
        &self,
        pulls: &[Pull],
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Vec<Option<Lease>>, StoreError> {
        let picks: Vec<(Pick<'_>, &str)> =
            pulls.iter().map(|p| (Pick::Next(&p.eligible), p.node.as_str())).collect();
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
        let mut tx = self.pool.begin().await?;
        let mut lost = Vec::new();
        for &(item, fence) in leases {
            let n = sqlx::query(
                "UPDATE work_items SET lease_expires_ms = ? WHERE id = ? AND fence = ? AND lease_node = ? AND state = 'leased'",
            )
            .bind(now + ttl_ms)
            .bind(item)
            .bind(fence)
            .bind(node)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                lost.push(item);
            }
        }
        tx.commit().await?;
        Ok(lost)
    }

    async fn complete_many(
        &self,
        reports: &[ItemResult],
        now: Millis,
    ) -> Result<Vec<Completion>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut applied: Vec<Option<String>> = vec![None; reports.len()];
        let mut per_job: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        // One statement per chunk; a second report of the same item in a batch is stale.
        let mut first: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        let unique: Vec<usize> =
            (0..reports.len()).filter(|&i| first.entry(reports[i].item).or_insert(i) == &i).collect();
        for chunk in unique.chunks(COMPLETE_CHUNK) {
            let sql = format!(
                "UPDATE work_items SET state = 'done', result = r.column3, result_version = ?, \
                 lease_expires_ms = NULL FROM (VALUES {}) AS r \
                 WHERE work_items.id = r.column1 AND work_items.fence = r.column2 AND work_items.state = 'leased' \
                 RETURNING id, job_id",
                vec!["(?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query_as(AssertSqlSafe(sql)).bind(codec::RESULT_VERSION);
            for &i in chunk {
                let r = &reports[i];
                query = query.bind(r.item).bind(r.fence).bind(codec::encode(&r.result));
            }
            let done: Vec<(i64, String)> = query.fetch_all(&mut *tx).await?;
            for (item, job_id) in done {
                *per_job.entry(job_id.clone()).or_default() += 1;
                applied[first[&item]] = Some(job_id);
            }
        }
        // The completion that takes a job's count to zero ends it.
        let mut states = std::collections::HashMap::new();
        for (job_id, n) in &per_job {
            let state: String = sqlx::query_scalar(
                "UPDATE jobs SET items_left = items_left - ?1, \
                 state = CASE WHEN items_left = ?1 AND state = 'running' THEN 'succeeded' ELSE state END, \
                 finished_ms = CASE WHEN items_left = ?1 AND state = 'running' THEN ?2 ELSE finished_ms END \
                 WHERE id = ?3 RETURNING state",
            )
            .bind(n)
            .bind(now)
            .bind(job_id)
            .fetch_one(&mut *tx)
            .await?;
            states.insert(job_id.clone(), parse::<JobState>(&state)?);
        }
        tx.commit().await?;
        Completion::of_batch(applied, &states)
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
        let columns = ITEM_COLUMNS.replace("result,", "NULL AS result,");
        let sql = format!(
            "SELECT {columns} FROM work_items INDEXED BY work_items_lease WHERE state = 'leased' \
             AND lease_expires_ms < ? ORDER BY lease_expires_ms LIMIT ?"
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
        self.durably(async |conn| {
            let ended = "SELECT id FROM jobs WHERE finished_ms IS NOT NULL AND finished_ms < ? \
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
                "DELETE FROM nodes WHERE last_seen_ms < ? \
                 AND id NOT IN (SELECT lease_node FROM work_items WHERE state = 'leased' AND lease_node IS NOT NULL)",
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
        .await
    }

    async fn upsert_node(&self, node: &NodeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nodes (id, name, capabilities, registered_ms, last_seen_ms, draining) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, capabilities = excluded.capabilities, \
             last_seen_ms = excluded.last_seen_ms, draining = excluded.draining",
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
            "UPDATE nodes SET last_seen_ms = MAX(last_seen_ms, ?) WHERE id = ? RETURNING draining",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn set_draining(&self, id: &str, draining: bool) -> Result<bool, StoreError> {
        let n = sqlx::query("UPDATE nodes SET draining = ? WHERE id = ?")
            .bind(draining)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    async fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let rows = sqlx::query("SELECT id, name, capabilities, registered_ms, last_seen_ms, draining FROM nodes ORDER BY name, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let caps: String = r.try_get("capabilities")?;
                Ok(NodeRecord {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    capabilities: serde_json::from_str(&caps)
                        .map_err(|e| StoreError::Corrupt(format!("node capabilities: {e}")))?,
                    registered_ms: r.try_get("registered_ms")?,
                    last_seen_ms: r.try_get("last_seen_ms")?,
                    draining: r.try_get("draining")?,
                })
            })
            .collect()
    }

    async fn put_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR IGNORE INTO tokens (hash, kind, name, node_id, created_ms, revoked_ms) VALUES (?, ?, ?, ?, ?, ?)",
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
            "UPDATE tokens SET revoked_ms = ? WHERE name = ? AND revoked_ms IS NULL \
             AND ((? IS NULL AND kind <> 'node') OR kind = ?)",
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
        sqlx::query("UPDATE tokens SET revoked_ms = ? WHERE node_id = ? AND revoked_ms IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n =
            sqlx::query("DELETE FROM nodes WHERE id = ?").bind(id).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn stats(&self) -> Result<QueueStats, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        let jobs = rows
            .iter()
            .map(|r| Ok((parse(&r.try_get::<String, _>(0)?)?, r.try_get::<i64, _>(1)? as u64)))
            .collect::<Result<_, StoreError>>()?;
        let row = sqlx::query(
            "SELECT COUNT(*), MIN(j.submitted_ms) FROM work_items w JOIN jobs j ON j.id = w.job_id WHERE w.state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        let work = sqlx::query(
            "SELECT requirement, SUM(state = 'pending'), SUM(state = 'leased') FROM work_items \
             WHERE state IN ('pending', 'leased') GROUP BY requirement ORDER BY requirement",
        )
        .fetch_all(&self.pool)
        .await?;
        let work_by_requirement = work
            .iter()
            .map(|r| {
                Ok(RequirementWork {
                    requirement: r.try_get(0)?,
                    pending: r.try_get::<i64, _>(1)? as u64,
                    leased: r.try_get::<i64, _>(2)? as u64,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(QueueStats {
            jobs,
            pending_items: row.try_get::<i64, _>(0)? as u64,
            oldest_pending_ms: row.try_get(1)?,
            work_by_requirement,
        })
    }

    async fn pending_items(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_items WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn import_job(&self, job: &JobRecord, items: &[ItemRecord]) -> Result<bool, StoreError> {
        let spec = serde_json::to_string(&job.spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let requirement = job.spec.requirements.key();
        self.durably(async |conn| {
            let seq: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (id, idempotency_key, spec, state, priority, total_frames, submitted_ms, \
                 started_ms, finished_ms, error, items_total, items_left, vmaf, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO NOTHING RETURNING seq",
            )
            .bind(&job.id)
            .bind(&job.idempotency_key)
            .bind(&spec)
            .bind(job.state.as_str())
            .bind(job.priority)
            .bind(job.total_frames as i64)
            .bind(job.submitted_ms)
            .bind(job.started_ms)
            .bind(job.finished_ms)
            .bind(&job.error)
            .bind(items.len() as i64)
            .bind(items.iter().filter(|i| i.state != vmafx_core::ItemState::Done).count() as i64)
            .bind(job.vmaf)
            .bind(&job.owner)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(seq) = seq else { return Ok(false) };
            sqlx::query("INSERT OR IGNORE INTO requirement_keys (key) VALUES (?)")
                .bind(&requirement)
                .execute(&mut *conn)
                .await?;
            for item in items {
                sqlx::query(
                    "INSERT INTO work_items (job_id, idx, start_frame, frames, state, attempts, not_before_ms, \
                     lease_node, lease_expires_ms, fence, result, result_version, last_error, priority, job_seq, \
                     requirement) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                .bind(job.priority)
                .bind(seq)
                .bind(&requirement)
                .execute(&mut *conn)
                .await?;
            }
            Ok(true)
        })
        .await
    }

    async fn raise_fence(&self, fence: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE counters SET value = MAX(value, ?) WHERE name = 'fence'")
            .bind(fence)
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
}
