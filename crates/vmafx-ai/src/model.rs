//! Running a registry's model with ONNX Runtime (the `ort` crate, with the runtime library
//! PyPI's `onnxruntime` ships, loaded at run time).
//!
//! Loading checks, in order: the file's sha256 against the registry, then the graph against
//! what the registry declares (one float input of `[batch, features]` under the declared
//! name, one float output) — a model whose inputs do not match its features fails here with
//! the reason, never at its first estimate.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::session::Session;
use ort::value::{TensorElementType, TensorRef};

use crate::registry::{ModelEntry, Registry};
use crate::AiError;

/// Where the ONNX Runtime library is: `VMAFX_ORT_LIB`, else `ORT_DYLIB_PATH`, else the one
/// inside an installed `onnxruntime` Python package (what `make setup-test` installs):
/// looked for in the usual package directories, then asked of `python3`.
pub fn runtime_library() -> Result<PathBuf, AiError> {
    for var in ["VMAFX_ORT_LIB", "ORT_DYLIB_PATH"] {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(AiError::Runtime(format!("{var}={} is not a file", p.display())))
            };
        }
    }
    let not_found = || {
        AiError::Runtime(
            "libonnxruntime not found: `python3 -m pip install onnxruntime` (make setup does), or set \
             VMAFX_ORT_LIB to libonnxruntime.so"
                .into(),
        )
    };
    if let Some(lib) = installed_library() {
        return Ok(lib);
    }
    let out = std::process::Command::new("python3")
        .args(["-c", "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))"])
        .output()
        .map_err(|_| not_found())?;
    if !out.status.success() {
        return Err(not_found());
    }
    let capi = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("capi");
    let mut libs: Vec<PathBuf> = std::fs::read_dir(&capi)
        .map_err(|_| not_found())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libonnxruntime.so."))
        })
        .collect();
    libs.sort();
    libs.pop().ok_or_else(not_found)
}

/// `onnxruntime/capi/libonnxruntime.so.*` in the usual Python package directories (an active
/// virtual environment, the user's, pyenv's, the system's), found without starting Python
/// (which costs a run about 0.15 s); the newest version where several are installed.
fn installed_library() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut prefixes: Vec<PathBuf> = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from).into_iter().collect();
    if let Some(home) = &home {
        prefixes.push(home.join(".local"));
    }
    let pyenv = std::env::var_os("PYENV_ROOT").map(PathBuf::from).or_else(|| home.map(|h| h.join(".pyenv")));
    if let Some(versions) = pyenv.map(|p| p.join("versions")).and_then(|v| std::fs::read_dir(v).ok()) {
        prefixes.extend(versions.filter_map(|e| e.ok().map(|e| e.path())));
    }
    prefixes.extend(["/usr/local", "/usr"].map(PathBuf::from));
    let mut found: Vec<PathBuf> = Vec::new();
    for lib in prefixes.iter().map(|p| p.join("lib")) {
        let Ok(entries) = std::fs::read_dir(&lib) else { continue };
        for python in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if !python.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("python3")) {
                continue;
            }
            for packages in ["site-packages", "dist-packages"] {
                let capi = python.join(packages).join("onnxruntime").join("capi");
                let Ok(files) = std::fs::read_dir(&capi) else { continue };
                found.extend(files.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("libonnxruntime.so."))
                }));
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    found.sort();
    found.pop()
}

/// The process's ONNX Runtime environment, started once.
fn environment() -> Result<&'static ort::environment::Environment, AiError> {
    static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let lib = runtime_library().map_err(|e| e.to_string())?;
        let builder = ort::init_from(&lib).map_err(|e| format!("loading {}: {e}", lib.display()))?;
        builder.with_name("vmafx").build().map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| AiError::Runtime(e.clone()))
}

/// Where models run: the GPU's execution provider first — CUDA for an NVIDIA GPU, ROCm for
/// AMD, OpenVINO for Intel — then the CPU. `strict` refuses the fallback to the CPU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpChoice {
    /// nvidia, amd or intel (a node's detected or configured GPU); none: the CPU.
    pub gpu_vendor: Option<String>,
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ep {
    Cuda,
    Rocm,
    OpenVino,
}

impl Ep {
    fn name(self) -> &'static str {
        match self {
            Ep::Cuda => "CUDA",
            Ep::Rocm => "ROCm",
            Ep::OpenVino => "OpenVINO",
        }
    }

    /// Whether the loaded ONNX Runtime library was built with this provider.
    fn in_library(self) -> bool {
        use ort::ep::ExecutionProvider;
        match self {
            Ep::Cuda => ort::ep::CUDA::is_available(),
            Ep::Rocm => ort::ep::ROCm::is_available(),
            Ep::OpenVino => ort::ep::OpenVINO::is_available(),
        }
        .unwrap_or(false)
    }

    fn dispatch(self) -> ort::ep::ExecutionProviderDispatch {
        match self {
            Ep::Cuda => ort::ep::CUDA::default().build(),
            Ep::Rocm => ort::ep::ROCm::default().build(),
            Ep::OpenVino => ort::ep::OpenVINO::default().build(),
        }
        .error_on_failure()
    }
}

impl EpChoice {
    /// The GPU provider to try before the CPU, if the vendor has one.
    fn gpu(&self) -> Option<Ep> {
        match self.gpu_vendor.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("nvidia") => Some(Ep::Cuda),
            Some("amd") => Some(Ep::Rocm),
            Some("intel") => Some(Ep::OpenVino),
            _ => None,
        }
    }

    /// Why the GPU's provider cannot be used before any model is loaded (it is not in this
    /// ONNX Runtime library), if so.
    fn missing(&self) -> Option<String> {
        let ep = self.gpu()?;
        (!ep.in_library()).then(|| {
            format!(
                "the {} execution provider (for the {} GPU) is not in this ONNX Runtime library ({}); install a build                  that has it (onnxruntime-gpu for CUDA, onnxruntime-rocm, onnxruntime-openvino) and point VMAFX_ORT_LIB at it",
                ep.name(),
                self.gpu_vendor.as_deref().unwrap_or_default(),
                runtime_library().map(|p| p.display().to_string()).unwrap_or_default()
            )
        })
    }
}

/// The execution providers models would run on here, in the order they are tried (what a
/// node reports); an error says why ONNX Runtime does not start, or, with `strict`, why the
/// GPU's provider cannot be used.
pub fn providers(choice: &EpChoice) -> Result<Vec<String>, AiError> {
    environment()?;
    if let Some(why) = choice.missing() {
        if choice.strict {
            return Err(AiError::Runtime(format!("--ep-strict: {why}")));
        }
        return Ok(vec!["CPU".into()]);
    }
    Ok(choice.gpu().map(|ep| ep.name().to_string()).into_iter().chain(["CPU".to_string()]).collect())
}

/// A model loaded from a registry, ready to estimate.
pub struct LoadedModel {
    pub entry: ModelEntry,
    session: Session,
    provider: &'static str,
    /// Why the GPU's provider was not used, when the model fell back to the CPU.
    fallback: Option<String>,
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModel").field("model", &self.entry.label()).finish()
    }
}

impl LoadedModel {
    /// Loads `spec` (`ID` or `ID@VERSION`) from `registry`: hash, then graph, checked.
    pub fn open(registry: &Registry, spec: &str) -> Result<Self, AiError> {
        Self::open_on(registry, spec, &EpChoice::default())
    }

    /// Like [`LoadedModel::open`], on the execution providers `choice` gives.
    pub fn open_on(registry: &Registry, spec: &str, choice: &EpChoice) -> Result<Self, AiError> {
        let entry = registry.resolve(spec)?.clone();
        let bytes = registry.read_verified(&entry)?;
        let path = registry.dir.join(&entry.onnx);
        Self::from_bytes_on(entry, &bytes, &path, choice)
    }

    /// Loads `bytes` as `entry` describes it, on the CPU: a trainer checking its export
    /// before it is in a registry, or `vmafx score` loading a registry file it has already
    /// verified (on a thread beside its decode); `path` only names it in messages.
    pub fn from_bytes(entry: ModelEntry, bytes: &[u8], path: &Path) -> Result<Self, AiError> {
        Self::from_bytes_on(entry, bytes, path, &EpChoice::default())
    }

    fn from_bytes_on(
        entry: ModelEntry,
        bytes: &[u8],
        path: &Path,
        choice: &EpChoice,
    ) -> Result<Self, AiError> {
        let refuse = |reason: String| AiError::Load { model: entry.label(), path: path.into(), reason };
        let env = environment()?;
        let session = |ep: Option<Ep>| {
            Session::builder(env)
                .and_then(|b| b.with_intra_threads(1).map_err(Into::into))
                .and_then(|b| match ep {
                    Some(ep) => b.with_execution_providers([ep.dispatch()]).map_err(Into::into),
                    None => Ok(b),
                })
                .and_then(|mut b| b.commit_from_memory(bytes))
        };
        // The GPU's provider first; the CPU when it is missing or fails (unless strict).
        let mut fallback = choice.missing();
        if let (Some(ep), None) = (choice.gpu(), &fallback) {
            match session(Some(ep)) {
                Ok(s) => {
                    check_graph(&entry, &s).map_err(refuse)?;
                    return Ok(Self { entry, session: s, provider: ep.name(), fallback: None });
                }
                Err(e) => fallback = Some(format!("the {} execution provider failed: {e}", ep.name())),
            }
        }
        if let (Some(why), true) = (&fallback, choice.strict) {
            return Err(refuse(format!("--ep-strict: {why}")));
        }
        let s = session(None).map_err(|e| refuse(format!("not a model ONNX Runtime can run: {e}")))?;
        check_graph(&entry, &s).map_err(refuse)?;
        Ok(Self { entry, session: s, provider: "CPU", fallback })
    }

    /// Where the model runs (ONNX Runtime's execution provider: CUDA, ROCm, OpenVINO, CPU).
    pub fn execution_provider(&self) -> &'static str {
        self.provider
    }

    /// Why the GPU's provider was not used, when the model fell back to the CPU.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Estimates for `rows` (each one value per feature, in the registry's order), after
    /// the registry's normalisation.
    pub fn estimate(&mut self, rows: &[Vec<f32>]) -> Result<Vec<f32>, AiError> {
        let n = self.entry.features.len();
        let fail = |reason: String| AiError::Inference { model: self.entry.label(), reason };
        let mut x = ndarray::Array2::<f32>::zeros((rows.len(), n));
        for (i, row) in rows.iter().enumerate() {
            if row.len() != n {
                return Err(fail(format!("row {i} has {} values for {n} features", row.len())));
            }
            let norm = &self.entry.normalisation;
            for (j, v) in row.iter().enumerate() {
                x[[i, j]] = norm.apply(j, *v);
            }
        }
        let input = TensorRef::from_array_view(&x).map_err(|e| fail(e.to_string()))?;
        let outputs = self.session.run(ort::inputs![input]).map_err(|e| fail(e.to_string()))?;
        let y = outputs[0].try_extract_array::<f32>().map_err(|e| fail(e.to_string()))?;
        if y.len() != rows.len() {
            return Err(fail(format!("{} estimates for {} rows", y.len(), rows.len())));
        }
        Ok(y.iter().copied().collect())
    }
}

/// The names of a graph's one input and one output, as ONNX Runtime reads them (what a
/// registry entry must declare).
pub fn graph_names(bytes: &[u8]) -> Result<(String, String), AiError> {
    let session = Session::builder(environment()?)
        .and_then(|mut b| b.commit_from_memory(bytes))
        .map_err(|e| AiError::Runtime(format!("not a model ONNX Runtime can run: {e}")))?;
    match (session.inputs(), session.outputs()) {
        ([i], [o]) => Ok((i.name().to_string(), o.name().to_string())),
        (i, o) => Err(AiError::Runtime(format!(
            "a graph of {} inputs and {} outputs; models have one of each",
            i.len(),
            o.len()
        ))),
    }
}

/// The graph against the registry's declaration.
fn check_graph(entry: &ModelEntry, session: &Session) -> Result<(), String> {
    let n = entry.features.len() as i64;
    let declared = &entry.inputs[0];
    let [input] = session.inputs() else {
        return Err(format!("the graph takes {} inputs; the registry declares one", session.inputs().len()));
    };
    let shape: Vec<i64> =
        input.dtype().tensor_shape().map(|s| s.iter().copied().collect()).unwrap_or_default();
    if input.name() != declared.name {
        return Err(format!(
            "the graph's input is `{}`, the registry declares `{}`",
            input.name(),
            declared.name
        ));
    }
    if input.dtype().tensor_type() != Some(TensorElementType::Float32) || shape.len() != 2 || shape[1] != n {
        return Err(format!(
            "the graph's input `{}` is {:?} {shape:?}, but the model declares {n} features ({}): expected float32 [-1, {n}]",
            input.name(),
            input.dtype().tensor_type(),
            entry.features.join(", ")
        ));
    }
    let [output] = session.outputs() else {
        return Err(format!(
            "the graph gives {} outputs; the registry declares one",
            session.outputs().len()
        ));
    };
    if output.dtype().tensor_type() != Some(TensorElementType::Float32) {
        return Err(format!("the graph's output `{}` is not float32", output.name()));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::registry::tests::entry;
    use crate::registry::Normalisation;

    /// An ONNX graph `y = x · weights + bias` over `[-1, weights.len()]`, its input named
    /// `input`, written by the `onnx` Python package (`make setup-test` installs it).
    pub(crate) fn linear_onnx(weights: &[f32], bias: f32, input: &str) -> Vec<u8> {
        let script = format!(
            r#"
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
w = numpy_helper.from_array(np.array({weights:?}, dtype=np.float32).reshape(-1, 1), "W")
b = numpy_helper.from_array(np.array([{bias}], dtype=np.float32), "B")
g = helper.make_graph([helper.make_node("Gemm", ["{input}", "W", "B"], ["y"])], "linear",
    [helper.make_tensor_value_info("{input}", TensorProto.FLOAT, ["n", {n}])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])], [w, b])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
sys.stdout.buffer.write(m.SerializeToString())
"#,
            n = weights.len()
        );
        let out = std::process::Command::new("python3").args(["-c", &script]).output().unwrap();
        assert!(out.status.success(), "python3 onnx: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    #[test]
    fn a_registry_model_estimates_through_onnx_runtime_after_normalising() {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = Registry::open(dir.path()).unwrap();
        let model = ModelEntry {
            normalisation: Normalisation {
                mean: vec![1.0, 0.0, 10.0],
                std: vec![1.0, 2.0, 5.0],
                lower: Vec::new(),
                upper: Vec::new(),
            },
            ..entry("fr-fast", 1, 3)
        };
        registry.publish(model, &linear_onnx(&[1.0, 2.0, 3.0], 0.5, "x")).unwrap();
        let mut loaded = LoadedModel::open(&registry, "fr-fast").unwrap();
        assert_eq!(loaded.entry.label(), "fr-fast@1");
        assert_eq!(loaded.execution_provider(), "CPU");
        // ((2-1)/1)*1 + ((4-0)/2)*2 + ((20-10)/5)*3 + 0.5 = 1 + 4 + 6 + 0.5
        let y = loaded.estimate(&[vec![2.0, 4.0, 20.0], vec![1.0, 0.0, 10.0]]).unwrap();
        assert_eq!(y, vec![11.5, 0.5]);
        let err = loaded.estimate(&[vec![1.0]]).unwrap_err().to_string();
        assert!(err.contains("row 0 has 1 values for 3 features"), "{err}");

        // A GPU's provider is tried first; PyPI's CPU build of ONNX Runtime lacks them all, so
        // the model falls back to the CPU and says why — or, strict, refuses to load.
        assert_eq!(providers(&EpChoice::default()).unwrap(), ["CPU"]);
        for (vendor, ep) in [("nvidia", "CUDA"), ("amd", "ROCm"), ("intel", "OpenVINO")] {
            let choice = EpChoice { gpu_vendor: Some(vendor.into()), strict: false };
            let mut fell_back = LoadedModel::open_on(&registry, "fr-fast", &choice).unwrap();
            assert_eq!(fell_back.execution_provider(), "CPU");
            let why = fell_back.fallback().unwrap();
            assert!(
                why.contains(&format!("the {ep} execution provider"))
                    && why.contains("not in this ONNX Runtime"),
                "{why}"
            );
            assert_eq!(fell_back.estimate(&[vec![2.0, 4.0, 20.0]]).unwrap(), vec![11.5]);
            assert_eq!(providers(&choice).unwrap(), ["CPU"]);
            let strict = EpChoice { strict: true, ..choice };
            let err = LoadedModel::open_on(&registry, "fr-fast", &strict).unwrap_err().to_string();
            assert!(err.contains("--ep-strict") && err.contains(ep), "{err}");
            let err = providers(&strict).unwrap_err().to_string();
            assert!(err.contains("--ep-strict") && err.contains(ep), "{err}");
        }
    }

    #[test]
    fn estimates_take_the_named_features_of_each_frame_in_the_models_order() {
        use vmafx_core::scores::{FrameScore, Scores};
        let dir = tempfile::tempdir().unwrap();
        let mut registry = Registry::open(dir.path()).unwrap();
        let model =
            ModelEntry { features: vec!["integer_adm2".into(), "vmaf".into()], ..entry("fr-fast", 3, 2) };
        // y = 10·adm2 + vmaf
        registry.publish(model, &linear_onnx(&[10.0, 1.0], 0.0, "x")).unwrap();
        let mut loaded = LoadedModel::open(&registry, "fr-fast").unwrap();
        let frame = |n, vmaf, adm2| FrameScore { frame_num: n, values: vec![vmaf, 7.0, adm2] };
        let scores = Scores {
            metrics: vec!["vmaf".into(), "psnr_y".into(), "integer_adm2".into()],
            frames: vec![frame(0, 80.0, 0.9), frame(1, f64::NAN, 0.5), frame(2, 60.0, 0.5)],
            notes: Vec::new(),
        };
        let out = crate::estimate(&mut loaded, &scores).unwrap();
        assert_eq!(out.metrics, ["fr-fast@3"]);
        let values: Vec<f64> = out.frames.iter().map(|f| f.values[0]).collect();
        assert_eq!(values[0], 89.0);
        assert!(values[1].is_nan(), "a frame without a feature value gets no estimate");
        assert_eq!(values[2], 65.0);
        let lacking = Scores { metrics: vec!["vmaf".into()], frames: vec![], notes: vec![] };
        let err = crate::estimate(&mut loaded, &lacking).unwrap_err().to_string();
        assert!(err.contains("`integer_adm2` is not among the run's metrics (vmaf)"), "{err}");
    }

    #[test]
    fn a_graph_unlike_its_declaration_fails_at_load_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = Registry::open(dir.path()).unwrap();
        // Four columns in the graph, three features declared.
        registry.publish(entry("wide", 1, 3), &linear_onnx(&[1.0; 4], 0.0, "x")).unwrap();
        let err = LoadedModel::open(&registry, "wide").unwrap_err().to_string();
        assert!(
            err.contains("wide@1") && err.contains("declares 3 features") && err.contains("f0, f1, f2"),
            "{err}"
        );
        // The input under another name than declared.
        registry.publish(entry("renamed", 1, 2), &linear_onnx(&[1.0; 2], 0.0, "features")).unwrap();
        let err = LoadedModel::open(&registry, "renamed").unwrap_err().to_string();
        assert!(err.contains("input is `features`, the registry declares `x`"), "{err}");
        // Not ONNX at all (its hash is right: it was published so).
        registry.publish(entry("junk", 1, 2), b"not a model").unwrap();
        let err = LoadedModel::open(&registry, "junk").unwrap_err().to_string();
        assert!(err.contains("not a model ONNX Runtime can run"), "{err}");
        // Changed after publishing: refused before ONNX Runtime sees it.
        std::fs::write(dir.path().join("wide_v001.onnx"), linear_onnx(&[1.0; 3], 0.0, "x")).unwrap();
        let err = LoadedModel::open(&registry, "wide").unwrap_err().to_string();
        assert!(err.contains("registry.json says") && err.contains("refusing"), "{err}");
    }
}
