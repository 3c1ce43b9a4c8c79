//! Training triples from a node to its trainer: frames' measures queued in memory and sent,
//! one JSON object per line, over the trainer's Unix socket by a thread of their own.
//!
//! Scoring never waits for the trainer: the queue is bounded, and when the trainer is slow or
//! absent the oldest triples are dropped and counted (`vmafx_node_triples_dropped_total`). A
//! trainer that starts later, or restarts, is connected to again within a second.

use std::collections::VecDeque;
use std::io::{BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::triple::Triple;

/// Triples queued at most (a few hundred bytes each: about 20 MB).
pub const DEFAULT_CAPACITY: usize = 65_536;

/// Lines written per batch.
const BATCH: usize = 1024;

/// How long a write may block before the trainer is taken as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// What became of the triples offered so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CaptureCounts {
    pub queued: u64,
    pub sent: u64,
    pub dropped: u64,
    pub connected: bool,
}

#[derive(Default)]
struct State {
    queue: VecDeque<String>,
    counts: CaptureCounts,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    socket: PathBuf,
    capacity: usize,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sending half of a node's capture.
#[derive(Clone)]
pub struct Capture {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("socket", &self.shared.socket).finish()
    }
}

impl Capture {
    /// Starts sending to the trainer listening on `socket`, keeping at most `capacity`
    /// triples waiting.
    pub fn start(socket: PathBuf, capacity: usize) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            socket,
            capacity: capacity.max(1),
        });
        let sending = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("vmafx-capture".into())
            .spawn(move || send(&sending))
            .expect("start the capture thread");
        Self { shared }
    }

    /// Queues `triples`, dropping the oldest waiting ones beyond the capacity.
    pub fn offer(&self, triples: &[Triple]) {
        let lines: Vec<String> = triples.iter().filter_map(|t| serde_json::to_string(t).ok()).collect();
        let mut s = self.shared.lock();
        s.queue.extend(lines);
        trim(&mut s, self.shared.capacity);
        drop(s);
        self.shared.wake.notify_one();
    }

    pub fn counts(&self) -> CaptureCounts {
        let s = self.shared.lock();
        CaptureCounts { queued: s.queue.len() as u64, ..s.counts }
    }
}

fn trim(s: &mut State, capacity: usize) {
    while s.queue.len() > capacity {
        s.queue.pop_front();
        s.counts.dropped += 1;
    }
}

fn send(shared: &Shared) {
    let mut conn: Option<BufWriter<UnixStream>> = None;
    loop {
        let batch: Vec<String> = {
            let mut s = shared.lock();
            while s.queue.is_empty() {
                s = shared.wake.wait(s).unwrap_or_else(|e| e.into_inner());
            }
            let n = s.queue.len().min(BATCH);
            s.queue.drain(..n).collect()
        };
        if conn.is_none() {
            match UnixStream::connect(&shared.socket) {
                Ok(stream) => {
                    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
                    conn = Some(BufWriter::new(stream));
                    shared.lock().counts.connected = true;
                }
                Err(e) => {
                    // No trainer (yet): the batch waits its turn again, oldest first.
                    let mut s = shared.lock();
                    if s.counts.connected || s.counts.sent == 0 && s.counts.dropped == 0 {
                        tracing::info!(socket = %shared.socket.display(), "no trainer to send triples to: {e}");
                    }
                    s.counts.connected = false;
                    for line in batch.into_iter().rev() {
                        s.queue.push_front(line);
                    }
                    trim(&mut s, shared.capacity);
                    drop(s);
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            }
        }
        let w = conn.as_mut().expect("connected above");
        let written =
            batch.iter().try_for_each(|l| w.write_all(l.as_bytes()).and_then(|()| w.write_all(b"\n")));
        let mut s = shared.lock();
        match written.and_then(|()| w.flush()) {
            Ok(()) => s.counts.sent += batch.len() as u64,
            Err(e) => {
                tracing::warn!(socket = %shared.socket.display(), "sending triples to the trainer failed: {e}");
                // What was in flight is lost with the connection.
                s.counts.dropped += batch.len() as u64;
                s.counts.connected = false;
                conn = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triple::Meta;
    use std::io::BufRead;

    fn triple(frame: u64) -> Triple {
        Triple {
            features: [("a".to_string(), frame as f64)].into(),
            vmaf: 50.0,
            meta: Meta { clip: "c".into(), frame, ..Meta::default() },
        }
    }

    #[test]
    fn the_oldest_are_dropped_while_no_trainer_listens_then_the_rest_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("trainer.sock");
        let capture = Capture::start(socket.clone(), 5);
        capture.offer(&(0..8).map(triple).collect::<Vec<_>>());
        std::thread::sleep(Duration::from_millis(200));
        let c = capture.counts();
        assert_eq!((c.queued, c.dropped, c.sent, c.connected), (5, 3, 0, false), "{c:?}");

        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let (stream, _) = listener.accept().unwrap();
        let mut lines = std::io::BufReader::new(stream).lines();
        let frames: Vec<u64> = (0..5)
            .map(|_| serde_json::from_str::<Triple>(&lines.next().unwrap().unwrap()).unwrap().meta.frame)
            .collect();
        assert_eq!(frames, vec![3, 4, 5, 6, 7], "the newest five, in order");
        // Counted once the batch is flushed (a moment after the lines arrive).
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while capture.counts().sent < 5 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let c = capture.counts();
        assert_eq!((c.queued, c.dropped, c.sent, c.connected), (0, 3, 5, true), "{c:?}");
    }
}
