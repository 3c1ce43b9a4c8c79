//! Reports of a scored clip pair in the formats users ask for.
//!
//! JSON and XML follow libvmaf's own schemas (`frames[].frameNum`, `frames[].metrics`,
//! `pooled_metrics.{metric}.{min,max,mean,harmonic_mean}`), so parsers written for the `vmaf`
//! tool or ffmpeg's `libvmaf` filter read them unchanged; vmafx adds percentiles under each
//! pooled metric and a `vmafx` object describing the run. CSV has one row per frame; text is a
//! short human summary.

use std::fmt::Write as _;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::pooling::{pool, Pooled};
use crate::scores::{FrameScore, Scores};

/// Output formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
    Xml,
}

impl FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            "xml" => Ok(Self::Xml),
            other => Err(format!("unknown format `{other}`; valid: text, json, csv, xml")),
        }
    }
}

/// What was scored and how; printed beside the scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportInfo {
    pub reference: String,
    pub distorted: String,
    /// Model name (built-in version or the path of a custom model).
    pub model: String,
    /// Metric that holds the model's score (`vmaf`).
    pub score_metric: String,
    /// Metrics shown in the text summary after the score (the extra features' outputs).
    pub headline: Vec<String>,
    pub width: u32,
    pub height: u32,
    pub pix_fmt: String,
    /// Size of the distorted video before it was scaled to the reference's, if it was.
    pub distorted_scaled_from: Option<(u32, u32)>,
    pub subsample: u32,
    /// Leading frames skipped in each input.
    pub skip_reference: u64,
    pub skip_distorted: u64,
    pub libvmaf_version: String,
    /// What decoded each input (`[reference, distorted]`): a native reader, libavcodec in
    /// this process, or an ffmpeg subprocess. Empty where a cluster scored it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoders: Vec<String>,
    pub elapsed_s: f64,
    /// What was done to the inputs to compare them (each conversion), and warnings.
    #[serde(default)]
    pub notes: Vec<crate::Note>,
}

/// Scores plus what produced them: everything a report format needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub info: ReportInfo,
    pub scores: Scores,
}

impl Report {
    /// Pooled statistics for every metric that has at least one value, in metric order.
    pub fn pooled(&self) -> Vec<(&str, Pooled)> {
        self.scores
            .metrics
            .iter()
            .filter_map(|m| Some((m.as_str(), pool(&self.scores.column(m)?)?)))
            .collect()
    }

    /// Pooled statistics of one metric.
    pub fn pooled_metric(&self, metric: &str) -> Option<Pooled> {
        pool(&self.scores.column(metric)?)
    }

    /// Processing speed in frames per second.
    pub fn fps(&self) -> f64 {
        if self.info.elapsed_s > 0.0 {
            self.scores.frames.len() as f64 / self.info.elapsed_s
        } else {
            0.0
        }
    }

    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Text => self.to_text(),
            ReportFormat::Json => {
                let mut s = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
                s.push('\n');
                s
            }
            ReportFormat::Csv => self.to_csv(),
            ReportFormat::Xml => self.to_xml(),
        }
    }

    /// One frame's values by metric name, as the JSON report writes them (metrics libvmaf
    /// gave no value for that frame are left out).
    pub fn frame_metrics(&self, f: &FrameScore) -> Map<String, Value> {
        self.scores
            .metrics
            .iter()
            .zip(&f.values)
            .filter(|(_, v)| v.is_finite())
            .map(|(m, v)| (m.clone(), json!(v)))
            .collect()
    }

    /// The `pooled_metrics` object of the JSON report (without building the frames).
    pub fn pooled_json(&self) -> Value {
        Value::Object(self.pooled().into_iter().map(|(m, p)| (m.to_string(), finite_json(&p))).collect())
    }

    /// One frame as the JSON report writes it (`frameNum`, `metrics`).
    pub fn frame_json(&self, f: &FrameScore) -> Value {
        json!({ "frameNum": f.frame_num, "metrics": self.frame_metrics(f) })
    }

    /// libvmaf's JSON schema plus `p1`/`p5`/`p50` and a `vmafx` run description.
    pub fn to_json(&self) -> Value {
        let frames: Vec<Value> = self.scores.frames.iter().map(|f| self.frame_json(f)).collect();
        let pooled = self.pooled_json();
        json!({
            "version": self.info.libvmaf_version,
            "fps": round3(self.fps()),
            "vmafx": self.info,
            "frames": frames,
            "pooled_metrics": pooled,
            "aggregate_metrics": {},
        })
    }

    fn to_csv(&self) -> String {
        let mut out = String::from("Frame");
        for m in &self.scores.metrics {
            out.push(',');
            out.push_str(m);
        }
        out.push('\n');
        for f in &self.scores.frames {
            let _ = write!(out, "{}", f.frame_num);
            for v in &f.values {
                out.push(',');
                if v.is_finite() {
                    let _ = write!(out, "{v}");
                }
            }
            out.push('\n');
        }
        out
    }

    /// libvmaf's XML layout (`<VMAF><params/><fyi/><frames/><pooled_metrics/>`).
    fn to_xml(&self) -> String {
        let i = &self.info;
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(out, "<VMAF version=\"{}\">", xml_escape(&i.libvmaf_version));
        let _ = writeln!(
            out,
            "  <params qualityWidth=\"{}\" qualityHeight=\"{}\" model=\"{}\" reference=\"{}\" distorted=\"{}\" />",
            i.width,
            i.height,
            xml_escape(&i.model),
            xml_escape(&i.reference),
            xml_escape(&i.distorted)
        );
        let _ = writeln!(out, "  <fyi fps=\"{:.2}\" />", self.fps());
        out.push_str("  <frames>\n");
        for f in &self.scores.frames {
            let _ = write!(out, "    <frame frameNum=\"{}\"", f.frame_num);
            for (m, v) in self.scores.metrics.iter().zip(&f.values) {
                if v.is_finite() {
                    let _ = write!(out, " {}=\"{v}\"", xml_escape(m));
                }
            }
            out.push_str(" />\n");
        }
        out.push_str("  </frames>\n  <pooled_metrics>\n");
        for (m, p) in self.pooled() {
            let _ = writeln!(
                out,
                "    <metric name=\"{}\" min=\"{}\" max=\"{}\" mean=\"{}\" harmonic_mean=\"{}\" p1=\"{}\" p5=\"{}\" p50=\"{}\" />",
                xml_escape(m), p.min, p.max, p.mean, p.harmonic_mean, p.p1, p.p5, p.p50
            );
        }
        out.push_str("  </pooled_metrics>\n  <aggregate_metrics />\n</VMAF>\n");
        out
    }

    /// A short summary for people: the score, where it is worst, and the extra features.
    fn to_text(&self) -> String {
        let i = &self.info;
        let mut out = String::new();
        let n = self.scores.frames.len();
        if let Some(p) = self.pooled_metric(&i.score_metric) {
            let worst = self.worst_frame(&i.score_metric);
            let _ = writeln!(
                out,
                "{} {:.3}  (model {}; harmonic mean {:.3}, min {:.3}{}, 5th percentile {:.3})",
                i.score_metric.to_uppercase(),
                p.mean,
                i.model,
                p.harmonic_mean,
                p.min,
                worst.map(|f| format!(" at frame {f}")).unwrap_or_default(),
                p.p5
            );
        }
        let scaled =
            i.distorted_scaled_from.map(|(w, h)| format!(", scaled from {w}x{h}")).unwrap_or_default();
        match i.reference.as_str() {
            "" => {
                let _ = writeln!(out, "  reference  none (a no-reference estimate)");
            }
            r => {
                let _ = writeln!(out, "  reference  {r}");
            }
        }
        let _ = writeln!(out, "  distorted  {}{}", i.distorted, scaled);
        let _ = writeln!(
            out,
            "  {} frames{}{}{}, scored in {:.2} s ({:.1} fps)",
            n,
            // Unknown where the reader could not open the reference (a cluster job's object).
            if i.width > 0 { format!(", {}x{} ", i.width, i.height) } else { String::new() },
            i.pix_fmt,
            if i.subsample > 1 { format!(", every {}th frame", i.subsample) } else { String::new() },
            i.elapsed_s,
            self.fps()
        );
        for note in &i.notes {
            let _ = writeln!(out, "  {note}");
        }
        if !i.headline.is_empty() {
            let _ =
                writeln!(out, "  {:<16} {:>10} {:>10} {:>10} {:>10}", "metric", "mean", "min", "p5", "max");
            for m in &i.headline {
                if let Some(p) = self.pooled_metric(m) {
                    let _ = writeln!(
                        out,
                        "  {:<16} {:>10.4} {:>10.4} {:>10.4} {:>10.4}",
                        m, p.mean, p.min, p.p5, p.max
                    );
                }
            }
        }
        out
    }

    /// Frame number with the lowest value of `metric`.
    pub fn worst_frame(&self, metric: &str) -> Option<u64> {
        let i = self.scores.index_of(metric)?;
        self.scores
            .frames
            .iter()
            .filter(|f| !f.values[i].is_nan())
            .min_by(|a, b| a.values[i].total_cmp(&b.values[i]))
            .map(|f| f.frame_num)
    }
}

fn finite_json(p: &Pooled) -> Value {
    let v = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
    json!({
        "min": v(p.min), "max": v(p.max), "mean": v(p.mean), "harmonic_mean": v(p.harmonic_mean),
        "p1": v(p.p1), "p5": v(p.p5), "p50": v(p.p50),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `s` safe inside XML or SVG text and attribute values.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            info: ReportInfo {
                reference: "ref.y4m".into(),
                distorted: "d<1>.mp4".into(),
                model: "vmaf_v0.6.1".into(),
                score_metric: "vmaf".into(),
                headline: vec!["psnr_y".into()],
                width: 64,
                height: 32,
                pix_fmt: "yuv420p".into(),
                subsample: 1,
                libvmaf_version: "3.2.0".into(),
                elapsed_s: 2.0,
                ..Default::default()
            },
            scores: Scores {
                metrics: vec!["psnr_y".into(), "vmaf".into()],
                frames: vec![
                    FrameScore { frame_num: 0, values: vec![30.0, 80.0] },
                    FrameScore { frame_num: 1, values: vec![f64::NAN, 90.0] },
                ],
                notes: Vec::new(),
            },
        }
    }

    #[test]
    fn json_follows_libvmaf_schema() {
        let v = report().to_json();
        assert_eq!(v["frames"][0]["frameNum"], 0);
        assert_eq!(v["frames"][0]["metrics"]["vmaf"], 80.0);
        assert!(v["frames"][1]["metrics"].get("psnr_y").is_none());
        assert_eq!(v["pooled_metrics"]["vmaf"]["mean"], 85.0);
        assert_eq!(v["pooled_metrics"]["vmaf"]["min"], 80.0);
        assert!(v["pooled_metrics"]["vmaf"]["harmonic_mean"].is_f64());
        assert!(v["pooled_metrics"]["vmaf"]["p5"].is_f64());
        assert_eq!(v["pooled_metrics"]["psnr_y"]["max"], 30.0);
        assert_eq!(v["fps"], 1.0);
        assert_eq!(v["vmafx"]["model"], "vmaf_v0.6.1");
    }

    #[test]
    fn csv_has_a_row_per_frame_and_blank_missing_cells() {
        let csv = report().render(ReportFormat::Csv);
        assert_eq!(csv, "Frame,psnr_y,vmaf\n0,30,80\n1,,90\n");
    }

    #[test]
    fn xml_escapes_and_lists_pooled_metrics() {
        let xml = report().render(ReportFormat::Xml);
        assert!(xml.contains("distorted=\"d&lt;1&gt;.mp4\""));
        assert!(xml.contains("<frame frameNum=\"1\" vmaf=\"90\" />"));
        assert!(xml.contains("<metric name=\"vmaf\" min=\"80\" max=\"90\" mean=\"85\""));
    }

    #[test]
    fn text_names_the_score_and_worst_frame() {
        let t = report().render(ReportFormat::Text);
        assert!(t.starts_with("VMAF 85.000"), "{t}");
        assert!(t.contains("at frame 0"));
        assert!(t.contains("psnr_y"));
    }

    #[test]
    fn format_parses_case_insensitively() {
        assert_eq!("JSON".parse::<ReportFormat>().unwrap(), ReportFormat::Json);
        assert!("yaml".parse::<ReportFormat>().unwrap_err().contains("valid: text"));
    }
}
