//! Typed encode jobs on a real controller and node, over HTTP with a submit token: a spec
//! that would add an input, an output, a filter, a format or a protocol, or name a file, is
//! refused at submission naming the option; so is an option the node's encoder lacks (the
//! node reported its options when it registered). A valid spec runs, and the node's encode
//! and scores equal an ffmpeg command written by hand from the same fields, scored by
//! `vmafx score`.

mod common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::cluster::{assert_error, call, start_controller, start_node, token, wait_for};

#[test]
fn encode_specs_are_typed_checked_against_the_node_and_equal_a_hand_made_encode() {
    let data = tempfile::tempdir().unwrap();
    let clips = tempfile::tempdir().unwrap();
    let r = common::lavfi(clips.path(), "ref.y4m", "testsrc2=size=192x108:rate=24", 30, "yuv420p");
    let ctl = start_controller(data.path(), &[]);
    let admin = token(data.path(), "admin.token");
    let h = ctl.http.as_str();
    let made = ctl.cli(&admin, &["tokens", "create", "--role", "submit", "--name", "ci"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let submit = String::from_utf8_lossy(&made.stdout).trim().to_string();
    let mut node = start_node(&ctl.addr, data.path(), "encoder-1");
    // Registered (with what its ffmpeg says of libx264) once it is listed.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, nodes) = call(h, &admin, "GET", "/v1/nodes", None);
        let listed = nodes["nodes"].as_array().unwrap().iter().any(|n| {
            n["capabilities"]["encoders"].as_array().is_some_and(|e| e.iter().any(|e| e == "libx264"))
        });
        if listed {
            // Listings leave the option lists out; the controller keeps them.
            assert!(!nodes.to_string().contains("encoder_options"), "{nodes}");
            break;
        }
        assert!(Instant::now() < deadline, "the node never registered: {nodes}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let job = |encode: Value| json!({"score": {"reference": r, "encode": encode}});
    let x264 = |options: Value| json!({"encoder": "libx264", "crf": 30, "options": options});
    // Inputs, outputs, filters, formats, protocols and files: refused naming the option.
    for (options, says) in [
        (json!({"i": "/etc/passwd"}), "`-i` is an input"),
        (json!({"map": "1:v"}), "`-map` is an output option"),
        (json!({"vf": "movie=/etc/passwd"}), "`-vf` is a filter"),
        (json!({"filter_complex": "[0]null"}), "`-filter_complex` is a filter"),
        (json!({"f": "data"}), "`-f` is a format"),
        (json!({"protocol_whitelist": "file,http"}), "`-protocol_whitelist` is a protocol option"),
        (json!({"passlogfile": "/tmp/leak"}), "names a file"),
        (json!({"x264-params": "keyint=60:stats=/tmp/leak"}), "`stats` names a file"),
        // Not an option of this node's libx264: checked against what the node reported.
        (json!({"no-such-option": "1"}), "libx264 has no option `-no-such-option`"),
        (json!({"aq-mode": "lots"}), "is not a valid int"),
    ] {
        let option = options.as_object().unwrap().keys().next().unwrap().clone();
        let got = call(h, &submit, "POST", "/v1/jobs", Some(job(x264(options))));
        assert_error(got, 400, Some(&format!("score.encode.options.{option}")), says);
    }
    // The old form, ffmpeg arguments, is refused naming the field.
    let old = job(json!({"args": ["-c:v", "libx264", "-i", "/etc/passwd", "-f", "data", "/tmp/leak"]}));
    assert_error(call(h, &submit, "POST", "/v1/jobs", Some(old)), 400, None, "unknown field `args`");
    let gbr = json!({"encoder": "libx264", "crf": 30, "pix_fmt": "gbrp"});
    assert_error(
        call(h, &submit, "POST", "/v1/jobs", Some(job(gbr))),
        400,
        Some("score.encode.pix_fmt"),
        "does not take gbrp",
    );

    // A valid spec runs: every field a hand-written ffmpeg command would set.
    let spec = json!({
        "encoder": "libx264", "crf": 27.5, "preset": "veryfast", "width": 128, "height": 72,
        "pix_fmt": "yuv420p", "start": 4, "frames": 20, "options": {"tune": "film", "g": "12"},
    });
    let (status, posted) = call(h, &submit, "POST", "/v1/jobs", Some(job(spec)));
    assert_eq!(status, 201, "{posted}");
    let id = posted["id"].as_str().unwrap();
    wait_for(h, &submit, id, "succeeded");
    let (_, done) = call(h, &submit, "GET", &format!("/v1/jobs/{id}?scores=true"), None);

    let hand = clips.path().join("hand.mkv");
    common::ffmpeg(&[
        "-i",
        r.to_str().unwrap(),
        "-map",
        "0:v:0",
        "-an",
        "-sn",
        "-dn",
        "-vf",
        "trim=start_frame=4:end_frame=24,setpts=PTS-STARTPTS,scale=128:72:flags=bicubic",
        "-c:v",
        "libx264",
        "-crf",
        "27.5",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "12",
        "-tune",
        "film",
        "-fflags",
        "+bitexact",
        hand.to_str().unwrap(),
    ]);
    let bytes = std::fs::metadata(&hand).unwrap().len();
    assert_eq!(
        done["encode"]["bytes"].as_u64(),
        Some(bytes),
        "the node's encode is the hand-made one: {done}"
    );
    let local = common::vmafx_json(&r, &hand, &["--skip-reference", "4", "--frames", "20"]);
    assert_eq!(done["frames"].as_array().map(Vec::len), Some(20), "{done}");
    assert_eq!(done["pooled_metrics"], local["pooled_metrics"], "pooled scores");
    let values = |v: &Value| -> Vec<Value> {
        v["frames"].as_array().unwrap().iter().map(|f| f["metrics"].clone()).collect()
    };
    assert_eq!(values(&done), values(&local), "per-frame scores");
    node.0.kill().ok();
}
