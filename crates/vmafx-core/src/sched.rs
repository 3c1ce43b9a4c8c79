//! Scheduling as pure logic: what a job needs of a node, what a node offers, and whether
//! they match. The store hands out work in priority, then submission, then segment order
//! among the items a node can run; this module decides which those are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// GPU vendors a job may ask for.
pub const GPU_VENDORS: &[&str] = &["nvidia", "amd", "intel"];

/// The node label that names a node's pool (a Kubernetes `VmafxNode`, or any group of nodes
/// started with `--label vmafx.io/pool=NAME`); a job aimed at a pool requires it.
pub const POOL_LABEL: &str = "vmafx.io/pool";

/// Work items of one pool: queued for a node, or running on one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolQueue {
    /// The pool's name; empty for jobs that name no pool.
    pub pool: String,
    pub pending: u64,
    pub running: u64,
}

impl PoolQueue {
    /// What the pool's autoscaling follows: items queued or running.
    pub fn depth(&self) -> u64 {
        self.pending + self.running
    }
}

/// Per-pool work from per-requirement counts `(requirement key, pending, running)`, by pool
/// name. Requirements that name no pool count under `""`; unreadable keys (no node can run
/// them) count nowhere.
pub fn pool_queues<'a>(work: impl IntoIterator<Item = (&'a str, u64, u64)>) -> Vec<PoolQueue> {
    let mut pools: BTreeMap<String, PoolQueue> = BTreeMap::new();
    for (key, pending, running) in work {
        let Some(req) = Requirements::from_key(key) else { continue };
        let pool = req.labels.get(POOL_LABEL).cloned().unwrap_or_default();
        let q = pools.entry(pool.clone()).or_insert_with(|| PoolQueue { pool, ..Default::default() });
        q.pending += pending;
        q.running += running;
    }
    pools.into_values().collect()
}

/// What a node offers, as it registered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    pub cores: u32,
    pub slots: u32,
    /// `nvidia`, `amd`, `intel`, or empty for none.
    pub gpu_vendor: String,
    pub gpu_model: String,
    pub onnx_providers: Vec<String>,
    /// ffmpeg encoders it has (`libx264`, `libsvtav1`, `h264_nvenc`, ...).
    pub encoders: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// What its ffmpeg says of the encoders of [`crate::encode::ENCODERS`] it has: their
    /// options and pixel formats, which encode jobs are checked against.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub encoder_options: Vec<crate::encode::EncoderDescription>,
    /// Its ffmpeg's version (`9.0.2-static`, `5.1.8-0+deb12u1`); empty when unknown.
    pub ffmpeg_version: String,
}

/// What a job needs of a node. Empty: any node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Requirements {
    /// A GPU of this vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_vendor: Option<String>,
    /// This ffmpeg encoder (set from an encode job's `-c:v`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    /// Every one of these labels, with these values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// A node that runs quality models (started with a model registry; it reports ONNX
    /// Runtime execution providers): set by the controller for a job with an estimate.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub models: bool,
}

impl Requirements {
    pub fn is_empty(&self) -> bool {
        *self == Requirements::default()
    }

    /// Whether a node with `caps` can run the job.
    pub fn satisfied_by(&self, caps: &Capabilities) -> bool {
        self.gpu_vendor.as_ref().is_none_or(|v| caps.gpu_vendor.eq_ignore_ascii_case(v))
            && self.encoder.as_ref().is_none_or(|e| caps.encoders.iter().any(|c| c == e))
            && self.labels.iter().all(|(k, v)| caps.labels.get(k) == Some(v))
            && (!self.models || !caps.onnx_providers.is_empty())
    }

    /// A canonical text form (empty for no requirement), which the store keeps on each work
    /// item so that a pull can select what a node can run.
    pub fn key(&self) -> String {
        if self.is_empty() {
            String::new()
        } else {
            serde_json::to_string(self).unwrap_or_default()
        }
    }

    /// The inverse of [`Requirements::key`]; unreadable text reads as "no node can run it"
    /// rather than "any node".
    pub fn from_key(key: &str) -> Option<Self> {
        if key.is_empty() {
            return Some(Self::default());
        }
        serde_json::from_str(key).ok()
    }

    /// Checks the fields a client sets; the error names the field.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if let Some(v) = &self.gpu_vendor {
            if !GPU_VENDORS.contains(&v.as_str()) {
                return Err((
                    "requirements.gpu_vendor".into(),
                    format!("unknown GPU vendor `{v}`; one of {}", GPU_VENDORS.join(", ")),
                ));
            }
        }
        if let Some(k) = self.labels.keys().find(|k| k.trim().is_empty()) {
            return Err(("requirements.labels".into(), format!("label `{k}`: empty name")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_match_capabilities() {
        let cpu = Capabilities { encoders: vec!["libx264".into()], ..Default::default() };
        let gpu = Capabilities {
            gpu_vendor: "nvidia".into(),
            gpu_model: "H100".into(),
            encoders: vec!["libx264".into(), "h264_nvenc".into()],
            labels: [("zone".to_string(), "eu".to_string())].into(),
            ..Default::default()
        };
        let any = Requirements::default();
        assert!(any.satisfied_by(&cpu) && any.satisfied_by(&gpu));
        let nvidia = Requirements { gpu_vendor: Some("nvidia".into()), ..Default::default() };
        assert!(!nvidia.satisfied_by(&cpu) && nvidia.satisfied_by(&gpu));
        let nvenc = Requirements { encoder: Some("h264_nvenc".into()), ..Default::default() };
        assert!(!nvenc.satisfied_by(&cpu) && nvenc.satisfied_by(&gpu));
        let eu =
            Requirements { labels: [("zone".to_string(), "eu".to_string())].into(), ..Default::default() };
        assert!(!eu.satisfied_by(&cpu) && eu.satisfied_by(&gpu));
        let us =
            Requirements { labels: [("zone".to_string(), "us".to_string())].into(), ..Default::default() };
        assert!(!us.satisfied_by(&gpu));
    }

    #[test]
    fn pool_queues_group_requirements_by_their_pool_label() {
        let pooled = |pool: &str, encoder: Option<&str>| {
            Requirements {
                encoder: encoder.map(String::from),
                labels: BTreeMap::from([(POOL_LABEL.to_string(), pool.to_string())]),
                ..Default::default()
            }
            .key()
        };
        let (a, a_x264, b) = (pooled("gpu-a", None), pooled("gpu-a", Some("libx264")), pooled("gpu-b", None));
        let amd = Requirements { gpu_vendor: Some("amd".into()), ..Default::default() }.key();
        // A job with an estimate runs only where models run.
        let models = Requirements { models: true, ..Default::default() };
        assert!(!models.satisfied_by(&Capabilities::default()));
        assert!(
            models.satisfied_by(&Capabilities { onnx_providers: vec!["CPU".into()], ..Default::default() })
        );
        assert_eq!(Requirements::from_key(&models.key()), Some(models.clone()));
        let work = [
            (a.as_str(), 3, 1),
            (a_x264.as_str(), 2, 0),
            (b.as_str(), 0, 4),
            ("", 5, 0),
            (amd.as_str(), 1, 1),
            ("{bad", 9, 9),
        ];
        let q = pool_queues(work);
        let depth: Vec<(&str, u64, u64)> =
            q.iter().map(|p| (p.pool.as_str(), p.pending, p.running)).collect();
        assert_eq!(depth, vec![("", 6, 1), ("gpu-a", 5, 1), ("gpu-b", 0, 4)]);
        assert_eq!(q[1].depth(), 6);
    }

    #[test]
    fn keys_round_trip_and_validation_names_fields() {
        let r = Requirements {
            gpu_vendor: Some("amd".into()),
            encoder: Some("libsvtav1".into()),
            ..Default::default()
        };
        assert_eq!(Requirements::from_key(&r.key()), Some(r.clone()));
        assert_eq!(Requirements::default().key(), "");
        assert_eq!(Requirements::from_key(""), Some(Requirements::default()));
        assert_eq!(Requirements::from_key("{not json"), None);
        let bad = Requirements { gpu_vendor: Some("3dfx".into()), ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().0, "requirements.gpu_vendor");
        assert!(r.validate().is_ok());
    }
}
