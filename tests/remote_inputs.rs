//! Inputs that are not local files, read from real servers on loopback: a web server with
//! byte ranges (`rclone serve http`) and an S3 server (moto). `vmafx score` and a segmented
//! job on two nodes give the same frames as the local files; nothing is written to disk on
//! the way; nodes hold no cloud credentials (the controller signs URLs); what the
//! controller's policy does not allow is refused, naming the input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use common::cluster::Proc;
use common::cluster::{spawn_controller_with_env, spawn_node, token};
use common::servers::{self, moto, rclone_http, run_counting_disk_writes, s3_env, upload};
use common::{bin, encode, lavfi, vmafx_json};

/// A reference (Y4M, read with ranged GETs) and a distorted (MP4, read by ffmpeg over HTTP).
fn pair(dir: &Path) -> (PathBuf, PathBuf) {
    let reference = lavfi(dir, "ref.y4m", "testsrc2=size=320x240:rate=24", 48, "yuv420p");
    let distorted =
        encode(&reference, dir, "dist.mp4", &["-c:v", "libx264", "-preset", "ultrafast", "-crf", "35"]);
    (reference, distorted)
}

/// Every kind of server, each holding `files`: the web server's base URL, and the
/// environment (credentials, endpoints) a process needs to reach the object stores.
struct Stores {
    _servers: Vec<Proc>,
    web: String,
    s3: String,
    env: Vec<(&'static str, String)>,
}

fn all_stores(dir: &Path, files: &[&Path]) -> Stores {
    let (web, base) = rclone_http(files[0].parent().unwrap());
    let (s3, endpoint) = moto();
    upload(&endpoint, "media", files);
    let mut env = s3_env(&endpoint);
    let gcs_data = dir.join("gcs");
    std::fs::create_dir_all(gcs_data.join("media")).unwrap();
    for f in files {
        std::fs::copy(f, gcs_data.join("media").join(f.file_name().unwrap())).unwrap();
    }
    let (gcs, gcs_endpoint) = servers::fake_gcs(&gcs_data);
    env.extend(servers::gcs_env(dir, &gcs_endpoint));
    let (azure, azure_endpoint) = servers::azurite(&dir.join("azurite"));
    servers::upload_azure(&azure_endpoint, "media", files);
    env.extend(servers::azure_env(&azure_endpoint));
    Stores { _servers: vec![web, s3, gcs, azure], web: base, s3: endpoint, env }
}

/// The pair as each kind of remote input names it.
fn remote_pairs(web: &str) -> Vec<(String, String)> {
    let mut pairs = vec![(format!("{web}ref.y4m"), format!("{web}dist.mp4"))];
    for scheme in ["s3", "gs", "az"] {
        pairs.push((format!("{scheme}://media/ref.y4m"), format!("{scheme}://media/dist.mp4")));
    }
    pairs
}

fn score_json(reference: &str, distorted: &str, env: &[(&str, String)]) -> (Value, u64) {
    let mut cmd = Command::new(bin("vmafx"));
    cmd.args(["score", "-q", "--threads", "2", "--format", "json", reference, distorted]);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let (out, blocks) = run_counting_disk_writes(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "vmafx score {reference} {distorted}: {stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), blocks)
}

/// Submits `reference` against `distorted` in segments of 16 frames, waits for the job and
/// returns its view with every frame.
fn segmented_job(c: &common::cluster::Controller, admin: &str, reference: &str, distorted: &str) -> Value {
    let out = c.cli(admin, &["submit", "--segment-frames", "16", reference, distorted]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let job = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let watched = c.cli(admin, &["jobs", "watch", &job]);
    assert!(watched.status.success(), "{}", String::from_utf8_lossy(&watched.stderr));
    let got = c.cli(admin, &["jobs", "get", &job, "--json", "--frames"]);
    serde_json::from_slice(&got.stdout).unwrap()
}

fn frames(report: &Value) -> &Value {
    &report["frames"]
}

#[test]
fn score_reads_every_kind_of_remote_input_like_local_files_writing_nothing_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, distorted) = pair(dir.path());
    let local = vmafx_json(&reference, &distorted, &[]);
    assert_eq!(frames(&local).as_array().unwrap().len(), 48);

    let stores = all_stores(dir.path(), &[&reference, &distorted]);
    let (base, env) = (&stores.web, &stores.env);
    let mut pairs = remote_pairs(base);
    // Mixed: a web file with an object, a local file beside a remote one.
    pairs.push((format!("{base}ref.y4m"), "az://media/dist.mp4".into()));
    pairs.push((reference.display().to_string(), "gs://media/dist.mp4".into()));
    for (r, d) in pairs {
        let blocks = servers::disk_writes_of_rounds(|| {
            let (remote, blocks) = score_json(&r, &d, env);
            assert_eq!(frames(&remote), frames(&local), "{r} {d}: frames differ from the local files'");
            assert_eq!(remote["pooled_metrics"], local["pooled_metrics"], "{r} {d}");
            blocks
        });
        assert_eq!(
            blocks.last(),
            Some(&0),
            "{r} {d}: vmafx and its ffmpegs wrote to disk (blocks by run: {blocks:?})"
        );
    }

    // The count sees writes: the same run writing its report to a file counts them.
    let report = dir.path().join("report.json");
    let mut writes = Command::new(bin("vmafx"));
    writes.args(["score", "-q", "--format", "json", "-o"]).arg(&report);
    writes.args(["s3://media/ref.y4m", "s3://media/dist.mp4"]).envs(env.iter().map(|(k, v)| (k, v)));
    let (out, blocks) = run_counting_disk_writes(&mut writes);
    assert!(out.status.success());
    assert!(blocks > 0, "a report written to disk was not counted");

    // Reports name the inputs as given, never by a signed URL.
    let mut cmd = Command::new(bin("vmafx"));
    cmd.args(["score", "--threads", "1", "s3://media/ref.y4m", "s3://media/dist.mp4"]);
    let out = cmd.envs(env.iter().map(|(k, v)| (k, v))).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("reference  s3://media/ref.y4m") && !stdout.contains("Signature"), "{stdout}");
}

#[test]
fn bad_remote_inputs_are_named_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, distorted) = pair(dir.path());
    // A file that is not a video, and an HLS playlist that would make ffmpeg open a local
    // file (or another URL): written before the server lists the directory.
    std::fs::write(dir.path().join("notes.txt"), "not a video\n").unwrap();
    let playlist = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile://{}\n#EXTINF:2,\n{}\n#EXT-X-ENDLIST\n",
        distorted.display(),
        distorted.display()
    );
    std::fs::write(dir.path().join("list.m3u8"), &playlist).unwrap();
    let (_web, base) = rclone_http(dir.path());
    let (_s3, endpoint) = moto();
    upload(&endpoint, "media", &[&reference, &distorted]);
    let env = s3_env(&endpoint);
    let fails = |r: &str, d: &str, says: &[&str]| {
        let mut cmd = Command::new(bin("vmafx"));
        cmd.args(["score", "-q", r, d]).envs(env.iter().map(|(k, v)| (k, v)));
        let out = common::run_with_timeout(&mut cmd, std::time::Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{r} {d}: {stderr}");
        for s in says {
            assert!(stderr.contains(s), "{r} {d}: expected `{s}` in: {stderr}");
        }
        assert!(!stderr.contains("Signature") && !stderr.contains("panicked"), "{stderr}");
    };
    fails("s3://media/missing.y4m", "s3://media/dist.mp4", &["reference", "s3://media/missing.y4m"]);
    fails("s3://media/ref.y4m", "s3://nobucket/dist.mp4", &["distorted", "s3://nobucket/dist.mp4"]);
    fails(&format!("{base}missing.y4m"), "s3://media/dist.mp4", &["no such object (HTTP 404)"]);
    fails("ftp://host/a.mp4", "s3://media/dist.mp4", &["unsupported scheme `ftp://`", "s3://BUCKET/KEY"]);
    fails("s3://media/ref.y4m", "rclone:nas", &["rclone:REMOTE:PATH"]);
    fails("s3://media/ref.y4m", &format!("{base}notes.txt"), &["distorted", "notes.txt", "not a video"]);
    // ffmpeg reads inputs with single-file demuxers only, local and remote.
    fails(
        "s3://media/ref.y4m",
        &format!("{base}list.m3u8"),
        &["distorted", "list.m3u8", "`hls` is a playlist"],
    );
    let local_list = dir.path().join("list.m3u8").display().to_string();
    fails(&reference.display().to_string(), &local_list, &["distorted", "list.m3u8", "`hls` is a playlist"]);
    let concat = dir.path().join("list.ffconcat");
    std::fs::write(&concat, format!("ffconcat version 1.0\nfile '{}'\n", distorted.display())).unwrap();
    fails(
        &reference.display().to_string(),
        &concat.display().to_string(),
        &["distorted", "`concat` is a playlist"],
    );
}

#[test]
fn a_server_gone_mid_read_fails_the_run_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let reference = lavfi(dir.path(), "long.y4m", "testsrc2=size=640x360:rate=24", 48, "yuv420p");
    let size = std::fs::metadata(&reference).unwrap().len();
    // The connection ends halfway through the file, at the same byte every time.
    let (_web, base) = servers::dropping_http(dir.path(), size / 2, None);
    let url = format!("{base}long.y4m");
    let out = common::vmafx(&["score", "-q", "--threads", "1", &url, &url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a run whose server went away succeeded: {stderr}");
    assert!(stderr.contains(&url) && stderr.contains("read error at frame"), "{stderr}");
    assert!(out.stdout.is_empty(), "a partial report was printed");
}

#[test]
fn a_connection_dropped_mid_read_fails_only_that_attempt_and_the_retry_scores_the_same_frames() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, distorted) = pair(dir.path());
    let local = vmafx_json(&reference, &distorted, &[]);
    let size = std::fs::metadata(&reference).unwrap().len();
    // The first read across the middle of the reference ends there; later ones do not.
    let (_web, base) = servers::dropping_http(dir.path(), size / 2, Some(1));
    let data = dir.path().join("data");
    let c = spawn_controller_with_env(
        &data,
        &["--allow-input", "http://", "--allow-private-addresses"],
        Stdio::inherit(),
        &[],
    );
    let _nodes: Vec<_> =
        (0..2).map(|i| spawn_node(&c.addr, &data, &format!("n{i}"), &[], Stdio::inherit())).collect();
    let admin = token(&data, "admin.token");
    let (r, d) = (format!("{base}ref.y4m"), format!("{base}dist.mp4"));
    let report = segmented_job(&c, &admin, &r, &d);
    assert_eq!(frames(&report), frames(&local), "frames differ from the local files'");
    assert_eq!(report["pooled_metrics"], local["pooled_metrics"]);
    // Three segments, leased four times: the attempt that lost its connection was retried.
    let (_, metrics) = common::cluster::http_get(&c.http, "/metrics");
    let leases = metrics.lines().find_map(|l| l.strip_prefix("vmafx_dispatch_latency_seconds_count "));
    assert_eq!(leases, Some("4"), "{metrics}");
}

#[test]
fn a_cluster_job_reads_remote_inputs_with_signed_urls_on_nodes_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, distorted) = pair(dir.path());
    let local = vmafx_json(&reference, &distorted, &[]);
    let stores = all_stores(dir.path(), &[&reference, &distorted]);
    let base = &stores.web;

    let data = dir.path().join("data");
    let env: Vec<(&str, &str)> = stores.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The servers are on loopback: this lab's controller lets URLs reach it.
    let c = spawn_controller_with_env(
        &data,
        &["--allow-input", "s3://media,gs://media,az://media,http://", "--allow-private-addresses"],
        Stdio::inherit(),
        &env,
    );
    // Nodes see none of the stores' credentials (nor any local root: every input is remote).
    let nodes: Vec<_> = (0..2)
        .map(|i| logging_to_a_pipe(spawn_node(&c.addr, &data, &format!("n{i}"), &[], Stdio::piped())))
        .collect();
    let admin = token(&data, "admin.token");
    let written = || nodes.iter().map(|n| servers::tree_write_bytes(n.0.id())).sum::<u64>();
    let bytes = servers::disk_writes_of_rounds(|| {
        let before = written();
        for (r, d) in remote_pairs(base) {
            let out =
                c.cli(&admin, &["submit", "--wait", "--format", "json", "--segment-frames", "16", &r, &d]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{r} {d}: {stderr}");
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(frames(&report), frames(&local), "{r} {d}: frames differ from the local files'");
            assert_eq!(report["pooled_metrics"], local["pooled_metrics"]);
            // Job views keep the URIs as submitted; signed URLs live only in leases.
            let listed = c.cli(&admin, &["jobs", "list", "--json"]);
            let listed = String::from_utf8_lossy(&listed.stdout);
            assert!(
                listed.contains(&r) && !listed.contains("Signature") && !listed.contains("sig="),
                "{listed}"
            );
        }
        written() - before
    });
    assert_eq!(
        bytes.last(),
        Some(&0),
        "the nodes and their children wrote to disk scoring remote inputs (bytes by round: {bytes:?})"
    );
    drop(nodes);

    // An object replaced after its job was accepted fails the job, saying so, rather than
    // scoring other bytes than the segments already scored.
    let out =
        c.cli(&admin, &["submit", "--segment-frames", "16", "s3://media/ref.y4m", "s3://media/dist.mp4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let job = String::from_utf8_lossy(&out.stdout).trim().to_string();
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    let other = encode(
        &reference,
        dir.path(),
        "other/dist.mp4",
        &["-c:v", "libx264", "-preset", "ultrafast", "-crf", "45"],
    );
    upload(&stores.s3, "media", &[&other]);
    let node = spawn_node(&c.addr, &data, "late", &[], Stdio::inherit());
    let watched = c.cli(&admin, &["jobs", "watch", &job]);
    let stderr = String::from_utf8_lossy(&watched.stderr);
    assert!(!watched.status.success(), "a job whose object changed succeeded: {stderr}");
    let got = c.cli(&admin, &["jobs", "get", &job, "--json"]);
    let got = String::from_utf8_lossy(&got.stdout);
    assert!(
        got.contains("failed") && got.contains("`s3://media/dist.mp4` changed after the job was submitted"),
        "{got}"
    );
    drop(node);

    // What the policy does not allow is refused at submission, naming the input.
    let refused = |r: &str, says: &str| {
        let out = c.cli(&admin, &["submit", r, "s3://media/dist.mp4"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{r}: {stderr}");
        assert!(
            stderr.contains("score.reference") && stderr.contains(says),
            "{r}: expected `{says}` in {stderr}"
        );
    };
    refused("s3://other/ref.y4m", "`s3://other/ref.y4m` is not allowed on this controller");
    refused("s3://media/missing.y4m", "no such bucket or object");
    refused("rclone::local:/etc/passwd", "on-the-fly rclone backend");
    refused("https://example.invalid/a.mp4", "not allowed");

    // Without --allow-private-addresses, metadata and loopback addresses are refused.
    let strict_data = dir.path().join("strict");
    let strict =
        spawn_controller_with_env(&strict_data, &["--allow-input", "http://"], Stdio::inherit(), &env);
    let strict_admin = token(&strict_data, "admin.token");
    for (r, says) in [
        ("http://169.254.169.254/latest/meta-data/iam", "link-local (cloud metadata)"),
        (&format!("{base}ref.y4m")[..], "loopback"),
        ("http://[::ffff:127.0.0.1]:9/a.mp4", "loopback"),
    ] {
        let out = strict.cli(&strict_admin, &["submit", r, &format!("{base}dist.mp4")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{r}: {stderr}");
        assert!(stderr.contains(says) && stderr.contains("--allow-private-addresses"), "{r}: {stderr}");
    }
}

#[test]
fn an_mcp_call_scores_remote_inputs_like_local_files() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, distorted) = pair(dir.path());
    let local = vmafx_json(&reference, &distorted, &[]);
    let stores = all_stores(dir.path(), &[&reference, &distorted]);

    let conf_dir = dir.path().join("conf");
    std::fs::create_dir_all(&conf_dir).unwrap();
    let (_rclone_servers, conf) = rclone_remotes(dir.path(), &conf_dir);

    let score = |r: &str, d: &str| json!({"tool": "vmaf_score", "arguments": {"reference": r, "distorted": d, "per_frame": true}});
    let mut pairs = remote_pairs(&stores.web);
    pairs.push(("rclone:dav:ref.y4m".into(), "rclone:box:dist.mp4".into()));
    let mut scenario: Vec<Value> = pairs.iter().map(|(r, d)| score(r, d)).collect();
    scenario.extend([
        score("s3://other/ref.y4m", "s3://media/dist.mp4"),
        score("gs://media/missing.y4m", "gs://media/dist.mp4"),
        score("rclone::local:/etc/passwd", "s3://media/dist.mp4"),
    ]);
    // Tuning tools take remote sources too: a ladder from S3 equals the local file's, and
    // is written where the server's --allow-output rules allow, only there.
    let ladder = |source: &str, output: Option<&str>| json!({"tool": "ladder", "arguments": {"source": source, "resolutions": ["320x240", "160x120"], "crfs": "24,40", "output": output}});
    scenario.extend([
        ladder(reference.to_str().unwrap(), None),
        ladder("s3://media/ref.y4m", Some("s3://media/ladders/mcp")),
        ladder("s3://other/ref.y4m", None),
        ladder("s3://media/ref.y4m", Some("s3://media/private")),
        ladder("s3://media/ref.y4m", Some("/etc")),
    ]);
    let file = dir.path().join("scenario.json");
    std::fs::write(&file, Value::from(scenario).to_string()).unwrap();
    // The SDK starts the server with a bare environment: its credentials go on its command line.
    let mut server = vec!["env".to_string()];
    server.extend(stores.env.iter().map(|(k, v)| format!("{k}={v}")));
    server.push(bin("vmafx-mcp").display().to_string());
    server.extend(["--allow-root", dir.path().to_str().unwrap(), "--threads", "2"].map(String::from));
    let allow = [
        "--allow-input",
        "s3://media,gs://media,az://media,http://,rclone:dav,rclone:box",
        "--allow-private-addresses",
        "--rclone-config",
        conf.to_str().unwrap(),
        "--allow-output",
        "s3://media/ladders",
    ];
    server.extend(allow.map(String::from));
    let out = common::run_with_timeout(
        Command::new("python3")
            .arg(common::root().join("tests/mcp_client.py"))
            .args(["stdio", file.to_str().unwrap(), "--"])
            .args(&server),
        std::time::Duration::from_secs(300),
    );
    assert!(out.status.success(), "MCP client failed: {}", String::from_utf8_lossy(&out.stderr));
    let out: Value = serde_json::from_slice(&out.stdout).unwrap();
    let calls = out["calls"].as_array().unwrap();
    for (i, (given, _)) in pairs.iter().enumerate() {
        let c = &calls[i];
        assert_eq!(c["is_error"], false, "{c}");
        assert_eq!(c["result"]["per_frame"], local["frames"], "{given}: frames differ from the local files'");
        assert_eq!(c["result"]["pooled_metrics"], local["pooled_metrics"]);
        assert_eq!(c["result"]["reference"], given.as_str());
    }
    let n = pairs.len();
    for (i, says) in
        [(n, "is not allowed"), (n + 1, "no such bucket or object"), (n + 2, "on-the-fly rclone backend")]
    {
        let c = &calls[i];
        assert_eq!(c["is_error"], true, "{c}");
        assert!(c["text"].as_str().unwrap().contains(says), "`{says}` not in {c}");
    }
    let (local_ladder, s3_ladder, refused) = (&calls[n + 3], &calls[n + 4], &calls[n + 5]);
    assert_eq!(s3_ladder["is_error"], false, "{s3_ladder}");
    for field in ["points", "hull", "rungs"] {
        assert_eq!(s3_ladder["result"][field], local_ladder["result"][field], "ladder {field}");
    }
    assert_eq!(s3_ladder["result"]["source"], "s3://media/ref.y4m", "named as given, not by a signed URL");
    assert_eq!(refused["is_error"], true, "{refused}");
    assert!(refused["text"].as_str().unwrap().contains("is not allowed"), "{refused}");
    let rungs = s3_ladder["result"]["rungs"].as_array().unwrap().len();
    let written = s3_listing(&stores.s3, "media", "ladders/mcp/");
    assert_eq!(written.len(), 3 + rungs, "ladder files and one encode per rung: {written:?}");
    assert_eq!(s3_ladder["result"]["written"].as_array().unwrap().len(), 3 + rungs);
    for (i, output) in [(n + 6, "s3://media/private"), (n + 7, "/etc")] {
        let c = &calls[i];
        assert_eq!(c["is_error"], true, "{c}");
        let text = c["text"].as_str().unwrap();
        assert!(text.contains(output) && text.contains("writes only under s3://media/ladders"), "{text}");
    }
    assert!(s3_listing(&stores.s3, "media", "private").is_empty(), "a refused output was written");
}

#[test]
fn seeks_in_a_y4m_read_over_http_land_on_the_same_frames() {
    // 640x360 frames are larger than a read-through: skipping them asks the server for new
    // ranges, growing ones as the reads go on.
    let dir = tempfile::tempdir().unwrap();
    let reference = lavfi(dir.path(), "big.y4m", "testsrc2=size=640x360:rate=24", 40, "yuv420p");
    let distorted =
        encode(&reference, dir.path(), "big.mp4", &["-c:v", "libx264", "-preset", "ultrafast", "-crf", "35"]);
    let (_web, base) = rclone_http(dir.path());
    for skips in
        [["--skip-reference", "7", "--skip-distorted", "7"], ["--skip-reference", "0", "--segment", "11:9"]]
    {
        let local = vmafx_json(&reference, &distorted, &skips);
        let (r, d) = (format!("{base}big.y4m"), format!("{base}big.mp4"));
        let mut args = vec!["score", "-q", "--threads", "2", "--format", "json"];
        args.extend(skips);
        args.extend([r.as_str(), d.as_str()]);
        let out = common::vmafx(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(frames(&remote), frames(&local), "{skips:?}");
    }
}

/// `rclone serve webdav` and `rclone serve sftp` of `dir` on free ports, and an rclone.conf in
/// `conf_dir` naming them `dav` and `box`: remotes as a node's operator would configure them.
fn rclone_remotes(dir: &Path, conf_dir: &Path) -> (Vec<Proc>, PathBuf) {
    let serve = |args: &[&str], port: u16| {
        let mut cmd = Command::new("rclone");
        cmd.arg("serve").args(args).args(["--addr", &format!("127.0.0.1:{port}"), "--config", "/dev/null"]);
        servers::serve(cmd.arg(dir), port, "rclone serve")
    };
    let (dav_port, sftp_port) = (servers::free_port(), servers::free_port());
    let dav = serve(&["webdav"], dav_port);
    let sftp = serve(&["sftp", "--user", "vmafx", "--pass", "s3cret"], sftp_port);
    let obscured = Command::new("rclone").args(["obscure", "s3cret"]).output().unwrap();
    let obscured = String::from_utf8(obscured.stdout).unwrap();
    let conf = conf_dir.join("rclone.conf");
    std::fs::write(
        &conf,
        format!(
            "[dav]\ntype = webdav\nurl = http://127.0.0.1:{dav_port}/\nvendor = other\n\n\
             [box]\ntype = sftp\nhost = 127.0.0.1\nport = {sftp_port}\nuser = vmafx\npass = {}\nshell_type = none\n",
            obscured.trim()
        ),
    )
    .unwrap();
    (vec![dav, sftp], conf)
}

/// The pair in `dir/media`, served as the rclone remotes `dav` and `box` (see
/// [`rclone_remotes`]), and its local scores.
fn pair_on_rclone_remotes(dir: &Path) -> (Vec<Proc>, PathBuf, Value) {
    let media = dir.join("media");
    std::fs::create_dir_all(&media).unwrap();
    let (reference, distorted) = pair(&media);
    let local = vmafx_json(&reference, &distorted, &[]);
    let (servers, conf) = rclone_remotes(&media, dir);
    (servers, conf, local)
}

#[test]
fn rclone_remotes_over_webdav_and_sftp_score_like_local_files() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, conf, local) = pair_on_rclone_remotes(dir.path());
    let conf_env = [("RCLONE_CONFIG", conf.display().to_string())];

    // vmafx score: through rclone serve http processes it starts and stops, nothing on disk.
    for (r, d) in
        [("rclone:dav:ref.y4m", "rclone:box:dist.mp4"), ("rclone:box:ref.y4m", "rclone:dav:dist.mp4")]
    {
        let (remote, blocks) = score_json(r, d, &conf_env);
        assert_eq!(frames(&remote), frames(&local), "{r} {d}: frames differ from the local files'");
        assert_eq!(blocks, 0, "{r} {d}: vmafx, its ffmpegs and rclones wrote {blocks} blocks to disk");
    }
    let mut missing = Command::new(bin("vmafx"));
    missing.args(["score", "-q", "rclone:nas:ref.y4m", "rclone:dav:dist.mp4"]).envs(conf_env.clone());
    let out = common::run_with_timeout(&mut missing, std::time::Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("rclone:nas:ref.y4m") && stderr.contains("rclone serve http failed"), "{stderr}");

    // A segmented job on two nodes: the controller allows the remotes and, given the same
    // rclone.conf, probes them at submission; each node reads them with its own rclone.conf.
    let data = dir.path().join("data");
    let c = spawn_controller_with_env(
        &data,
        &["--allow-input", "rclone:dav,rclone:box", "--rclone-config", conf.to_str().unwrap()],
        Stdio::inherit(),
        &[],
    );
    let nodes: Vec<_> = (0..2)
        .map(|i| {
            let args = ["--rclone-config", conf.to_str().unwrap()];
            spawn_node(&c.addr, &data, &format!("n{i}"), &args, Stdio::inherit())
        })
        .collect();
    let admin = token(&data, "admin.token");
    let report = segmented_job(&c, &admin, "rclone:dav:ref.y4m", "rclone:box:dist.mp4");
    assert_eq!(report["segments_total"], 3, "48 frames in segments of 16: {report}");
    assert_eq!(frames(&report), frames(&local));
    let out = c.cli(&admin, &["submit", "rclone:other:ref.y4m", "rclone:dav:dist.mp4"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--allow-input rclone:other"), "{stderr}");

    // Nodes killed outright (SIGKILL) leave none of their rclone servers behind.
    let servers: Vec<u32> = nodes.iter().flat_map(|n| common::children(n.0.id(), "rclone")).collect();
    assert!(servers.len() >= 2, "one rclone serve http per remote a node read: {servers:?}");
    drop(nodes);
    eventually("rclone servers outlived their node", || {
        servers.iter().all(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    });
}

#[test]
fn a_store_that_refuses_the_credentials_is_access_denied_naming_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, distorted) = pair(dir.path());
    let (_azure, endpoint) = servers::azurite(&dir.path().join("azurite"));
    servers::upload_azure(&endpoint, "media", &[&reference, &distorted]);
    let mut env = servers::azure_env(&endpoint);
    // Not the emulator's account key: Azurite refuses the signatures made with it.
    env.push(("AZURE_STORAGE_ACCOUNT_KEY", "bm90LXRoZS1rZXktbm90LXRoZS1rZXktbm90LXRoZS1rZXk=".into()));
    let mut cmd = Command::new(bin("vmafx"));
    cmd.args(["score", "-q", "az://media/ref.y4m", "az://media/dist.mp4"])
        .envs(env.iter().map(|(k, v)| (k, v)));
    let out = common::run_with_timeout(&mut cmd, std::time::Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("reference `az://media/ref.y4m`: access denied"), "{stderr}");
    assert!(!stderr.contains("sig=") && !stderr.contains("panicked"), "{stderr}");
}

/// `node` with its log (a pipe) copied to this test's stderr by a thread of the test: the
/// node's own disk writes then count only what it writes itself, not its log lines, which a
/// test run may send to a file.
fn logging_to_a_pipe(mut node: Proc) -> Proc {
    let mut log = node.0.stderr.take().expect("a node started with a piped stderr");
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::stderr()));
    node
}

/// The rclone mounts (`fuse.rclone`) under `root`, from this process's mount table.
fn rclone_mounts(root: &Path) -> Vec<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mut points: Vec<PathBuf> = table
        .lines()
        .filter(|l| l.split(" - ").nth(1).is_some_and(|t| t.starts_with("fuse.rclone")))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .filter(|p| p.starts_with(root))
        .collect();
    points.sort();
    points
}

/// The `rclone` child of `node` whose command line names `remote`.
fn rclone_of(node: u32, remote: &str) -> u32 {
    let pids = common::children(node, "rclone");
    *pids
        .iter()
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.split(|b| *b == 0).any(|arg| arg == remote.as_bytes())
        })
        .unwrap_or_else(|| panic!("no rclone for {remote} among {pids:?}"))
}

/// Waits until `cond` holds (10 s at most), saying `what` if it never does.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_node_in_mount_mode_mounts_remotes_remounts_after_a_failure_and_cleans_up_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, conf, local) = pair_on_rclone_remotes(dir.path());
    let mounts = dir.path().join("mnt");
    let (dav, sftp) = (mounts.join("dav"), mounts.join("box"));

    let data = dir.path().join("data");
    let c =
        spawn_controller_with_env(&data, &["--allow-input", "rclone:dav,rclone:box"], Stdio::inherit(), &[]);
    let admin = token(&data, "admin.token");
    let node_args = ["--rclone-config", conf.to_str().unwrap(), "--rclone-mount", mounts.to_str().unwrap()];
    let score = |what: &str| {
        let out = c.cli(
            &admin,
            &["submit", "--wait", "--format", "json", "rclone:dav:ref.y4m", "rclone:box:dist.mp4"],
        );
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(frames(&report), frames(&local), "{what}: frames differ from the local files'");
    };

    // Mounted on first use, one per remote; nothing written to disk by the node and its
    // children (ffmpeg, the rclone mounts: no VFS cache) while scoring.
    let node = logging_to_a_pipe(spawn_node(&c.addr, &data, "n", &node_args, Stdio::piped()));
    score("first job");
    assert_eq!(rclone_mounts(&mounts), vec![sftp.clone(), dav.clone()]);
    let written = servers::disk_writes_of_rounds(|| {
        let before = servers::tree_write_bytes(node.0.id());
        score("a job with the mounts up");
        servers::tree_write_bytes(node.0.id()) - before
    });
    assert_eq!(
        written.last(),
        Some(&0),
        "the node and its children wrote to disk while scoring (bytes by job: {written:?})"
    );

    // A mount whose rclone died is stale; the next item finds it so and mounts it again.
    let old = rclone_of(node.0.id(), "dav:");
    assert!(Command::new("kill").args(["-KILL", &old.to_string()]).status().unwrap().success());
    eventually("the killed rclone was not reaped", || {
        !Path::new(&format!("/proc/{old}/cmdline")).exists() || {
            std::fs::read_to_string(format!("/proc/{old}/stat")).is_ok_and(|s| s.contains(") Z "))
        }
    });
    score("after the dav mount failed");
    assert_ne!(rclone_of(node.0.id(), "dav:"), old, "the dav mount was not mounted again");

    // A node killed outright leaves its mounts stale (its rclones die with it); the next
    // node on the machine unmounts them at start and mounts again on first use.
    let rclones = common::children(node.0.id(), "rclone");
    drop(node);
    eventually("rclone outlived its node", || {
        rclones.iter().all(|p| !Path::new(&format!("/proc/{p}")).exists())
    });
    assert_eq!(rclone_mounts(&mounts).len(), 2, "a killed node's mounts stay until someone cleans them");
    assert!(std::fs::read_dir(&dav).is_err(), "a mount with no rclone behind it cannot be read");
    let mut node = spawn_node(&c.addr, &data, "n2", &node_args, Stdio::inherit());
    score("a new node after a kill");
    assert_eq!(rclone_mounts(&mounts), vec![sftp.clone(), dav.clone()]);
    assert!(std::fs::read_dir(&dav).unwrap().count() >= 2, "the new mount answers");

    // Drained (SIGTERM): no mount is left.
    assert!(Command::new("kill").args(["-TERM", &node.0.id().to_string()]).status().unwrap().success());
    eventually("the node did not exit after SIGTERM", || !matches!(node.0.try_wait(), Ok(None)));
    assert!(node.0.wait().unwrap().success(), "a drained node exits cleanly");
    assert_eq!(rclone_mounts(&mounts), Vec::<PathBuf>::new(), "a drained node unmounts its remotes");
}

/// The keys under `prefix` in `bucket` of the S3 server at `endpoint`, with their sizes.
fn s3_listing(endpoint: &str, bucket: &str, prefix: &str) -> Vec<(String, u64)> {
    let script = r#"
import sys, boto3
endpoint, bucket, prefix = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="vmafx-test", aws_secret_access_key="vmafx-test-secret")
for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
    print(o["Key"], o["Size"])
"#;
    let out = Command::new("python3")
        .args(["-c", script, endpoint, bucket, prefix])
        .env_remove("AWS_CA_BUNDLE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, n) = l.rsplit_once(' ').unwrap();
            (k.to_string(), n.parse().unwrap())
        })
        .collect()
}

#[test]
fn vmafx_tune_reads_remote_sources_here_and_on_a_cluster_and_writes_its_ladder_to_a_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let source = lavfi(dir.path(), "src.y4m", "testsrc2=size=384x216:rate=24", 12, "yuv420p");
    let tune = |source: &str, cache: &str, extra: &[&str], env: &[(&str, String)]| {
        let mut cmd = Command::new(bin("vmafx-tune"));
        cmd.args(["ladder", "-q", "--source", source, "--resolutions", "384x216,256x144", "--crfs", "20,36"])
            .args(["--format", "json", "--cache-dir"])
            .arg(dir.path().join(cache))
            .args(extra)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        let out = common::run_with_timeout(&mut cmd, std::time::Duration::from_secs(600));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{source}: {stderr}");
        assert!(
            !stderr.contains("X-Amz-Signature")
                && !String::from_utf8_lossy(&out.stdout).contains("Signature")
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let same = |what: &str, ladder: &Value, local: &Value| {
        for field in ["points", "hull", "rungs", "encodes"] {
            assert_eq!(ladder[field], local[field], "{what}: {field} differs from the local source's");
        }
    };
    let out_dir = dir.path().join("out");
    let local = tune(source.to_str().unwrap(), "local", &["-o", out_dir.to_str().unwrap()], &[]);
    let mut local_files: Vec<(String, u64)> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (format!("ladders/src/{}", e.file_name().to_string_lossy()), e.metadata().unwrap().len())
        })
        .collect();
    local_files.sort();
    let rungs = local["rungs"].as_array().unwrap();
    assert_eq!(
        local_files.len(),
        3 + rungs.len(),
        "the ladder files and one encode per rung: {local_files:?}"
    );
    for r in rungs {
        let name = format!("ladders/src/{}x{}_crf{}.mkv", r["width"], r["height"], r["crf"]);
        assert!(local_files.iter().any(|(n, _)| *n == name), "{name} not in {local_files:?}");
    }

    // Here: from a web server, and from S3 with the ladder written back to the bucket.
    let (_web, base) = rclone_http(dir.path());
    same("https source", &tune(&format!("{base}src.y4m"), "web", &[], &[]), &local);
    let (_s3, endpoint) = moto();
    upload(&endpoint, "media", &[&source]);
    let env = s3_env(&endpoint);
    let from_s3 = tune("s3://media/src.y4m", "s3", &["-o", "s3://media/ladders/src/"], &env);
    same("s3 source", &from_s3, &local);
    assert_eq!(from_s3["source"], "s3://media/src.y4m", "the ladder names its source as given");
    // The same files as the local run's -o, the encodes byte for byte the same size.
    let written = s3_listing(&endpoint, "media", "ladders/");
    let names = |files: &[(String, u64)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&written), names(&local_files));
    let encodes = |files: &[(String, u64)]| {
        files.iter().filter(|(n, _)| n.ends_with(".mkv")).cloned().collect::<Vec<_>>()
    };
    assert_eq!(encodes(&written), encodes(&local_files));

    // On a cluster: the jobs name the URI; the controller signs it for nodes that hold no
    // credentials.
    let data = dir.path().join("data");
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let c = spawn_controller_with_env(
        &data,
        &["--allow-input", "s3://media", "--allow-private-addresses"],
        Stdio::inherit(),
        &envs,
    );
    let _node = spawn_node(&c.addr, &data, "n", &[], Stdio::inherit());
    let mut cluster_env = env.clone();
    cluster_env
        .extend([("VMAFX_CA", c.ca().display().to_string()), ("VMAFX_TOKEN", token(&data, "admin.token"))]);
    let on_cluster = tune("s3://media/src.y4m", "cluster", &["--controller", &c.url()], &cluster_env);
    same("s3 source on a cluster", &on_cluster, &local);
    let listed = c.cli(&token(&data, "admin.token"), &["jobs", "list", "--json"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("s3://media/src.y4m") && !listed.contains("Signature"), "{listed}");

    // An output that is not a directory or a bucket prefix is refused before any work.
    let mut cmd = Command::new(bin("vmafx-tune"));
    cmd.args(["ladder", "--source", source.to_str().unwrap(), "-o", "https://cdn.example.com/out"]);
    let out = common::run_with_timeout(&mut cmd, std::time::Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("an output directory is a local directory or an object-store prefix"),
        "{stderr}"
    );
}

#[test]
fn s3_credentials_come_from_the_aws_shared_files_when_the_environment_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, distorted) = pair(dir.path());
    let local = vmafx_json(&reference, &distorted, &[]);
    let (_s3, endpoint) = moto();
    upload(&endpoint, "media", &[&reference, &distorted]);
    // A user's ~/.aws, as `aws configure` writes it, with a named profile.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        "[default]\naws_access_key_id = other\naws_secret_access_key = other\n\n\
         [lab]\naws_access_key_id = vmafx-test\naws_secret_access_key = vmafx-test-secret\n",
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!("[profile lab]\nregion = us-east-1\nendpoint_url = {endpoint}\n"),
    )
    .unwrap();
    let score = |profile: &str| {
        let mut cmd = Command::new(bin("vmafx"));
        cmd.args(["score", "-q", "--format", "json", "s3://media/ref.y4m", "s3://media/dist.mp4"]);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
            cmd.env_remove(k);
        }
        common::run_with_timeout(
            cmd.env("HOME", &home).env("AWS_PROFILE", profile),
            std::time::Duration::from_secs(120),
        )
    };
    // No AWS_* variable but AWS_PROFILE: keys, region and endpoint come from the profile.
    let out = score("lab");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(frames(&report), frames(&local));
}
