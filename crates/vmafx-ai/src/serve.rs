//! Serving a registry's models to a node: each item asks for its model by spec and gets the
//! version the registry (and the node's pins) say now, loaded and sha256-checked once and
//! shared while it stays current. A newly published version is seen at the next item, with no
//! restart; an item keeps the model it started with to the end (it holds an `Arc`).
//!
//! Pins (`pins.json` beside `registry.json`, written by `vmafx models pin`) keep a node on a
//! version: `ID` then means the pinned version, not the newest, so pinning an older version
//! rolls back, and unpinning follows the newest again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::model::{EpChoice, LoadedModel};
use crate::registry::{write_atomically, ModelEntry, Registry};
use crate::AiError;

/// The pins file, beside `registry.json`.
pub const PINS: &str = "pins.json";

/// Versions loaded at once (an item in flight may hold an older one beyond these).
const CACHED: usize = 8;

/// A model ready to run, shared by the items that use it.
pub type Served = Arc<Mutex<LoadedModel>>;

/// A registry's models as a node serves them.
pub struct ModelServer {
    dir: PathBuf,
    eps: EpChoice,
    loaded: Mutex<Vec<(ModelEntry, Served)>>,
}

impl std::fmt::Debug for ModelServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelServer").field("dir", &self.dir).finish()
    }
}

impl ModelServer {
    /// Serves the registry in `dir`, its models on the execution providers `eps` gives.
    pub fn new(dir: impl Into<PathBuf>, eps: EpChoice) -> Self {
        Self { dir: dir.into(), eps, loaded: Mutex::new(Vec::new()) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The model `spec` names now: `ID@VERSION` exactly, `ID` its pinned version or else its
    /// newest. The index and pins are read on every call (a few kilobytes), so a version
    /// published or pinned a moment ago is what the next item gets.
    pub fn get(&self, spec: &str) -> Result<(ModelEntry, Served), AiError> {
        let registry = Registry::open(&self.dir)?;
        let pins = read_pins(&self.dir)?;
        let spec = match (spec.contains('@'), pins.get(spec)) {
            (false, Some(v)) => format!("{spec}@{v}"),
            _ => spec.to_string(),
        };
        let entry = registry.resolve(&spec)?.clone();
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, served)) = loaded.iter().find(|(e, _)| *e == entry) {
            return Ok((entry, Arc::clone(served)));
        }
        let served = Arc::new(Mutex::new(LoadedModel::open_on(&registry, &entry.label(), &self.eps)?));
        loaded.push((entry.clone(), Arc::clone(&served)));
        if loaded.len() > CACHED {
            loaded.remove(0);
        }
        Ok((entry, served))
    }
}

/// Every version in the registry at `dir` as the model lists show it, each marked `served`
/// when it is what its bare id resolves to now (its pin, else the newest).
pub fn model_infos(dir: &Path) -> Result<Vec<vmafx_core::catalog::ModelInfo>, AiError> {
    let registry = Registry::open(dir)?;
    let pins = read_pins(dir)?;
    let mut entries = registry.models.clone();
    entries.sort_by(|a, b| (&a.id, a.version).cmp(&(&b.id, b.version)));
    Ok(entries
        .iter()
        .map(|e| {
            let served = match pins.get(&e.id) {
                Some(&v) => v == e.version,
                None => registry.latest(&e.id).is_some_and(|l| l.version == e.version),
            };
            vmafx_core::catalog::ModelInfo {
                name: e.label(),
                source: "registry".into(),
                description: format!(
                    "an estimate of VMAF by this ONNX model ({} features of {}); never VMAF itself",
                    e.features.len(),
                    e.frames_described()
                ),
                default: false,
                kind: e.kind.to_string(),
                features: e.features.clone(),
                downscale: e.downscale.max(1),
                crop: e.crop.max(1),
                served,
                holdout: e.metrics.map(|m| [m.plcc, m.srocc, m.rmse]),
                parent: e.parent.clone().unwrap_or_default(),
                created_at: e.created_at.clone(),
            }
        })
        .collect())
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PinsFile {
    schema_version: u32,
    /// Model id → the version served for it.
    pins: BTreeMap<String, u32>,
}

/// The pins of the registry in `dir` (none when there is no pins file).
pub fn read_pins(dir: &Path) -> Result<BTreeMap<String, u32>, AiError> {
    let path = dir.join(PINS);
    let bad = |reason: String| AiError::Registry { path: path.clone(), reason };
    let text = match std::fs::read(&path) {
        Ok(t) if t.len() > 1 << 20 => return Err(bad("larger than 1 MiB".into())),
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(bad(e.to_string())),
    };
    let file: PinsFile = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    Ok(file.pins)
}

/// Pins `id` to `version` (which the registry must hold), or unpins it (`None`); returns the
/// version `id` resolves to afterwards. Written atomically.
pub fn pin(dir: &Path, id: &str, version: Option<u32>) -> Result<u32, AiError> {
    let registry = Registry::open(dir)?;
    let mut pins = read_pins(dir)?;
    let now = match version {
        Some(v) => {
            let entry = registry.resolve(&format!("{id}@{v}"))?;
            pins.insert(id.to_string(), v);
            entry.version
        }
        None => {
            pins.remove(id);
            registry.resolve(id)?.version
        }
    };
    let file = PinsFile { schema_version: 1, pins };
    let text = serde_json::to_vec_pretty(&file).expect("pins serialise");
    write_atomically(&dir.join(PINS), &text)
        .map_err(|e| AiError::Registry { path: dir.join(PINS), reason: e.to_string() })?;
    Ok(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_keeps_its_version_while_the_next_one_gets_the_new_one() {
        use crate::model::tests::linear_onnx;
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry::open(dir.path()).unwrap();
        r.publish(crate::registry::tests::entry("fr-fast", 1, 2), &linear_onnx(&[1.0, 1.0], 0.0, "x"))
            .unwrap();
        let server = ModelServer::new(dir.path(), EpChoice::default());
        let (first, held) = server.get("fr-fast").unwrap();
        assert_eq!(first.label(), "fr-fast@1");
        // Published while an item holds version 1 (by another process: a fresh index).
        let mut r = Registry::open(dir.path()).unwrap();
        r.publish(crate::registry::tests::entry("fr-fast", 2, 2), &linear_onnx(&[1.0, 1.0], 10.0, "x"))
            .unwrap();
        let (next, served) = server.get("fr-fast").unwrap();
        assert_eq!(next.label(), "fr-fast@2", "the next item gets the new version, no restart");
        let row = [vec![1.0, 2.0]];
        assert_eq!(held.lock().unwrap().estimate(&row).unwrap(), [3.0], "the item keeps version 1");
        assert_eq!(served.lock().unwrap().estimate(&row).unwrap(), [13.0]);
        // A version is loaded once and shared.
        assert!(Arc::ptr_eq(&served, &server.get("fr-fast@2").unwrap().1));
        // Pinned back to 1: the version already loaded, the same model.
        pin(dir.path(), "fr-fast", Some(1)).unwrap();
        assert!(Arc::ptr_eq(&held, &server.get("fr-fast").unwrap().1));
    }

    #[test]
    fn pins_choose_the_version_and_unknown_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry::open(dir.path()).unwrap();
        for v in 1..=3 {
            r.publish(crate::registry::tests::entry("fr-fast", v, 2), format!("v{v}").as_bytes()).unwrap();
        }
        assert!(read_pins(dir.path()).unwrap().is_empty());
        assert_eq!(pin(dir.path(), "fr-fast", Some(1)).unwrap(), 1);
        assert_eq!(read_pins(dir.path()).unwrap().get("fr-fast"), Some(&1));
        let e = pin(dir.path(), "fr-fast", Some(9)).unwrap_err().to_string();
        assert!(e.contains("fr-fast@9"), "{e}");
        let e = pin(dir.path(), "nope", Some(1)).unwrap_err().to_string();
        assert!(e.contains("fr-fast"), "an unknown id lists the ids there are: {e}");
        assert_eq!(read_pins(dir.path()).unwrap().get("fr-fast"), Some(&1), "a refused pin changes nothing");
        let served: Vec<(String, bool)> =
            model_infos(dir.path()).unwrap().into_iter().map(|m| (m.name, m.served)).collect();
        assert_eq!(
            served,
            [
                ("fr-fast@1".to_string(), true),
                ("fr-fast@2".to_string(), false),
                ("fr-fast@3".to_string(), false)
            ]
        );
        assert_eq!(pin(dir.path(), "fr-fast", None).unwrap(), 3);
        assert!(model_infos(dir.path()).unwrap().iter().all(|m| m.served == (m.name == "fr-fast@3")));
        assert!(read_pins(dir.path()).unwrap().is_empty());
    }
}
