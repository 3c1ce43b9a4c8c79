//! A node's own HTTP endpoints (`--http-listen`): /healthz, /readyz and Prometheus /metrics
//! counting what it scored; and the Grafana dashboard in deploy/grafana: every query parses as
//! PromQL and names only series a real controller and a real node export.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cluster::{ca_env, http_get, parse_prometheus, start_controller, token, trust, url, Proc};
use serde_json::Value;

/// The value of the series `line` starts with (`name{labels}`), from Prometheus text.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no `{series}` in:\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn a_node_serves_health_and_metrics_and_the_grafana_dashboard_queries_what_exists() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    let ctl = start_controller(data.path(), &[]);
    let mut child = Command::new(common::bin("vmafx-node"))
        .arg("--ca")
        .arg(ca_env(&ctl.addr))
        .args(["--controller", &url(&ctl.addr), "--name", "metered", "--threads", "1"])
        .args(["--http-listen", "127.0.0.1:0"])
        .args(common::cluster::test_roots())
        .env("VMAFX_TOKEN", token(data.path(), "node.token"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start vmafx-node");
    let http =
        common::line_after(child.stdout.take().unwrap(), "vmafx-node: HTTP listening on ", "vmafx-node");
    let _node = Proc(child);
    trust(&http, None);
    assert_eq!(http_get(&http, "/healthz").0, 200);
    // Ready once registered.
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(&http, "/readyz").0 != 200 {
        assert!(Instant::now() < deadline, "the node never became ready");
        std::thread::sleep(Duration::from_millis(100));
    }

    let out = ctl.cli(
        &token(data.path(), "admin.token"),
        &["submit", "-q", "--wait", "--segment-frames", "20", r.to_str().unwrap(), d.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, node_text) = http_get(&http, "/metrics");
    assert_eq!(status, 200);
    assert_eq!(value(&node_text, "vmafx_node_frames_total"), 48.0, "48 frames in 3 segments");
    assert_eq!(value(&node_text, "vmafx_node_items_total{outcome=\"scored\"}"), 3.0);
    assert_eq!(value(&node_text, "vmafx_node_items_total{outcome=\"failed\"}"), 0.0);
    assert_eq!(value(&node_text, "vmafx_node_item_duration_seconds_count"), 3.0);
    assert_eq!(value(&node_text, "vmafx_node_busy_slots"), 0.0);
    assert_eq!(value(&node_text, "vmafx_node_ready"), 1.0);
    assert!(value(&node_text, "vmafx_node_libvmaf_seconds_total") > 0.0);
    // The first frames wait at least for ffmpeg to start.
    assert!(value(&node_text, "vmafx_node_decode_wait_seconds_total") > 0.0);
    let version = String::from_utf8(Command::new("ffmpeg").arg("-version").output().unwrap().stdout).unwrap();
    let version = version.split_whitespace().nth(2).unwrap().to_string();
    assert_eq!(
        value(&node_text, &format!("vmafx_node_info{{name=\"metered\",ffmpeg_version=\"{version}\"}}")),
        1.0
    );

    // The dashboard: loadable JSON whose every query is PromQL over exported series.
    let (status, controller_text) = http_get(&ctl.http, "/metrics");
    assert_eq!(status, 200);
    // Both parsed by the reference parser (valid exposition). A query may name a family that
    // has no series right now (no pool has work queued): its `# TYPE` line declares it.
    let both = format!("{controller_text}{node_text}");
    let mut exported: Vec<String> =
        parse_prometheus(&both).iter().map(|l| l.split('[').next().unwrap().to_string()).collect();
    exported
        .extend(both.lines().filter_map(|l| Some(l.strip_prefix("# TYPE ")?.split(' ').next()?.to_string())));
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("deploy/grafana/vmafx.json")).unwrap(),
    )
    .expect("the dashboard is JSON");
    assert_eq!(
        dashboard["templating"]["list"][0]["type"], "datasource",
        "it asks for its Prometheus on import"
    );
    let mut queries = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            promql_parser::parser::parse(expr).unwrap_or_else(|e| panic!("`{expr}` is not PromQL: {e}"));
            assert_eq!(target["datasource"]["uid"], "${datasource}", "{expr}");
            for name in expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("vmafx_"))
            {
                let family = ["_bucket", "_count", "_sum"]
                    .iter()
                    .fold(name, |n, suffix| n.strip_suffix(suffix).unwrap_or(n));
                assert!(
                    exported.iter().any(|s| s == name || s == family),
                    "`{name}` (in `{expr}`) is exported by neither"
                );
            }
            queries += 1;
        }
    }
    assert!(queries >= 20, "{queries} queries");
}
