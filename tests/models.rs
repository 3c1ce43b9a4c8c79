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
    let script = r#"
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
    let out = Command::new("python3").args(["-c", script]).arg(dir).output().unwrap();
    assert!(out.status.success(), "python3 onnx: {}", String::from_utf8_lossy(&out.stderr));
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
