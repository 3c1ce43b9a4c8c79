//! `vmafx-mcp` driven by a real MCP client (the official Python SDK, `tests/mcp_client.py`)
//! over stdio and streamable HTTP: initialize, list tools, score with the same numbers as
//! `vmafx score`, progress notifications while scoring, tool errors that say what is wrong
//! (and a server that keeps serving), and cluster jobs against `vmafx up`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use common::cluster::{ca_env, http, start_up_with, token, trust, Proc};

/// Runs the Python client with `scenario`; `transport` is the rest of its command line.
fn drive(dir: &Path, scenario: &Value, transport: &[&str]) -> Value {
    let file = dir.join(format!("scenario-{}.json", transport[0]));
    std::fs::write(&file, scenario.to_string()).unwrap();
    let out = common::run_with_timeout(
        Command::new("python3")
            .arg(common::root().join("tests/mcp_client.py"))
            .arg(transport[0])
            .arg(&file)
            .args(&transport[1..]),
        Duration::from_secs(300),
    );
    assert!(out.status.success(), "MCP client failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn call<'a>(out: &'a Value, i: usize, tool: &str) -> &'a Value {
    let c = &out["calls"][i];
    assert_eq!(c["tool"], tool);
    c
}

fn assert_tool_error(c: &Value, says: &str) {
    assert_eq!(c["is_error"], true, "{c}");
    assert!(c["text"].as_str().unwrap().contains(says), "`{says}` not in {}", c["text"]);
}

#[test]
fn stdio_tools_score_like_vmafx_score_and_report_errors_as_tool_errors() {
    let dir = tempfile::tempdir().unwrap();
    let r = common::lavfi(dir.path(), "ref.y4m", "testsrc2=size=640x360:rate=24", 96, "yuv420p");
    let d = common::encode(&r, dir.path(), "dist.mp4", &["-c:v", "libx264", "-crf", "35"]);
    let (rs, ds) = (r.to_str().unwrap(), d.to_str().unwrap());
    let tiny = common::lavfi(dir.path(), "tiny.y4m", "testsrc2=size=160x90:rate=24", 12, "yuv420p");
    let outside = common::lavfi(
        &common::root().join("target"),
        "mcp-outside.y4m",
        "testsrc2=size=64x36:rate=24",
        2,
        "yuv420p",
    );
    let scenario = json!([
        {"tool": "vmaf_score", "arguments": {"reference": rs, "distorted": ds, "features": ["psnr"]}},
        {"tool": "vmaf_score", "arguments": {"reference": outside, "distorted": ds}},
        {"tool": "vmaf_score", "arguments": {"reference": rs, "distorted": dir.path().join("missing.mp4")}},
        {"tool": "vmaf_score", "arguments": {"reference": rs, "distorted": ds, "model": "vmaf_v9"}},
        {"tool": "worst_frames", "arguments": {"reference": rs, "distorted": ds, "n": 3}},
        {"tool": "describe_model", "arguments": {"name": "vmaf_4k_v0.6.1"}},
        {"tool": "submit_job", "arguments": {"reference": rs, "distorted": ds}},
        {"tool": "crf_search", "arguments": {"source": tiny, "target": 90}},
        {"tool": "ladder", "arguments": {"source": tiny, "resolutions": ["160x90", "96x54"], "crfs": "22,30,38"}},
        {"tool": "crf_search", "arguments": {"source": tiny, "target": 90, "encoder": "h264_qsv"}},
    ]);
    let server = common::bin("vmafx-mcp");
    let out = drive(
        dir.path(),
        &scenario,
        &[
            "stdio",
            "--",
            server.to_str().unwrap(),
            "--allow-root",
            dir.path().to_str().unwrap(),
            "--threads",
            "2",
            "--cache-dir",
            dir.path().join("cache").to_str().unwrap(),
        ],
    );

    assert_eq!(out["server"], "vmafx-mcp");
    let tools: Vec<&str> = out["tools"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    for t in [
        "vmaf_score",
        "worst_frames",
        "submit_job",
        "get_job",
        "list_jobs",
        "cancel_job",
        "list_nodes",
        "list_models",
        "describe_model",
        "crf_search",
        "ladder",
    ] {
        assert!(tools.contains(&t), "{t} missing from {tools:?}");
    }
    assert_eq!(out["schemas"]["vmaf_score"]["required"], json!(["reference", "distorted"]));

    // The same pooled numbers as the CLI, bit for bit.
    let local = common::vmafx_json(&r, &d, &["--feature", "psnr"]);
    let scored = call(&out, 0, "vmaf_score");
    assert_eq!(scored["is_error"], false, "{scored}");
    assert_eq!(scored["result"]["pooled_metrics"], local["pooled_metrics"]);
    assert_eq!(scored["result"]["vmaf"], local["pooled_metrics"]["vmaf"]["mean"]);
    assert_eq!(scored["result"]["frames"], 96);
    assert!(scored["result"].get("per_frame").is_none(), "per-frame scores only when asked");
    // Progress arrived during the call: rising, some before the end, the last at 96 of 96.
    let progress: Vec<(f64, f64)> = scored["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["done"].as_f64().unwrap(), p["total"].as_f64().unwrap()))
        .collect();
    assert!(progress.len() >= 2, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0].0 <= w[1].0), "{progress:?}");
    assert!(progress[0].0 < 96.0 && *progress.last().unwrap() == (96.0, 96.0), "{progress:?}");

    // Errors are tool errors that say what is wrong.
    assert_tool_error(call(&out, 1, "vmaf_score"), "outside the allowed roots");
    assert_tool_error(call(&out, 2, "vmaf_score"), "missing.mp4`: no such file");
    assert_tool_error(call(&out, 3, "vmaf_score"), "unknown model `vmaf_v9`");
    // ...and the server keeps serving.
    let worst = call(&out, 4, "worst_frames");
    assert_eq!(worst["is_error"], false, "{worst}");
    let frames = worst["result"]["worst"].as_array().unwrap();
    assert_eq!(frames.len(), 3);
    let mut all: Vec<f64> =
        local["frames"].as_array().unwrap().iter().map(|f| f["metrics"]["vmaf"].as_f64().unwrap()).collect();
    all.sort_by(f64::total_cmp);
    let got: Vec<f64> = frames.iter().map(|f| f["vmaf"].as_f64().unwrap()).collect();
    assert_eq!(got, all[..3]);
    let described = call(&out, 5, "describe_model");
    assert!(described["result"]["description"].as_str().unwrap().contains("4K"));
    assert_tool_error(call(&out, 6, "submit_job"), "no controller configured");

    // The tuning tools answer with vmafx-tune's JSON, with a progress line per encode.
    let searched = call(&out, 7, "crf_search");
    assert_eq!(searched["is_error"], false, "{searched}");
    assert!(searched["result"]["score"].as_f64().unwrap() >= 90.0);
    assert_eq!(
        searched["progress"].as_array().unwrap().len(),
        searched["result"]["probes"].as_array().unwrap().len()
    );
    let ladder = call(&out, 8, "ladder");
    assert_eq!(ladder["is_error"], false, "{ladder}");
    assert_eq!(ladder["result"]["encodes"], 6);
    assert!(!ladder["result"]["rungs"].as_array().unwrap().is_empty());
    assert_tool_error(call(&out, 9, "crf_search"), "unknown encoder `h264_qsv`");
}

#[test]
fn http_needs_its_token_and_runs_jobs_on_vmafx_up() {
    let dir = tempfile::tempdir().unwrap();
    let r = common::lavfi(dir.path(), "ref.y4m", "testsrc2=size=320x180:rate=24", 48, "yuv420p");
    let d = common::encode(&r, dir.path(), "dist.mp4", &["-c:v", "libx264", "-crf", "30"]);
    let (rs, ds) = (r.to_str().unwrap(), d.to_str().unwrap());
    // Long enough to cancel while it runs: a minute at 24 fps, both sides decoded from H.264
    // (segments seek to their frames, so the job takes as long as its frames, no longer).
    let long_ref = dir.path().join("long.mkv");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=24",
        "-frames:v",
        "1440",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "10",
        long_ref.to_str().unwrap(),
    ]);
    let long_dist = common::encode(
        &long_ref,
        dir.path(),
        "long.mp4",
        &["-c:v", "libx264", "-preset", "ultrafast", "-crf", "35"],
    );
    // A model registry the service serves: MCP lists it through the controller.
    let registry = dir.path().join("registry");
    std::fs::create_dir(&registry).unwrap();
    std::fs::write(registry.join("fr-x_v001.onnx"), b"x").unwrap();
    std::fs::write(
        registry.join("registry.json"),
        json!({"schema_version": 1, "models": [{"id": "fr-x", "version": 1, "kind": "fr", "onnx": "fr-x_v001.onnx",
            "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
            "inputs": [{"name": "x", "shape": [-1, 1]}], "outputs": [{"name": "y", "shape": [-1, 1]}],
            "features": ["vmaf"], "downscale": 4, "normalisation": {"mean": [0], "std": [1]},
            "created_at": "2026-12-03T00:00:00Z", "metrics": {"plcc": 0.9, "srocc": 0.8, "rmse": 7.5}}]})
        .to_string(),
    )
    .unwrap();
    let data = dir.path().join("up");
    let (_up, grpc, http_addr) = start_up_with(&data, &["--registry", registry.to_str().unwrap()]);

    // Without a token the HTTP transport does not start.
    let refused = common::run_with_timeout(
        Command::new(common::bin("vmafx-mcp")).args(["--http", "127.0.0.1:0"]).env_remove("VMAFX_MCP_TOKEN"),
        Duration::from_secs(30),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--http-token"));

    let mcp_data = dir.path().join("mcp-data");
    let mut child = Command::new(common::bin("vmafx-mcp"))
        .args(["--http", "127.0.0.1:0", "--allow-root", dir.path().to_str().unwrap(), "--controller", &grpc])
        .env("VMAFX_CA", ca_env(&grpc))
        .env("VMAFX_MCP_TOKEN", "agent-secret")
        .env("VMAFX_TOKEN", token(&data, "admin.token"))
        .env("VMAFX_DATA_DIR", &mcp_data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rest =
        common::line_after(child.stderr.take().unwrap(), "vmafx-mcp: streamable HTTP on ", "vmafx-mcp");
    let _server = Proc(child);
    // TLS by default, with a private CA made in its data directory (VMAFX_DATA_DIR).
    let (url, ca) = rest.split_once(" (clients trust ").expect("a generated CA is named");
    let (url, ca) = (url.to_string(), PathBuf::from(ca.trim_end_matches(')')));
    assert!(url.starts_with("https://") && ca.starts_with(&mcp_data), "{url} {}", ca.display());
    let addr = url.trim_start_matches("https://").trim_end_matches("/mcp");
    // A plaintext client gets no HTTP answer from it.
    {
        use std::io::{Read, Write};
        let mut plain = std::net::TcpStream::connect(addr).unwrap();
        plain.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        plain.write_all(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        let mut answer = Vec::new();
        let _ = plain.read_to_end(&mut answer);
        assert!(
            !answer.starts_with(b"HTTP/"),
            "plaintext was answered: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    trust(addr, Some(ca.clone()));
    let (status, _) = http(addr, "POST", "/mcp", None, Some("{}"));
    assert_eq!(status, 401);
    let (status, _) = http(addr, "POST", "/mcp", Some("wrong"), Some("{}"));
    assert_eq!(status, 401);

    let scenario = json!([
        {"tool": "vmaf_score", "arguments": {"reference": rs, "distorted": ds}},
        {"tool": "submit_job", "arguments": {"reference": rs, "distorted": ds, "segment_frames": 16}},
        {"tool": "list_nodes"},
        {"tool": "vmaf_score", "arguments": {"reference": "/etc/hostname", "distorted": ds}},
        {"tool": "list_jobs", "arguments": {}},
        {"tool": "vmaf_score", "arguments": {"reference": long_ref, "distorted": long_dist}, "cancel_after": 1.5},
        {"tool": "list_jobs", "arguments": {"state": "cancelled"}},
        {"tool": "list_models"},
        {"tool": "describe_model", "arguments": {"name": "fr-x"}},
    ]);
    let out = drive(dir.path(), &scenario, &["http", &url, "agent-secret", ca.to_str().unwrap()]);
    let scored = call(&out, 0, "vmaf_score");
    assert_eq!(scored["is_error"], false, "{scored}");
    assert!(scored["result"]["ran_on"].as_str().unwrap().starts_with("cluster job "), "{scored}");
    let local = common::vmafx_json(&r, &d, &[]);
    assert_eq!(
        scored["result"]["pooled_metrics"]["vmaf"], local["pooled_metrics"]["vmaf"],
        "cluster = local"
    );
    let submitted = call(&out, 1, "submit_job");
    assert_eq!(submitted["is_error"], false, "{submitted}");
    assert_eq!(submitted["result"]["segments_total"], 3);
    let id = submitted["result"]["id"].as_str().unwrap().to_string();
    assert_eq!(call(&out, 2, "list_nodes")["result"]["nodes"][0]["name"], "local");
    assert_tool_error(call(&out, 3, "vmaf_score"), "outside the allowed roots");
    assert_eq!(call(&out, 4, "list_jobs")["result"]["jobs"].as_array().unwrap().len(), 2);
    // Abandoning a call cancels its job on the cluster.
    assert_eq!(call(&out, 5, "vmaf_score")["cancelled"], true);
    let cancelled = call(&out, 6, "list_jobs")["result"]["jobs"].as_array().unwrap().clone();
    assert_eq!(cancelled.len(), 1, "{cancelled:?}");
    assert!(cancelled[0]["spec"]["distorted"].as_str().unwrap().ends_with("long.mp4"));
    // The models: the built-ins and the controller's registry, whose estimate is named as such.
    let models = call(&out, 7, "list_models")["result"]["models"].as_array().unwrap().clone();
    assert!(models.iter().any(|m| m["name"] == "vmaf_v0.6.1" && m["default"] == true), "{models:?}");
    let fr = models.iter().find(|m| m["name"] == "fr-x@1").expect("the registry's model is listed");
    assert_eq!(
        (&fr["source"], &fr["served"], &fr["holdout"][2]),
        (&json!("registry"), &json!(true), &json!(7.5))
    );
    let described = call(&out, 8, "describe_model")["result"].clone();
    assert_eq!(described["name"], "fr-x@1", "the bare id is the served version: {described}");
    assert!(described["use"].as_str().unwrap().contains("estimate"), "{described}");

    // get_job on the job submitted over MCP, until it is done, with its scores.
    let mut job = Value::Null;
    for _ in 0..120 {
        let out = drive(
            dir.path(),
            &json!([{"tool": "get_job", "arguments": {"id": id, "scores": true}}]),
            &["http", &url, "agent-secret", ca.to_str().unwrap()],
        );
        job = call(&out, 0, "get_job")["result"].clone();
        if job["state"] == "succeeded" {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["pooled_metrics"]["vmaf"], local["pooled_metrics"]["vmaf"]);

    // One job view: MCP's get_job, HTTP's GET /v1/jobs/ID and `vmafx jobs get --format json`
    // give the same fields with the same values (pooled scores, no frames).
    let admin = token(&data, "admin.token");
    let (status, body) =
        http(&http_addr, "GET", &format!("/v1/jobs/{id}?scores=true&frames=false"), Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let over_http: Value = serde_json::from_str(&body).unwrap();
    let cli = common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args(["jobs", "get", &id, "--format", "json", "--controller", &grpc])
            .env("VMAFX_CA", ca_env(&grpc))
            .env("VMAFX_TOKEN", &admin),
        Duration::from_secs(60),
    );
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let over_cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    let fields = over_http.as_object().unwrap();
    for (name, value) in fields {
        assert_eq!(&job[name], value, "MCP vs HTTP, field `{name}`");
        assert_eq!(&over_cli[name], value, "CLI vs HTTP, field `{name}`");
    }
    assert_eq!(job.as_object().unwrap().len(), fields.len(), "MCP has the same fields: {job}");
    assert_eq!(over_cli.as_object().unwrap().len(), fields.len(), "the CLI has the same fields: {over_cli}");
    for f in ["vmaf", "frames_done", "started_ms", "finished_ms", "spec", "pooled_metrics", "notes"] {
        assert!(fields.contains_key(f), "`{f}` in {body}");
    }
    assert_eq!(over_http["error"], Value::Null, "no error is null, not \"\"");
    assert_eq!(over_http["vmaf"], local["pooled_metrics"]["vmaf"]["mean"]);
}
