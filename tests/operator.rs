//! vmafx-operator end to end against a fake Kubernetes API server (PyPI kmock, with the
//! harness tests/k8s_api.py that does the API server's writes: uids, resourceVersions,
//! generations, the status subresource, finalizers, garbage collection), with a real
//! controller and a real node. The test plays the kubelet: it runs a pool's pod as a process
//! with the container arguments of the Deployment the operator wrote.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::cluster::{call, http, spawn_node, start_controller, token, Controller, Proc};

const NS: &str = "vmafx";

/// The fake API server and a kubeconfig pointing at it.
struct Kube {
    _proc: Proc,
    addr: String,
    kubeconfig: PathBuf,
}

fn start_kube(dir: &Path) -> Kube {
    let mut child = Command::new("python3")
        .arg(common::root().join("tests/k8s_api.py"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start tests/k8s_api.py (python3 with PyPI kmock: `make test` installs it)");
    let url = common::line_after(
        child.stdout.take().unwrap(),
        "k8s-api: listening on ",
        "k8s_api.py (is kmock installed?)",
    );
    let proc = Proc(child);
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\n\
             users:\n- name: operator\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: operator\n    namespace: {NS}\n\
             current-context: fake\n"
        ),
    )
    .unwrap();
    let addr = url.trim_start_matches("http://").to_string();
    common::cluster::trust(&addr, None); // plain HTTP
    Kube { _proc: proc, addr, kubeconfig }
}

impl Kube {
    fn req(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        let (status, text) = http(&self.addr, method, path, None, body.as_deref());
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn get(&self, path: &str) -> Option<Value> {
        match self.req("GET", path, None) {
            (200, v) => Some(v),
            (404, _) => None,
            (s, v) => panic!("GET {path}: {s} {v}"),
        }
    }

    fn create(&self, collection: &str, object: Value) -> Value {
        let (status, v) = self.req("POST", collection, Some(object));
        assert_eq!(status, 201, "POST {collection}: {v}");
        v
    }
}

fn pool_path(name: &str) -> String {
    format!("/apis/vmafx.io/v1alpha1/vmafxnodes/{name}")
}
fn job_path(name: &str) -> String {
    format!("/apis/vmafx.io/v1alpha1/namespaces/{NS}/vmafxjobs/{name}")
}
fn deployment_path(pool: &str) -> String {
    format!("/apis/apps/v1/namespaces/{NS}/deployments/vmafx-node-{pool}")
}

/// An operator replica, its log in a file (shown when a wait times out).
struct Operator {
    proc: Proc,
    log: PathBuf,
}

fn start_operator(ctl: &Controller, kube: &Kube, token: &str, identity: &str, dir: &Path) -> Operator {
    let log = dir.join(format!("{identity}.log"));
    let proc = Command::new(common::bin("vmafx-operator"))
        .args(["run", "--controller", &ctl.url(), "--namespace", NS, "--identity", identity])
        .args(["--resync-seconds", "0.5", "--job-poll-seconds", "0.3", "--lease-seconds", "3"])
        .arg("--ca")
        .arg(ctl.ca())
        .env("VMAFX_TOKEN", token)
        .env("KUBECONFIG", &kube.kubeconfig)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start vmafx-operator");
    Operator { proc: Proc(proc), log }
}

/// Polls `check` every 100 ms until it gives a value; panics after `secs` with the operators' logs.
fn wait<T>(what: &str, secs: u64, logs: &[&Operator], mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = logs
                .iter()
                .map(|o| {
                    let text = std::fs::read_to_string(&o.log).unwrap_or_default();
                    let tail: Vec<&str> = text.lines().rev().take(40).collect();
                    format!(
                        "--- {} ---\n{}",
                        o.log.display(),
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    )
                })
                .collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn submit_token(ctl: &Controller, data: &Path) -> String {
    let out =
        ctl.cli(&token(data, "admin.token"), &["tokens", "create", "--role", "submit", "--name", "operator"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn pool(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "vmafx.io/v1alpha1", "kind": "VmafxNode", "metadata": {"name": name}, "spec": spec})
}

fn vjob(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "vmafx.io/v1alpha1", "kind": "VmafxJob", "metadata": {"name": name}, "spec": spec})
}

fn replicas(kube: &Kube, pool: &str) -> Option<i64> {
    kube.get(&deployment_path(pool))?["spec"]["replicas"].as_i64()
}

#[test]
fn pools_become_deployments_jobs_run_on_their_pool_and_the_queue_sizes_the_pools() {
    let data = tempfile::tempdir().unwrap();
    let clips = tempfile::tempdir().unwrap();
    let r = common::lavfi(clips.path(), "ref.y4m", "testsrc2=size=160x90:rate=24", 48, "yuv420p");
    let d = common::encode(&r, clips.path(), "dist.mp4", &["-c:v", "libx264", "-crf", "35"]);
    // A long pair (a few seconds of scoring), to delete its VmafxJob while it runs.
    let long = |name: &str, crf: &str| {
        let path = clips.path().join(name);
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=24",
            "-frames:v",
            "4000",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            crf,
            "-pix_fmt",
            "yuv420p",
            path.to_str().unwrap(),
        ]);
        path
    };
    let (long_r, long_d) = (long("long_ref.mp4", "5"), long("long_dist.mp4", "40"));

    let ctl = start_controller(data.path(), &[]);
    let admin = token(data.path(), "admin.token");
    let kube = start_kube(data.path());
    let op = start_operator(&ctl, &kube, &submit_token(&ctl, data.path()), "operator-0", data.path());
    let logs = [&op];

    // The operator leads: it holds the Lease.
    let lease_path = format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/vmafx-operator");
    let lease = wait("the leader Lease", 30, &logs, || kube.get(&lease_path));
    assert_eq!(lease["spec"]["holderIdentity"], "operator-0", "{lease}");

    // A GPU pool becomes a Deployment that asks for the vendor's device.
    let gpu = kube.create(
        "/apis/vmafx.io/v1alpha1/vmafxnodes",
        pool(
            "gpu-a",
            json!({"gpuVendor": "nvidia", "minReplicas": 1, "maxReplicas": 1, "image": "localhost/vmafx-node:dev",
                   "slots": 1, "autoscaling": {"mode": "fixed"}}),
        ),
    );
    let deployment = wait("the gpu-a Deployment", 30, &logs, || kube.get(&deployment_path("gpu-a")));
    let owner = &deployment["metadata"]["ownerReferences"][0];
    assert_eq!(
        (owner["kind"].as_str(), owner["uid"].as_str()),
        (Some("VmafxNode"), gpu["metadata"]["uid"].as_str())
    );
    assert_eq!(owner["controller"], true);
    assert_eq!(deployment["spec"]["replicas"], 1);
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["resources"]["limits"]["nvidia.com/gpu"], "1", "{container}");
    assert_eq!(container["image"], "localhost/vmafx-node:dev");
    let args: Vec<String> =
        container["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    assert!(args.windows(2).any(|w| w == ["--label", "vmafx.io/pool=gpu-a"]), "{args:?}");
    assert!(args.windows(2).any(|w| w == ["--controller", ctl.url().as_str()]), "{args:?}");
    assert!(args.windows(2).any(|w| w == ["--gpu-vendor", "nvidia"]), "{args:?}");

    // Be the kubelet: run the pod's container (its arguments; the join token from the Secret).
    let mut pod_args: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--controller" {
            it.next(); // spawn_node names the same controller, with the test's CA
        } else if a.starts_with("--http-listen=") {
            // A pod has its own network: here, any free loopback port.
            assert_eq!(a, "--http-listen=0.0.0.0:9464");
            pod_args.push("--http-listen=127.0.0.1:0");
        } else {
            pod_args.push(a);
        }
    }
    let _node = spawn_node(&ctl.addr, data.path(), "vmafx-node-gpu-a-0", &pod_args, Stdio::null());
    let (status, _) = kube.req(
        "PATCH",
        &format!("{}/status", deployment_path("gpu-a")),
        Some(json!({"status": {"replicas": 1, "readyReplicas": 1}})),
    );
    assert_eq!(status, 200);
    wait("the pool's ready replicas in its status", 30, &logs, || {
        (kube.get(&pool_path("gpu-a"))?["status"]["readyReplicas"] == 1).then_some(())
    });

    // A VmafxJob aimed at the pool: submitted once, run by the pool's node, its status the job's,
    // with the pooled VMAF of `vmafx score`.
    kube.create(
        &format!("/apis/vmafx.io/v1alpha1/namespaces/{NS}/vmafxjobs"),
        vjob(
            "short",
            json!({"reference": r, "distorted": d, "pool": "gpu-a", "segmentFrames": 16, "priority": 3}),
        ),
    );
    let done = wait("VmafxJob short to succeed", 120, &logs, || {
        let j = kube.get(&job_path("short"))?;
        let phase = j["status"]["phase"].as_str().unwrap_or("").to_string();
        assert!(!["Failed", "Cancelled"].contains(&phase.as_str()), "{j}");
        (phase == "Succeeded").then_some(j)
    });
    let local = common::vmafx_json(&r, &d, &[]);
    let status = &done["status"];
    assert_eq!(status["score"].as_f64(), local["pooled_metrics"]["vmaf"]["mean"].as_f64(), "{done}");
    assert_eq!((status["framesDone"].as_u64(), status["totalFrames"].as_u64()), (Some(48), Some(48)));
    assert_eq!(status["progress"], "48/48 frames (100%)");
    assert!(status["startTime"].is_string() && status["completionTime"].is_string(), "{status}");
    assert_eq!(done["metadata"]["finalizers"], json!(["vmafx.io/cancel-job"]));
    let complete = status["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Complete").unwrap();
    assert_eq!((complete["status"].as_str(), complete["reason"].as_str()), (Some("True"), Some("Succeeded")));
    let id = status["controllerJobID"].as_str().unwrap();
    let (code, job) = call(&ctl.http, &admin, "GET", &format!("/v1/jobs/{id}"), None);
    assert_eq!(code, 200, "{job}");
    assert_eq!(job["state"], "succeeded");
    assert_eq!(job["priority"], 3, "{job}");
    assert_eq!(job["spec"]["requirements"]["labels"]["vmafx.io/pool"], "gpu-a", "{job}");
    let (_, jobs) = call(&ctl.http, &admin, "GET", "/v1/jobs", None);
    assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(1), "submitted once: {jobs}");

    // A bad spec (a real API server's validation would refuse it first) fails with the reason
    // and sends nothing to the controller.
    kube.create(
        &format!("/apis/vmafx.io/v1alpha1/namespaces/{NS}/vmafxjobs"),
        vjob("no-distorted", json!({"reference": r})),
    );
    let refused = wait("the bad VmafxJob to be refused", 30, &logs, || {
        let j = kube.get(&job_path("no-distorted"))?;
        (j["status"]["phase"] == "Failed").then_some(j)
    });
    assert!(
        refused["status"]["message"].as_str().unwrap().contains("spec.distorted is missing"),
        "{refused}"
    );
    assert!(refused["status"]["controllerJobID"].is_null());

    // Deleting a running VmafxJob cancels its controller job; then the finalizer lets it go.
    kube.create(
        &format!("/apis/vmafx.io/v1alpha1/namespaces/{NS}/vmafxjobs"),
        vjob("long", json!({"reference": long_r, "distorted": long_d, "pool": "gpu-a"})),
    );
    let running = wait("VmafxJob long to run", 120, &logs, || {
        let j = kube.get(&job_path("long"))?;
        assert_ne!(j["status"]["phase"], "Succeeded", "too short to be deleted while it runs: {j}");
        (j["status"]["phase"] == "Running").then_some(j)
    });
    let long_id = running["status"]["controllerJobID"].as_str().unwrap().to_string();
    let (code, _) = kube.req("DELETE", &job_path("long"), None);
    assert_eq!(code, 200);
    wait("VmafxJob long to go", 60, &logs, || kube.get(&job_path("long")).is_none().then_some(()));
    let (_, job) = call(&ctl.http, &admin, "GET", &format!("/v1/jobs/{long_id}"), None);
    assert_eq!(job["state"], "cancelled", "{job}");

    // Operator-mode autoscaling: zero replicas while idle, one per queued item (up to the
    // maximum) as soon as work arrives, and back to zero after the idle period.
    kube.create(
        "/apis/vmafx.io/v1alpha1/vmafxnodes",
        pool(
            "burst",
            json!({"minReplicas": 0, "maxReplicas": 5, "image": "localhost/vmafx-node:dev",
                   "autoscaling": {"mode": "operator", "itemsPerReplica": 1, "idleSeconds": 1, "cooldownSeconds": 1}}),
        ),
    );
    wait("the burst Deployment at zero", 30, &logs, || (replicas(&kube, "burst")? == 0).then_some(()));
    kube.create(
        &format!("/apis/vmafx.io/v1alpha1/namespaces/{NS}/vmafxjobs"),
        vjob("burst-job", json!({"reference": r, "distorted": d, "pool": "burst", "segmentFrames": 16})),
    );
    wait("three replicas for three queued segments", 30, &logs, || {
        (replicas(&kube, "burst")? == 3).then_some(())
    });
    let burst = wait("the pool's queue depth", 30, &logs, || {
        let p = kube.get(&pool_path("burst"))?;
        (p["status"]["queueDepth"] == 3).then_some(p)
    });
    assert!(burst["status"]["lastScaleTime"].is_string(), "{burst}");
    assert_eq!(kube.get(&job_path("burst-job")).unwrap()["status"]["phase"], "Submitted");
    let (code, _) = kube.req("DELETE", &job_path("burst-job"), None);
    assert_eq!(code, 200);
    wait("the burst pool back at zero", 30, &logs, || (replicas(&kube, "burst")? == 0).then_some(()));
    assert_eq!(replicas(&kube, "gpu-a"), Some(1), "the fixed pool keeps its size");

    // Deleting a pool takes its Deployment with it (owner reference).
    let (code, _) = kube.req("DELETE", &pool_path("burst"), None);
    assert_eq!(code, 200);
    wait("the burst Deployment to go with its pool", 10, &logs, || {
        kube.get(&deployment_path("burst")).is_none().then_some(())
    });
    drop(op);
}

#[test]
fn a_second_replica_follows_and_takes_over_when_the_leader_goes() {
    let data = tempfile::tempdir().unwrap();
    let ctl = start_controller(data.path(), &[]);
    let kube = start_kube(data.path());
    let token = submit_token(&ctl, data.path());
    let first = start_operator(&ctl, &kube, &token, "operator-a", data.path());
    let lease_path = format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/vmafx-operator");
    wait("operator-a to lead", 30, &[&first], || {
        (kube.get(&lease_path)?["spec"]["holderIdentity"] == "operator-a").then_some(())
    });
    let second = start_operator(&ctl, &kube, &token, "operator-b", data.path());
    wait("operator-b to follow", 30, &[&second], || {
        std::fs::read_to_string(&second.log).ok()?.contains("following").then_some(())
    });

    // Only the leader reconciles: kill it, and the follower takes over within the Lease's
    // duration (3 s here) and reconciles a pool made after.
    let Operator { proc: mut leader, log: _ } = first;
    leader.0.kill().unwrap();
    leader.0.wait().unwrap();
    let lease = wait("operator-b to take over", 30, &[&second], || {
        let l = kube.get(&lease_path)?;
        (l["spec"]["holderIdentity"] == "operator-b").then_some(l)
    });
    assert_eq!(lease["spec"]["leaseTransitions"], 1, "{lease}");
    kube.create(
        "/apis/vmafx.io/v1alpha1/vmafxnodes",
        pool(
            "late",
            json!({"minReplicas": 2, "maxReplicas": 2, "image": "x", "autoscaling": {"mode": "fixed"}}),
        ),
    );
    wait("the new leader to reconcile", 30, &[&second], || (replicas(&kube, "late")? == 2).then_some(()));
}

/// A VmafxModelTraining (issue 15, item 6): its pool's pods get `vmafx-trainer serve` beside
/// the node, sharing the registry claim and a socket; the training says it runs, a second one
/// for the same pool waits (`Conflict`). Playing the kubelet, both containers start from the
/// arguments the operator wrote: the trainer listens, and the node joins with its models on.
#[test]
fn a_model_training_runs_its_trainer_beside_each_node_of_its_pool() {
    let data = tempfile::tempdir().unwrap();
    let ctl = start_controller(data.path(), &[]);
    let admin = token(data.path(), "admin.token");
    let kube = start_kube(data.path());
    let op = start_operator(&ctl, &kube, &submit_token(&ctl, data.path()), "operator-0", data.path());
    let logs = [&op];
    kube.create(
        "/apis/vmafx.io/v1alpha1/vmafxnodes",
        pool(
            "learn",
            json!({"minReplicas": 1, "maxReplicas": 1, "image": "localhost/vmafx-node:dev",
                   "autoscaling": {"mode": "fixed"}}),
        ),
    );
    wait("the learn Deployment", 30, &logs, || kube.get(&deployment_path("learn")));
    let trainings = format!("/apis/vmafx.io/v1alpha1/namespaces/{NS}/vmafxmodeltrainings");
    let training = |name: &str| {
        json!({"apiVersion": "vmafx.io/v1alpha1", "kind": "VmafxModelTraining", "metadata": {"name": name},
               "spec": {"pool": "learn", "modelId": "fr-loop", "registryClaim": "models",
                        "checkpoint": {"minInterval": "2s", "minNew": 48}}})
    };
    kube.create(&trainings, training("first"));
    let deployment = wait("the trainer beside the node", 30, &logs, || {
        kube.get(&deployment_path("learn"))
            .filter(|d| d["spec"]["template"]["spec"]["containers"].as_array().is_some_and(|c| c.len() == 2))
    });
    let phase = |name: &str| {
        kube.get(&format!("{trainings}/{name}")).and_then(|t| t["status"]["phase"].as_str().map(String::from))
    };
    wait("the first training Running", 30, &logs, || phase("first").filter(|p| p == "Running"));
    kube.create(&trainings, training("second"));
    wait("the second training waiting", 30, &logs, || phase("second").filter(|p| p == "Conflict"));
    let second = kube.get(&format!("{trainings}/second")).unwrap();
    assert!(second["status"]["message"].as_str().unwrap().contains("first"), "{second}");

    let pod = &deployment["spec"]["template"]["spec"];
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(volumes
        .iter()
        .any(|v| v["name"] == "models" && v["persistentVolumeClaim"]["claimName"] == "models"));
    let args = |c: &Value| -> Vec<String> {
        c["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()
    };
    let (node, trainer) = (&pod["containers"][0], &pod["containers"][1]);
    assert_eq!(trainer["image"], "localhost/vmafx-node:dev");
    assert_eq!(trainer["command"], json!(["vmafx-trainer"]));

    // Be the kubelet: the pod's two containers, the volumes as directories of this test.
    let registry = data.path().join("models");
    let sockets = data.path().join("run");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::create_dir_all(&sockets).unwrap();
    let local = |a: &String| {
        a.replace("/var/lib/vmafx/models", registry.to_str().unwrap())
            .replace("/run/vmafx", sockets.to_str().unwrap())
            .replace("0.0.0.0:9465", "127.0.0.1:0")
    };
    let mut child = Command::new(common::bin("vmafx-trainer"))
        .args(args(trainer).iter().map(local))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let listening =
        common::line_after(child.stdout.take().unwrap(), "vmafx-trainer: HTTP listening on ", "trainer");
    let _trainer = Proc(child);
    common::cluster::trust(listening.trim(), None); // plain HTTP
    let (code, status) = http(listening.trim(), "GET", "/status", None, None);
    assert_eq!(code, 200, "{status}");
    assert!(sockets.join("trainer.sock").exists());
    let mut node_args: Vec<String> = Vec::new();
    let mut it = args(node).into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--controller" => {
                it.next(); // spawn_node names the same controller, with the test's CA
            }
            a if a.starts_with("--http-listen=") => node_args.push("--http-listen=127.0.0.1:0".into()),
            _ => node_args.push(local(&a)),
        }
    }
    assert!(node_args.iter().any(|a| a.starts_with("--trainer=")), "{node_args:?}");
    let refs: Vec<&str> = node_args.iter().map(String::as_str).collect();
    let _node = spawn_node(&ctl.addr, data.path(), "vmafx-node-learn-0", &refs, Stdio::null());
    let nodes = wait("the node with its models on", 30, &logs, || {
        let (_, nodes) = call(&ctl.http, &admin, "GET", "/v1/nodes", None);
        (nodes["nodes"][0]["capabilities"]["onnx_providers"] == json!(["CPU"])).then_some(nodes)
    });
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 1, "{nodes}");
}
