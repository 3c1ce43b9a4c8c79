//! The Helm chart `deploy/helm/vmafx`: its CRDs are the generated ones; `helm lint --strict`
//! passes; `helm template` with the default values and with three GPU pools gives manifests
//! that validate strictly for the Kubernetes version the chart declares (kubernetes-validate
//! for built-in kinds, the CRDs' own schemas for ours, a kind without a schema failing), as do
//! the example manifests of docs/kubernetes.md; values the chart cannot honour are refused
//! with the reason. helm and kubernetes-validate are installed by `make test`'s setup.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize as _;
use serde_json::Value;

fn chart() -> PathBuf {
    common::root().join("deploy/helm/vmafx")
}

fn helm(args: &[&str]) -> Output {
    let helm = common::root().join("target/tools/bin/helm");
    assert!(helm.exists(), "{} is missing: `make test` (scripts/setup.sh test) installs it", helm.display());
    Command::new(helm).args(args).output().expect("run helm")
}

fn ok(out: Output, what: &str) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what}:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Kubernetes version the chart declares (`kubeVersion: ">=1.33.0-0"` gives 1.33.0).
fn declared_version() -> String {
    let text = std::fs::read_to_string(chart().join("Chart.yaml")).unwrap();
    let line = text.lines().find(|l| l.starts_with("kubeVersion:")).expect("Chart.yaml declares kubeVersion");
    let v = line.split('"').nth(1).unwrap().trim_start_matches(">=");
    v.split('-').next().unwrap().to_string()
}

fn render(args: &[&str]) -> String {
    let chart = chart();
    let mut all = vec!["template", "vmafx", chart.to_str().unwrap(), "--namespace", "vmafx"];
    all.extend_from_slice(args);
    ok(helm(&all), "helm template")
}

fn docs(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|d| serde_yaml::from_value::<Value>(serde_yaml::Value::deserialize(d).unwrap()).unwrap())
        .filter(|d| !d.is_null())
        .collect()
}

fn validate(files: &[&Path]) {
    let mut cmd = Command::new("python3");
    cmd.arg(common::root().join("tests/validate_manifests.py"))
        .arg(declared_version())
        .arg(chart().join("crds/vmafx.io.yaml"))
        .args(files);
    let out = cmd.output().expect("run tests/validate_manifests.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && !text.contains("FAIL"), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.lines().count() > 0, "nothing was validated");
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

#[test]
fn the_charts_crds_are_the_generated_ones() {
    let out =
        ok(Command::new(common::bin("vmafx-operator")).arg("crds").output().unwrap(), "vmafx-operator crds");
    let chart = std::fs::read_to_string(chart().join("crds/vmafx.io.yaml")).unwrap();
    assert!(
        out == chart,
        "deploy/helm/vmafx/crds/vmafx.io.yaml differs from `vmafx-operator crds`: regenerate it with \
         `target/debug/vmafx-operator crds > deploy/helm/vmafx/crds/vmafx.io.yaml`"
    );
}

#[test]
fn the_chart_lints_and_renders_valid_manifests_for_its_kubernetes_version() {
    let chart_dir = chart();
    let three = chart_dir.join("ci/three-gpu-pools-values.yaml");
    ok(helm(&["lint", "--strict", chart_dir.to_str().unwrap()]), "helm lint");
    ok(
        helm(&["lint", "--strict", chart_dir.to_str().unwrap(), "-f", three.to_str().unwrap()]),
        "helm lint (three pools)",
    );
    let dir = tempfile::tempdir().unwrap();

    // Default values: one controller on a volume (Recreate), the operator, no pools.
    let default = render(&[]);
    let path = dir.path().join("default.yaml");
    std::fs::write(&path, &default).unwrap();
    validate(&[&path]);
    let d = docs(&default);
    let deployments = of_kind(&d, "Deployment");
    let controller =
        deployments.iter().find(|x| x["metadata"]["name"] == "vmafx-controller").expect("controller");
    assert_eq!(controller["spec"]["replicas"], 1);
    assert_eq!(controller["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(of_kind(&d, "PersistentVolumeClaim").len(), 1);
    assert!(
        of_kind(&d, "VmafxNode").is_empty()
            && of_kind(&d, "ServiceMonitor").is_empty()
            && of_kind(&d, "PodMonitor").is_empty()
    );
    let args = controller["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(args.contains("--token-file=submit:operator:/etc/vmafx/operator/token"), "{args}");
    let operator = deployments.iter().find(|x| x["metadata"]["name"] == "vmafx-operator").expect("operator");
    let op_args = operator["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(op_args.contains("--controller=https://vmafx-controller.vmafx.svc:50051"), "{op_args}");
    // Least privilege: the operator's cluster-wide rules name their resources and verbs; no
    // wildcard, no Secrets, no pods.
    let role = &of_kind(&d, "ClusterRole")[0]["rules"];
    let text = role.to_string();
    assert!(!text.contains('*') && !text.contains("secrets") && !text.contains("\"pods\""), "{text}");
    // Every container runs as non-root with nothing added.
    for dep in &deployments {
        let pod = &dep["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{}", dep["metadata"]["name"]);
        assert_eq!(pod["containers"][0]["securityContext"]["capabilities"]["drop"][0], "ALL");
    }

    // Three GPU pools, one per vendor and mode; three controllers on PostgreSQL.
    let pools = render(&["-f", three.to_str().unwrap()]);
    let path = dir.path().join("three-pools.yaml");
    std::fs::write(&path, &pools).unwrap();
    validate(&[&path, &common::root().join("docs/kubernetes.md")]);
    let d = docs(&pools);
    let vendors: Vec<&str> =
        of_kind(&d, "VmafxNode").iter().map(|p| p["spec"]["gpuVendor"].as_str().unwrap()).collect();
    assert_eq!(vendors, ["nvidia", "amd", "intel"]);
    assert!(of_kind(&d, "VmafxNode").iter().all(|p| p["spec"]["image"] == "localhost/vmafx-node:0.1.0"));
    let controller =
        of_kind(&d, "Deployment").into_iter().find(|x| x["metadata"]["name"] == "vmafx-controller").unwrap();
    assert_eq!(controller["spec"]["replicas"], 3);
    assert_eq!(controller["spec"]["strategy"]["type"], "RollingUpdate");
    assert!(of_kind(&d, "PersistentVolumeClaim").is_empty());
    let env = controller["spec"]["template"]["spec"]["containers"][0]["env"].to_string();
    assert!(env.contains("VMAFX_STORE") && env.contains("vmafx-postgres"), "{env}");
}

#[test]
fn values_the_chart_cannot_honour_are_refused_with_the_reason() {
    let chart = chart();
    let fails = |args: &[&str], says: &str| {
        let mut all = vec!["template", "vmafx", chart.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = helm(&all);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success() && err.contains(says), "{args:?}: `{says}` not in {err}");
    };
    fails(&["--set", "controller.replicas=2"], "controller.replicas > 1 needs controller.store=postgres");
    fails(&["--set", "controller.store=postgres"], "needs controller.postgres.existingSecret");
    fails(&["--set", "controller.store=mysql"], "value must be one of 'sqlite', 'postgres'");
    fails(&["--set", "pools[0].name=Bad_Name,pools[0].maxReplicas=1"], "/pools/0/name");
    fails(&["--set", "image.pullPolicy=Sometimes"], "/image/pullPolicy");
}

#[test]
fn a_service_monitor_scrapes_the_controller_over_tls_when_asked() {
    let d = docs(&render(&["--set", "serviceMonitor.enabled=true"]));
    let monitors = of_kind(&d, "ServiceMonitor");
    assert_eq!(monitors.len(), 1);
    let endpoint = &monitors[0]["spec"]["endpoints"][0];
    assert_eq!((endpoint["port"].as_str(), endpoint["scheme"].as_str()), (Some("http"), Some("https")));
    assert_eq!(endpoint["tlsConfig"]["ca"]["secret"]["key"], "ca.crt");
    assert_eq!(monitors[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"], "vmafx-controller");
    // The nodes the operator runs: their pods' "metrics" port (crates/vmafx-operator/src/pool.rs).
    let pods = of_kind(&d, "PodMonitor");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["spec"]["podMetricsEndpoints"][0]["port"], "metrics");
    assert_eq!(pods[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"], "vmafx-node");
    assert_eq!(pods[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/managed-by"], "vmafx-operator");
    let without =
        docs(&render(&["--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.nodes=false"]));
    assert!(of_kind(&without, "PodMonitor").is_empty());
}
