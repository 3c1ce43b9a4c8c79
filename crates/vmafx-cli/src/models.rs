//! `vmafx models --registry DIR`: a registry's ONNX models, each loaded as a node would load
//! it, so a tampered file or a graph unlike its declaration shows here first.

use vmafx_ai::{LoadedModel, ModelEntry, Registry};

/// A registry entry and what loading it gave.
pub struct Checked {
    pub entry: ModelEntry,
    /// `Ok(execution provider)`, or why it does not load.
    pub loads: Result<&'static str, String>,
}

/// Loads every version in `registry` (sha256, then its graph in ONNX Runtime).
pub fn check_all(registry: &Registry) -> Vec<Checked> {
    let mut entries = registry.models.clone();
    entries.sort_by(|a, b| (&a.id, a.version).cmp(&(&b.id, b.version)));
    entries
        .into_iter()
        .map(|entry| {
            let loads = LoadedModel::open(registry, &entry.label())
                .map(|m| m.execution_provider())
                .map_err(|e| e.to_string());
            Checked { entry, loads }
        })
        .collect()
}

impl Checked {
    pub fn to_json(&self) -> serde_json::Value {
        let e = &self.entry;
        serde_json::json!({
            "name": e.label(),
            "source": "registry",
            "id": e.id,
            "version": e.version,
            "kind": e.kind,
            "description": format!("{} estimate of VMAF from {} features (an estimate by this model, not VMAF)", e.kind, e.features.len()),
            "features": e.features,
            "crop": e.crop,
            "downscale": e.downscale,
            "sha256": e.sha256,
            "parent": e.parent,
            "created_at": e.created_at,
            "metrics": e.metrics,
            "loads": self.loads.is_ok(),
            "execution_provider": self.loads.as_ref().ok(),
            "problem": self.loads.as_ref().err(),
        })
    }
}

pub fn print(registry: &Registry, checked: &[Checked]) {
    println!("\nONNX models in {} (estimates of VMAF, labelled ID@VERSION):", registry.dir.display());
    if checked.is_empty() {
        println!("  (none)");
    }
    for c in checked {
        let e = &c.entry;
        let metrics = e
            .metrics
            .map(|m| format!("holdout PLCC {:.3} SROCC {:.3} RMSE {:.2}", m.plcc, m.srocc, m.rmse))
            .unwrap_or_else(|| "no holdout metrics".into());
        let status = match &c.loads {
            Ok(ep) => format!("loads ({ep})"),
            Err(why) => format!("DOES NOT LOAD: {why}"),
        };
        println!("  {:<24} {} {:>3} features  {metrics}  {status}", e.label(), e.kind, e.features.len());
    }
}

/// A registry model that `vmafx score` checked and is about to load: its entry resolved, its
/// kind the run's, its file's sha256 verified. What is left, ONNX Runtime's start and the
/// graph's check (tens of milliseconds, more than an nr run's measuring of a short clip), runs
/// beside the decode ([`ForScore::load_beside`]).
pub struct ForScore {
    pub entry: ModelEntry,
    bytes: Vec<u8>,
    path: std::path::PathBuf,
}

/// The registry model `--model registry:SPEC` names, checked: a model of `kind` (an fr
/// model's estimate replaces VMAF, so extra features, which would be computed on its
/// downscaled frames, are refused; an nr model has no reference to compute them with), whose
/// file is the one the registry hashed.
pub fn for_score(
    args: &crate::args::ScoreArgs,
    spec: &str,
    kind: vmafx_ai::Kind,
) -> anyhow::Result<ForScore> {
    let usage = |m: String| anyhow::Error::from(crate::UsageError(m));
    let dir = args.registry.as_ref().ok_or_else(|| {
        usage(format!("--model registry:{spec} loads from a model registry: give --registry DIR (or VMAFX_MODEL_REGISTRY)"))
    })?;
    if args.model_path.is_some() {
        return Err(usage("--model registry:… and --model-path exclude each other".into()));
    }
    if !args.feature.is_empty() {
        return Err(usage(format!(
            "--model registry:{spec} scores a part of each frame for its estimate: extra features (--feature) would be \
             computed on them too; score them in a separate run"
        )));
    }
    let registry = Registry::open(dir).map_err(|e| usage(e.to_string()))?;
    let entry = registry.resolve(spec).map_err(|e| usage(e.to_string()))?.clone();
    match (entry.kind, kind) {
        (a, b) if a == b => {}
        (vmafx_ai::Kind::Nr, _) => {
            return Err(usage(format!(
                "{} is a no-reference (nr) model: give the distorted alone, vmafx score --nr DIST --model registry:{spec}",
                entry.label()
            )))
        }
        _ => {
            return Err(usage(format!(
                "{} is a full-reference ({}) model: it needs the reference, vmafx score REF DIST --model registry:{spec}",
                entry.label(),
                entry.kind
            )))
        }
    }
    let bytes = registry.read_verified(&entry).map_err(|e| usage(e.to_string()))?;
    let path = registry.dir.join(&entry.onnx);
    Ok(ForScore { entry, bytes, path })
}

impl ForScore {
    /// Loads the model on a thread of its own while `work` (the run that measures its
    /// inputs) goes on here. A model that does not load sets `cancel`, which stops `work` at
    /// its next frame, and is the error returned: the model's reason, not a cancelled run.
    pub fn load_beside<T>(
        self,
        cancel: &std::sync::atomic::AtomicBool,
        work: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<(LoadedModel, T)> {
        std::thread::scope(|scope| {
            let loading = scope.spawn(move || {
                let loaded = LoadedModel::from_bytes(self.entry, &self.bytes, &self.path);
                if loaded.is_err() {
                    cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                loaded
            });
            let done = work();
            let model = loading.join().map_err(|_| anyhow::anyhow!("loading the model panicked"))?;
            let model = model.map_err(|e| anyhow::Error::from(crate::UsageError(e.to_string())))?;
            Ok((model, done?))
        })
    }
}

/// `report` (a run of the default VMAF model on frames made smaller as `model` asks)
/// replaced by `model`'s estimates, labelled as that model's, with a note saying so.
pub fn estimated(
    mut report: vmafx_core::Report,
    model: &mut LoadedModel,
) -> anyhow::Result<vmafx_core::Report> {
    let label = model.entry.label();
    report.scores = vmafx_ai::estimate(model, &report.scores)?;
    report.info.model = label.clone();
    report.info.score_metric = label.clone();
    report.info.headline.clear();
    let inputs = match model.entry.kind {
        vmafx_ai::Kind::Nr => format!(
            "from no-reference measures of the distorted alone ({}x{})",
            report.info.width, report.info.height
        ),
        _ => format!(
            "from libvmaf features of {} ({}x{})",
            model.entry.frames_described(),
            report.info.width,
            report.info.height
        ),
    };
    report.info.notes.push(vmafx_core::Note::info(format!(
        "{label} is an estimate of VMAF by that ONNX model (ONNX Runtime on {}), {inputs}, not VMAF",
        model.execution_provider(),
    )));
    Ok(report)
}

/// `vmafx models pin ID@VERSION` / `unpin ID`: what the registry's nodes serve for ID.
pub fn change(dir: &std::path::Path, action: crate::args::ModelsAction) -> anyhow::Result<()> {
    let usage = |m: String| anyhow::Error::from(crate::UsageError(m));
    let (id, version) = match &action {
        crate::args::ModelsAction::Pin { model } => {
            let spec = vmafx_core::EstimateSpec { model: model.clone(), no_capture: false };
            match spec.parse().map_err(usage)? {
                (id, Some(v)) => (id.to_string(), Some(v)),
                (id, None) => return Err(usage(format!("pin {id}: give the version too, {id}@VERSION"))),
            }
        }
        crate::args::ModelsAction::Unpin { id } => (id.clone(), None),
    };
    let now = vmafx_ai::serve::pin(dir, &id, version).map_err(|e| usage(e.to_string()))?;
    match version {
        Some(_) => println!(
            "{id}@{now} pinned: nodes reading {} serve it for `{id}` from their next item",
            dir.display()
        ),
        None => {
            println!("{id} unpinned: nodes reading {} serve its newest version, {id}@{now}", dir.display())
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::*;

    fn shipped(bytes: Option<&[u8]>) -> ForScore {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let registry = Registry::open(&dir).unwrap();
        let entry = registry.resolve("nr-luma@1").unwrap().clone();
        let bytes = bytes.map_or_else(|| registry.read_verified(&entry).unwrap(), <[u8]>::to_vec);
        ForScore { path: registry.dir.join(&entry.onnx), entry, bytes }
    }

    #[test]
    fn a_model_loads_beside_the_run_and_both_come_back() {
        let cancel = AtomicBool::new(false);
        let (model, measured) = shipped(None).load_beside(&cancel, || Ok(42)).unwrap();
        assert_eq!((model.entry.label().as_str(), measured), ("nr-luma@1", 42));
        assert!(!cancel.load(Ordering::Relaxed));
    }

    #[test]
    fn a_model_that_does_not_load_stops_the_run_beside_it_and_is_the_error() {
        let cancel = AtomicBool::new(false);
        let started = Instant::now();
        let err = shipped(Some(b"not a graph"))
            .load_beside(&cancel, || -> anyhow::Result<()> {
                // The run: frames until the cancel flag says stop.
                while !cancel.load(Ordering::Relaxed) {
                    anyhow::ensure!(started.elapsed() < Duration::from_secs(60), "never cancelled");
                    std::thread::sleep(Duration::from_millis(1));
                }
                anyhow::bail!("cancelled")
            })
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nr-luma@1") && err.contains("not a model ONNX Runtime can run"), "{err}");
    }
}
