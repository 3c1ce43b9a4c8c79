//! The conformance suite on [`SqliteStore`], and what only a file-backed SQLite store does.

mod conformance;

use vmafx_core::{ItemState, JobState};
use vmafx_store::{SqliteStore, Store};

conformance_suite!(async { Some(SqliteStore::in_memory().await.unwrap()) });

#[tokio::test]
async fn state_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let fence = {
        let s = SqliteStore::open(&path).await.unwrap();
        s.submit(conformance::job("j", Some("k"), 0, 24), 0).await.unwrap();
        let item = s.candidates(0, 1).await.unwrap()[0].item;
        s.lease(item, "n", 0, 1000).await.unwrap().unwrap().fence
    };
    let s = SqliteStore::open(&path).await.unwrap();
    let j = s.job("j").await.unwrap().unwrap();
    assert_eq!((j.state, j.items_total), (JobState::Running, 2));
    let items = s.items("j").await.unwrap();
    assert_eq!((items[0].state, items[0].fence), (ItemState::Leased, fence));
    let next = s.lease(items[1].id, "n", 1, 1000).await.unwrap().unwrap();
    assert!(next.fence > fence, "fencing tokens keep increasing across restarts");
}

#[tokio::test]
async fn an_encode_job_of_the_old_form_still_loads_after_the_upgrade() {
    // Encode jobs were ffmpeg arguments until migration 10; a queue holding one must open,
    // with the job readable (its node then fails it, saying to submit it again).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    {
        let s = SqliteStore::open(&path).await.unwrap();
        s.submit(conformance::job("old", None, 0, 24), 0).await.unwrap();
    }
    {
        let url = format!("sqlite://{}", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let old = r#"{"args": ["-c:v", "libx264", "-i", "/etc/passwd"], "start": 0, "frames": 0}"#;
        sqlx::query("UPDATE jobs SET spec = json_set(spec, '$.encode', json(?))")
            .bind(old)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 10").execute(&pool).await.unwrap();
        pool.close().await;
    }
    let s = SqliteStore::open(&path).await.unwrap();
    let job = s.job("old").await.unwrap().expect("the job loads");
    let encode = job.spec.encode.expect("still an encode job");
    assert_eq!(encode.encoder, "", "its arguments are gone: {encode:?}");
    assert!(vmafx_core::encode::check(&encode, None).unwrap_err().problem.contains("is required"));
}
