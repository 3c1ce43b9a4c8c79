//! The trainer end to end with the real binaries: triples collected from clip pairs made
//! here, a model fitted and published only when it beats a constant guess (and the current
//! version) on a holdout of whole clips, its ONNX export checked in ONNX Runtime, and the
//! published version loaded by `vmafx models` and used by `vmafx score`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{bin, encode, lavfi, run_with_timeout, vmafx};
use serde_json::Value;

fn trainer(args: &[&str]) -> std::process::Output {
    run_with_timeout(Command::new(bin("vmafx-trainer")).args(args), std::time::Duration::from_secs(600))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_model_is_published_only_when_it_beats_the_holdout_and_then_scores() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let triples = d.join("triples.ndjson");
    let nr_triples = d.join("nr-triples.ndjson");
    let mut pairs = Vec::new();
    // life and cellauto start from a random grid unless seeded: the same clips every run.
    let sources = ["testsrc2", "mandelbrot", "life=mold=10:ratio=0.3:seed=1", "cellauto=rule=110:seed=1"];
    for (i, source) in sources.iter().enumerate() {
        let options = if source.contains('=') { ":" } else { "=" };
        let lavfi_source = format!("{source}{options}size=320x240:rate=24");
        let reference = lavfi(d, &format!("ref{i}.y4m"), &lavfi_source, 24, "yuv420p");
        for crf in ["22", "34", "46"] {
            let name = format!("dist{i}_{crf}.mp4");
            let distorted =
                encode(&reference, d, &name, &["-c:v", "libx264", "-preset", "ultrafast", "-crf", crf]);
            let clip = format!("{i}-{crf}");
            let out = trainer(&[
                "collect",
                "--reference",
                s(&reference),
                "--distorted",
                s(&distorted),
                "--clip",
                &clip,
                "--out",
                s(&triples),
                "--nr-out",
                s(&nr_triples),
            ]);
            assert!(out.status.success(), "collect {clip}: {}", String::from_utf8_lossy(&out.stderr));
            pairs.push((reference.clone(), distorted));
        }
    }
    let lines = std::fs::read_to_string(&triples).unwrap();
    assert_eq!(lines.lines().count(), 12 * 24, "one triple per frame");
    let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(first["features"]["integer_adm2"].is_number() && first["vmaf"].is_number(), "{first}");
    // By default an fr model's features come from the centre of each frame, at full size.
    assert_eq!(
        (&first["meta"]["crop"], &first["meta"]["downscale"]),
        (&Value::from(2), &Value::from(1)),
        "{first}"
    );

    // Fitted and published: version 1, with its holdout metrics, loadable by vmafx.
    let registry = d.join("registry");
    let fit = |triples: &Path, registry: &Path| {
        let out = trainer(&[
            "fit",
            "--triples",
            s(triples),
            "--registry",
            s(registry),
            "--id",
            "fr-test",
            "--holdout-percent",
            "34",
        ]);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("fit: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };
    let (code, report) = fit(&triples, &registry);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["published"], "fr-test@1", "{report}");
    assert!(
        report["holdout_frames"].as_u64().unwrap() >= 24 && report["train_frames"].as_u64().unwrap() >= 24
    );
    assert!(report["export_max_difference"].as_f64().unwrap() <= 1e-3, "{report}");
    assert!(report["holdout"]["rmse"].as_f64().unwrap() < report["baseline_rmse"].as_f64().unwrap() * 0.9);
    let out = vmafx(&["models", "--json", "--registry", s(&registry)]);
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let entry = listed.iter().find(|m| m["name"] == "fr-test@1").expect("listed");
    assert_eq!(entry["loads"], true, "{entry}");
    assert!(entry["metrics"]["plcc"].as_f64().unwrap() > 0.5, "{entry}");

    // The same data again cannot beat the version it would replace: not published.
    let (code, report) = fit(&triples, &registry);
    assert_eq!(code, Some(3), "{report}");
    assert!(report["refused"].as_str().unwrap().contains("not better than fr-test@1"), "{report}");

    // Scores shuffled across frames teach nothing: a fresh registry publishes no version.
    let mut values: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let truth: Vec<Value> = values.iter().map(|v| v["vmaf"].clone()).collect();
    for (i, v) in values.iter_mut().enumerate() {
        v["vmaf"] = truth[(i * 97 + 13) % truth.len()].clone();
    }
    let shuffled = d.join("shuffled.ndjson");
    std::fs::write(&shuffled, values.iter().map(|v| v.to_string() + "\n").collect::<String>()).unwrap();
    let fresh = d.join("fresh");
    let (code, report) = fit(&shuffled, &fresh);
    assert_eq!(code, Some(3), "{report}");
    assert!(report["refused"].as_str().unwrap().contains("always guessing the training mean"), "{report}");
    assert!(report["published"].is_null());
    assert!(!fresh.join("registry.json").exists(), "nothing published");

    // Triples of the frames' centre quarter cannot make a model declared for that quarter
    // downscaled: refused, nothing written.
    let out = trainer(&[
        "fit",
        "--triples",
        s(&triples),
        "--registry",
        s(&fresh),
        "--id",
        "fr-half",
        "--downscale",
        "2",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("288 of 288 triples were not collected at --crop 2 --downscale 2"), "{err}");
    assert!(!fresh.join("registry.json").exists());

    // The published model scores a pair, labelled as its estimate.
    let (reference, distorted) = &pairs[4];
    let out = vmafx(&[
        "score",
        "--format",
        "json",
        "--model",
        "registry:fr-test",
        "--registry",
        s(&registry),
        s(reference),
        s(distorted),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scored: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mean = scored["pooled_metrics"]["fr-test@1"]["mean"].as_f64().unwrap();
    let vmaf =
        common::vmafx_json(reference, distorted, &[])["pooled_metrics"]["vmaf"]["mean"].as_f64().unwrap();
    assert!((mean - vmaf).abs() < 15.0, "estimate {mean} against VMAF {vmaf}");

    // No reference: the same pairs' no-reference triples (the same truth) make an nr model.
    let nr_lines = std::fs::read_to_string(&nr_triples).unwrap();
    assert_eq!(nr_lines.lines().count(), 12 * 24, "one nr triple per frame");
    let first: Value = serde_json::from_str(nr_lines.lines().next().unwrap()).unwrap();
    assert!(first["features"]["nr_block_h"].is_number() && first["meta"]["downscale"] == 1, "{first}");
    let (vmaf_fr, vmaf_nr): (Vec<f64>, Vec<f64>) = lines
        .lines()
        .zip(nr_lines.lines())
        .map(|(a, b)| {
            let (a, b): (Value, Value) = (serde_json::from_str(a).unwrap(), serde_json::from_str(b).unwrap());
            (a["vmaf"].as_f64().unwrap(), b["vmaf"].as_f64().unwrap())
        })
        .unzip();
    assert_eq!(vmaf_fr, vmaf_nr, "both kinds learn the same full VMAF");
    let out = trainer(&[
        "fit",
        "--kind",
        "nr",
        "--triples",
        s(&nr_triples),
        "--registry",
        s(&registry),
        "--id",
        "nr-test",
        "--holdout-percent",
        "34",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("fit nr: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report["published"], "nr-test@1", "{report}");
    let out = vmafx(&["models", "--json", "--registry", s(&registry)]);
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let entry = listed.iter().find(|m| m["name"] == "nr-test@1").expect("listed");
    assert_eq!(
        (&entry["kind"], &entry["loads"], &entry["downscale"]),
        (&Value::from("nr"), &Value::from(true), &Value::from(1)),
        "{entry}"
    );

    // `vmafx score --nr DIST`: the distorted alone, an estimate per frame under the model's name.
    let nr = |args: &[&str]| {
        let mut all = vec!["score", "--format", "json", "--registry", s(&registry)];
        all.extend_from_slice(args);
        vmafx(&all)
    };
    let out = nr(&["--nr", "--model", "registry:nr-test", s(distorted)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scored: Value = serde_json::from_slice(&out.stdout).unwrap();
    let frames = scored["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 24);
    assert!(frames
        .iter()
        .all(|f| f["metrics"]["nr-test@1"].is_number() && f["metrics"].get("vmaf").is_none()));
    let notes = common::notes(&scored).join("\n");
    assert!(
        notes.contains("nr-test@1 is an estimate of VMAF") && notes.contains("distorted alone"),
        "{notes}"
    );
    let mean = scored["pooled_metrics"]["nr-test@1"]["mean"].as_f64().unwrap();
    assert!((mean - vmaf).abs() < 25.0, "nr estimate {mean} against VMAF {vmaf}");

    // Each kind where it belongs, with what to do instead.
    let out = nr(&["--model", "registry:nr-test", s(reference), s(distorted)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nr-test@1 is a no-reference (nr) model") && err.contains("--nr DIST"), "{err}");
    let out = nr(&["--nr", "--model", "registry:fr-test", s(distorted)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("fr-test@1 is a full-reference (fr) model"), "{err}");
    let out = nr(&["--nr", s(distorted)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model registry:ID"));
    let out = nr(&["--nr", "--model", "registry:nr-test", s(reference), s(distorted)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give one video"));
    let missing = d.join("missing.mp4");
    let out = nr(&["--nr", "--model", "registry:nr-test", s(&missing)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("missing.mp4"), "{err}");
    // An nr model is fitted on measures at the distorted's own size.
    let out = trainer(&[
        "fit",
        "--kind",
        "nr",
        "--triples",
        s(&nr_triples),
        "--registry",
        s(&fresh),
        "--id",
        "nr-x",
        "--downscale",
        "4",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--downscale 1"));
}
