//! The model registry: a directory holding `.onnx` files and `registry.json`, which says
//! what each file is (id, version, kind, the features it takes and how they are normalised,
//! its parent, its holdout metrics) and its sha256.
//!
//! Everything here is plain file and JSON work, testable without ONNX Runtime. Loading a
//! model (hash check, then a session) is [`crate::model`]; publishing a version writes the
//! file and the index each to a temporary name, syncs it and renames it into place, so a
//! reader sees the old registry or the new one, never half of either.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AiError;

/// The registry's index file, in the registry directory.
pub const INDEX: &str = "registry.json";
/// The file a publisher locks (`flock`) while it reads, checks and rewrites the index.
pub const PUBLISH_LOCK: &str = ".publish.lock";
/// The only `schema_version` this build reads.
pub const SCHEMA_VERSION: u32 = 1;
/// An index larger than this is refused unread (it lists models, not data).
pub const MAX_INDEX_BYTES: u64 = 4 << 20;
/// A model file larger than this is refused unread (the models here are kilobytes to a few
/// megabytes; a file this size is a mistake or an attack).
pub const MAX_MODEL_BYTES: u64 = 512 << 20;
/// Most features one model may take.
pub const MAX_FEATURES: usize = 4096;

/// What a model estimates from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Full reference: features of the reference and the distorted.
    Fr,
    /// No reference: features of the distorted alone.
    Nr,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Fr => "fr",
            Kind::Nr => "nr",
        })
    }
}

/// A tensor a model takes or gives: its name in the ONNX graph and its shape (`-1`: any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<i64>,
}

/// How each feature is scaled before the model sees it: `(x - mean) / std`, after it is
/// held within `[lower, upper]` where those are given (the range the model was trained on: a
/// frame unlike any it saw moves the model's inputs to the edge of what it knows, not past it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lower: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upper: Vec<f32>,
}

impl Normalisation {
    /// Feature `j`'s value `v` as the model takes it.
    pub fn apply(&self, j: usize, v: f32) -> f32 {
        let v = match (self.lower.get(j), self.upper.get(j)) {
            (Some(&lo), Some(&hi)) => v.clamp(lo, hi),
            _ => v,
        };
        (v - self.mean[j]) / self.std[j]
    }
}

/// How a version did on the holdout its trainer kept aside, against full VMAF.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub plcc: f64,
    pub srocc: f64,
    pub rmse: f64,
}

/// One version of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    pub id: String,
    pub version: u32,
    pub kind: Kind,
    /// File name of the ONNX model, in the registry directory.
    pub onnx: String,
    /// Lower-case hex sha256 of that file.
    pub sha256: String,
    /// The graph's one input: a batch of feature rows, `[-1, features.len()]`.
    pub inputs: Vec<TensorSpec>,
    /// The graph's one output: a batch of estimates, `[-1, 1]` or `[-1]`.
    pub outputs: Vec<TensorSpec>,
    /// The features, in the order the input's columns hold them: per-frame metrics of a
    /// libvmaf run with the default VMAF model (`integer_vif_scale0`, `integer_adm2`,
    /// `integer_motion2`, `vmaf`, …) on the centre [`ModelEntry::crop`] of the frames, made
    /// [`ModelEntry::downscale`] times smaller.
    pub features: Vec<String>,
    /// The part of each frame the features come from: its centre `1/crop` of the width and of
    /// the height (even-aligned); 1: the whole frame.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub crop: u32,
    /// How many times smaller each way those frames are then made (box filter); 1: full size.
    #[serde(default = "one")]
    pub downscale: u32,
    pub normalisation: Normalisation,
    /// The version this one was trained from, `ID@VERSION`.
    #[serde(default)]
    pub parent: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default)]
    pub metrics: Option<Metrics>,
}

impl ModelEntry {
    /// `ID@VERSION`, as results and messages name a model.
    pub fn label(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// What the features are measured on, in words ("frames 4x smaller", "the centre 1/2 of
    /// each frame").
    pub fn frames_described(&self) -> String {
        match (self.crop.max(1), self.downscale.max(1)) {
            (1, 1) => "the full frames".into(),
            (1, d) => format!("frames {d}x smaller"),
            (c, 1) => format!("the centre 1/{c} of each frame"),
            (c, d) => format!("the centre 1/{c} of each frame, {d}x smaller"),
        }
    }

    /// Checks what the index says of this entry, before any file is read.
    fn check(&self) -> Result<(), String> {
        check_id(&self.id)?;
        if self.version == 0 {
            return Err("versions start at 1".into());
        }
        if !(1..=16).contains(&self.downscale) {
            return Err(format!("downscale {}: 1 to 16", self.downscale));
        }
        if !(1..=16).contains(&self.crop) {
            return Err(format!("crop {}: 1 to 16", self.crop));
        }
        if !is_plain_file_name(&self.onnx) || !self.onnx.ends_with(".onnx") {
            return Err(format!(
                "onnx `{}` must be a file name ending in .onnx, in the registry directory itself",
                self.onnx
            ));
        }
        if self.sha256.len() != 64
            || !self.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!("sha256 `{}` is not 64 lower-case hex digits", self.sha256));
        }
        let n = self.features.len();
        if n == 0 || n > MAX_FEATURES {
            return Err(format!("{n} features: a model takes 1 to {MAX_FEATURES}"));
        }
        if self.features.iter().collect::<BTreeSet<_>>().len() != n {
            return Err("a feature is listed twice".into());
        }
        let norm = &self.normalisation;
        if norm.mean.len() != n || norm.std.len() != n {
            return Err(format!(
                "normalisation has {} means and {} stds for {n} features",
                norm.mean.len(),
                norm.std.len()
            ));
        }
        if let Some(i) = norm.std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(format!(
                "normalisation std of `{}` is {}: it must be positive",
                self.features[i], norm.std[i]
            ));
        }
        if let Some(i) = norm.mean.iter().position(|m| !m.is_finite()) {
            return Err(format!("normalisation mean of `{}` is not a number", self.features[i]));
        }
        match (norm.lower.len(), norm.upper.len()) {
            (0, 0) => {}
            (l, u) if l == n && u == n => {
                let bad = (0..n).position(|i| !(norm.lower[i].is_finite() && norm.lower[i] <= norm.upper[i]));
                if let Some(i) = bad {
                    return Err(format!(
                        "normalisation range of `{}` is {}..{}: lower must be a number at most upper",
                        self.features[i], norm.lower[i], norm.upper[i]
                    ));
                }
            }
            (l, u) => {
                return Err(format!("normalisation has {l} lower and {u} upper bounds for {n} features"))
            }
        }
        match &self.inputs[..] {
            [input] if input.shape.len() == 2 && input.shape[1] == n as i64 => {}
            [input] => {
                return Err(format!(
                    "input `{}` has shape {:?} but the model declares {n} features: expected [-1, {n}]",
                    input.name, input.shape
                ))
            }
            _ => return Err(format!("{} inputs declared: a model takes one", self.inputs.len())),
        }
        match &self.outputs[..] {
            [out] if matches!(out.shape[..], [_] | [_, 1]) => Ok(()),
            [out] => {
                Err(format!("output `{}` has shape {:?}: expected [-1, 1] or [-1]", out.name, out.shape))
            }
            _ => Err(format!("{} outputs declared: a model gives one", self.outputs.len())),
        }
    }
}

pub use vmafx_core::job::check_model_id as check_id;

fn one() -> u32 {
    1
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).file_name().is_some_and(|f| f == name)
}

/// The index of a registry directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    pub schema_version: u32,
    pub models: Vec<ModelEntry>,
    /// Where it was read from (not part of the file).
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Registry {
    /// An empty registry in `dir` (nothing is written until [`Registry::publish`]).
    pub fn empty(dir: &Path) -> Self {
        Self { schema_version: SCHEMA_VERSION, models: Vec::new(), dir: dir.into() }
    }

    /// Reads and checks `dir/registry.json`. A directory without one is an empty registry;
    /// a file that is too large, not JSON of this schema, or that says something wrong of a
    /// model (a path outside the directory, a malformed hash, inputs that do not match the
    /// features, a version listed twice) is refused with the reason.
    pub fn open(dir: &Path) -> Result<Self, AiError> {
        let path = dir.join(INDEX);
        let bad = |reason: String| AiError::Registry { path: path.clone(), reason };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir.is_dir() => {
                return Ok(Self::empty(dir))
            }
            Err(e) => return Err(bad(e.to_string())),
        };
        if meta.len() > MAX_INDEX_BYTES {
            return Err(bad(format!("{} bytes: an index is at most {MAX_INDEX_BYTES}", meta.len())));
        }
        let text = std::fs::read(&path).map_err(|e| bad(e.to_string()))?;
        let mut registry: Registry = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
        if registry.schema_version != SCHEMA_VERSION {
            return Err(bad(format!(
                "schema_version {} (this vmafx reads {SCHEMA_VERSION})",
                registry.schema_version
            )));
        }
        let mut seen = BTreeSet::new();
        for m in &registry.models {
            m.check().map_err(|r| bad(format!("model {}: {r}", m.label())))?;
            if !seen.insert((m.id.as_str(), m.version)) {
                return Err(bad(format!("model {} is listed twice", m.label())));
            }
        }
        registry.dir = dir.into();
        Ok(registry)
    }

    /// The model ids, sorted.
    pub fn ids(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.id.as_str()).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// The newest version of `id`.
    pub fn latest(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().filter(|m| m.id == id).max_by_key(|m| m.version)
    }

    /// `ID` (its newest version) or `ID@VERSION`. An unknown id lists the ids there are; an
    /// unknown version lists that model's versions.
    pub fn resolve(&self, spec: &str) -> Result<&ModelEntry, AiError> {
        let (id, version) = match spec.split_once('@') {
            Some((id, v)) => {
                let v = v.parse::<u32>().map_err(|_| AiError::UnknownModel {
                    spec: spec.into(),
                    reason: format!("`{v}` is not a version number (ID@VERSION, e.g. {id}@2)"),
                })?;
                (id, Some(v))
            }
            None => (spec, None),
        };
        let unknown = |reason: String| AiError::UnknownModel { spec: spec.into(), reason };
        let versions: Vec<u32> = self.models.iter().filter(|m| m.id == id).map(|m| m.version).collect();
        if versions.is_empty() {
            let ids = self.ids();
            return Err(unknown(if ids.is_empty() {
                format!("the registry in {} has no models", self.dir.display())
            } else {
                format!("no such model in {}; it has: {}", self.dir.display(), ids.join(", "))
            }));
        }
        match version {
            None => Ok(self.latest(id).expect("versions is not empty")),
            Some(v) => self.models.iter().find(|m| m.id == id && m.version == v).ok_or_else(|| {
                let mut listed: Vec<String> = versions.iter().map(u32::to_string).collect();
                listed.sort();
                unknown(format!("`{id}` has versions {}", listed.join(", ")))
            }),
        }
    }

    /// Adds `entry` with the model file `onnx` and writes both atomically: the file under its
    /// name (checked against `entry.sha256`, which this fills when empty), then the index.
    /// The version must be newer than every version of its id already here.
    pub fn publish(&mut self, mut entry: ModelEntry, onnx: &[u8]) -> Result<(), AiError> {
        let digest = sha256_hex(onnx);
        if entry.sha256.is_empty() {
            entry.sha256 = digest.clone();
        }
        let refuse = |reason: String| AiError::Publish { model: entry.label(), reason };
        if entry.sha256 != digest {
            return Err(refuse(format!("sha256 {} given, the file's is {digest}", entry.sha256)));
        }
        entry.check().map_err(&refuse)?;
        // One publisher at a time (trainers beside several nodes may share a registry), on
        // top of the index as it is now, not as it was when this handle read it.
        std::fs::create_dir_all(&self.dir).map_err(|e| refuse(e.to_string()))?;
        let _held = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(PUBLISH_LOCK))
            .and_then(|f| f.lock().map(|()| f))
            .map_err(|e| refuse(format!("cannot lock the registry: {e}")))?;
        let now = Registry::open(&self.dir).map_err(|e| refuse(e.to_string()))?;
        self.models = now.models;
        if let Some(newest) = self.latest(&entry.id) {
            if newest.version >= entry.version {
                return Err(refuse(format!("{} is already published: versions only go up", newest.label())));
            }
        }
        if self.models.iter().any(|m| m.onnx == entry.onnx) {
            return Err(refuse(format!("file {} belongs to another version", entry.onnx)));
        }
        write_atomically(&self.dir.join(&entry.onnx), onnx).map_err(|e| refuse(e.to_string()))?;
        self.models.push(entry.clone());
        let text = serde_json::to_vec_pretty(self).expect("a registry serialises");
        if let Err(e) = write_atomically(&self.dir.join(INDEX), &text) {
            self.models.pop();
            return Err(refuse(e.to_string()));
        }
        Ok(())
    }

    /// Reads `entry`'s model file (at most [`MAX_MODEL_BYTES`]) and checks its sha256
    /// against the index: a file changed since it was published is refused, naming both.
    pub fn read_verified(&self, entry: &ModelEntry) -> Result<Vec<u8>, AiError> {
        let path = self.dir.join(&entry.onnx);
        let refuse = |reason: String| AiError::Load { model: entry.label(), path: path.clone(), reason };
        let len = std::fs::metadata(&path).map_err(|e| refuse(e.to_string()))?.len();
        if len > MAX_MODEL_BYTES {
            return Err(refuse(format!("{len} bytes: a model file is at most {MAX_MODEL_BYTES}")));
        }
        let bytes = std::fs::read(&path).map_err(|e| refuse(e.to_string()))?;
        let digest = sha256_hex(&bytes);
        if digest != entry.sha256 {
            return Err(refuse(format!(
                "its sha256 is {digest} but registry.json says {}: the file was changed or replaced; refusing to load it",
                entry.sha256
            )));
        }
        Ok(bytes)
    }
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `path` so that a reader sees the old file or the new one: a temporary file beside
/// it, synced, renamed over it, then the directory synced.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An entry for `features` features, published from `onnx` bytes (sha256 filled in).
    pub(crate) fn entry(id: &str, version: u32, features: usize) -> ModelEntry {
        ModelEntry {
            id: id.into(),
            version,
            kind: Kind::Fr,
            onnx: format!("{id}_v{version:03}.onnx"),
            sha256: String::new(),
            inputs: vec![TensorSpec { name: "x".into(), shape: vec![-1, features as i64] }],
            outputs: vec![TensorSpec { name: "y".into(), shape: vec![-1, 1] }],
            features: (0..features).map(|i| format!("f{i}")).collect(),
            normalisation: Normalisation {
                mean: vec![0.0; features],
                std: vec![1.0; features],
                lower: Vec::new(),
                upper: Vec::new(),
            },
            crop: 1,
            downscale: 4,
            parent: None,
            created_at: "2026-12-03T00:00:00Z".into(),
            metrics: Some(Metrics { plcc: 0.9, srocc: 0.9, rmse: 3.0 }),
        }
    }

    #[test]
    fn published_versions_read_back_and_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry::open(dir.path()).unwrap();
        assert!(r.models.is_empty());
        r.publish(entry("fr-fast", 1, 3), b"one").unwrap();
        r.publish(entry("fr-fast", 2, 3), b"two").unwrap();
        r.publish(ModelEntry { kind: Kind::Nr, ..entry("nr-luma", 1, 2) }, b"nr").unwrap();
        let back = Registry::open(dir.path()).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.resolve("fr-fast").unwrap().version, 2);
        assert_eq!(back.resolve("fr-fast@1").unwrap().sha256, sha256_hex(b"one"));
        assert_eq!(back.read_verified(back.resolve("nr-luma").unwrap()).unwrap(), b"nr");
        // Nothing temporary is left behind.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [PUBLISH_LOCK, "fr-fast_v001.onnx", "fr-fast_v002.onnx", "nr-luma_v001.onnx", "registry.json"]
        );
    }

    #[test]
    fn two_publishers_of_one_registry_never_lose_a_version() {
        let dir = tempfile::tempdir().unwrap();
        Registry::open(dir.path()).unwrap().publish(entry("fr-fast", 1, 3), b"one").unwrap();
        // Both read version 1, then each publishes what it thinks comes next.
        let (mut a, mut b) = (Registry::open(dir.path()).unwrap(), Registry::open(dir.path()).unwrap());
        a.publish(entry("fr-fast", 2, 3), b"a").unwrap();
        let err = b.publish(entry("fr-fast", 2, 3), b"b").unwrap_err().to_string();
        assert!(err.contains("fr-fast@2 is already published"), "{err}");
        b.publish(entry("nr-luma", 1, 2), b"nr").unwrap();
        let now = Registry::open(dir.path()).unwrap();
        let labels: Vec<String> = now.models.iter().map(ModelEntry::label).collect();
        assert_eq!(labels, ["fr-fast@1", "fr-fast@2", "nr-luma@1"], "a's version survives b's publish");
        assert_eq!(now.read_verified(now.resolve("fr-fast@2").unwrap()).unwrap(), b"a");
        // Concurrently, from threads: every version lands exactly once.
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let dir = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let mut done = 0;
                    while done < 3 {
                        let mut r = Registry::open(&dir).unwrap();
                        let next = r.latest("nr-luma").map_or(1, |m| m.version + 1);
                        let body = format!("t{t}-{next}");
                        if r.publish(entry("nr-luma", next, 2), body.as_bytes()).is_ok() {
                            done += 1;
                        }
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let now = Registry::open(dir.path()).unwrap();
        let versions: Vec<u32> = now.models.iter().filter(|m| m.id == "nr-luma").map(|m| m.version).collect();
        assert_eq!(versions, (1..=13).collect::<Vec<_>>());
        for m in now.models.iter().filter(|m| m.id == "nr-luma") {
            now.read_verified(m).unwrap();
        }
    }

    #[test]
    fn unknown_ids_and_versions_list_what_exists() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry::open(dir.path()).unwrap();
        let err = r.resolve("fr-fast").unwrap_err().to_string();
        assert!(err.contains("has no models"), "{err}");
        r.publish(entry("fr-fast", 1, 3), b"one").unwrap();
        r.publish(entry("nr-luma", 4, 3), b"nr").unwrap();
        let err = r.resolve("fr-slow").unwrap_err().to_string();
        assert!(err.contains("`fr-slow`") && err.contains("fr-fast, nr-luma"), "{err}");
        let err = r.resolve("nr-luma@2").unwrap_err().to_string();
        assert!(err.contains("has versions 4"), "{err}");
        let err = r.resolve("nr-luma@two").unwrap_err().to_string();
        assert!(err.contains("not a version number"), "{err}");
    }

    #[test]
    fn a_changed_model_file_is_refused_naming_both_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry::open(dir.path()).unwrap();
        r.publish(entry("fr-fast", 1, 3), b"one").unwrap();
        std::fs::write(dir.path().join("fr-fast_v001.onnx"), b"tampered").unwrap();
        let err = r.read_verified(&r.models[0]).unwrap_err().to_string();
        assert!(err.contains(&sha256_hex(b"tampered")) && err.contains(&sha256_hex(b"one")), "{err}");
        assert!(err.contains("fr-fast@1") && err.contains("refusing"), "{err}");
    }

    #[test]
    fn versions_only_go_up_and_hashes_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry::open(dir.path()).unwrap();
        r.publish(entry("fr-fast", 2, 3), b"two").unwrap();
        let err = r.publish(entry("fr-fast", 2, 3), b"again").unwrap_err().to_string();
        assert!(err.contains("already published"), "{err}");
        let err = r.publish(entry("fr-fast", 1, 3), b"older").unwrap_err().to_string();
        assert!(err.contains("already published"), "{err}");
        let wrong = ModelEntry { sha256: sha256_hex(b"other"), ..entry("fr-fast", 3, 3) };
        let err = r.publish(wrong, b"three").unwrap_err().to_string();
        assert!(err.contains("the file's is"), "{err}");
        // A refused publish leaves the registry as it was, on disk too.
        assert_eq!(Registry::open(dir.path()).unwrap().models.len(), 1);
    }

    #[test]
    fn an_index_that_says_something_wrong_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let write = |models: Vec<ModelEntry>| {
            let mut r = Registry::empty(dir.path());
            r.models = models;
            std::fs::write(dir.path().join(INDEX), serde_json::to_vec(&r).unwrap()).unwrap();
            Registry::open(dir.path()).unwrap_err().to_string()
        };
        let hashed = |m: ModelEntry| ModelEntry { sha256: sha256_hex(b"x"), ..m };
        let cases = [
            (
                ModelEntry { onnx: "../../etc/passwd.onnx".into(), ..hashed(entry("a", 1, 2)) },
                "in the registry directory",
            ),
            (
                ModelEntry { onnx: "/abs/m.onnx".into(), ..hashed(entry("a", 1, 2)) },
                "in the registry directory",
            ),
            (ModelEntry { id: "A B".into(), ..hashed(entry("a", 1, 2)) }, "model id `A B`"),
            (ModelEntry { sha256: "abc".into(), ..entry("a", 1, 2) }, "64 lower-case hex"),
            (
                ModelEntry {
                    inputs: vec![TensorSpec { name: "x".into(), shape: vec![-1, 5] }],
                    ..hashed(entry("a", 1, 2))
                },
                "declares 2 features",
            ),
            (
                ModelEntry {
                    normalisation: Normalisation {
                        mean: vec![0.0; 2],
                        std: vec![1.0, 0.0],
                        lower: Vec::new(),
                        upper: Vec::new(),
                    },
                    ..hashed(entry("a", 1, 2))
                },
                "must be positive",
            ),
            (ModelEntry { version: 0, ..hashed(entry("a", 1, 2)) }, "versions start at 1"),
        ];
        for (model, expected) in cases {
            let err = write(vec![model]);
            assert!(err.contains(expected), "{expected}: {err}");
        }
        let twice = hashed(entry("a", 1, 2));
        assert!(write(vec![twice.clone(), twice]).contains("listed twice"));
        std::fs::write(dir.path().join(INDEX), br#"{"schema_version": 9, "models": []}"#).unwrap();
        let err = Registry::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("schema_version 9"), "{err}");
    }
}
