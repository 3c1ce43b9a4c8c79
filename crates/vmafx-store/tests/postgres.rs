//! The conformance suite on [`PgStore`], each case in a database of its own on the server
//! `VMAFX_TEST_POSTGRES` names (`make test` starts a throwaway one: scripts/with-postgres.sh),
//! and what only a shared PostgreSQL queue does: several handles (controllers) at once.

mod conformance;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::Connection;
use vmafx_core::JobState;
use vmafx_store::{Completion, PgStore, Store, StoreEvent, Transition};

/// A fresh, empty database on the test server; `None` (skipped, said on stderr) only when no
/// server is given and `VMAFX_ALLOW_SKIP` names `postgres`.
async fn fresh() -> Option<String> {
    let Ok(server) = std::env::var("VMAFX_TEST_POSTGRES") else {
        let allowed = std::env::var("VMAFX_ALLOW_SKIP").unwrap_or_default();
        if allowed.split([',', ' ']).any(|s| s == "postgres" || s == "all") {
            eprintln!("SKIPPED: VMAFX_TEST_POSTGRES is not set (allowed by VMAFX_ALLOW_SKIP)");
            return None;
        }
        panic!(
            "VMAFX_TEST_POSTGRES is not set: run `make test`, or `scripts/with-postgres.sh cargo test ...` \
             (or name `postgres` in VMAFX_ALLOW_SKIP to skip these tests)"
        );
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!("store_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let mut admin = sqlx::PgConnection::connect(&server).await.expect("connect to the test PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let base = server.rsplit_once('/').unwrap().0;
    Some(format!("{base}/{name}"))
}

async fn store() -> Option<PgStore> {
    Some(PgStore::connect(&fresh().await?).await.unwrap())
}

conformance_suite!(store());

/// Two controllers on one database: a job submitted through one is leased through the other,
/// every item exactly once, and each hears the other's changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_share_one_queue_and_hear_each_other() {
    let Some(url) = fresh().await else { return };
    let (a, b) = (PgStore::connect(&url).await.unwrap(), PgStore::connect(&url).await.unwrap());
    let mut heard = b.subscribe().expect("PostgreSQL relays changes");
    a.submit(conformance::job("j", Some("k"), 0, 120), 1).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), heard.recv()).await.unwrap().unwrap();
    assert_eq!(event, StoreEvent::Work { requirement: Some(String::new()) });
    // The same idempotency key through the other controller finds the first job.
    let (again, created) = b.submit(conformance::job("j2", Some("k"), 0, 120), 2).await.unwrap();
    assert!(!created && again.id == "j");
    let mut leases = Vec::new();
    for i in 0..10 {
        let s = if i % 2 == 0 { &a } else { &b };
        leases.push(s.lease_next("n", 5, 1000, &[String::new()]).await.unwrap().unwrap());
    }
    assert!(a.lease_next("n", 5, 1000, &[String::new()]).await.unwrap().is_none());
    for (i, l) in leases.iter().enumerate() {
        let s = if i % 3 == 0 { &a } else { &b };
        let r = s.complete(l.item.id, l.fence, &Default::default(), 10).await.unwrap();
        assert!(matches!(r, Completion::Applied { .. }));
    }
    let j = b.job("j").await.unwrap().unwrap();
    assert_eq!((j.state, j.items_done, j.items_total), (JobState::Succeeded, 10, 10));
    let changed = loop {
        match tokio::time::timeout(Duration::from_secs(5), heard.recv()).await.unwrap().unwrap() {
            StoreEvent::Changed { job_id } => break job_id,
            StoreEvent::Work { .. } => continue,
        }
    };
    assert_eq!(changed, "j");
}

/// Many pulls and completions at once through two handles: no item is leased twice, the job
/// ends exactly when its last item is done, and concurrent last completions cannot both
/// miss the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_completions_end_the_job_once() {
    let Some(url) = fresh().await else { return };
    let stores = [PgStore::connect(&url).await.unwrap(), PgStore::connect(&url).await.unwrap()];
    for j in 0..4 {
        stores[0].submit(conformance::job(&format!("j{j}"), None, 0, 12 * 25), j).await.unwrap();
    }
    let mut tasks = Vec::new();
    for n in 0..16 {
        let s = stores[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            while let Some(l) = s.lease_next(&format!("n{n}"), 10, 60_000, &[String::new()]).await.unwrap() {
                // Every other attempt fails once and is retried at once.
                if l.item.attempts == 1 && l.item.id % 2 == 0 {
                    let t = Transition::Retry { not_before_ms: 0, error: "flaky".into() };
                    assert!(matches!(
                        s.settle_failed(l.item.id, l.fence, &t, 11).await.unwrap(),
                        Completion::Applied { .. }
                    ));
                    continue;
                }
                assert!(matches!(
                    s.complete(l.item.id, l.fence, &Default::default(), 12).await.unwrap(),
                    Completion::Applied { .. }
                ));
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 100);
    for j in 0..4 {
        let job = stores[1].job(&format!("j{j}")).await.unwrap().unwrap();
        assert_eq!((job.state, job.items_done), (JobState::Succeeded, 25), "{job:?}");
    }
}

/// Leases and results commit without waiting for the disk; so that a lease a database crash
/// forgot never has its fencing token handed out again, every new connection moves the
/// fence sequence far past what any connection handed out before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_moves_fences_past_any_lost_lease() {
    let Some(url) = fresh().await else { return };
    let a = PgStore::connect(&url).await.unwrap();
    a.submit(conformance::job("j", None, 0, 24), 1).await.unwrap();
    let first = a.lease_next("n", 5, 1000, &[String::new()]).await.unwrap().unwrap().fence;
    let b = PgStore::connect(&url).await.unwrap();
    let second = b.lease_next("n", 5, 1000, &[String::new()]).await.unwrap().unwrap().fence;
    assert!(second > first + (1 << 32), "{second} after {first}");
}
