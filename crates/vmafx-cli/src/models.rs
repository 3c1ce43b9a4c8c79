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
