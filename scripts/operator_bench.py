"""The operator under load: N VmafxJob resources created at once on the fake Kubernetes API
(tests/k8s_api.py), with a real controller and one vmafx-operator, timed until every one is
Submitted (the controller accepted it and its status says so). Nothing runs the jobs: this
measures the operator's reconcile path (finalizer, submission, status), not scoring.

    python3 scripts/operator_bench.py OUT_DIR TARGET_DIR REF DIST [N]

TARGET_DIR holds the release binaries (vmafx-controller, vmafx-operator, vmafx). Prints JSON
and writes OUT_DIR/operator.md: N, creation time, time to all Submitted, resources per second,
how long after the last creation the last one was Submitted (how far the operator fell
behind), and the controller's job count (each VmafxJob submitted exactly once).
"""

import http.client
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

out, target, ref, dist = sys.argv[1:5]
ref, dist = os.path.abspath(ref), os.path.abspath(dist)
total = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
root = pathlib.Path(__file__).resolve().parent.parent
NS = "bench"


def lines_until(proc, prefix):
    for line in proc.stdout:
        if line.startswith(prefix):
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return line[len(prefix):].strip()
    raise SystemExit(f"{proc.args[0]} exited before printing {prefix!r}")


def request(addr, method, path, body=None, token=None):
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data or b"null")


with tempfile.TemporaryDirectory() as tmp:
    kube = subprocess.Popen(["python3", str(root / "tests/k8s_api.py")], stdout=subprocess.PIPE, text=True)
    kube_url = lines_until(kube, "k8s-api: listening on ")
    kube_addr = kube_url.removeprefix("http://")
    ctl = subprocess.Popen(
        [f"{target}/vmafx-controller", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
         "--insecure-plaintext", "--data-dir", tmp, "--allow-root", "/"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    grpc = lines_until(ctl, "vmafx-controller: gRPC listening on ")
    admin = pathlib.Path(tmp, "admin.token").read_text().strip()
    token = subprocess.run(
        [f"{target}/vmafx", "tokens", "create", "--role", "submit", "--name", "operator"],
        env=dict(os.environ, VMAFX_CONTROLLER=f"http://{grpc}", VMAFX_TOKEN=admin),
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    kubeconfig = pathlib.Path(tmp, "kubeconfig")
    kubeconfig.write_text(
        f"apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {kube_url}\n"
        f"users:\n- name: op\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n"
        f"    user: op\ncurrent-context: fake\n"
    )
    operator = subprocess.Popen(
        [f"{target}/vmafx-operator", "run", "--controller", f"http://{grpc}", "--namespace", NS,
         "--identity", "bench"],
        env=dict(os.environ, KUBECONFIG=str(kubeconfig), VMAFX_TOKEN=token, VMAFX_LOG="warn"),
        stdout=subprocess.DEVNULL,
    )
    try:
        # Wait until the operator leads.
        for _ in range(300):
            status, _ = request(kube_addr, "GET", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/vmafx-operator")
            if status == 200:
                break
            time.sleep(0.1)
        started = time.perf_counter()
        for n in range(total):
            status, body = request(kube_addr, "POST", f"/apis/vmafx.io/v1alpha1/namespaces/{NS}/vmafxjobs", {
                "apiVersion": "vmafx.io/v1alpha1", "kind": "VmafxJob",
                "metadata": {"name": f"job-{n:05d}"},
                "spec": {"reference": ref, "distorted": dist},
            })
            assert status == 201, body
        created = time.perf_counter() - started
        while True:
            status, listed = request(kube_addr, "GET", f"/apis/vmafx.io/v1alpha1/namespaces/{NS}/vmafxjobs")
            phases = [i.get("status", {}).get("phase") for i in listed["items"]]
            submitted = sum(p == "Submitted" for p in phases)
            failed = [i for i in listed["items"] if i.get("status", {}).get("phase") == "Failed"]
            if failed:
                raise SystemExit(f"{len(failed)} VmafxJobs failed: {failed[0]['status'].get('message')}")
            if submitted == total:
                break
            if time.perf_counter() - started > 900:
                raise SystemExit(f"only {submitted} of {total} Submitted after 900 s")
            time.sleep(0.2)
        wall = time.perf_counter() - started
        ids = {i["status"]["controllerJobID"] for i in listed["items"]}
        # Count the controller's jobs with the CLI (JSON).
        listed_jobs = subprocess.run(
            [f"{target}/vmafx", "jobs", "list", "--all", "--format", "json"],
            env=dict(os.environ, VMAFX_CONTROLLER=f"http://{grpc}", VMAFX_TOKEN=admin),
            capture_output=True, text=True,
        )
        try:
            jobs = len(json.loads(listed_jobs.stdout)["jobs"])
        except (ValueError, KeyError):
            jobs = -1
        result = {
            "vmafxjobs": total,
            "create_s": round(created, 2),
            "all_submitted_s": round(wall, 2),
            "behind_last_create_s": round(wall - created, 2),
            "per_s": round(total / wall, 1),
            "distinct_controller_jobs": len(ids),
            "controller_jobs": jobs,
        }
        print(json.dumps(result))
        pathlib.Path(out, "operator.md").write_text(
            "| VmafxJobs | created in | all Submitted after | after the last was created | resources/s | controller jobs |\n"
            "|---|---|---|---|---|---|\n"
            f"| {total} | {created:.1f} s | {wall:.1f} s | {wall - created:.1f} s | {total / wall:.0f} | {jobs} ({len(ids)} distinct ids) |\n"
        )
    finally:
        for p in (operator, ctl, kube):
            p.kill()
