//! Tokens with roles, from the CLI and over HTTP: a read token reads and cannot submit, a
//! submit token submits, a revoked token is refused (401 / UNAUTHENTICATED) by name in the
//! log; the join token rotates; a removed node is refused and exits; `/metrics` can need a
//! read token.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use std::path::Path;

use common::cluster::{http, spawn_controller, spawn_node, token, NO_ROOTS};
use serde_json::Value;

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn each_token_does_what_its_role_allows_and_revoked_ones_are_refused_by_name() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("controller.log");
    let ctl = spawn_controller(
        data.path(),
        &["--metrics-need-token"],
        Stdio::from(std::fs::File::create(&log_path).unwrap()),
    );
    let admin = token(data.path(), "admin.token");
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    let (rs, ds) = (r.to_str().unwrap(), d.to_str().unwrap());

    let read = stdout(&ctl.cli(&admin, &["tokens", "create", "--role", "read", "--name", "grafana"]));
    let submit = stdout(&ctl.cli(&admin, &["tokens", "create", "--role", "submit", "--name", "ci"]));
    assert_eq!(read.len(), 64, "the secret alone on stdout: {read}");
    let bad = ctl.cli(&admin, &["tokens", "create", "--role", "root", "--name", "x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`root` is not read, submit or admin"));

    // read: lists, cannot submit (exit 2 naming the role it needs), over gRPC and HTTP.
    assert!(ctl.cli(&read, &["jobs", "list"]).status.success());
    let refused = ctl.cli(&read, &["submit", rs, ds]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(said.contains("a read token may not do this: it needs a submit token"), "{said}");
    let body = format!(r#"{{"score": {{"reference": "{rs}", "distorted": "{ds}"}}}}"#);
    assert_eq!(http(&ctl.http, "POST", "/v1/jobs", Some(&read), Some(&body)).0, 403);
    assert_eq!(http(&ctl.http, "GET", "/v1/jobs", Some(&read), None).0, 200);

    // submit: submits, and cancels its own jobs only; admin cancels anyone's.
    let job = stdout(&ctl.cli(&submit, &["submit", rs, ds]));
    assert!(job.starts_with("job-"), "{job}");
    assert!(ctl.cli(&submit, &["jobs", "cancel", &job]).status.success());
    let (status, posted) = http(&ctl.http, "POST", "/v1/jobs", Some(&submit), Some(&body));
    assert_eq!(status, 201, "{posted}");
    let posted: Value = serde_json::from_str(&posted).unwrap();
    let path = format!("/v1/jobs/{}", posted["id"].as_str().unwrap());
    assert_eq!(http(&ctl.http, "DELETE", &path, Some(&read), None).0, 403);
    assert_eq!(http(&ctl.http, "DELETE", &path, Some(&submit), None).0, 200);
    let admins = stdout(&ctl.cli(&admin, &["submit", rs, ds]));
    let refused = ctl.cli(&submit, &["jobs", "cancel", &admins]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("was not submitted by token `ci`"), "{said}");
    assert!(ctl.cli(&admin, &["jobs", "cancel", &admins]).status.success());
    // Only admin manages tokens and nodes.
    assert_eq!(ctl.cli(&submit, &["tokens", "list"]).status.code(), Some(2));

    // /metrics needs a read token here.
    assert_eq!(http(&ctl.http, "GET", "/metrics", None, None).0, 401);
    assert_eq!(http(&ctl.http, "GET", "/metrics", Some(&read), None).0, 200);

    // Revoked: 401 over HTTP, UNAUTHENTICATED (exit 2) from the CLI, named in the log.
    assert!(stdout(&ctl.cli(&admin, &["tokens", "revoke", "grafana"])).contains("revoked 1 token(s)"));
    let (status, body) = http(&ctl.http, "GET", "/v1/jobs", Some(&read), None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("token `grafana` was revoked"), "{body}");
    let refused = ctl.cli(&read, &["jobs", "list"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("revoked"));
    let listed: Value =
        serde_json::from_str(&stdout(&ctl.cli(&admin, &["tokens", "list", "--json"]))).unwrap();
    let grafana = listed["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "grafana").unwrap();
    assert!(grafana["revoked_ms"].as_i64().unwrap() > 0, "{listed}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("refused a revoked token") && log.contains("grafana"), "{log}");
    assert!(!log.contains(&read), "a token's secret in the log");
    assert!(!listed.to_string().contains(&read), "a token's secret in the listing");
}

#[test]
fn a_removed_node_is_refused_and_a_rotated_join_token_registers_no_more() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = |name: &str| Stdio::from(std::fs::File::create(logs.path().join(name)).unwrap());
    let ctl = spawn_controller(data.path(), &[], Stdio::inherit());
    let admin = token(data.path(), "admin.token");
    let old_join = token(data.path(), "node.token");
    let mut node = spawn_node(&ctl.addr, data.path(), "a", &[], log("a.log"));
    let nodes = || -> Vec<Value> {
        let v: Value = serde_json::from_str(&stdout(&ctl.cli(&admin, &["nodes", "--json"]))).unwrap();
        v["nodes"].as_array().unwrap().clone()
    };
    wait_for("node a never registered", || !nodes().is_empty());

    // Removed: forgotten, its credential refused; the node exits saying so.
    assert!(stdout(&ctl.cli(&admin, &["nodes", "remove", "a"])).contains("removed"));
    assert!(nodes().is_empty());
    wait_for("the removed node kept running", || node.0.try_wait().unwrap().is_some());
    let said = std::fs::read_to_string(logs.path().join("a.log")).unwrap();
    assert!(said.contains("the controller refused this node"), "{said}");
    assert!(!node.0.wait().unwrap().success());

    // Rotated: the old join token registers nothing, the new one does (and is in node.token).
    let new_join = stdout(&ctl.cli(&admin, &["nodes", "rotate-join-token"]));
    assert_ne!(new_join, old_join);
    assert_eq!(token(data.path(), "node.token"), new_join);
    let mut old = Command::new(common::bin("vmafx-node"))
        .args(["--controller", &ctl.url(), "--name", "old", "--threads", "1"])
        .args(common::cluster::test_roots())
        .env("VMAFX_CA", ctl.ca())
        .env("VMAFX_TOKEN", &old_join)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("a node with the old join token kept running", || old.try_wait().unwrap().is_some());
    let out = old.wait_with_output().unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("token `join` was revoked") && said.contains("join token"), "{said}");
    let _b = spawn_node(&ctl.addr, data.path(), "b", &[], log("b.log"));
    wait_for("node b never registered with the new join token", || nodes().iter().any(|n| n["name"] == "b"));
}

#[test]
fn jobs_read_only_regular_files_under_the_allowed_roots() {
    let data = tempfile::tempdir().unwrap();
    let videos = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (videos.path().join("ref.y4m"), videos.path().join("dist.mp4"));
    std::fs::copy(corpus.join("testsrc_324.y4m"), &r).unwrap();
    std::fs::copy(corpus.join("testsrc_324_x264_crf35.mp4"), &d).unwrap();
    let escape = videos.path().join("escape.y4m");
    std::os::unix::fs::symlink(corpus.join("testsrc_324.y4m"), &escape).unwrap();
    let fifo = videos.path().join("pipe.y4m");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let root = videos.path().to_str().unwrap();
    let ctl = spawn_controller(data.path(), &["--allow-root", root], Stdio::inherit());
    let admin = token(data.path(), "admin.token");
    let post = |reference: &Path, distorted: &Path, model_path: Option<&str>| {
        let model = model_path.map(|m| format!(r#", "model_path": "{m}""#)).unwrap_or_default();
        let body = format!(
            r#"{{"score": {{"reference": "{}", "distorted": "{}"{model}}}}}"#,
            reference.display(),
            distorted.display()
        );
        http(&ctl.http, "POST", "/v1/jobs", Some(&admin), Some(&body))
    };
    let field_of = |body: &str| {
        serde_json::from_str::<Value>(body).unwrap()["error"]["field"].as_str().unwrap().to_string()
    };

    let (status, body) = post(&r, &d, None);
    assert_eq!(status, 201, "{body}");
    for (reference, distorted, model, field, says) in [
        (corpus.join("testsrc_324.y4m"), d.clone(), None, "score.reference", "outside the allowed roots"),
        (r.clone(), escape.clone(), None, "score.distorted", "resolves to"),
        (fifo.clone(), d.clone(), None, "score.reference", "not a regular file"),
        (r.clone(), d.clone(), Some("/etc/hostname"), "score.model_path", "outside the allowed roots"),
    ] {
        let (status, body) = post(&reference, &distorted, model);
        assert_eq!(status, 400, "{body}");
        assert_eq!(field_of(&body), field, "{body}");
        assert!(body.contains(says), "{body}");
    }

    // No root given: no local path at all, saying how to allow one.
    let bare_data = tempfile::tempdir().unwrap();
    let bare = spawn_controller(bare_data.path(), &[NO_ROOTS], Stdio::null());
    let body = format!(r#"{{"score": {{"reference": "{}", "distorted": "{}"}}}}"#, r.display(), d.display());
    let (status, body) =
        http(&bare.http, "POST", "/v1/jobs", Some(&token(bare_data.path(), "admin.token")), Some(&body));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("start it with --allow-root DIR"), "{body}");

    // A node guards its own files, whatever its controller allowed.
    let open_data = tempfile::tempdir().unwrap();
    let open = spawn_controller(open_data.path(), &["--no-probe-inputs", "--allow-root", "/"], Stdio::null());
    let _node = spawn_node(&open.addr, open_data.path(), "n", &["--allow-root", root], Stdio::null());
    let outside = corpus.join("testsrc_324_x264_crf35.mp4");
    let body =
        format!(r#"{{"score": {{"reference": "{}", "distorted": "{}"}}}}"#, r.display(), outside.display());
    let open_admin = token(open_data.path(), "admin.token");
    let (status, body) = http(&open.http, "POST", "/v1/jobs", Some(&open_admin), Some(&body));
    assert_eq!(status, 201, "{body}");
    let path = format!("/v1/jobs/{}", serde_json::from_str::<Value>(&body).unwrap()["id"].as_str().unwrap());
    let mut job = Value::Null;
    wait_for("the job never failed", || {
        job = serde_json::from_str(&http(&open.http, "GET", &path, Some(&open_admin), None).1).unwrap();
        job["state"] == "failed"
    });
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("distorted") && error.contains("outside the allowed roots"), "{error}");
}

#[test]
fn a_token_given_in_a_file_has_its_role_and_stays_revoked_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let file = secrets.path().join("operator.token");
    let secret = "0123456789abcdef".repeat(4);
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let flag = format!("submit:operator:{}", file.display());
    let ctl = spawn_controller(data.path(), &["--token-file", &flag], Stdio::null());
    let admin = token(data.path(), "admin.token");

    // It reads and submits as a submit token does, and no more.
    assert!(ctl.cli(&secret, &["jobs", "list"]).status.success());
    let refused = ctl.cli(&secret, &["tokens", "list"]);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&ctl.cli(&admin, &["tokens", "list", "--json"]))).unwrap();
    let operator =
        listed["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "operator").unwrap().clone();
    assert_eq!(operator["role"], "submit", "{listed}");

    // Revoked by name, it stays revoked when the controller starts again with the same file.
    assert!(stdout(&ctl.cli(&admin, &["tokens", "revoke", "operator"])).contains("revoked 1 token(s)"));
    drop(ctl);
    let ctl = spawn_controller(data.path(), &["--token-file", &flag], Stdio::null());
    let refused = ctl.cli(&secret, &["jobs", "list"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("revoked"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // A bad flag stops the controller with the reason.
    let out = Command::new(common::bin("vmafx-controller"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--token-file",
            "root:x:/f",
            "--data-dir",
        ])
        .arg(data.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not read, submit, admin or join"));
}
