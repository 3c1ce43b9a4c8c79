//! The controller's HTTP JSON API on a loopback port, with a real node: tokens (401/403),
//! field-named 400s, idempotent submission, listing with filters and pages, per-frame scores
//! equal to `vmafx score`, cancellation, node drain, models, and the dispatch and job-duration
//! histograms in /metrics.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::cluster::{
    assert_error, call, http, http_get, parse_prometheus, start_controller, start_node, token, wait_for,
};

fn job_body(reference: &Path, distorted: &Path) -> Value {
    json!({"score": {"reference": reference, "distorted": distorted, "segment_frames": 8, "features": ["psnr"]}})
}

#[test]
fn http_api_runs_the_job_lifecycle() {
    let data = tempfile::tempdir().unwrap();
    let clips = tempfile::tempdir().unwrap();
    let r = common::lavfi(clips.path(), "ref.y4m", "testsrc2=size=192x108:rate=24", 24, "yuv420p");
    let d = common::encode(&r, clips.path(), "dist.mp4", &["-c:v", "libx264", "-crf", "38"]);
    // A short lease makes heartbeats (a third of it) come every second.
    let ctl = start_controller(data.path(), &["--lease-ttl-ms", "3000"]);
    let (admin, node_token) = (token(data.path(), "admin.token"), token(data.path(), "node.token"));
    let h = ctl.http.as_str();

    // The API needs the admin token; health checks need none.
    let (status, body) = http_get(h, "/v1/jobs");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("admin.token"), "{body}");
    assert_eq!(http(h, "GET", "/v1/jobs", Some("wrong"), None).0, 401);
    assert_eq!(http(h, "GET", "/v1/jobs", Some(&node_token), None).0, 403);
    assert_eq!(http_get(h, "/healthz").0, 200);

    // Bad requests: 400 naming the field.
    let no_distorted = json!({"score": {"reference": r}});
    assert_error(
        call(h, &admin, "POST", "/v1/jobs", Some(no_distorted)),
        400,
        Some("score.distorted"),
        "required",
    );
    let missing = job_body(&r, &clips.path().join("missing.mp4"));
    assert_error(
        call(h, &admin, "POST", "/v1/jobs", Some(missing)),
        400,
        Some("score.distorted"),
        "missing.mp4",
    );
    let mut unknown_model = job_body(&r, &d);
    unknown_model["score"]["model"] = json!("vmaf_v9");
    assert_error(
        call(h, &admin, "POST", "/v1/jobs", Some(unknown_model)),
        400,
        Some("score.model"),
        "vmaf_v0.6.1",
    );
    let mut unknown_feature = job_body(&r, &d);
    unknown_feature["score"]["features"] = json!(["psnr", "sharpness"]);
    assert_error(
        call(h, &admin, "POST", "/v1/jobs", Some(unknown_feature)),
        400,
        Some("score.features"),
        "sharpness",
    );
    assert_error(call(h, &admin, "POST", "/v1/jobs", Some(json!({}))), 400, Some("score"), "required");
    // Paths are the nodes' paths: a relative one is refused, not resolved against the
    // controller's working directory.
    let relative = json!({"score": {"reference": "ref.y4m", "distorted": d}});
    assert_error(
        call(h, &admin, "POST", "/v1/jobs", Some(relative)),
        400,
        Some("score.reference"),
        "absolute",
    );
    // A FIFO would block every node's reader for ever; a directory fails it: both refused.
    let fifo = clips.path().join("pipe.y4m");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let not_files =
        [(job_body(&r, &fifo), "score.distorted"), (job_body(clips.path(), &d), "score.reference")];
    for (body, field) in not_files {
        assert_error(call(h, &admin, "POST", "/v1/jobs", Some(body)), 400, Some(field), "not a regular file");
    }
    let (status, body) = http(h, "POST", "/v1/jobs", Some(&admin), Some("{not json"));
    assert_eq!(status, 400, "{body}");
    assert_error(call(h, &admin, "GET", "/v1/jobs?state=done", None), 400, Some("state"), "succeeded");
    assert_error(call(h, &admin, "GET", "/v1/jobs/nope", None), 404, None, "no job `nope`");

    // Submission: 201, then 200 with the same job for the same idempotency key.
    let mut keyed = job_body(&r, &d);
    keyed["idempotency_key"] = json!("title-42");
    let (status, job) = call(h, &admin, "POST", "/v1/jobs", Some(keyed.clone()));
    assert_eq!(status, 201, "{job}");
    assert_eq!(
        (job["state"].as_str(), job["total_frames"].as_u64(), job["segments_total"].as_u64()),
        (Some("queued"), Some(24), Some(3))
    );
    let (status, again) = call(h, &admin, "POST", "/v1/jobs", Some(keyed.clone()));
    assert_eq!((status, &again["id"]), (200, &job["id"]));
    // The same key for a different job is refused, naming the key; the first job stands.
    keyed["score"]["subsample"] = json!(2);
    assert_error(
        call(h, &admin, "POST", "/v1/jobs", Some(keyed)),
        409,
        Some("idempotency_key"),
        "`title-42`",
    );
    let id = job["id"].as_str().unwrap().to_string();

    // A second job, cancelled before any node exists.
    let (_, other) = call(h, &admin, "POST", "/v1/jobs", Some(job_body(&r, &d)));
    let other_id = other["id"].as_str().unwrap();
    let (status, cancelled) = call(h, &admin, "DELETE", &format!("/v1/jobs/{other_id}"), None);
    assert_eq!((status, cancelled["state"].as_str()), (200, Some("cancelled")));

    // Listing: filtered by state, and paged.
    let (_, queued) = call(h, &admin, "GET", "/v1/jobs?state=queued", None);
    let ids: Vec<&str> =
        queued["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str()]);
    // Newest first by default, oldest first on request.
    for (order, first, second) in [("", other_id, id.as_str()), ("&order=oldest", id.as_str(), other_id)] {
        let (_, page1) = call(h, &admin, "GET", &format!("/v1/jobs?page_size=1{order}"), None);
        let token1 = page1["next_page_token"].as_str().unwrap();
        assert!(!token1.is_empty());
        let (_, page2) =
            call(h, &admin, "GET", &format!("/v1/jobs?page_size=1&page_token={token1}{order}"), None);
        assert_eq!(page1["jobs"][0]["id"], json!(first), "{order}");
        assert_eq!(page2["jobs"][0]["id"], json!(second), "{order}");
    }
    assert_error(call(h, &admin, "GET", "/v1/jobs?order=random", None), 400, Some("order"), "oldest");

    // A node scores it; the per-frame and pooled scores equal `vmafx score`'s.
    let mut node = start_node(&ctl.addr, data.path(), "worker-1");
    wait_for(h, &admin, &id, "succeeded");
    let (status, done) = call(h, &admin, "GET", &format!("/v1/jobs/{id}?scores=true"), None);
    assert_eq!(status, 200);
    let local = common::vmafx_json(&r, &d, &["--feature", "psnr"]);
    assert_eq!(done["frames"], local["frames"], "per-frame scores");
    assert_eq!(done["pooled_metrics"], local["pooled_metrics"], "pooled scores");
    assert_eq!((done["segments_done"].as_u64(), done["frames_done"].as_u64()), (Some(3), Some(24)));
    assert_eq!(done["vmaf"], local["pooled_metrics"]["vmaf"]["mean"]);
    let (_, pooled_only) = call(h, &admin, "GET", &format!("/v1/jobs/{id}?scores=true&frames=false"), None);
    assert_eq!(pooled_only["pooled_metrics"], local["pooled_metrics"]);
    assert!(pooled_only.get("frames").is_none() && pooled_only["frames_total"] == 24, "{pooled_only}");
    let (_, page) = call(h, &admin, "GET", &format!("/v1/jobs/{id}?scores=true&frames_offset=20"), None);
    assert_eq!(page["frames"].as_array().unwrap().len(), 4);
    assert_eq!(page["frames"][0], local["frames"][20]);

    // Models and nodes.
    let (_, models) = call(h, &admin, "GET", "/v1/models", None);
    let default: Vec<&Value> =
        models["models"].as_array().unwrap().iter().filter(|m| m["default"] == true).collect();
    assert_eq!(default[0]["name"], "vmaf_v0.6.1");
    let (_, nodes) = call(h, &admin, "GET", "/v1/nodes", None);
    let n = &nodes["nodes"][0];
    assert_eq!((n["name"].as_str(), n["state"].as_str()), (Some("worker-1"), Some("live")));
    // It registered what it has: the scheduler matches jobs' requirements against this.
    let encoders = n["capabilities"]["encoders"].as_array().unwrap();
    assert!(encoders.iter().any(|e| e == "libx264"), "{n}");
    assert!(n["capabilities"]["cores"].as_u64().unwrap() >= 1);
    assert_error(call(h, &admin, "POST", "/v1/nodes/nope/drain", None), 404, None, "no node `nope`");

    // Drain: the node hears it in its next heartbeat and exits cleanly.
    let (status, drained) =
        call(h, &admin, "POST", &format!("/v1/nodes/{}/drain", n["id"].as_str().unwrap()), None);
    assert_eq!((status, drained["state"].as_str()), (200, Some("draining")), "{drained}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(status) = node.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the drained node is still running");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "{exit}");

    // The histograms count the three dispatches and the two finished jobs.
    let (status, text) = http_get(h, "/metrics");
    assert_eq!(status, 200);
    let samples = parse_prometheus(&text);
    for expected in [
        "vmafx_dispatch_latency_seconds_count[] 3",
        "vmafx_job_duration_seconds_count[('state', 'succeeded')] 1",
        "vmafx_job_duration_seconds_count[('state', 'cancelled')] 1",
        "vmafx_job_duration_seconds_count[('state', 'failed')] 0",
        "vmafx_jobs[('state', 'succeeded')] 1",
    ] {
        assert!(samples.iter().any(|s| s == expected), "{expected} not in {samples:?}");
    }
    assert!(
        samples.iter().any(|s| s.starts_with("vmafx_dispatch_latency_seconds_bucket[('le', '+Inf')] 3")),
        "{samples:?}"
    );
}
