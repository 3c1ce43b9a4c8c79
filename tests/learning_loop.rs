//! The learning loop with the real binaries (issue 15, acceptance 1): a node scores jobs that
//! ask for a registry model's estimate beside VMAF, its frames go to the trainer beside it as
//! triples, the trainer publishes version 2 once it beats the deliberately weak version 1 on a
//! holdout of whole jobs, and the node serves version 2 without a restart. Pinning version 1
//! rolls the node back; unpinning brings version 2 again; a job that opts out of capture sends
//! nothing.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cluster::{call, http_get, spawn_node, start_controller, token, wait_for, Proc};
use serde_json::{json, Value};

/// Version 1 of `fr-loop`, deliberately weak: on the trainer's default features, half the
/// downscaled run's own `vmaf` (so that a few jobs' triples can beat it on the holdout).
const WEAK_V1: &str = r#"
import hashlib, json, sys, numpy as np
from onnx import helper, numpy_helper, TensorProto
d = sys.argv[1]
features = ["integer_vif_scale0", "integer_vif_scale1", "integer_vif_scale2", "integer_vif_scale3",
            "integer_adm2", "integer_motion2", "vmaf"]
w = np.zeros((len(features), 1), dtype=np.float32); w[-1, 0] = 0.5
g = helper.make_graph([helper.make_node("Gemm", ["x", "W", "B"], ["y"])], "weak",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", len(features)])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
    [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.zeros(1, dtype=np.float32), "B")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8
data = m.SerializeToString()
open(f"{d}/fr-loop_v001.onnx", "wb").write(data)
json.dump({"schema_version": 1, "models": [{"id": "fr-loop", "version": 1, "kind": "fr",
    "onnx": "fr-loop_v001.onnx", "sha256": hashlib.sha256(data).hexdigest(),
    "inputs": [{"name": "x", "shape": [-1, len(features)]}], "outputs": [{"name": "y", "shape": [-1, 1]}],
    "features": features, "downscale": 4,
    "normalisation": {"mean": [0] * len(features), "std": [1] * len(features)},
    "created_at": "2026-12-03T00:00:00Z"}]}, open(f"{d}/registry.json", "w"), indent=1)
"#;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The trainer, and its HTTP address.
fn start_trainer(registry: &Path, socket: &Path) -> (Proc, String) {
    let mut child = Command::new(common::bin("vmafx-trainer"))
        .args(["serve", "--registry", s(registry), "--socket", s(socket), "--id", "fr-loop"])
        .args(["--min-interval", "2s", "--min-new", "48", "--holdout-percent", "34"])
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start vmafx-trainer serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the trainer exited before listening").unwrap();
        if let Some(a) = line.strip_prefix("vmafx-trainer: HTTP listening on ") {
            break a.to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    common::cluster::trust(&addr, None); // plain HTTP on loopback
    (Proc(child), addr)
}

fn status(trainer: &str) -> Value {
    let (code, body) = http_get(trainer, "/status");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Submits `pair` with an estimate by `fr-loop`, waits for it, and returns the finished job
/// with its per-frame scores.
fn score(http: &str, admin: &str, (r, d): &(std::path::PathBuf, std::path::PathBuf), capture: bool) -> Value {
    let body = json!({"score": {"reference": r, "distorted": d,
        "estimate": {"model": "fr-loop", "no_capture": !capture}}});
    let (code, job) = call(http, admin, "POST", "/v1/jobs", Some(body));
    assert_eq!(code, 201, "{job}");
    let id = job["id"].as_str().unwrap();
    wait_for(http, admin, id, "succeeded");
    call(http, admin, "GET", &format!("/v1/jobs/{id}?scores=true"), None).1
}

/// The one estimate metric of a finished job (`fr-loop@N`), and its values.
fn estimate(job: &Value) -> (String, Vec<f64>) {
    let frames = job["frames"].as_array().unwrap();
    let names: Vec<&String> =
        frames[0]["metrics"].as_object().unwrap().keys().filter(|k| k.starts_with("fr-loop")).collect();
    assert_eq!(names.len(), 1, "{:?}", frames[0]);
    let name = names[0].clone();
    let values = frames.iter().map(|f| f["metrics"][&name].as_f64().unwrap()).collect();
    (name, values)
}

#[test]
fn triples_from_a_node_train_a_version_the_node_then_serves_without_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let registry = d.join("registry");
    std::fs::create_dir(&registry).unwrap();
    let out = Command::new("python3").args(["-c", WEAK_V1]).arg(&registry).output().unwrap();
    assert!(out.status.success(), "python3 onnx: {}", String::from_utf8_lossy(&out.stderr));

    // 16 pairs: four kinds of content, x264 at four CRFs.
    let mut pairs = Vec::new();
    // life and cellauto start from a random grid unless seeded: the same clips every run.
    let sources = ["testsrc2", "mandelbrot", "life=mold=10:ratio=0.3:seed=1", "cellauto=rule=110:seed=1"];
    for (i, source) in sources.iter().enumerate() {
        let options = if source.contains('=') { ":" } else { "=" };
        let reference = common::lavfi(
            d,
            &format!("ref{i}.y4m"),
            &format!("{source}{options}size=320x240:rate=24"),
            24,
            "yuv420p",
        );
        for crf in ["18", "28", "38", "48"] {
            let name = format!("dist{i}_{crf}.mp4");
            let distorted = common::encode(
                &reference,
                d,
                &name,
                &["-c:v", "libx264", "-preset", "ultrafast", "-crf", crf],
            );
            pairs.push((reference.clone(), distorted));
        }
    }
    // Interleave the kinds of content, so that any few jobs hold several.
    pairs.sort_by_key(|(r, dist)| {
        (dist.file_name().unwrap().to_str().unwrap().split('_').nth(1).map(String::from), r.clone())
    });

    // A node told to run models on its GPU's provider only does not start where this ONNX
    // Runtime (PyPI's CPU build) lacks it; without --ep-strict it reports the CPU.
    let out = Command::new(common::bin("vmafx-node"))
        .args(["--controller", "https://127.0.0.1:9", "--token", "x", "--registry", s(&registry)])
        .args(["--gpu-vendor", "nvidia", "--ep-strict"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--ep-strict") && err.contains("CUDA execution provider"),
        "{err}"
    );

    let socket = d.join("trainer.sock");
    let (trainer_proc, trainer) = start_trainer(&registry, &socket);
    // Only its user and group may send triples; what is not a triple of this model is
    // counted and dropped (not trained on).
    {
        use std::io::Write as _;
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777, 0o660);
        let mut c = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        c.write_all(b"not a triple\n").unwrap();
        c.write_all(
            br#"{"features": {"vmaf": 50}, "vmaf": 50, "meta": {"clip": "x", "frame": 0, "downscale": 4}}"#,
        )
        .unwrap();
        c.write_all(b"\n").unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&trainer)["rejected"] != 2 {
        assert!(Instant::now() < deadline, "{}", status(&trainer));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status(&trainer)["buffered"], 0);
    // At most 64 connections at once: the 65th is closed at once; closing one frees a place.
    {
        use std::io::Read as _;
        let held: Vec<_> =
            (0..64).map(|_| std::os::unix::net::UnixStream::connect(&socket).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(300));
        let mut extra = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        extra.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(extra.read(&mut [0u8; 1]).unwrap(), 0, "the 65th connection is closed");
        drop(held);
    }
    // A line longer than any triple ends its connection (it is not buffered whole).
    {
        use std::io::{Read as _, Write as _};
        let mut c = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = c.write_all(&vec![b'x'; 200_000]);
        assert_eq!(c.read(&mut [0u8; 1]).unwrap_or(0), 0);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&trainer)["rejected"] != 3 {
        assert!(Instant::now() < deadline, "{}", status(&trainer));
        std::thread::sleep(Duration::from_millis(50));
    }
    let ctl = start_controller(data.path(), &["--model-registry", s(&registry)]);
    let _node = spawn_node(
        &ctl.addr,
        data.path(),
        "learner",
        &["--registry", s(&registry), "--trainer", s(&socket)],
        Stdio::inherit(),
    );
    let admin = token(data.path(), "admin.token");
    let http = ctl.http.as_str();

    // Version 1 is served, and its estimate is exactly `vmafx score --model registry:fr-loop@1`'s.
    let first = score(http, &admin, &pairs[0], true);
    let (name, values) = estimate(&first);
    assert_eq!(name, "fr-loop@1");
    let local = common::vmafx_json(
        &pairs[0].0,
        &pairs[0].1,
        &["--model", "registry:fr-loop@1", "--registry", s(&registry)],
    );
    let local_values: Vec<f64> = local["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["metrics"]["fr-loop@1"].as_f64().unwrap())
        .collect();
    assert_eq!(values, local_values, "the node's estimate equals the local one");
    assert!(first["frames"][0]["metrics"]["vmaf"].is_number(), "VMAF is still there, under its own name");
    assert_eq!(first["spec"]["requirements"]["models"], true, "it ran where models run: {first}");
    assert!(
        first.to_string().contains("an estimate of VMAF by that ONNX model (ONNX Runtime on CPU)"),
        "{first}"
    );
    let (_, nodes) = call(http, &admin, "GET", "/v1/nodes", None);
    assert_eq!(nodes["nodes"][0]["capabilities"]["onnx_providers"], json!(["CPU"]), "{nodes}");

    // A job that opts out sends no triples (once the first job's have all arrived).
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(&trainer)["buffered"] != 24 {
        assert!(Instant::now() < deadline, "the first job's triples: {}", status(&trainer));
        std::thread::sleep(Duration::from_millis(100));
    }
    let opted_out = score(http, &admin, &pairs[1], false);
    assert_eq!(estimate(&opted_out).0, "fr-loop@1");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(status(&trainer)["received"], 27, "an opted-out job's frames were sent");

    // More jobs until the trainer publishes version 2 (a checkpoint needs two seconds and 48
    // new triples since the last; the holdout needs a job on each side).
    let mut submitted = 2;
    let deadline = Instant::now() + Duration::from_secs(240);
    while status(&trainer)["current"] != "fr-loop@2" {
        assert!(Instant::now() < deadline, "no version 2: {}", status(&trainer));
        if submitted < pairs.len() {
            score(http, &admin, &pairs[submitted], true);
            submitted += 1;
        } else {
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    let st = status(&trainer);
    let report = &st["last_report"];
    assert_eq!(report["published"], "fr-loop@2", "{st}");
    // Each checkpoint after the first fit continued its weights (500 more steps each).
    let fits = st["checkpoints"].as_u64().unwrap();
    assert_eq!(st["steps"].as_u64(), Some(2000 + 500 * (fits - 1)), "{st}");
    let (v1_rmse, v2_rmse) =
        (report["current"][1]["rmse"].as_f64().unwrap(), report["holdout"]["rmse"].as_f64().unwrap());
    assert!(v2_rmse < v1_rmse, "version 2 beats version 1 on the holdout: {st}");
    eprintln!("published fr-loop@2 after {submitted} jobs: holdout RMSE {v2_rmse:.2} against version 1's {v1_rmse:.2}");
    let (code, metrics) = http_get(&trainer, "/metrics");
    assert!(code == 200 && metrics.contains("vmafx_trainer_published_total 1"), "{metrics}");
    // No version 3 from here on (and the node carries on without its trainer).
    drop(trainer_proc);
    let served = |http: &str| -> Vec<(String, bool)> {
        let (_, body) = call(http, &admin, "GET", "/v1/models", None);
        body["models"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["source"] == "registry")
            .map(|m| (m["name"].as_str().unwrap().to_string(), m["served"] == true))
            .collect()
    };
    assert_eq!(served(http), [("fr-loop@1".to_string(), false), ("fr-loop@2".to_string(), true)]);
    let (_, body) = call(http, &admin, "GET", "/v1/models", None);
    let v2 = body["models"].as_array().unwrap().iter().find(|m| m["name"] == "fr-loop@2").unwrap().clone();
    assert_eq!((&v2["parent"], &v2["kind"]), (&json!("fr-loop@1"), &json!("fr")), "{v2}");
    assert!((v2["holdout"][2].as_f64().unwrap() - v2_rmse).abs() < 1e-9, "{v2}");

    // The same node, not restarted, serves version 2 at its next job.
    let later = score(http, &admin, &pairs[2], true);
    assert_eq!(estimate(&later).0, "fr-loop@2");

    // Pinned to version 1 (a rollback), the next job runs version 1; unpinned, version 2.
    let vmafx = |args: &[&str]| {
        let out = Command::new(common::bin("vmafx")).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    vmafx(&["models", "pin", "fr-loop@1", "--registry", s(&registry)]);
    assert_eq!(served(http), [("fr-loop@1".to_string(), true), ("fr-loop@2".to_string(), false)]);
    assert_eq!(estimate(&score(http, &admin, &pairs[3], true)).0, "fr-loop@1");
    vmafx(&["models", "unpin", "fr-loop", "--registry", s(&registry)]);
    assert_eq!(estimate(&score(http, &admin, &pairs[4], true)).0, "fr-loop@2");
}

/// A job without a reference (issue 15: "jobs without a reference"): the node decodes the
/// distorted alone and the shipped no-reference model (`models/`, `nr-luma`) estimates it,
/// exactly as `vmafx score --nr` does; what needs a reference is refused at submission, and an
/// fr model fails the job with the reason.
#[test]
fn a_job_without_a_reference_is_estimated_by_a_no_reference_model() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let reference = common::lavfi(d, "ref.y4m", "mandelbrot=size=320x240:rate=24", 24, "yuv420p");
    let distorted =
        common::encode(&reference, d, "dist.mp4", &["-c:v", "libx264", "-preset", "ultrafast", "-crf", "36"]);
    let ctl = start_controller(data.path(), &["--model-registry", s(&shipped)]);
    let _node = spawn_node(&ctl.addr, data.path(), "nr-node", &["--registry", s(&shipped)], Stdio::inherit());
    let admin = token(data.path(), "admin.token");
    let http = ctl.http.as_str();

    let body = json!({"score": {"distorted": distorted, "estimate": {"model": "nr-luma"}}});
    let (code, job) = call(http, &admin, "POST", "/v1/jobs", Some(body));
    assert_eq!(code, 201, "{job}");
    let id = job["id"].as_str().unwrap();
    wait_for(http, &admin, id, "succeeded");
    let (_, done) = call(http, &admin, "GET", &format!("/v1/jobs/{id}?scores=true"), None);
    let frames = done["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 24, "{done}");
    let names: Vec<&String> = frames[0]["metrics"].as_object().unwrap().keys().collect();
    assert_eq!(names.len(), 1, "the estimate alone, no VMAF: {names:?}");
    let label = names[0].clone();
    assert!(label.starts_with("nr-luma@"), "{label}");
    assert!(done.to_string().contains("from no-reference measures of the distorted alone"), "{done}");
    let values: Vec<f64> = frames.iter().map(|f| f["metrics"][&label].as_f64().unwrap()).collect();
    let local = common::vmafx_nr_json(&distorted, &shipped, &label);
    let local: Vec<f64> =
        local["frames"].as_array().unwrap().iter().map(|f| f["metrics"][&label].as_f64().unwrap()).collect();
    assert_eq!(values, local, "the node's estimate equals `vmafx score --nr`");

    // The CLI: `vmafx submit --nr DIST --estimate nr-luma --wait` prints the same report.
    let out = ctl.cli(
        &admin,
        &["submit", "--nr", s(&distorted), "--estimate", "nr-luma", "--wait", "--format", "json", "-q"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pooled = report["pooled_metrics"][&label]["mean"].as_f64().unwrap();
    assert!((pooled - values.iter().sum::<f64>() / 24.0).abs() < 1e-9, "{report}");

    // What needs a reference is refused before anything runs, naming the field.
    for (body, field) in [
        (json!({"score": {"distorted": distorted}}), "score.reference"),
        (
            json!({"score": {"distorted": distorted, "features": ["psnr"], "estimate": {"model": "nr-luma"}}}),
            "score.features",
        ),
        (
            json!({"score": {"distorted": distorted, "inputs": {"skip_reference": 2}, "estimate": {"model": "nr-luma"}}}),
            "score.inputs.skip_reference",
        ),
    ] {
        let (code, err) = call(http, &admin, "POST", "/v1/jobs", Some(body));
        assert_eq!(code, 400, "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    // A full-reference model cannot estimate without the reference: the job fails, saying so.
    let body = json!({"score": {"distorted": distorted, "estimate": {"model": "fr-fast"}}});
    let (code, job) = call(http, &admin, "POST", "/v1/jobs", Some(body));
    assert_eq!(code, 201, "{job}");
    let failed = wait_for(http, &admin, job["id"].as_str().unwrap(), "failed");
    assert!(failed["error"].as_str().unwrap_or_default().contains("needs the reference"), "{failed}");
}
