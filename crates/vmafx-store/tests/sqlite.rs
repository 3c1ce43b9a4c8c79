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
