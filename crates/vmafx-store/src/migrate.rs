//! Moving a queue from one store to another (`vmafx-controller migrate`): every job with its
//! items as they are (states, attempts, fences, results), the nodes and the tokens, in
//! submission order. Run it with no controller on either store. It can run again after an
//! interruption: jobs already moved are left as they are.

use crate::{JobQuery, Store, StoreError};

/// Jobs read per page of the source.
const PAGE: u32 = 500;

/// What a migration moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Migrated {
    pub jobs: u64,
    /// Jobs the target had already (from an earlier, interrupted run).
    pub jobs_present: u64,
    pub items: u64,
    pub nodes: u64,
    pub tokens: u64,
}

/// Copies everything in `from` into `to`; `progress` hears the running totals after each page.
pub async fn migrate(
    from: &impl Store,
    to: &impl Store,
    mut progress: impl FnMut(&Migrated),
) -> Result<Migrated, StoreError> {
    let mut done = Migrated::default();
    let mut max_fence = 0;
    let mut after = None;
    loop {
        let page = from.list_jobs(JobQuery { cursor: after, ..JobQuery::oldest(PAGE) }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        for job in &page {
            let items = from.items(&job.id).await?;
            max_fence = items.iter().map(|i| i.fence).fold(max_fence, i64::max);
            if to.import_job(job, &items).await? {
                done.jobs += 1;
                done.items += items.len() as u64;
            } else {
                done.jobs_present += 1;
            }
        }
        progress(&done);
    }
    // Fences handed out from the target go past every fence the source handed out, so that a
    // node still holding a lease from before the move cannot have its token reused.
    to.raise_fence(max_fence).await?;
    for node in from.nodes().await? {
        to.upsert_node(&node).await?;
        done.nodes += 1;
    }
    for token in from.tokens().await? {
        to.put_token(&token).await?;
        done.tokens += 1;
    }
    Ok(done)
}
