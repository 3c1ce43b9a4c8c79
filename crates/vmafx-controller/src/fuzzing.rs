//! What untrusted bytes go through on their way into the controller, as plain functions for
//! the fuzz targets (`make fuzz`, under `fuzz/`) and their property-test versions (below,
//! in `make test`): a `POST /v1/jobs` body and a `SubmitJob` message, each parsed, turned into
//! a request and checked as a submission is. None of them may panic, hang or allocate without
//! bound, whatever the bytes.

use prost::Message as _;
use vmafx_media::AllowedRoots;
use vmafx_proto::v1;

use crate::auth::{Caller, Role};

/// A submitter: the least role that may submit, encode jobs included.
fn submitter() -> Caller {
    Caller { role: Role::Submit, name: "fuzz".into(), node_id: None }
}

/// Every absolute path passes by spelling, so that the checks after the paths run too.
fn everywhere() -> AllowedRoots {
    AllowedRoots::new(&["/".into()]).expect("/ is a directory")
}

/// A `POST /v1/jobs` body.
pub fn http_job_json(bytes: &[u8]) {
    if let Ok(mut request) = crate::http_adapter::job_request(bytes, None, submitter()) {
        let _ = crate::submit::check_request(&mut request.spec, &everywhere());
    }
}

/// A `SubmitJob` message as it arrives over gRPC.
pub fn submit_job(bytes: &[u8]) {
    let Ok(message) = v1::SubmitJobRequest::decode(bytes) else { return };
    if let Ok(mut request) = crate::grpc_adapter::job_request(message, submitter()) {
        let _ = crate::submit::check_request(&mut request.spec, &everywhere());
    }
}

/// A Y4M stream header (the first line of a file).
pub fn y4m_header(bytes: &[u8]) {
    if let Ok(h) = vmafx_media::y4m::Y4mHeader::parse(bytes) {
        assert!(h.format.check_size().is_ok(), "a header past the size bounds parsed");
    }
}

/// Variations of `seed` for a property test: byte flips, cuts, repeats, splices of
/// `tokens`. Deterministic (a small xorshift seeded by `n`).
pub fn mutations(seed: &[u8], tokens: &[&[u8]], n: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64 ^ n.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let seed = seed.to_vec();
    let tokens: Vec<Vec<u8>> = tokens.iter().map(|t| t.to_vec()).collect();
    (0..n).map(move |_| {
        let mut v = seed.clone();
        for _ in 0..1 + next() % 4 {
            let at = if v.is_empty() { 0 } else { (next() % (v.len() as u64 + 1)) as usize };
            match next() % 5 {
                0 if at < v.len() => v[at] ^= 1 << (next() % 8),
                1 => v.truncate(at),
                2 if !tokens.is_empty() => {
                    let t = &tokens[(next() % tokens.len() as u64) as usize];
                    v.splice(at..at, t.iter().copied());
                }
                3 if at < v.len() => {
                    let end = (at + 1 + (next() % 16) as usize).min(v.len());
                    let piece = v[at..end].to_vec();
                    v.splice(at..at, piece);
                }
                _ => v.insert(at.min(v.len()), (next() % 256) as u8),
            }
        }
        v
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The seed corpus the fuzz targets start from (`fuzz/corpus/TARGET`).
    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no seeds in {}", dir.display());
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    }

    /// Feeds `target` each seed of its corpus and `n` mutations of it.
    fn never_panics(corpus: &str, target: fn(&[u8]), tokens: &[&[u8]], n: u64) {
        for (i, seed) in seeds(corpus).iter().enumerate() {
            target(seed);
            for m in mutations(seed, tokens, n + i as u64) {
                target(&m);
            }
        }
    }

    #[test]
    fn http_job_json_never_panics() {
        let tokens: &[&[u8]] = &[
            b"{",
            b"}",
            b"\"",
            b":",
            b",",
            b"null",
            b"[",
            b"]",
            b"-1",
            b"1e999",
            b"18446744073709551616",
            b"\\u0000",
        ];
        never_panics("http_job_json", http_job_json, tokens, 30_000);
    }

    #[test]
    fn submit_job_messages_never_panic() {
        let tokens: &[&[u8]] =
            &[&[0x0a], &[0x12], &[0xff, 0xff, 0xff, 0xff, 0x0f], &[0x08, 0x80, 0x80, 0x80, 0x80, 0x10]];
        never_panics("submit_job", submit_job, tokens, 30_000);
    }

    #[test]
    fn y4m_headers_never_panic() {
        let tokens: &[&[u8]] = &[b" W", b" H", b" C", b"444p16", b"99999999999", b" F", b":", b"\n"];
        never_panics("y4m_header", y4m_header, tokens, 20_000);
    }

    #[test]
    fn the_seeds_are_what_they_say() {
        // Each seed corpus holds at least one input that gets past parsing, so that mutations
        // explore beyond the first check.
        let ok_json = seeds("http_job_json")
            .iter()
            .any(|s| crate::http_adapter::job_request(s, None, submitter()).is_ok());
        let ok_grpc = seeds("submit_job")
            .iter()
            .any(|s| v1::SubmitJobRequest::decode(s.as_slice()).is_ok_and(|m| m.score.is_some()));
        let ok_y4m = seeds("y4m_header").iter().any(|s| vmafx_media::y4m::Y4mHeader::parse(s).is_ok());
        assert!(ok_json && ok_grpc && ok_y4m, "{ok_json} {ok_grpc} {ok_y4m}");
        // The encode seeds are typed encodes that pass the checks, in both encodings.
        let json = crate::http_adapter::job_request(&seeds("http_job_json")[0], None, submitter()).unwrap();
        let grpc = v1::SubmitJobRequest::decode(seeds("submit_job")[0].as_slice()).unwrap();
        let wire = vmafx_core::ScoreJobSpec::from(grpc.score.unwrap()).encode.unwrap();
        for e in [json.spec.encode.unwrap(), wire] {
            let args = vmafx_core::encode::check(&e, None).unwrap().ffmpeg_args();
            assert!(args.join(" ").contains("-c:v libx264 -crf 23.5 -preset fast"), "{args:?}");
        }
    }
}
