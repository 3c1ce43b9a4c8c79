//! The web dashboard (`/ui`), end to end: `vmafx up` serves it; headless Chromium (Debian's,
//! driven by playwright-core from npm, tests/ui/dashboard.mjs) logs in, submits a job from the
//! form and watches it finish without a reload, opens its plot (one point per frame), loads
//! the worst frames' pictures a node made, and axe-core finds no serious accessibility
//! violation on any page. From here: the session cookie's flags, the CSP, and that a
//! cross-site request cannot change anything.
//!
//! The screenshots go to target/dashboard-screenshots; `VMAFX_UPDATE_SCREENSHOTS=1` copies
//! them to docs/images, where docs/dashboard.md shows them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::cluster::{call, request, start_up_with_http, token, wait_for, Answer};
use serde_json::{json, Value};

/// Logs in as the browser would (same origin); the session cookie's `name=value`.
fn login(http: &str, token: &str) -> (Answer, Option<String>) {
    let origin = format!("Origin: https://{http}");
    let a = request(http, "POST", "/ui/login", &[origin], &json!({ "token": token }).to_string());
    let cookie = a.header("set-cookie").map(|c| c.split(';').next().unwrap().to_string());
    (a, cookie)
}

/// The PNG's width and height, from its IHDR chunk; panics if it is not a PNG.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR", "not a PNG");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

fn node_modules() -> PathBuf {
    let dir = common::root().join("target/ui-test/node_modules");
    assert!(
        dir.join("playwright-core").is_dir() && dir.join("axe-core").is_dir(),
        "{} lacks playwright-core or axe-core: run `bash scripts/setup.sh test` (make test does)",
        dir.display()
    );
    dir
}

fn chromium() -> PathBuf {
    // The binary itself: Debian's /usr/bin/chromium is a wrapper script.
    ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("no chromium: run `bash scripts/setup.sh test` (make test does), or apt-get install chromium")
}

#[test]
fn the_dashboard_in_a_real_browser() {
    let modules = node_modules();
    let browser = chromium();
    let clips = tempfile::tempdir().unwrap();
    let reference = common::lavfi(clips.path(), "ref.y4m", "testsrc2=size=640x360:rate=24", 48, "yuv420p");
    let distorted = common::encode(
        &reference,
        clips.path(),
        "dist.mp4",
        &["-c:v", "libx264", "-crf", "38", "-pix_fmt", "yuv420p"],
    );
    let data = tempfile::tempdir().unwrap();
    let (_up, grpc, http) = start_up_with_http(data.path());
    let admin = token(data.path(), "admin.token");
    // A job of more frames than a plot shows one by one (10,000), and the short pair scored
    // every other frame, to compare with the job the browser submits.
    let long_ref =
        common::lavfi(clips.path(), "long_ref.mp4", "testsrc2=size=96x64:rate=25", 12_000, "yuv420p");
    let long_dist =
        common::encode(&long_ref, clips.path(), "long_dist.mp4", &["-c:v", "libx264", "-crf", "42"]);
    let submit = |r: &Path, d: &Path, extra: Value| {
        let mut score = json!({"reference": r, "distorted": d});
        score.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (status, job) = call(&http, &admin, "POST", "/v1/jobs", Some(json!({ "score": score })));
        assert_eq!(status, 201, "{job}");
        job["id"].as_str().unwrap().to_string()
    };
    let long = submit(&long_ref, &long_dist, json!({"segment_frames": 4000}));
    let half = submit(&reference, &distorted, json!({"subsample": 2}));
    wait_for(&http, &admin, &long, "succeeded");
    wait_for(&http, &admin, &half, "succeeded");
    let shots = common::root().join("target/dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let out = common::run_with_timeout(
        Command::new("node")
            .arg(common::root().join("tests/ui/dashboard.mjs"))
            .env("VMAFX_UI", format!("https://{http}/ui/"))
            .env("VMAFX_TOKEN", &admin)
            .env("VMAFX_REF", &reference)
            .env("VMAFX_DIST", &distorted)
            .env("VMAFX_SHOTS", &shots)
            .env("VMAFX_NODE_MODULES", &modules)
            .env("VMAFX_LONG_JOB", &long)
            .env("VMAFX_HALF_JOB", &half)
            .env("CHROMIUM", &browser),
        Duration::from_secs(420),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the browser test failed:\n{stderr}\n{stdout}");
    let line = stdout.lines().find_map(|l| l.strip_prefix("result: ")).expect("a result line");
    let r: Value = serde_json::from_str(line).unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&r).unwrap());

    // A wrong token was refused, and the right one's session cookie is locked down.
    assert!(r["wrong_token"].as_str().unwrap().contains("not accepted"), "{r}");
    assert_eq!(
        r["cookie"],
        json!({"name": "vmafx_session", "httpOnly": true, "secure": true, "sameSite": "Strict", "path": "/ui"})
    );
    // The job submitted from the form appeared and finished on the page it was on.
    assert_eq!(r["reloads"], 0, "{r}");
    let id = r["job"].as_str().unwrap();
    let job = wait_for(&http, &admin, id, "succeeded");
    assert_eq!(job["spec"]["segment_frames"], 16, "{job}");
    assert_eq!(job["spec"]["features"], json!(["psnr"]), "{job}");
    assert_eq!(r["row_vmaf"], format!("{:.3}", job["vmaf"].as_f64().unwrap()), "the live row's pooled VMAF");
    // One point per frame: as many as the job has frames, and drawn.
    let frames = job["total_frames"].as_u64().unwrap();
    assert_eq!(frames, 48);
    assert_eq!(r["points"], frames, "{r}");
    assert_eq!(r["polyline_points"], frames, "{r}");
    assert_eq!(r["bucketed"], "false");
    assert!(
        r["tooltip"].as_str().unwrap().contains("frame") && r["tooltip"].as_str().unwrap().contains("psnr_y"),
        "{r}"
    );
    assert_eq!(r["psnr_points"], frames, "another metric, one point per frame: {r}");
    assert!(
        r["keyboard_tooltip"].as_str().unwrap().contains("frame 6,"),
        "two arrow presses from frame 4, the first of the zoomed plot: {r}"
    );
    // 12,000 frames: drawn as bucket extremes (no more than 10,000 points), and a zoom to
    // frames 1000..=2999 fetches every one of them.
    assert_eq!(r["long"]["bucketed"], "true", "{r}");
    let long_points = r["long"]["points"].as_u64().unwrap();
    assert!((2_000..=10_000).contains(&long_points), "{r}");
    assert_eq!(r["long"]["zoomed_bucketed"], "false", "{r}");
    assert_eq!(r["compared"], json!([[id, 48], [half, 24]]), "{r}");
    assert!(r["pooled_rows"].as_u64().unwrap() >= 4, "vmaf, its features and psnr: {r}");
    assert_eq!(r["segments"], 3, "48 frames in segments of 16: {r}");
    assert!(r["nodes"].as_u64().unwrap() >= 1);
    assert!(r["phone_overflow"].as_i64().unwrap() <= 0, "the job page scrolls sideways on a phone: {r}");
    assert_eq!(r["after_logout"], 401);
    assert_eq!(r["page_errors"], json!([]), "the page's script failed: {r}");

    // The worst frames' pictures: made by a node, of the three lowest-VMAF frames, at the
    // reference's size (640 wide, under the 960 limit), the distorted as libvmaf saw it.
    let (_, series) = call(&http, &admin, "GET", &format!("/v1/jobs/{id}/series"), None);
    let worst: Vec<u64> =
        series["worst"].as_array().unwrap().iter().map(|w| w["frame"].as_u64().unwrap()).collect();
    assert_eq!(worst.len(), 3);
    let images = r["worst_images"].as_array().unwrap();
    assert_eq!(images.len(), 6, "{r}");
    for img in images {
        assert_eq!((img["width"].as_u64(), img["height"].as_u64()), (Some(640), Some(360)), "{img}");
    }
    let (_, pictures) = call(&http, &admin, "GET", &format!("/v1/jobs/{id}/worst-frames"), None);
    assert_eq!(pictures["state"], "ready", "{pictures}");
    assert_eq!(pictures["frames"], json!(worst));
    let picture_job = pictures["job"].as_str().unwrap();
    for side in ["reference", "distorted"] {
        let a = request(
            &http,
            "GET",
            &format!("/v1/jobs/{picture_job}/pictures/{}/{side}.png", worst[0]),
            &[format!("Authorization: Bearer {admin}")],
            "",
        );
        assert_eq!(a.status, 200);
        assert_eq!(a.header("content-type"), Some("image/png"));
        assert_eq!(png_size(&a.body), (640, 360));
    }
    // Asking again makes nothing new: one pictures job per scored job.
    let (_, again) = call(&http, &admin, "GET", &format!("/v1/jobs/{id}/worst-frames"), None);
    assert_eq!(again["job"], picture_job);

    // Every page answer carries the CSP; the page loads only its own files.
    let page = request(&http, "GET", "/ui/", &[], "");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(!String::from_utf8_lossy(&page.body).contains("<script>"), "no inline script");

    // Cross-site requests change nothing, with a valid session cookie or without one.
    let (_, cookie) = login(&http, &admin);
    let cookie = format!("Cookie: {}", cookie.unwrap());
    let body = json!({"score": {"reference": reference, "distorted": distorted}}).to_string();
    for forged in ["Origin: https://evil.example", "Sec-Fetch-Site: cross-site"] {
        let a = request(&http, "POST", "/ui/api/v1/jobs", &[cookie.clone(), forged.into()], &body);
        assert_eq!(a.status, 403, "{forged}: {}", String::from_utf8_lossy(&a.body));
        assert!(String::from_utf8_lossy(&a.body).contains("cross-site"));
    }
    let a = request(
        &http,
        "POST",
        "/ui/login",
        &["Origin: https://evil.example".into()],
        &json!({"token": admin}).to_string(),
    );
    assert_eq!(a.status, 403, "a login from another site");
    assert!(a.header("set-cookie").is_none());
    // The same cookie reads (GET) and, from this origin, submits.
    let a = request(&http, "GET", "/ui/api/v1/jobs", std::slice::from_ref(&cookie), "");
    assert_eq!(a.status, 200);
    let a = request(
        &http,
        "POST",
        "/ui/api/v1/jobs",
        &[cookie.clone(), format!("Origin: https://{http}")],
        &body,
    );
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    // A bearer token does not open /ui/api, and a session does not open /v1.
    let a = request(&http, "GET", "/ui/api/v1/jobs", &[format!("Authorization: Bearer {admin}")], "");
    assert_eq!(a.status, 401);
    let a = request(&http, "GET", "/v1/jobs", &[cookie], "");
    assert_eq!(a.status, 401);
    // A wrong token opens no session.
    let (a, cookie) = login(&http, "not-a-token");
    assert_eq!((a.status, cookie), (401, None));

    // A read token may look (and download), not change anything; revoking it ends its
    // sessions at once.
    let cli = |args: &[&str]| {
        let out = common::run_with_timeout(
            Command::new(common::bin("vmafx"))
                .args(args)
                .env("VMAFX_CONTROLLER", &grpc)
                .env("VMAFX_CA", data.path().join("tls/ca.pem"))
                .env("VMAFX_TOKEN", &admin),
            Duration::from_secs(120),
        );
        assert!(out.status.success(), "vmafx {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let viewer = cli(&["tokens", "create", "--role", "read", "--name", "viewer"]);
    let (a, cookie) = login(&http, &viewer);
    assert_eq!(a.status, 200);
    assert_eq!(serde_json::from_slice::<Value>(&a.body).unwrap(), json!({"name": "viewer", "role": "read"}));
    let viewer_cookie = format!("Cookie: {}", cookie.unwrap());
    let csv = request(
        &http,
        "GET",
        &format!("/ui/api/v1/jobs/{id}/frames.csv"),
        std::slice::from_ref(&viewer_cookie),
        "",
    );
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let csv = String::from_utf8(csv.body).unwrap();
    assert_eq!(csv.lines().count(), 49, "a header and 48 frames:\n{csv}");
    assert!(csv.lines().next().unwrap().contains("vmaf") && csv.lines().next().unwrap().contains("psnr_y"));
    let same_origin = format!("Origin: https://{http}");
    let a = request(&http, "POST", "/ui/api/v1/jobs", &[viewer_cookie.clone(), same_origin.clone()], &body);
    assert_eq!(a.status, 403, "{}", String::from_utf8_lossy(&a.body));
    assert!(String::from_utf8_lossy(&a.body).contains("needs a submit token"));
    cli(&["tokens", "revoke", "viewer"]);
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(200));
        request(&http, "GET", "/ui/api/v1/jobs", std::slice::from_ref(&viewer_cookie), "").status == 401
    });
    assert!(gone, "a revoked token's session still reads");

    let copy = std::env::var("VMAFX_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    for shot in r["screenshots"].as_array().unwrap() {
        let path = Path::new(shot.as_str().unwrap());
        let bytes = std::fs::read(path).unwrap();
        let (w, _) = png_size(&bytes);
        assert!(w >= 390, "{}", path.display());
        if copy {
            let to = common::root()
                .join("docs/images")
                .join(format!("dashboard-{}", path.file_name().unwrap().to_str().unwrap()));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(path, to).unwrap();
        }
    }
}
