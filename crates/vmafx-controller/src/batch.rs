//! Group commit: requests that arrive while the store is busy with one transaction wait for
//! the next, and go in it together. Under load one transaction serves many pulls (or results,
//! or submissions); with one request at a time it costs one channel hop.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};
use vmafx_store::StoreError;

/// Requests in one transaction at most.
pub const MAX_BATCH: usize = 256;

type Run<Req, Resp> = Arc<
    dyn Fn(Vec<Req>) -> Pin<Box<dyn Future<Output = Result<Vec<Resp>, StoreError>> + Send>> + Send + Sync,
>;

type Waiting<Req, Resp> = (Req, oneshot::Sender<Result<Resp, StoreError>>);

/// Runs requests in batches through `run`, which answers a batch in order; up to `workers`
/// batches at once.
pub struct Batcher<Req, Resp> {
    queue: OnceLock<mpsc::UnboundedSender<Waiting<Req, Resp>>>,
    run: Run<Req, Resp>,
    workers: usize,
}

impl<Req: Send + 'static, Resp: Send + 'static> Batcher<Req, Resp> {
    pub fn new<F, Fut>(workers: usize, run: F) -> Self
    where
        F: Fn(Vec<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<Resp>, StoreError>> + Send + 'static,
    {
        Self {
            queue: OnceLock::new(),
            run: Arc::new(move |reqs| Box::pin(run(reqs))),
            workers: workers.max(1),
        }
    }

    /// Runs `req` in the next batch and returns its answer. A failed batch answers each of
    /// its requests with the batch's error.
    pub async fn call(&self, req: Req) -> Result<Resp, StoreError> {
        let (tx, rx) = oneshot::channel();
        // The worker starts on first use, inside the caller's runtime.
        let queue = self.queue.get_or_init(|| {
            let (queue, incoming) = mpsc::unbounded_channel();
            // Workers take turns at the queue: one gathers a batch while others run theirs.
            let incoming = Arc::new(tokio::sync::Mutex::new(incoming));
            for _ in 0..self.workers {
                tokio::spawn(work(incoming.clone(), self.run.clone()));
            }
            queue
        });
        if queue.send((req, tx)).is_err() {
            return Err(StoreError::Corrupt("the store's batch worker stopped".into()));
        }
        rx.await.unwrap_or_else(|_| Err(StoreError::Corrupt("the store's batch worker stopped".into())))
    }
}

async fn work<Req: Send + 'static, Resp: Send + 'static>(
    incoming: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Waiting<Req, Resp>>>>,
    run: Run<Req, Resp>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if incoming.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let (reqs, answers): (Vec<Req>, Vec<_>) = batch.drain(..).unzip();
        let n = reqs.len();
        // In a task of its own: a batch that panics fails its requests, not the worker.
        let ran = tokio::spawn(run(reqs)).await.unwrap_or_else(|e| {
            Err(StoreError::Corrupt(format!("a batch of {n} store requests panicked: {e}")))
        });
        match ran {
            Ok(resps) if resps.len() == n => {
                for (answer, resp) in answers.into_iter().zip(resps) {
                    let _ = answer.send(Ok(resp));
                }
            }
            Ok(resps) => {
                let e = StoreError::Corrupt(format!("a batch of {n} got {} answers", resps.len()));
                for answer in answers {
                    let _ = answer.send(Err(e.clone()));
                }
            }
            Err(e) => {
                for answer in answers {
                    let _ = answer.send(Err(e.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_calls_share_batches_and_each_gets_its_own_answer() {
        let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let b = Arc::new(Batcher::new(2, move |reqs: Vec<u32>| {
            seen.lock().unwrap().push(reqs.len());
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                Ok(reqs.into_iter().map(|r| r * 10).collect())
            }
        }));
        let calls: Vec<_> = (0..100)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { (i, b.call(i).await.unwrap()) })
            })
            .collect();
        for c in calls {
            let (i, answer) = c.await.unwrap();
            assert_eq!(answer, i * 10);
        }
        let sizes = sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 100);
        assert!(sizes.len() < 100, "some calls shared a batch: {sizes:?}");
    }

    #[tokio::test]
    async fn a_batch_that_panics_fails_its_calls_and_the_next_batch_still_runs() {
        let b = Batcher::new(1, |reqs: Vec<u32>| async move {
            assert!(reqs[0] != 13, "unlucky");
            Ok(reqs)
        });
        assert!(b.call(13).await.unwrap_err().to_string().contains("panicked"));
        assert_eq!(b.call(7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_failed_batch_fails_each_of_its_calls() {
        let b =
            Batcher::new(1, |_: Vec<u32>| async { Err::<Vec<u32>, _>(StoreError::Corrupt("disk".into())) });
        assert!(b.call(1).await.unwrap_err().to_string().contains("disk"));
        let short = Batcher::new(1, |_: Vec<u32>| async { Ok(Vec::<u32>::new()) });
        assert!(short.call(1).await.unwrap_err().to_string().contains("got 0 answers"));
    }
}
