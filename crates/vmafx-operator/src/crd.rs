//! The custom resources of group `vmafx.io`, version `v1alpha1`: their Rust types are the
//! source of the CRDs (`vmafx-operator crds` prints them; the Helm chart carries the same).
//!
//! - [`VmafxJob`] (namespaced): one scoring job, submitted to the controller once.
//! - [`VmafxNode`] (cluster-scoped): a pool of vmafx-node pods on one kind of hardware.
//! - [`VmafxModelTraining`] (namespaced): a model trained online by a trainer sidecar beside
//!   each node pod of a pool.

// Each printcolumn(...) names its own `type_`; clippy reads the repeats as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceRequirements, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

pub const GROUP: &str = "vmafx.io";
pub const VERSION: &str = "v1alpha1";
/// The label a pool's pods carry and the node label its jobs require (`vmafx.io/pool=NAME`).
pub use vmafx_core::POOL_LABEL;

/// One scoring job: a reference and a distorted video (paths the nodes can read, or `s3://`,
/// `gs://`, `az://`, `https://`, `rclone:` URIs), or a reference and an encode to make and
/// score. The operator submits it to the controller once, with the resource's uid as the
/// idempotency key, and mirrors the job into `status`.
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "vmafx.io",
    version = "v1alpha1",
    kind = "VmafxJob",
    doc = "One scoring job on the vmafx cluster: submitted to the controller once, mirrored into status.",
    namespaced,
    status = "VmafxJobStatus",
    shortname = "vjob",
    category = "vmafx",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Progress", type_ = "string", json_path = ".status.progress"),
    printcolumn(name = "VMAF", type_ = "number", json_path = ".status.score"),
    printcolumn(name = "Pool", type_ = "string", json_path = ".spec.pool"),
    printcolumn(name = "Job", type_ = "string", json_path = ".status.controllerJobID", priority = "1"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(validation = Rule::new("self == oldSelf").message("the spec of a VmafxJob cannot change after it is submitted; delete it and create a new one"))]
#[x_kube(validation = Rule::new("has(self.distorted) != has(self.encode)").message("give exactly one of distorted and encode"))]
#[serde(rename_all = "camelCase")]
pub struct VmafxJobSpec {
    /// The reference (source) video.
    #[x_kube(validation = Rule::new("self != ''").message("reference must not be empty"))]
    pub reference: String,
    /// The distorted video to score against the reference; omit it with `encode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distorted: Option<String>,
    /// A built-in VMAF model (`vmaf_v0.6.1` when omitted; `vmaf_4k_v0.6.1`, `vmaf_v0.6.1neg`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Extra metrics beside VMAF (`psnr`, `float_ssim`, `float_ms_ssim`, `cambi`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Score every Nth frame (1: every frame).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub subsample: Option<u32>,
    /// Encode the reference on a node first and score that encode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode: Option<JobEncode>,
    /// Frames per segment: the job is split into segments scored in parallel on several
    /// nodes (the scores are the same as one whole run). Omitted: the controller's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub segment_frames: Option<u64>,
    /// Higher runs first.
    #[serde(default)]
    pub priority: i32,
    /// The VmafxNode pool to run on; omitted: any node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
}

/// The encode a job makes before it scores (`vmafx submit --encode`).
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[x_kube(validation = Rule::new("has(self.crf) != has(self.bitrateKbps)").message("give exactly one of crf and bitrateKbps"))]
#[serde(rename_all = "camelCase")]
pub struct JobEncode {
    /// ffmpeg's encoder (`libx264`, `libx265`, `libsvtav1`, `h264_nvenc`, ...).
    pub encoder: String,
    /// Constant quality on the encoder's scale (fractional where the encoder takes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crf: Option<f64>,
    /// Average bitrate in kbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Encode at this size; both or neither. Scored at the reference's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pix_fmt: Option<String>,
    /// The encoder's own options by name without the dash (`tune: film`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// Where a VmafxJob is.
#[derive(schemars::JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum JobPhase {
    /// Not yet accepted by the controller.
    #[default]
    Pending,
    /// Accepted, waiting for a node.
    Submitted,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobPhase {
    pub fn is_terminal(self) -> bool {
        matches!(self, JobPhase::Succeeded | JobPhase::Failed | JobPhase::Cancelled)
    }
}

#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VmafxJobStatus {
    #[serde(default)]
    pub phase: JobPhase,
    /// `frames done/total (percent)`, for `kubectl get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(default)]
    pub frames_done: u64,
    #[serde(default)]
    pub total_frames: u64,
    /// The pooled (mean) VMAF once the job succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The job's id on the controller.
    #[serde(rename = "controllerJobID", default, skip_serializing_if = "Option::is_none")]
    pub controller_job_id: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    /// Why it failed or was cancelled, or why it cannot be submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The digest of the spec that was submitted: a changed spec is refused, not resubmitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_spec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A pool of vmafx-node pods on one kind of hardware, reconciled into a Deployment.
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "vmafx.io",
    version = "v1alpha1",
    kind = "VmafxNode",
    doc = "A pool of vmafx-node pods on one kind of GPU, sized by its queue.",
    status = "VmafxNodeStatus",
    shortname = "vnode",
    category = "vmafx",
    printcolumn(name = "GPU", type_ = "string", json_path = ".spec.gpuVendor"),
    printcolumn(name = "Min", type_ = "integer", json_path = ".spec.minReplicas"),
    printcolumn(name = "Max", type_ = "integer", json_path = ".spec.maxReplicas"),
    printcolumn(name = "Ready", type_ = "integer", json_path = ".status.readyReplicas"),
    printcolumn(name = "Queue", type_ = "integer", json_path = ".status.queueDepth"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(validation = Rule::new("self.minReplicas <= self.maxReplicas").message("minReplicas must not exceed maxReplicas"))]
#[serde(rename_all = "camelCase")]
pub struct VmafxNodeSpec {
    /// The GPU the pool's pods get: one device of this vendor per pod (`gpusPerPod`).
    #[serde(default)]
    pub gpu_vendor: GpuVendor,
    /// GPUs requested per pod (with a vendor).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 16))]
    pub gpus_per_pod: u32,
    #[serde(default)]
    pub min_replicas: u32,
    #[schemars(range(max = 1000))]
    pub max_replicas: u32,
    /// The vmafx-node image.
    pub image: String,
    /// The namespace of the pool's Deployment (default: the operator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Work items a pod runs at once (default: the node decides from its cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 256))]
    pub slots: Option<u32>,
    /// Labels jobs can require, beside `vmafx.io/pool` (the pool's name), which is always set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Also run jobs that name no pool (their queue counts toward this pool's scaling).
    #[serde(default)]
    pub accepts_unpooled: bool,
    /// Mount `rclone:` remotes with FUSE (grants the node container `/dev/fuse` and
    /// SYS_ADMIN; without it rclone inputs are read through `rclone serve http`).
    #[serde(default)]
    pub rclone_mount: bool,
    /// Seconds a pod gets to finish its work item after it is asked to stop (the preStop hook
    /// drains it first): cover the longest segment.
    #[serde(default = "default_drain_seconds")]
    #[schemars(range(min = 10, max = 86400))]
    pub drain_seconds: u32,
    #[serde(default)]
    pub autoscaling: Autoscaling,
}

fn one() -> u32 {
    1
}

fn default_drain_seconds() -> u32 {
    600
}

#[derive(schemars::JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum GpuVendor {
    #[default]
    None,
    Nvidia,
    Amd,
    Intel,
}

impl GpuVendor {
    /// The name vmafx-node uses (`--gpu`), empty for none.
    pub fn as_str(self) -> &'static str {
        match self {
            GpuVendor::None => "",
            GpuVendor::Nvidia => "nvidia",
            GpuVendor::Amd => "amd",
            GpuVendor::Intel => "intel",
        }
    }
}

/// How a pool's size follows its queue.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaling {
    #[serde(default)]
    pub mode: ScalingMode,
    /// Queued or running work items one pod is expected to take (the target per replica).
    #[serde(default = "default_items_per_replica")]
    #[schemars(range(min = 1))]
    pub items_per_replica: u32,
    /// Operator mode: seconds with nothing queued or running before the pool shrinks to its
    /// minimum (zero when `minReplicas` is 0).
    #[serde(default = "default_idle_seconds")]
    pub idle_seconds: u32,
    /// Operator mode: seconds after a change before the pool shrinks again (growth is not held back).
    #[serde(default = "default_cooldown_seconds")]
    pub cooldown_seconds: u32,
}

impl Default for Autoscaling {
    fn default() -> Self {
        Self {
            mode: ScalingMode::default(),
            items_per_replica: default_items_per_replica(),
            idle_seconds: default_idle_seconds(),
            cooldown_seconds: default_cooldown_seconds(),
        }
    }
}

fn default_items_per_replica() -> u32 {
    4
}
fn default_idle_seconds() -> u32 {
    300
}
fn default_cooldown_seconds() -> u32 {
    120
}

#[derive(schemars::JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScalingMode {
    /// The operator sets the replicas from the controller's queue (can reach zero).
    #[default]
    Operator,
    /// An `autoscaling/v2` HorizontalPodAutoscaler on the external metric
    /// `vmafx_pool_queue_depth{pool=NAME}` (needs a metrics adapter; at least one replica).
    Hpa,
    /// `minReplicas` pods, always.
    Fixed,
}

#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VmafxNodeStatus {
    #[serde(default)]
    pub replicas: u32,
    #[serde(default)]
    pub ready_replicas: u32,
    /// Work items queued or running for this pool, as the controller last said.
    #[serde(default)]
    pub queue_depth: u64,
    /// RFC 3339: when the operator last changed the replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scale_time: Option<String>,
    /// RFC 3339: since when the pool has had nothing queued or running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_since: Option<String>,
    /// RFC 3339: when the queue last asked for at least the replicas the pool has (the pool
    /// shrinks only a cooldown after this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_busy_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A model trained online beside a pool's nodes: every node pod of the pool gets
/// `vmafx-trainer serve` as a sidecar, which takes the node's training triples on a Unix
/// socket they share and publishes each better version of `modelId` into the model registry
/// on `registryClaim`, which the nodes serve from (docs/models.md). One per pool: a second
/// naming the same pool waits (phase `Conflict`).
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "vmafx.io",
    version = "v1alpha1",
    kind = "VmafxModelTraining",
    doc = "A quality model trained online by a trainer sidecar beside each node pod of a pool.",
    namespaced,
    status = "VmafxModelTrainingStatus",
    shortname = "vtrain",
    category = "vmafx",
    printcolumn(name = "Pool", type_ = "string", json_path = ".spec.pool"),
    printcolumn(name = "Model", type_ = "string", json_path = ".spec.modelId"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct VmafxModelTrainingSpec {
    /// The VmafxNode pool whose node pods capture the triples and run the trainer beside them
    /// (its Deployment must live in this resource's namespace).
    pub pool: String,
    /// The model trained and published (`fr-fast`): its current version in the registry fixes
    /// the features and the frames they are measured on (crop and downscale).
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$"))]
    pub model_id: String,
    /// The PersistentVolumeClaim holding the model registry (`registry.json` + `.onnx` files),
    /// mounted into every pod of the pool: the nodes read it, the trainers publish to it.
    /// With more than one replica it must be ReadWriteMany.
    pub registry_claim: String,
    /// The trainer's image (default: the pool's node image, which carries vmafx-trainer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default)]
    pub checkpoint: CheckpointPolicy,
    #[serde(default)]
    pub training: TrainingSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

/// When the trainer fits and judges a new version: both must hold.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointPolicy {
    /// Least time between checkpoints (`30s`, `5m`, `1h`).
    #[serde(default = "default_min_interval")]
    #[schemars(regex(pattern = r"^[0-9]+(ms|s|m|h)$"))]
    pub min_interval: String,
    /// Least triples received since the last checkpoint.
    #[serde(default = "default_min_new")]
    #[schemars(range(min = 1))]
    pub min_new: u64,
}

fn default_min_interval() -> String {
    "5m".into()
}
fn default_min_new() -> u64 {
    5000
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        Self { min_interval: default_min_interval(), min_new: default_min_new() }
    }
}

/// How the trainer trains (its `serve` flags).
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrainingSettings {
    /// Adam steps at the first checkpoint.
    #[serde(default = "default_epochs")]
    #[schemars(range(min = 1, max = 100000))]
    pub epochs: u32,
    /// Adam steps of each later checkpoint, from where the last stopped.
    #[serde(default = "default_warm_epochs")]
    #[schemars(range(min = 1, max = 100000))]
    pub warm_epochs: u32,
    /// Decay of the exported moving average of the weights (0: the last step's).
    #[serde(default = "default_ema_decay")]
    #[schemars(range(min = 0.0, max = 0.9999))]
    pub ema_decay: f64,
    /// Triples kept in the replay buffer.
    #[serde(default = "default_replay")]
    #[schemars(range(min = 100, max = 10000000))]
    pub replay: u64,
    /// Share of jobs kept aside to judge a new version against the current one, percent.
    #[serde(default = "default_holdout_percent")]
    #[schemars(range(min = 5, max = 50))]
    pub holdout_percent: u32,
}

fn default_epochs() -> u32 {
    2000
}
fn default_warm_epochs() -> u32 {
    500
}
fn default_ema_decay() -> f64 {
    0.99
}
fn default_replay() -> u64 {
    50_000
}
fn default_holdout_percent() -> u32 {
    25
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            epochs: default_epochs(),
            warm_epochs: default_warm_epochs(),
            ema_decay: default_ema_decay(),
            replay: default_replay(),
            holdout_percent: default_holdout_percent(),
        }
    }
}

#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VmafxModelTrainingStatus {
    /// `Running` (the pool's pods carry the trainer), `Conflict` (another resource trains
    /// beside this pool), or empty until its pool is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// The three CRDs, as YAML documents separated by `---`, in a stable order.
pub fn crds_yaml() -> Result<String, serde_yaml::Error> {
    use kube::CustomResourceExt;
    let docs = [
        serde_yaml::to_string(&VmafxJob::crd())?,
        serde_yaml::to_string(&VmafxNode::crd())?,
        serde_yaml::to_string(&VmafxModelTraining::crd())?,
    ];
    Ok(docs.iter().map(|d| format!("---\n{d}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    #[test]
    fn crds_name_the_group_version_and_scope() {
        let job = VmafxJob::crd();
        assert_eq!(job.metadata.name.as_deref(), Some("vmafxjobs.vmafx.io"));
        assert_eq!(job.spec.scope, "Namespaced");
        assert_eq!(VmafxNode::crd().spec.scope, "Cluster");
        assert_eq!(VmafxModelTraining::crd().spec.scope, "Namespaced");
        for crd in [VmafxJob::crd(), VmafxNode::crd(), VmafxModelTraining::crd()] {
            let v = &crd.spec.versions[0];
            assert_eq!(v.name, "v1alpha1");
            assert!(v.subresources.as_ref().and_then(|s| s.status.as_ref()).is_some(), "status subresource");
            assert!(v.schema.is_some());
        }
    }

    #[test]
    fn the_job_spec_is_immutable_in_its_schema() {
        let yaml = crds_yaml().unwrap();
        assert!(yaml.contains("self == oldSelf"), "{yaml}");
        assert!(yaml.contains("controllerJobID"));
        assert!(yaml.contains("jsonPath: .status.phase"));
    }

    #[test]
    fn a_minimal_pool_reads_with_its_defaults() {
        let spec: VmafxNodeSpec =
            serde_json::from_value(serde_json::json!({"maxReplicas": 4, "image": "vmafx-node:1"})).unwrap();
        assert_eq!(spec.gpu_vendor, GpuVendor::None);
        assert_eq!(spec.gpus_per_pod, 1);
        assert_eq!(spec.min_replicas, 0);
        assert_eq!(spec.autoscaling.mode, ScalingMode::Operator);
        assert_eq!(spec.drain_seconds, 600);
    }
}
