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
    let mut pairs = Vec::new();
    for (i, source) in
        ["testsrc2", "mandelbrot", "life=mold=10:ratio=0.3", "cellauto=rule=110"].iter().enumerate()
    {
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
            ]);
            assert!(out.status.success(), "collect {clip}: {}", String::from_utf8_lossy(&out.stderr));
            pairs.push((reference.clone(), distorted));
        }
    }
    let lines = std::fs::read_to_string(&triples).unwrap();
    assert_eq!(lines.lines().count(), 12 * 24, "one triple per frame");
    let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(first["features"]["integer_adm2"].is_number() && first["vmaf"].is_number(), "{first}");

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

    // Triples collected at 1/4 size cannot make a model declared for 1/2: refused, nothing written.
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
    assert!(err.contains("288 of 288 triples were not collected at --downscale 2"), "{err}");
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
}
