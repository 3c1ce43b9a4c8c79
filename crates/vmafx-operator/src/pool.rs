//! A [`VmafxNode`] pool in, the objects that run it out: a Deployment of vmafx-node pods on
//! the pool's hardware and, in `hpa` mode, a HorizontalPodAutoscaler. Pure functions; the
//! reconciler applies what they return.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, ExternalMetricSource, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
    MetricIdentifier, MetricSpec, MetricTarget,
};
use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, Container, ContainerPort, EnvVar, EnvVarSource, ExecAction, HTTPGetAction,
    HostPathVolumeSource, Lifecycle, LifecycleHandler, NodeAffinity, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SecretKeySelector, SecretVolumeSource, SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Resource;

use crate::crd::{GpuVendor, ScalingMode, VmafxModelTraining, VmafxNode, POOL_LABEL};

/// What every pool's pods share: where the controller is and where its secrets are. The Helm
/// chart passes these to the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSettings {
    /// The controller's gRPC address(es) as the pods reach it (comma separated for several).
    pub controller: String,
    /// The Secret (in the pool's namespace) holding the node join token under `token`.
    pub join_token_secret: String,
    /// The Secret holding the controller's CA certificate under `ca.crt` (a `kubernetes.io/tls`
    /// Secret, as cert-manager or the Helm chart make), if TLS uses a private CA. Only that
    /// key is mounted into node pods, never the server's private key beside it.
    pub ca_secret: Option<String>,
    /// The namespace of pools that name none.
    pub namespace: String,
}

/// The Kubernetes extended resource a vendor's device plugin advertises.
pub fn gpu_resource(vendor: GpuVendor) -> Option<&'static str> {
    match vendor {
        GpuVendor::None => None,
        GpuVendor::Nvidia => Some("nvidia.com/gpu"),
        GpuVendor::Amd => Some("amd.com/gpu"),
        GpuVendor::Intel => Some("gpu.intel.com/i915"),
    }
}

/// The node label Node Feature Discovery sets on machines with a display controller of the
/// vendor (its PCI vendor id): pods of a GPU pool only go there.
pub fn gpu_node_label(vendor: GpuVendor) -> Option<&'static str> {
    match vendor {
        GpuVendor::None => None,
        GpuVendor::Nvidia => Some("feature.node.kubernetes.io/pci-10de.present"),
        GpuVendor::Amd => Some("feature.node.kubernetes.io/pci-1002.present"),
        GpuVendor::Intel => Some("feature.node.kubernetes.io/pci-8086.present"),
    }
}

/// The Deployment's name for a pool.
pub fn deployment_name(pool: &str) -> String {
    format!("vmafx-node-{pool}")
}

/// The labels of a pool's pods (and the Deployment's selector).
pub fn pod_labels(pool: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "vmafx-node".to_string()),
        ("app.kubernetes.io/instance".to_string(), pool.to_string()),
        ("app.kubernetes.io/managed-by".to_string(), "vmafx-operator".to_string()),
        (POOL_LABEL.to_string(), pool.to_string()),
    ])
}

/// The port node pods serve /healthz, /readyz and /metrics on (`--http-listen`).
pub const METRICS_PORT: u16 = 9464;

/// A probe GETting `path` on the metrics port every 10 s, failing after `failures` misses.
fn http_probe(path: &str, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("metrics".into()),
            ..Default::default()
        }),
        period_seconds: Some(10),
        failure_threshold: Some(failures),
        ..Default::default()
    }
}

/// The owner reference that makes a pool's objects go with it.
pub fn owner_reference(pool: &VmafxNode) -> OwnerReference {
    OwnerReference {
        api_version: VmafxNode::api_version(&()).into_owned(),
        kind: VmafxNode::kind(&()).into_owned(),
        name: pool.metadata.name.clone().unwrap_or_default(),
        uid: pool.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The namespace a pool's Deployment lives in.
pub fn namespace_of(pool: &VmafxNode, settings: &PodSettings) -> String {
    pool.spec.namespace.clone().unwrap_or_else(|| settings.namespace.clone())
}

/// The port the trainer sidecar serves /healthz, /status and /metrics on.
pub const TRAINER_PORT: u16 = 9465;
/// Where a pod mounts the model registry, and where the node and its trainer share a socket.
pub const REGISTRY_DIR: &str = "/var/lib/vmafx/models";
pub const TRAINER_SOCKET_DIR: &str = "/run/vmafx";

/// Of the trainings in a pool's namespace, the one its pods carry (the oldest naming the
/// pool; by name among those made in the same second) and those that must wait.
pub fn training_for<'a>(
    pool: &str,
    trainings: &'a [VmafxModelTraining],
) -> (Option<&'a VmafxModelTraining>, Vec<&'a VmafxModelTraining>) {
    let mut mine: Vec<&VmafxModelTraining> = trainings.iter().filter(|t| t.spec.pool == pool).collect();
    mine.sort_by_key(|t| (t.metadata.creation_timestamp.clone().map(|t| t.0), t.metadata.name.clone()));
    let mut mine = mine.into_iter();
    (mine.next(), mine.collect())
}

/// The trainer sidecar: `vmafx-trainer serve` on the socket the node sends triples to,
/// publishing into the shared registry.
fn trainer_container(t: &VmafxModelTraining, node_image: &str, security: SecurityContext) -> Container {
    let (c, tr) = (&t.spec.checkpoint, &t.spec.training);
    let args = [
        "serve".to_string(),
        format!("--registry={REGISTRY_DIR}"),
        format!("--socket={TRAINER_SOCKET_DIR}/trainer.sock"),
        format!("--id={}", t.spec.model_id),
        format!("--min-interval={}", c.min_interval),
        format!("--min-new={}", c.min_new),
        format!("--replay={}", tr.replay),
        format!("--epochs={}", tr.epochs),
        format!("--warm-epochs={}", tr.warm_epochs),
        format!("--ema-decay={}", tr.ema_decay),
        format!("--holdout-percent={}", tr.holdout_percent),
        format!("--listen=0.0.0.0:{TRAINER_PORT}"),
        "--log-format=json".into(),
    ];
    Container {
        name: "vmafx-trainer".into(),
        image: Some(t.spec.image.clone().unwrap_or_else(|| node_image.to_string())),
        command: Some(vec!["vmafx-trainer".into()]),
        args: Some(args.to_vec()),
        resources: t.spec.resources.clone(),
        security_context: Some(security),
        volume_mounts: Some(vec![
            VolumeMount { name: "models".into(), mount_path: REGISTRY_DIR.into(), ..Default::default() },
            VolumeMount {
                name: "trainer-socket".into(),
                mount_path: TRAINER_SOCKET_DIR.into(),
                ..Default::default()
            },
            VolumeMount { name: "scratch".into(), mount_path: "/tmp".into(), ..Default::default() },
        ]),
        ports: Some(vec![ContainerPort {
            name: Some("trainer".into()),
            container_port: TRAINER_PORT.into(),
            ..Default::default()
        }]),
        liveness_probe: Some(Probe {
            http_get: Some(HTTPGetAction {
                path: Some("/healthz".into()),
                port: IntOrString::String("trainer".into()),
                ..Default::default()
            }),
            period_seconds: Some(10),
            failure_threshold: Some(6),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Deployment that runs a pool. `replicas` is what the operator's scaling decided, or
/// `None` where an HPA owns the count (the field is then left out, so applying this does not
/// fight the HPA). With a `training`, each pod also runs its trainer beside the node, the
/// node serving models from the training's registry and sending it triples.
pub fn desired_deployment(
    pool: &VmafxNode,
    settings: &PodSettings,
    replicas: Option<u32>,
    training: Option<&VmafxModelTraining>,
) -> Deployment {
    let name = pool.metadata.name.clone().unwrap_or_default();
    let spec = &pool.spec;
    let labels = pod_labels(&name);

    let mut args = vec![
        "--controller".to_string(),
        settings.controller.clone(),
        // /healthz, /readyz and /metrics for the kubelet and Prometheus (a PodMonitor).
        format!("--http-listen=0.0.0.0:{METRICS_PORT}"),
    ];
    let mut node_labels = spec.labels.clone();
    node_labels.insert(POOL_LABEL.into(), name.clone());
    for (k, v) in &node_labels {
        args.push("--label".into());
        args.push(format!("{k}={v}"));
    }
    if let Some(slots) = spec.slots {
        args.extend(["--slots".into(), slots.to_string()]);
    }
    if spec.gpu_vendor != GpuVendor::None {
        args.extend(["--gpu-vendor".into(), spec.gpu_vendor.as_str().into()]);
    }
    if spec.rclone_mount {
        args.push("--rclone-mount=/mnt/source".into());
    }
    if training.is_some() {
        args.push(format!("--registry={REGISTRY_DIR}"));
        args.push(format!("--trainer={TRAINER_SOCKET_DIR}/trainer.sock"));
    }

    let mut env = vec![
        EnvVar {
            name: "VMAFX_TOKEN".into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: settings.join_token_secret.clone(),
                    key: "token".into(),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
            ..Default::default()
        },
        EnvVar {
            name: "VMAFX_NODE_NAME".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(k8s_openapi::api::core::v1::ObjectFieldSelector {
                    field_path: "metadata.name".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        },
        EnvVar { name: "VMAFX_LOG_FORMAT".into(), value: Some("json".into()), ..Default::default() },
    ];
    // The root file system is read-only: encode jobs write their encode (and ffmpeg its
    // temporary files) into this scratch directory, which goes with the pod.
    let mut volumes = vec![Volume {
        name: "scratch".into(),
        empty_dir: Some(k8s_openapi::api::core::v1::EmptyDirVolumeSource::default()),
        ..Default::default()
    }];
    let mut mounts =
        vec![VolumeMount { name: "scratch".into(), mount_path: "/tmp".into(), ..Default::default() }];
    if let Some(ca) = &settings.ca_secret {
        volumes.push(Volume {
            name: "controller-ca".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(ca.clone()),
                items: Some(vec![k8s_openapi::api::core::v1::KeyToPath {
                    key: "ca.crt".into(),
                    path: "ca.crt".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "controller-ca".into(),
            mount_path: "/etc/vmafx/ca".into(),
            read_only: Some(true),
            ..Default::default()
        });
        env.push(EnvVar {
            name: "VMAFX_CA".into(),
            value: Some("/etc/vmafx/ca/ca.crt".into()),
            ..Default::default()
        });
    }

    if let Some(t) = training {
        // The registry (the node only reads it) and the socket the node and trainer share.
        volumes.push(Volume {
            name: "models".into(),
            persistent_volume_claim: Some(k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                claim_name: t.spec.registry_claim.clone(),
                read_only: Some(false),
            }),
            ..Default::default()
        });
        volumes.push(Volume {
            name: "trainer-socket".into(),
            empty_dir: Some(k8s_openapi::api::core::v1::EmptyDirVolumeSource::default()),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "models".into(),
            mount_path: REGISTRY_DIR.into(),
            read_only: Some(true),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "trainer-socket".into(),
            mount_path: TRAINER_SOCKET_DIR.into(),
            ..Default::default()
        });
    }

    // The GPU: the vendor's device, requested as a limit (extended resources are not
    // overcommitted, so the request equals it).
    let mut resources: ResourceRequirements = spec.resources.clone().unwrap_or_default();
    if let Some(key) = gpu_resource(spec.gpu_vendor) {
        resources
            .limits
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), Quantity(spec.gpus_per_pod.to_string()));
    }

    // Only the container that mounts rclone remotes gets FUSE and SYS_ADMIN; otherwise it runs
    // as an unprivileged user with nothing added.
    let restricted = SecurityContext {
        run_as_non_root: Some(true),
        // The images' user (deploy/images).
        run_as_user: Some(10001),
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), ..Default::default() }),
        ..Default::default()
    };
    let security = if spec.rclone_mount {
        volumes.push(Volume {
            name: "fuse".into(),
            host_path: Some(HostPathVolumeSource {
                path: "/dev/fuse".into(),
                type_: Some("CharDevice".into()),
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "fuse".into(),
            mount_path: "/dev/fuse".into(),
            ..Default::default()
        });
        SecurityContext {
            capabilities: Some(Capabilities {
                add: Some(vec!["SYS_ADMIN".into()]),
                drop: Some(vec!["ALL".into()]),
            }),
            allow_privilege_escalation: Some(false),
            ..Default::default()
        }
    } else {
        restricted.clone()
    };

    let container = Container {
        name: "vmafx-node".into(),
        image: Some(spec.image.clone()),
        args: Some(args),
        env: Some(env),
        resources: Some(resources),
        security_context: Some(security),
        volume_mounts: Some(mounts),
        ports: Some(vec![ContainerPort {
            name: Some("metrics".into()),
            container_port: METRICS_PORT.into(),
            ..Default::default()
        }]),
        // Ready once registered with the controller, not while draining: a rollout waits
        // for the new nodes to have joined.
        readiness_probe: Some(http_probe("/readyz", 3)),
        liveness_probe: Some(http_probe("/healthz", 6)),
        // Draining first: SIGTERM makes the node pull no more and finish what it runs; the
        // hook waits for that, within the grace period, before the kubelet goes further.
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                exec: Some(ExecAction {
                    command: Some(vec![
                        "/bin/sh".into(),
                        "-c".into(),
                        "kill -TERM 1; while kill -0 1 2>/dev/null; do sleep 1; done".into(),
                    ]),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };

    let mut tolerations: Vec<Toleration> = spec.tolerations.clone();
    if let Some(key) = gpu_resource(spec.gpu_vendor) {
        // GPU machines are commonly tainted with their resource name so that only pods that ask
        // for a GPU land there.
        if !tolerations.iter().any(|t| t.key.as_deref() == Some(key)) {
            tolerations.push(Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoSchedule".into()),
                ..Default::default()
            });
        }
    }
    let affinity = gpu_node_label(spec.gpu_vendor).map(|label| Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(vec![NodeSelectorRequirement {
                        key: label.into(),
                        operator: "In".into(),
                        values: Some(vec!["true".into()]),
                    }]),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    });

    Deployment {
        metadata: ObjectMeta {
            name: Some(deployment_name(&name)),
            namespace: Some(namespace_of(pool, settings)),
            labels: Some(labels.clone()),
            owner_references: Some(vec![owner_reference(pool)]),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: replicas.map(|r| r as i32),
            selector: LabelSelector { match_labels: Some(labels.clone()), ..Default::default() },
            // A node being replaced finishes its items while the new one starts.
            strategy: Some(DeploymentStrategy { type_: Some("RollingUpdate".into()), ..Default::default() }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels), ..Default::default() }),
                spec: Some(PodSpec {
                    containers: [container]
                        .into_iter()
                        .chain(training.map(|t| trainer_container(t, &spec.image, restricted)))
                        .collect(),
                    termination_grace_period_seconds: Some(spec.drain_seconds as i64),
                    node_selector: (!spec.node_selector.is_empty()).then(|| spec.node_selector.clone()),
                    tolerations: (!tolerations.is_empty()).then_some(tolerations),
                    affinity,
                    volumes: Some(volumes),
                    security_context: Some(PodSecurityContext {
                        seccomp_profile: Some(k8s_openapi::api::core::v1::SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    automount_service_account_token: Some(false),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The name of the external metric an HPA scales a pool on (the controller's
/// `vmafx_pool_queue_depth{pool="NAME"}`: items queued or running, served by a metrics adapter).
pub const QUEUE_METRIC: &str = "vmafx_pool_queue_depth";

/// In `hpa` mode, the HorizontalPodAutoscaler that sizes a pool's Deployment on its queue
/// depth; `None` in the other modes. HPA cannot scale to zero: its minimum is at least 1.
pub fn desired_hpa(pool: &VmafxNode, settings: &PodSettings) -> Option<HorizontalPodAutoscaler> {
    if pool.spec.autoscaling.mode != ScalingMode::Hpa {
        return None;
    }
    let name = pool.metadata.name.clone().unwrap_or_default();
    let spec = &pool.spec;
    Some(HorizontalPodAutoscaler {
        metadata: ObjectMeta {
            name: Some(deployment_name(&name)),
            namespace: Some(namespace_of(pool, settings)),
            labels: Some(pod_labels(&name)),
            owner_references: Some(vec![owner_reference(pool)]),
            ..Default::default()
        },
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: deployment_name(&name),
            },
            min_replicas: Some(spec.min_replicas.max(1) as i32),
            max_replicas: spec.max_replicas.max(1) as i32,
            metrics: Some(vec![MetricSpec {
                type_: "External".into(),
                external: Some(ExternalMetricSource {
                    metric: MetricIdentifier {
                        name: QUEUE_METRIC.into(),
                        selector: Some(LabelSelector {
                            match_labels: Some(BTreeMap::from([("pool".to_string(), name.clone())])),
                            ..Default::default()
                        }),
                    },
                    target: MetricTarget {
                        type_: "AverageValue".into(),
                        average_value: Some(Quantity(spec.autoscaling.items_per_replica.to_string())),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::VmafxNodeSpec;

    fn pool(name: &str, vendor: GpuVendor) -> VmafxNode {
        let mut spec: VmafxNodeSpec = serde_json::from_value(
            serde_json::json!({"maxReplicas": 8, "image": "localhost/vmafx-node:dev"}),
        )
        .unwrap();
        spec.gpu_vendor = vendor;
        let mut p = VmafxNode::new(name, spec);
        p.metadata.uid = Some(format!("uid-{name}"));
        p
    }

    fn settings() -> PodSettings {
        PodSettings {
            controller: "https://vmafx-controller.vmafx:50051".into(),
            join_token_secret: "vmafx-join-token".into(),
            ca_secret: Some("vmafx-ca".into()),
            namespace: "vmafx".into(),
        }
    }

    fn container(d: &Deployment) -> &Container {
        &d.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0]
    }

    fn training(name: &str, pool: &str, created: i64) -> VmafxModelTraining {
        let mut t: VmafxModelTraining = serde_json::from_value(serde_json::json!({
            "apiVersion": "vmafx.io/v1alpha1", "kind": "VmafxModelTraining",
            "metadata": {"name": name, "namespace": "vmafx"},
            "spec": {"pool": pool, "modelId": "fr-fast", "registryClaim": "models",
                     "checkpoint": {"minInterval": "10m", "minNew": 2000}}
        }))
        .unwrap();
        t.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::from_second(created).unwrap(),
        ));
        t
    }

    #[test]
    fn a_training_puts_its_trainer_beside_each_node_sharing_the_registry_and_a_socket() {
        let p = pool("gpu-a", GpuVendor::Nvidia);
        let t = training("learn", "gpu-a", 100);
        let d = desired_deployment(&p, &settings(), Some(2), Some(&t));
        let pod = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        assert_eq!(pod.containers.len(), 2);
        let (node, trainer) = (&pod.containers[0], &pod.containers[1]);
        let node_args = node.args.as_ref().unwrap();
        assert!(node_args.contains(&"--registry=/var/lib/vmafx/models".to_string()), "{node_args:?}");
        assert!(node_args.contains(&"--trainer=/run/vmafx/trainer.sock".to_string()), "{node_args:?}");
        assert_eq!(trainer.image.as_deref(), Some(p.spec.image.as_str()), "the node's image by default");
        assert_eq!(trainer.command.as_ref().unwrap(), &["vmafx-trainer"]);
        let args = trainer.args.as_ref().unwrap();
        for want in [
            "serve",
            "--registry=/var/lib/vmafx/models",
            "--socket=/run/vmafx/trainer.sock",
            "--id=fr-fast",
            "--min-interval=10m",
            "--min-new=2000",
            "--replay=50000",
            "--epochs=2000",
            "--warm-epochs=500",
            "--ema-decay=0.99",
            "--holdout-percent=25",
            "--listen=0.0.0.0:9465",
        ] {
            assert!(args.contains(&want.to_string()), "{want} not in {args:?}");
        }
        // The trainer gets no GPU and the same restricted user as the node.
        assert!(trainer.resources.is_none());
        let sc = trainer.security_context.as_ref().unwrap();
        assert_eq!((sc.run_as_user, sc.read_only_root_filesystem), (Some(10001), Some(true)));
        // The registry claim for both (read-only for the node), an emptyDir for the socket.
        let volumes = pod.volumes.as_ref().unwrap();
        let models = volumes.iter().find(|v| v.name == "models").unwrap();
        assert_eq!(models.persistent_volume_claim.as_ref().unwrap().claim_name, "models");
        assert!(volumes.iter().any(|v| v.name == "trainer-socket" && v.empty_dir.is_some()));
        let mount = |c: &Container, name: &str| {
            c.volume_mounts.as_ref().unwrap().iter().find(|m| m.name == name).cloned().unwrap()
        };
        assert_eq!(mount(node, "models").read_only, Some(true));
        assert_eq!(mount(trainer, "models").read_only, None);
        assert_eq!(mount(node, "trainer-socket").mount_path, mount(trainer, "trainer-socket").mount_path);
        // Without a training: the node alone, no registry.
        let plain = desired_deployment(&p, &settings(), Some(2), None);
        let pod = plain.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        assert_eq!(pod.containers.len(), 1);
        assert!(!pod.containers[0].args.as_ref().unwrap().iter().any(|a| a.starts_with("--registry")));
    }

    #[test]
    fn the_oldest_training_of_a_pool_runs_and_the_others_wait() {
        let all = [
            training("b", "gpu-a", 200),
            training("c", "cpu", 50),
            training("a", "gpu-a", 200),
            training("z", "gpu-a", 100),
        ];
        let (runs, wait) = training_for("gpu-a", &all);
        assert_eq!(runs.unwrap().metadata.name.as_deref(), Some("z"));
        let waiting: Vec<_> = wait.iter().map(|t| t.metadata.name.as_deref().unwrap()).collect();
        assert_eq!(waiting, ["a", "b"]);
        assert!(training_for("none", &all).0.is_none());
    }

    #[test]
    fn each_vendor_gets_its_device_and_its_machines() {
        for (vendor, key, label) in [
            (GpuVendor::Nvidia, "nvidia.com/gpu", "feature.node.kubernetes.io/pci-10de.present"),
            (GpuVendor::Amd, "amd.com/gpu", "feature.node.kubernetes.io/pci-1002.present"),
            (GpuVendor::Intel, "gpu.intel.com/i915", "feature.node.kubernetes.io/pci-8086.present"),
        ] {
            let d = desired_deployment(&pool("p", vendor), &settings(), Some(2), None);
            let limits = container(&d).resources.as_ref().unwrap().limits.as_ref().unwrap();
            assert_eq!(limits.get(key), Some(&Quantity("1".into())), "{vendor:?}");
            let pod = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
            let term = &pod
                .affinity
                .as_ref()
                .unwrap()
                .node_affinity
                .as_ref()
                .unwrap()
                .required_during_scheduling_ignored_during_execution
                .as_ref()
                .unwrap()
                .node_selector_terms[0];
            assert_eq!(term.match_expressions.as_ref().unwrap()[0].key, label);
            assert!(pod.tolerations.as_ref().unwrap().iter().any(|t| t.key.as_deref() == Some(key)));
            let args = container(&d).args.as_ref().unwrap().join(" ");
            assert!(args.contains(&format!("--gpu-vendor {}", vendor.as_str())), "{args}");
        }
        let cpu = desired_deployment(&pool("cpu", GpuVendor::None), &settings(), Some(1), None);
        let pod = cpu.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        assert!(pod.affinity.is_none() && pod.tolerations.is_none());
        assert!(container(&cpu).resources.as_ref().unwrap().limits.is_none());
    }

    #[test]
    fn the_deployment_belongs_to_its_pool_and_labels_its_nodes() {
        let d = desired_deployment(&pool("gpu-a", GpuVendor::Nvidia), &settings(), Some(3), None);
        assert_eq!(d.metadata.name.as_deref(), Some("vmafx-node-gpu-a"));
        assert_eq!(d.metadata.namespace.as_deref(), Some("vmafx"));
        let owner = &d.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("VmafxNode", "gpu-a", "uid-gpu-a")
        );
        assert_eq!(owner.api_version, "vmafx.io/v1alpha1");
        assert_eq!(owner.controller, Some(true));
        assert_eq!(d.spec.as_ref().unwrap().replicas, Some(3));
        let args = container(&d).args.as_ref().unwrap();
        assert!(args.windows(2).any(|w| w == ["--label", "vmafx.io/pool=gpu-a"]), "{args:?}");
        assert!(args.windows(2).any(|w| w == ["--controller", "https://vmafx-controller.vmafx:50051"]));
        let env = container(&d).env.as_ref().unwrap();
        let token = env.iter().find(|e| e.name == "VMAFX_TOKEN").unwrap();
        let secret = token.value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap();
        assert_eq!((secret.name.as_str(), secret.key.as_str()), ("vmafx-join-token", "token"));
        let pod = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        assert_eq!(pod.termination_grace_period_seconds, Some(600));
        assert!(container(&d).lifecycle.as_ref().unwrap().pre_stop.is_some());
        // Probes and metrics on the node's own HTTP port.
        let c = container(&d);
        assert!(c.args.as_ref().unwrap().contains(&"--http-listen=0.0.0.0:9464".to_string()));
        assert_eq!(c.ports.as_ref().unwrap()[0].container_port, 9464);
        let ready = c.readiness_probe.as_ref().unwrap().http_get.as_ref().unwrap();
        assert_eq!(
            (ready.path.as_deref(), &ready.port),
            (Some("/readyz"), &IntOrString::String("metrics".into()))
        );
        assert_eq!(
            c.liveness_probe.as_ref().unwrap().http_get.as_ref().unwrap().path.as_deref(),
            Some("/healthz")
        );
        // The selector picks exactly the template's pods.
        assert_eq!(d.spec.as_ref().unwrap().selector.match_labels.as_ref(), Some(&pod_labels("gpu-a")));
    }

    #[test]
    fn only_a_mounting_pool_gets_fuse_and_sys_admin() {
        let plain = desired_deployment(&pool("p", GpuVendor::None), &settings(), Some(1), None);
        let sc = container(&plain).security_context.as_ref().unwrap();
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert!(sc.capabilities.as_ref().unwrap().add.is_none());
        // A writable scratch directory for encodes, and of the CA Secret only its ca.crt (the
        // server's key beside it stays out of node pods).
        let mounts = container(&plain).volume_mounts.clone().unwrap();
        assert!(mounts.iter().any(|m| m.name == "scratch" && m.mount_path == "/tmp"), "{mounts:?}");
        let volumes = plain.spec.as_ref().unwrap().template.spec.as_ref().unwrap().volumes.clone().unwrap();
        let ca = volumes.iter().find(|v| v.name == "controller-ca").expect("the CA volume");
        let items = ca.secret.as_ref().unwrap().items.clone().unwrap();
        assert_eq!(items.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(), ["ca.crt"]);
        let mut p = pool("m", GpuVendor::None);
        p.spec.rclone_mount = true;
        let mounting = desired_deployment(&p, &settings(), Some(1), None);
        let sc = container(&mounting).security_context.as_ref().unwrap();
        assert_eq!(sc.capabilities.as_ref().unwrap().add.as_deref(), Some(&["SYS_ADMIN".to_string()][..]));
        assert!(container(&mounting)
            .args
            .as_ref()
            .unwrap()
            .iter()
            .any(|a| a == "--rclone-mount=/mnt/source"));
    }

    #[test]
    fn an_hpa_pool_leaves_replicas_to_its_autoscaler() {
        let mut p = pool("h", GpuVendor::Amd);
        assert!(desired_hpa(&p, &settings()).is_none(), "operator mode makes no HPA");
        p.spec.autoscaling.mode = ScalingMode::Hpa;
        p.spec.min_replicas = 0;
        let hpa = desired_hpa(&p, &settings()).unwrap();
        let spec = hpa.spec.unwrap();
        assert_eq!(spec.min_replicas, Some(1), "an HPA cannot reach zero");
        assert_eq!(spec.max_replicas, 8);
        assert_eq!(spec.scale_target_ref.name, "vmafx-node-h");
        let metric = spec.metrics.unwrap().remove(0).external.unwrap();
        assert_eq!(metric.metric.name, "vmafx_pool_queue_depth");
        assert_eq!(metric.target.average_value, Some(Quantity("4".into())));
        assert_eq!(hpa.metadata.owner_references.unwrap()[0].name, "h");
        let d = desired_deployment(&p, &settings(), None, None);
        assert_eq!(d.spec.unwrap().replicas, None);
    }
}
