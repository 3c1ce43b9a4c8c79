//! TLS on the controller's two ports: plaintext and wrong-CA clients refused, the private CA
//! kept across restarts, a certificate reloaded from its files, mutual TLS for nodes, and an
//! explicit plaintext mode. `openssl` (Debian's) is the independent TLS client and makes the
//! client certificates. Every other cluster test runs over TLS too (the default).

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::cluster::{spawn_controller, spawn_node, start_controller, token, Controller};
use serde_json::Value;

/// `vmafx ARGS` against `ctl` with its admin token and `ca`.
fn vmafx(ctl: &Controller, data: &Path, ca: &Path, args: &[&str]) -> Output {
    common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args(args)
            .env("VMAFX_CONTROLLER", ctl.url())
            .env("VMAFX_CA", ca)
            .env("VMAFX_TOKEN", token(data, "admin.token")),
        Duration::from_secs(60),
    )
}

/// `openssl s_client` against `addr` trusting `ca`: whether the handshake verified.
fn openssl_verifies(addr: &str, ca: &Path) -> bool {
    let out = common::run_with_timeout(
        Command::new("openssl")
            .args(["s_client", "-connect", addr, "-verify_return_error", "-CAfile"])
            .arg(ca)
            .stdin(Stdio::null()),
        Duration::from_secs(20),
    );
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verify return code: 0 (ok)")
}

fn openssl(args: &[&str], dir: &Path) {
    let out = common::run_with_timeout(
        Command::new("openssl").args(args).current_dir(dir),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA (`NAME-ca.pem`) and a client certificate it signs (`NAME.pem`, `NAME.key`), by openssl.
fn client_certificate(dir: &Path, name: &str) {
    let ca = format!("{name}-ca");
    openssl(
        &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"]
            .into_iter()
            .chain([
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
                "-subj",
                &format!("/CN={ca}"),
            ])
            .chain([
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ])
            .collect::<Vec<_>>(),
        dir,
    );
    openssl(
        &["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout"]
            .into_iter()
            .chain([
                &format!("{name}.key") as &str,
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ])
            .collect::<Vec<_>>(),
        dir,
    );
    std::fs::write(dir.join(format!("{name}.ext")), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        &["x509", "-req", "-days", "2", "-in", &format!("{name}.csr"), "-CA", &format!("{ca}.pem")]
            .into_iter()
            .chain(["-CAkey", &format!("{ca}.key"), "-CAcreateserial", "-out", &format!("{name}.pem")])
            .chain(["-extfile", &format!("{name}.ext")])
            .collect::<Vec<_>>(),
        dir,
    );
}

#[test]
fn plaintext_and_wrong_ca_clients_are_refused_and_the_ca_is_kept_and_reloaded() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ctl = start_controller(a.path(), &[]);
    let ca_a = a.path().join("tls/ca.pem");
    let ca_pem = std::fs::read(&ca_a).unwrap();
    // Another controller's CA: a stranger to this one.
    drop(start_controller(b.path(), &[]));
    let ca_b = b.path().join("tls/ca.pem");

    let ok = vmafx(&ctl, a.path(), &ca_a, &["nodes", "--json"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(openssl_verifies(&ctl.addr, &ca_a) && openssl_verifies(&ctl.http, &ca_a));

    // The wrong CA: exit 2, saying which CA to pass.
    let wrong = vmafx(&ctl, a.path(), &ca_b, &["nodes"]);
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(2), "{said}");
    assert!(said.contains("certificate does not check out") && said.contains("--ca"), "{said}");
    assert!(!openssl_verifies(&ctl.addr, &ca_b) && !openssl_verifies(&ctl.http, &ca_b));

    // Plaintext gRPC: refused, saying to use https://.
    let plain = common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args(["nodes", "--controller", &format!("http://{}", ctl.addr)])
            .env("VMAFX_TOKEN", token(a.path(), "admin.token")),
        Duration::from_secs(60),
    );
    let said = String::from_utf8_lossy(&plain.stderr);
    assert!(!plain.status.success(), "{said}");
    assert!(said.contains(&format!("use https://{}", ctl.addr)), "{said}");
    // Plaintext HTTP: no HTTP answer, and the token sent never reaches a handler.
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&ctl.http).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let _ = s.write_all(
            b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nConnection: close\r\n\r\n",
        );
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        assert!(!answer.starts_with(b"HTTP/"), "{}", String::from_utf8_lossy(&answer));
    }

    // Restarted: the same CA, so clients keep trusting it.
    drop(ctl);
    let ctl = start_controller(a.path(), &[]);
    assert_eq!(std::fs::read(&ca_a).unwrap(), ca_pem, "the CA was made again");
    assert!(vmafx(&ctl, a.path(), &ca_a, &["nodes"]).status.success());
    drop(ctl);

    // A certificate from files, replaced while the controller runs: served within seconds.
    let files = tempfile::tempdir().unwrap();
    let (cert, key) = (files.path().join("server.pem"), files.path().join("server.key"));
    std::fs::copy(a.path().join("tls/server.pem"), &cert).unwrap();
    std::fs::copy(a.path().join("tls/server.key"), &key).unwrap();
    let c = tempfile::tempdir().unwrap();
    let ctl = start_controller(
        c.path(),
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    assert!(!c.path().join("tls").exists(), "no CA is made when the certificate comes from files");
    assert!(openssl_verifies(&ctl.addr, &ca_a));
    for (from, to) in [("server.key", &key), ("server.pem", &cert)] {
        let tmp = files.path().join("incoming");
        std::fs::copy(b.path().join("tls").join(from), &tmp).unwrap();
        std::fs::rename(&tmp, to).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !openssl_verifies(&ctl.addr, &ca_b) {
        assert!(Instant::now() < deadline, "the replaced certificate was never served");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!openssl_verifies(&ctl.http, &ca_a), "the HTTP port still serves the old certificate");
    let ok = vmafx(&ctl, c.path(), &ca_b, &["nodes"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn with_client_ca_a_node_needs_a_certificate_that_ca_signed() {
    let data = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    client_certificate(certs.path(), "node-1");
    client_certificate(certs.path(), "stranger");
    let client_ca = certs.path().join("node-1-ca.pem");
    let logs = tempfile::tempdir().unwrap();
    let log = |name: &str| Stdio::from(std::fs::File::create(logs.path().join(name)).unwrap());
    let ctl = spawn_controller(data.path(), &["--client-ca", client_ca.to_str().unwrap()], Stdio::inherit());
    let ca = ctl.ca();
    let cert = |name: &str| {
        let p = |ext: &str| certs.path().join(format!("{name}.{ext}")).display().to_string();
        ["--tls-cert".to_string(), p("pem"), "--tls-key".into(), p("key")]
    };
    let nodes = || -> Vec<Value> {
        let out = vmafx(&ctl, data.path(), &ca, &["nodes", "--json"]);
        assert!(
            out.status.success(),
            "clients need no certificate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["nodes"].as_array().unwrap().clone()
    };

    // No certificate: refused, saying what to add. A certificate of another CA: refused too.
    let _bare = spawn_node(&ctl.addr, data.path(), "bare", &[], log("bare.log"));
    let stranger = cert("stranger");
    let _stranger = spawn_node(
        &ctl.addr,
        data.path(),
        "stranger",
        &stranger.iter().map(String::as_str).collect::<Vec<_>>(),
        log("stranger.log"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let bare = std::fs::read_to_string(logs.path().join("bare.log")).unwrap();
        let other = std::fs::read_to_string(logs.path().join("stranger.log")).unwrap();
        if bare.contains("requires a client certificate") && !other.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "nodes without a good certificate said nothing:\n{bare}\n{other}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(nodes().is_empty(), "a node without a good certificate registered");

    // With the certificate: it registers and scores a job.
    let good = cert("node-1");
    let _node = spawn_node(
        &ctl.addr,
        data.path(),
        "node-1",
        &good.iter().map(String::as_str).collect::<Vec<_>>(),
        log("node-1.log"),
    );
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    let out = vmafx(
        &ctl,
        data.path(),
        &ca,
        &["submit", "-q", "--wait", "--format", "json", r.to_str().unwrap(), d.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(logs.path().join("node-1.log")).unwrap()
    );
    let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = common::vmafx_json(&r, &d, &[]);
    assert_eq!(remote["frames"], local["frames"]);
    let names: Vec<String> = nodes().iter().map(|n| n["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["node-1"]);
}

#[test]
fn plaintext_is_an_explicit_choice_and_warned_about_off_loopback() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("controller.log");
    let ctl = spawn_controller(
        data.path(),
        &["--insecure-plaintext", "--http-listen", "0.0.0.0:0"],
        Stdio::from(std::fs::File::create(&log_path).unwrap()),
    );
    assert!(!data.path().join("tls").exists(), "no CA without TLS");
    assert!(ctl.url().starts_with("http://"));
    let out = common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args(["nodes", "--controller", &ctl.url()])
            .env("VMAFX_TOKEN", token(data.path(), "admin.token")),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("in the clear") && log.contains("0.0.0.0"), "{log}");
}
