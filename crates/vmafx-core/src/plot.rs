//! The per-frame plot of a report as SVG: the score metric over the frames with its pooled
//! values and its worst frames marked, and one smaller panel per other headline metric.
//! `vmafx score --plot` and `vmafx jobs get --plot` write it (as is, or rasterised to PNG).
//!
//! Up to one point per pixel column the line has one point per frame; with more frames than
//! columns each column shows the minimum and maximum of its frames (a drop to a bad frame is
//! never averaged away).

use std::fmt::Write as _;

use crate::report::{xml_escape as escape, Report};
use crate::Scores;

/// Width of the drawing in SVG user units (pixels when rasterised at scale 1).
pub const WIDTH: u32 = 1000;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const MAIN_HEIGHT: f64 = 300.0;
const PANEL_HEIGHT: f64 = 120.0;
const GAP: f64 = 44.0;
/// How many of the worst frames of the score metric are marked.
pub const WORST_MARKED: usize = 3;
const COLORS: [&str; 6] = ["#1f5fbf", "#2a9d3f", "#b35c00", "#7a3fb0", "#008b8b", "#8b6b00"];

/// The frames of a report with the lowest value of `metric`, lowest first (at most `n`).
pub fn worst_frames(scores: &Scores, metric: &str, n: usize) -> Vec<(u64, f64)> {
    let mut frames = series(scores, metric);
    frames.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    frames.truncate(n);
    frames
}

/// `(frame number, value)` of every frame with a value of `metric` (none for an unknown one).
fn series(scores: &Scores, metric: &str) -> Vec<(u64, f64)> {
    let Some(i) = scores.index_of(metric) else { return vec![] };
    scores.frames.iter().map(|f| (f.frame_num, f.values[i])).filter(|(_, v)| v.is_finite()).collect()
}

/// One polyline's points for `values` (by frame number) drawn `width` units wide: every
/// point while there are at most `width` of them, else each column's first, minimum, maximum
/// and last value in frame order.
pub fn columns(values: &[(u64, f64)], first: u64, last: u64, width: usize) -> Vec<(u64, f64)> {
    if values.len() <= width || width == 0 {
        return values.to_vec();
    }
    let span = (last - first + 1) as f64;
    let column = |frame: u64| (((frame - first) as f64 / span) * width as f64) as usize;
    let mut out = Vec::with_capacity(width * 4);
    let mut start = 0;
    while start < values.len() {
        let c = column(values[start].0);
        let mut end = start;
        while end < values.len() && column(values[end].0) == c {
            end += 1;
        }
        let bucket = &values[start..end];
        let lo = bucket.iter().enumerate().min_by(|a, b| a.1 .1.total_cmp(&b.1 .1)).unwrap().0;
        let hi = bucket.iter().enumerate().max_by(|a, b| a.1 .1.total_cmp(&b.1 .1)).unwrap().0;
        let mut picks = vec![0, lo, hi, bucket.len() - 1];
        picks.sort_unstable();
        picks.dedup();
        out.extend(picks.into_iter().map(|i| bucket[i]));
        start = end;
    }
    out
}

/// Most points per metric in a [`window`]: one per frame up to this many frames.
pub const WINDOW_POINTS: usize = 10_000;

/// Frames `from..=to` of the metrics of `scores` named in `only` (every one when empty), for
/// an interactive plot (the dashboard's job page): one point per frame while the window
/// holds at most `points` frames, else each of `points / 4` buckets' first, lowest, highest
/// and last value ([`columns`]), so that a zoom refines what a wide view could only bucket.
/// Frames without a value are left out.
pub fn window(scores: &Scores, from: u64, to: u64, points: usize, only: &[String]) -> Window {
    let points = points.clamp(4, WINDOW_POINTS);
    let mut bucketed = false;
    let metrics = scores
        .metrics
        .iter()
        .enumerate()
        .filter(|(_, name)| only.is_empty() || only.contains(name))
        .map(|(i, name)| {
            let values: Vec<(u64, f64)> = scores
                .frames
                .iter()
                .filter(|f| (from..=to).contains(&f.frame_num))
                .map(|f| (f.frame_num, f.values[i]))
                .filter(|(_, v)| v.is_finite())
                .collect();
            if values.len() > points {
                bucketed = true;
                (name.clone(), columns(&values, from, to, points / 4))
            } else {
                (name.clone(), values)
            }
        })
        .collect();
    Window { from, to, bucketed, metrics }
}

/// What [`window`] gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub from: u64,
    pub to: u64,
    /// Some metric had more frames than points: its points are bucket extremes.
    pub bucketed: bool,
    /// `(frame number, value)` by metric, in the scores' metric order.
    pub metrics: Vec<(String, Vec<(u64, f64)>)>,
}

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `n` ticks over `span`.
fn tick_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let m = raw / magnitude;
    magnitude
        * if m <= 1.0 {
            1.0
        } else if m <= 2.0 {
            2.0
        } else if m <= 5.0 {
            5.0
        } else {
            10.0
        }
}

/// A number as the plot labels it: two decimals, or none for large values.
fn label(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

struct Panel<'a> {
    metric: &'a str,
    color: &'a str,
    top: f64,
    height: f64,
    /// The score metric's panel: pooled lines and worst frames marked.
    main: bool,
}

/// The report's per-frame plot as a standalone SVG document.
pub fn svg(report: &Report) -> String {
    let scores = &report.scores;
    let score_metric = report.info.score_metric.as_str();
    // The score metric first, then the other headline metrics that have values.
    let mut metrics: Vec<&str> = Vec::new();
    if scores.index_of(score_metric).is_some() {
        metrics.push(score_metric);
    }
    for m in &report.info.headline {
        if m != score_metric && scores.column(m).is_some_and(|c| c.iter().any(|v| v.is_finite())) {
            metrics.push(m);
        }
    }
    if metrics.is_empty() {
        metrics.extend(scores.metrics.first().map(String::as_str));
    }
    let mut panels = Vec::new();
    let mut top = 78.0;
    for (i, m) in metrics.iter().enumerate() {
        let height = if i == 0 { MAIN_HEIGHT } else { PANEL_HEIGHT };
        panels.push(Panel { metric: m, color: COLORS[i % COLORS.len()], top, height, main: i == 0 });
        top += height + GAP;
    }
    let height = top - GAP + 40.0;
    let first = scores.frames.first().map_or(0, |f| f.frame_num);
    let last = scores.frames.last().map_or(0, |f| f.frame_num).max(first);
    let plot_width = WIDTH as f64 - LEFT - RIGHT;
    let x = |frame: u64| {
        let span = (last - first).max(1) as f64;
        LEFT + (frame - first) as f64 / span * plot_width
    };

    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">
<title>{title}</title>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{LEFT}" y="24" font-size="15" font-weight="bold">{title}</text>
<text x="{LEFT}" y="44" fill="#444444">{model}, {w}x{h}, {n} frames{skips}</text>
"##,
        title = escape(&format!(
            "{} vs {}",
            file_name(&report.info.distorted),
            file_name(&report.info.reference)
        )),
        model = escape(&report.info.model),
        w = report.info.width,
        h = report.info.height,
        n = scores.frames.len(),
        skips = match (report.info.skip_reference, report.info.skip_distorted) {
            (0, 0) => String::new(),
            (r, d) => format!(" (skipped {r} reference, {d} distorted frames)"),
        },
    );
    for p in &panels {
        draw_panel(&mut s, report, p, first, last, &x);
    }
    // Frame axis under the last panel.
    let bottom = panels.last().map_or(height - 40.0, |p| p.top + p.height);
    let step = tick_step((last - first).max(1) as f64, 10.0).max(1.0) as u64;
    let mut t = first.div_ceil(step) * step;
    while t <= last {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444444">{t}</text>"##,
            x(t),
            bottom + 16.0
        );
        t += step;
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444444">frame</text>"##,
        LEFT + plot_width / 2.0,
        bottom + 32.0
    );
    s.push_str("</svg>\n");
    s
}

fn draw_panel(s: &mut String, report: &Report, p: &Panel, first: u64, last: u64, x: &dyn Fn(u64) -> f64) {
    let values = series(&report.scores, p.metric);
    let (lo, hi) =
        values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, v)| (l.min(*v), h.max(*v)));
    // VMAF-like scores keep their 0..100 scale; other metrics fit their range.
    let (y_min, y_max) = if p.main && report.info.score_metric.contains("vmaf") {
        (lo.min(0.0), hi.max(100.0))
    } else if lo.is_finite() {
        let pad = ((hi - lo) * 0.08).max(hi.abs() * 1e-3).max(1e-6);
        (lo - pad, hi + pad)
    } else {
        (0.0, 1.0)
    };
    let step = tick_step(y_max - y_min, if p.main { 5.0 } else { 3.0 });
    let y = |v: f64| p.top + p.height - (v - y_min) / (y_max - y_min) * p.height;
    let right = WIDTH as f64 - RIGHT;
    let pooled = report.pooled_metric(p.metric);
    let summary = match pooled {
        Some(q) if p.main => format!(
            "{}: mean {} · harmonic mean {} · p5 {} · min {} · max {}",
            p.metric,
            label(q.mean),
            label(q.harmonic_mean),
            label(q.p5),
            label(q.min),
            label(q.max)
        ),
        Some(q) => {
            format!("{}: mean {} · min {} · max {}", p.metric, label(q.mean), label(q.min), label(q.max))
        }
        None => format!("{}: no values", p.metric),
    };
    let _ = writeln!(
        s,
        r##"<g class="panel" data-metric="{m}">
<text x="{LEFT}" y="{:.1}" font-weight="bold" fill="{c}">{}</text>
<rect x="{LEFT}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#bbbbbb"/>"##,
        p.top - 8.0,
        escape(&summary),
        p.top,
        right - LEFT,
        p.height,
        m = escape(p.metric),
        c = p.color,
    );
    let mut t = (y_min / step).ceil() * step;
    while t <= y_max + step * 1e-9 {
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" x2="{right:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#eeeeee"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444444">{}</text>"##,
            LEFT - 6.0,
            y(t) + 4.0,
            if step >= 1.0 { format!("{t:.0}") } else { format!("{}", (t / step).round() * step) },
            yy = y(t),
        );
        t += step;
    }
    if let Some(q) = pooled.filter(|_| p.main) {
        for (name, v, dash) in [("mean", q.mean, "6 4"), ("p5", q.p5, "2 3")] {
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" x2="{right:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#555555" stroke-dasharray="{dash}"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555555">{name} {}</text>"##,
                right - 4.0,
                y(v) - 4.0,
                label(v),
                yy = y(v),
            );
        }
    }
    let points = columns(&values, first, last, (right - LEFT) as usize);
    let mut path = String::new();
    for (k, (f, v)) in points.iter().enumerate() {
        let _ = write!(path, "{}{:.2},{:.2}", if k == 0 { "M" } else { " L" }, x(*f), y(*v));
    }
    if points.len() == 1 {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.2}" cy="{:.2}" r="2.5" fill="{}"/>"##,
            x(points[0].0),
            y(points[0].1),
            p.color
        );
    }
    let _ = writeln!(
        s,
        r##"<path class="series" data-points="{}" d="{path}" fill="none" stroke="{}" stroke-width="1.5" stroke-linejoin="round"/>"##,
        points.len(),
        p.color
    );
    if p.main {
        let worst = worst_frames(&report.scores, p.metric, WORST_MARKED);
        let list: Vec<String> = worst.iter().map(|(f, v)| format!("{f} ({})", label(*v))).collect();
        if !list.is_empty() {
            let _ = writeln!(
                s,
                r##"<text x="{right:.1}" y="{:.1}" text-anchor="end" fill="#d00000">worst frames: {}</text>"##,
                p.top - 8.0,
                list.join(", ")
            );
        }
        for (rank, (frame, v)) in worst.into_iter().enumerate() {
            let (cx, cy) = (x(frame), y(v));
            let _ = writeln!(
                s,
                r##"<g class="worst" data-frame="{frame}"><circle cx="{cx:.2}" cy="{cy:.2}" r="5" fill="none" stroke="#d00000" stroke-width="2"/><text x="{cx:.2}" y="{:.2}" text-anchor="middle" font-size="10" fill="#d00000">{}</text></g>"##,
                cy + 17.0,
                rank + 1,
            );
        }
    }
    s.push_str("</g>\n");
}

/// The last component of a path or URL, for a title.
fn file_name(s: &str) -> &str {
    let s = s.split(['?', '#']).next().unwrap_or(s);
    s.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ReportInfo;
    use crate::scores::{FrameScore, Scores};

    fn report(values: &[f64], psnr: bool) -> Report {
        let metrics = if psnr { vec!["vmaf".to_string(), "psnr_y".to_string()] } else { vec!["vmaf".into()] };
        let frames = values
            .iter()
            .enumerate()
            .map(|(i, v)| FrameScore {
                frame_num: i as u64,
                values: if psnr { vec![*v, 30.0 + *v / 10.0] } else { vec![*v] },
            })
            .collect();
        Report {
            info: ReportInfo {
                reference: "/clips/ref <1>.y4m".into(),
                distorted: "https://h/b/dist.mp4?X-Amz-Signature=s".into(),
                model: "vmaf_v0.6.1".into(),
                score_metric: "vmaf".into(),
                headline: metrics.clone(),
                width: 64,
                height: 48,
                pix_fmt: "yuv420p".into(),
                distorted_scaled_from: None,
                subsample: 1,
                skip_reference: 0,
                skip_distorted: 0,
                libvmaf_version: "3".into(),
                decoders: vec![],
                elapsed_s: 1.0,
                notes: vec![],
            },
            scores: Scores { metrics, frames, notes: vec![] },
        }
    }

    #[test]
    fn a_window_has_one_point_per_frame_until_it_must_bucket() {
        let r = report(&(0..20_000).map(|i| 50.0 + (i % 97) as f64 / 10.0).collect::<Vec<_>>(), false);
        let all = window(&r.scores, 100, 9_099, WINDOW_POINTS, &[]);
        assert!(!all.bucketed);
        assert_eq!(all.metrics[0].1.len(), 9_000);
        assert_eq!(all.metrics[0].1[0].0, 100);
        let wide = window(&r.scores, 0, 19_999, WINDOW_POINTS, &["vmaf".into()]);
        assert!(wide.bucketed);
        assert!(wide.metrics[0].1.len() <= WINDOW_POINTS, "{}", wide.metrics[0].1.len());
        // No bucket hides the lowest value.
        let lowest = wide.metrics[0].1.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        assert_eq!(lowest, 50.0);
    }

    #[test]
    fn one_point_per_frame_and_the_worst_frames_marked() {
        let values: Vec<f64> = (0..48).map(|i| if i == 17 { 40.0 } else { 90.0 + (i % 5) as f64 }).collect();
        let svg = svg(&report(&values, true));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
        assert!(svg.contains(r#"data-metric="vmaf""#) && svg.contains(r#"data-metric="psnr_y""#));
        assert_eq!(svg.matches(r#"data-points="48""#).count(), 2, "{svg}");
        assert!(svg.contains(r#"<g class="worst" data-frame="17">"#), "{svg}");
        assert!(svg.contains("worst frames: 17 (40.00), 0 (90.00), 5 (90.00)"), "{svg}");
        assert_eq!(svg.matches(r#"class="worst""#).count(), WORST_MARKED);
        // The title names the files, escaped, without a URL's signature.
        assert!(svg.contains("dist.mp4 vs ref &lt;1&gt;.y4m"), "{svg}");
        assert!(!svg.contains("Signature"));
    }

    #[test]
    fn long_runs_keep_each_columns_extremes() {
        let values: Vec<(u64, f64)> =
            (0..100_000u64).map(|i| (i, if i == 54_321 { 3.0 } else { 80.0 + (i % 7) as f64 })).collect();
        let pts = columns(&values, 0, 99_999, 900);
        assert!(pts.len() <= 900 * 4, "{}", pts.len());
        assert!(pts.contains(&(54_321, 3.0)), "the drop survives bucketing");
        assert!(pts.iter().any(|p| p.1 == 86.0) && pts.windows(2).all(|w| w[0].0 < w[1].0));
        // Few values: every one of them.
        assert_eq!(columns(&values[..10], 0, 9, 900), values[..10].to_vec());
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(100.0, 5.0), 20.0);
        assert_eq!(tick_step(47.0, 10.0), 5.0);
        assert_eq!(tick_step(0.03, 3.0), 0.01);
    }

    #[test]
    fn a_single_frame_and_missing_values_still_plot() {
        let svg = svg(&report(&[f64::NAN, 75.0, f64::NAN], false));
        assert!(svg.contains(r#"data-points="1""#), "{svg}");
        assert!(svg.contains("worst frames: 1 (75.00)"), "{svg}");
        assert!(!svg.contains("NaN"), "{svg}");
    }
}
