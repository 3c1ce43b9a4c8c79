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

/// The registry model `--model registry:SPEC` names, loaded and checked: a model of `kind`
/// (an fr model's estimate replaces VMAF, so extra features, which would be computed on its
/// downscaled frames, are refused; an nr model has no reference to compute them with).
pub fn for_score(
    args: &crate::args::ScoreArgs,
    spec: &str,
    kind: vmafx_ai::Kind,
) -> anyhow::Result<LoadedModel> {
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
    let model = LoadedModel::open(&registry, spec).map_err(|e| usage(e.to_string()))?;
    match (model.entry.kind, kind) {
        (a, b) if a == b => Ok(model),
        (vmafx_ai::Kind::Nr, _) => Err(usage(format!(
            "{} is a no-reference (nr) model: give the distorted alone, vmafx score --nr DIST --model registry:{spec}",
            model.entry.label()
        ))),
        _ => Err(usage(format!(
            "{} is a full-reference ({}) model: it needs the reference, vmafx score REF DIST --model registry:{spec}",
            model.entry.label(),
            model.entry.kind
        ))),
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
