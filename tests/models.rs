//! `vmafx models --registry DIR`: a model registry's ONNX models listed beside the built-ins,
//! each loaded as a node loads it (sha256 against registry.json, then the graph in ONNX
//! Runtime against the features it declares), with the reason where one does not load.

mod common;

use std::path::Path;
use std::process::Command;

use common::vmafx;
use serde_json::Value;

/// Writes a registry into `dir` with the `onnx` Python package: `fr-fast` versions 1 and 2
/// (linear over 3 features), and `wide@1`, whose graph takes 4 columns but declares 3.
fn make_registry(dir: &Path) {
    python(dir, MAKE_REGISTRY);
}

fn python(dir: &Path, script: &str) {
    let out = Command::new("python3").args(["-c", script]).arg(dir).output().unwrap();
    assert!(out.status.success(), "python3 onnx: {}", String::from_utf8_lossy(&out.stderr));
}

const MAKE_REGISTRY: &str = r#"
import hashlib, json, sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
d = sys.argv[1]
def linear(cols):
    w = numpy_helper.from_array(np.ones((cols, 1), dtype=np.float32), "W")
    b = numpy_helper.from_array(np.zeros(1, dtype=np.float32), "B")
    g = helper.make_graph([helper.make_node("Gemm", ["x", "W", "B"], ["y"])], "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", cols])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])], [w, b])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m.SerializeToString()
models = []
for (id, version, cols) in [("fr-fast", 1, 3), ("fr-fast", 2, 3), ("wide", 1, 4)]:
    name = f"{id}_v{version:03}.onnx"
    data = linear(cols)
    open(f"{d}/{name}", "wb").write(data)
    models.append({"id": id, "version": version, "kind": "fr", "onnx": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "inputs": [{"name": "x", "shape": [-1, 3]}], "outputs": [{"name": "y", "shape": [-1, 1]}],
        "features": ["vif_scale0", "adm2", "motion2"],
        "normalisation": {"mean": [0, 0, 0], "std": [1, 1, 1]},
        "parent": f"{id}@{version - 1}" if version > 1 else None,
        "created_at": "2026-12-03T00:00:00Z",
        "metrics": {"plcc": 0.95, "srocc": 0.94, "rmse": 4.5}})
json.dump({"schema_version": 1, "models": models}, open(f"{d}/registry.json", "w"), indent=1)
"#;

/// A registry of identity models over the `vmaf` feature (`y = vmaf`): `same@1` at full
/// size and `quarter@1` on frames made 4x smaller each way.
const IDENTITY_REGISTRY: &str = r#"
import hashlib, json, sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
d = sys.argv[1]
w = numpy_helper.from_array(np.ones((1, 1), dtype=np.float32), "W")
b = numpy_helper.from_array(np.zeros(1, dtype=np.float32), "B")
g = helper.make_graph([helper.make_node("Gemm", ["x", "W", "B"], ["y"])], "identity",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])], [w, b])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
data = m.SerializeToString()
models = []
for (id, crop, downscale) in [("same", 1, 1), ("quarter", 1, 4), ("centre", 2, 1)]:
    name = f"{id}_v001.onnx"
    open(f"{d}/{name}", "wb").write(data)
    models.append({"id": id, "version": 1, "kind": "fr", "onnx": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "inputs": [{"name": "x", "shape": [-1, 1]}], "outputs": [{"name": "y", "shape": [-1, 1]}],
        "features": ["vmaf"], "downscale": downscale, "crop": crop,
        "normalisation": {"mean": [0], "std": [1]},
        "created_at": "2026-12-03T00:00:00Z"})
json.dump({"schema_version": 1, "models": models}, open(f"{d}/registry.json", "w"), indent=1)
"#;

/// `vmafx score --model registry:ID`: the model's estimate per frame, under its ID@VERSION,
/// from libvmaf's features of frames made as small as the model asks; never labelled VMAF.
#[test]
fn score_with_a_registry_model_reports_its_estimate_under_its_own_name() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry");
    std::fs::create_dir(&registry).unwrap();
    python(&registry, IDENTITY_REGISTRY);
    let reference = common::lavfi(dir.path(), "ref.y4m", "testsrc2=size=320x240:rate=24", 24, "yuv420p");
    let distorted = common::encode(
        &reference,
        dir.path(),
        "dist.mp4",
        &["-c:v", "libx264", "-crf", "35", "-pix_fmt", "yuv420p"],
    );
    let reg = registry.to_str().unwrap();
    let vmaf = common::vmafx_json(&reference, &distorted, &[]);
    let same = common::vmafx_json(&reference, &distorted, &["--model", "registry:same", "--registry", reg]);
    let quarter =
        common::vmafx_json(&reference, &distorted, &["--model", "registry:quarter@1", "--registry", reg]);
    let frames = |r: &Value, metric: &str| -> Vec<f64> {
        r["frames"].as_array().unwrap().iter().map(|f| f["metrics"][metric].as_f64().unwrap()).collect()
    };
    // At full size the identity model gives back libvmaf's VMAF (through float32).
    let full = frames(&vmaf, "vmaf");
    assert_eq!(full.len(), 24);
    for (e, v) in frames(&same, "same@1").iter().zip(&full) {
        assert_eq!(*e, f64::from(*v as f32), "same@1 must pass VMAF through");
    }
    // The estimate is named by the model, never `vmaf`, and says what it is.
    for report in [&same, &quarter] {
        let metrics = report["frames"][0]["metrics"].as_object().unwrap();
        assert_eq!(metrics.len(), 1, "{metrics:?}");
        assert!(!metrics.contains_key("vmaf"));
        let notes = report["vmafx"]["notes"].to_string();
        assert!(
            notes.contains("an estimate of VMAF by that ONNX model") && notes.contains("not VMAF"),
            "{notes}"
        );
    }
    // A quarter the size each way: 80x60 frames, a different (cheaper) number per frame.
    assert_eq!(
        (quarter["vmafx"]["width"].as_u64(), quarter["vmafx"]["height"].as_u64()),
        (Some(80), Some(60))
    );
    assert!(quarter["vmafx"]["notes"].to_string().contains("4x smaller (80x60)"));
    let small = frames(&quarter, "quarter@1");
    assert_eq!(small.len(), 24);
    assert!(small.iter().zip(&full).any(|(s, f)| (s - f).abs() > 1e-3), "downscaled features differ");
    assert!(quarter["vmafx"]["decoders"][1].as_str().unwrap().contains("downscaled 1/4"));
    // The centre quarter (half each way) at full size: 160x120, said so in the note and the
    // decoders' names.
    let centre =
        common::vmafx_json(&reference, &distorted, &["--model", "registry:centre@1", "--registry", reg]);
    assert_eq!(
        (centre["vmafx"]["width"].as_u64(), centre["vmafx"]["height"].as_u64()),
        (Some(160), Some(120))
    );
    assert!(centre["vmafx"]["notes"].to_string().contains("the centre 1/2 of each frame (160x120)"));
    assert!(centre["vmafx"]["decoders"][1].as_str().unwrap().contains("centre 1/2 crop"));
    assert_eq!(frames(&centre, "centre@1").len(), 24);
    let out =
        vmafx(&["score", "--model", "registry:quarter", "--registry", reg, s(&reference), s(&distorted)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.starts_with("QUARTER@1 "), "{text}");

    // Mistakes are usage errors (exit 2) that say what to do.
    for (args, expected) in [
        (vec!["--model", "registry:same"], "give --registry DIR"),
        (vec!["--model", "registry:other", "--registry", reg], "no such model"),
        (
            vec!["--model", "registry:same", "--registry", reg, "--feature", "psnr"],
            "score them in a separate run",
        ),
    ] {
        let out = vmafx(&[&["score"][..], &args, &[s(&reference), s(&distorted)]].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn listed(dir: &Path) -> Vec<Value> {
    let out = vmafx(&["models", "--json", "--registry", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(all.iter().any(|m| m["source"] == "builtin" && m["default"] == true), "built-ins listed too");
    all.into_iter().filter(|m| m["source"] == "registry").collect()
}

#[test]
fn a_registry_lists_each_version_as_it_loads_and_says_why_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    make_registry(dir.path());
    let models = listed(dir.path());
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["fr-fast@1", "fr-fast@2", "wide@1"]);
    for m in &models[..2] {
        assert_eq!(m["loads"], true, "{m}");
        assert_eq!(m["execution_provider"], "CPU", "{m}");
        assert!(m["description"].as_str().unwrap().contains("not VMAF"), "{m}");
    }
    assert_eq!(models[1]["parent"], "fr-fast@1");
    let problem = models[2]["problem"].as_str().unwrap();
    assert!(problem.contains("declares 3 features (vif_scale0, adm2, motion2)"), "{problem}");

    // A model file changed after it was published is refused, naming both hashes.
    std::fs::write(dir.path().join("fr-fast_v002.onnx"), b"\x08\x08replaced").unwrap();
    let models = listed(dir.path());
    assert_eq!(models[1]["loads"], false);
    let problem = models[1]["problem"].as_str().unwrap();
    assert!(problem.contains("registry.json says") && problem.contains("refusing to load"), "{problem}");
    let out = vmafx(&["models", "--registry", dir.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fr-fast@1") && text.contains("loads (CPU)"), "{text}");
    assert!(text.contains("fr-fast@2") && text.contains("DOES NOT LOAD"), "{text}");
}

#[test]
fn a_registry_index_that_points_outside_its_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    make_registry(dir.path());
    let index = dir.path().join("registry.json");
    let text =
        std::fs::read_to_string(&index).unwrap().replace("\"wide_v001.onnx\"", "\"../../etc/wide.onnx\"");
    std::fs::write(&index, text).unwrap();
    let out = vmafx(&["models", "--registry", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("registry.json") && err.contains("wide@1") && err.contains("registry directory"),
        "{err}"
    );
    let out = vmafx(&["models", "--registry", "/nonexistent/registry"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The shipped registry (`models/`, made by `make models`) loads: hash and graph as declared.
#[test]
fn the_shipped_registry_loads() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let models = listed(&shipped);
    let kinds: Vec<(&str, &str)> =
        models.iter().map(|m| (m["id"].as_str().unwrap(), m["kind"].as_str().unwrap())).collect();
    assert_eq!(kinds, [("fr-fast", "fr"), ("nr-luma", "nr")], "models/ ships one model of each kind");
    for m in &models {
        assert_eq!(m["loads"], true, "{m}");
        assert!(m["metrics"]["plcc"].is_number(), "{m}");
    }
}

/// `vmafx score --nr` with the shipped no-reference model on 8-bit and 10-bit encodes of the
/// same video: an estimate per frame under its name, none called VMAF, and the 10-bit encode
/// measured in 8-bit units (its estimate near the 8-bit one's).
#[test]
fn the_shipped_nr_model_estimates_the_distorted_alone_at_either_bit_depth() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let reference = common::lavfi(d, "ref.y4m", "mandelbrot=size=320x240:rate=24", 12, "yuv420p");
    let mean = |pix_fmt: &str| {
        let name = format!("{pix_fmt}.mp4");
        let args = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", pix_fmt];
        let distorted = common::encode(&reference, d, &name, &args);
        let report = common::vmafx_nr_json(&distorted, &shipped, "nr-luma");
        let frames = report["frames"].as_array().unwrap();
        assert_eq!(frames.len(), 12, "{report}");
        let names: Vec<&String> = frames[0]["metrics"].as_object().unwrap().keys().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with("nr-luma@"), "{names:?}");
        report["pooled_metrics"][names[0]]["mean"].as_f64().unwrap()
    };
    let (eight, ten) = (mean("yuv420p"), mean("yuv420p10le"));
    assert!(eight.is_finite() && (eight - ten).abs() < 15.0, "8-bit {eight}, 10-bit {ten}");
}
