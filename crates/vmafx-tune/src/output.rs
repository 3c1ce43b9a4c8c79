//! What a ladder is written as besides JSON: an HLS master playlist skeleton and an SVG plot
//! of the rate–quality curves with the hull and the rungs.

use std::fmt::Write as _;

use crate::hull::Point;
use crate::{Ladder, Runner as _};

/// An HLS master playlist with one variant per rung, top rung first. `BANDWIDTH` is the
/// measured average bitrate; variant URIs follow `{W}x{H}_crf{CRF}/index.m3u8`.
pub fn hls_master(ladder: &Ladder) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    let _ = writeln!(
        out,
        "## vmafx-tune ladder for {} ({}), {} rungs",
        ladder.source,
        ladder.encoder,
        ladder.rungs.len()
    );
    for r in ladder.rungs.iter().rev() {
        let bandwidth = (r.bitrate_kbps * 1000.0).round() as u64;
        let _ = writeln!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},AVERAGE-BANDWIDTH={bandwidth},RESOLUTION={}x{}",
            r.width, r.height
        );
        let _ = writeln!(out, "{}x{}_crf{}/index.m3u8", r.width, r.height, r.crf);
    }
    out
}

/// A ladder's output files: `ladder.json`, `master.m3u8`, `ladder.svg` and each rung's
/// encode from `runner`'s cache (`WxH_crfN.mkv`), unless the runner is on a cluster, whose
/// nodes keep no encodes.
pub fn ladder_files(
    runner: &crate::LocalRunner,
    req: &crate::LadderRequest,
    ladder: &Ladder,
) -> Result<Vec<(String, vmafx_storage::OutputFile)>, crate::TuneError> {
    use vmafx_storage::OutputFile;
    let json = serde_json::to_vec_pretty(ladder).map_err(|e| crate::TuneError::Remote(e.to_string()))?;
    let mut files = vec![
        ("ladder.json".to_string(), OutputFile::Bytes(json)),
        ("master.m3u8".to_string(), OutputFile::Bytes(hls_master(ladder).into_bytes())),
        ("ladder.svg".to_string(), OutputFile::Bytes(svg_plot(ladder).into_bytes())),
    ];
    if !runner.on_cluster() {
        let info = runner.source(&req.source)?;
        for r in &ladder.rungs {
            let size = ((r.width, r.height) != (info.width, info.height)).then_some((r.width, r.height));
            let trial = req.settings.trial(&req.source, r.crf as f64, size, None);
            if let Some(path) = runner.run(&trial, &info, &req.scoring, 1)?.path {
                files.push((rung_file_name(r), OutputFile::Copy(path)));
            }
        }
    }
    Ok(files)
}

/// The file a rung's encode is written as: `1280x720_crf28.mkv`.
pub fn rung_file_name(rung: &Point) -> String {
    format!("{}x{}_crf{}.mkv", rung.width, rung.height, rung.crf)
}

const W: f64 = 800.0;
const H: f64 = 500.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 60.0;
const COLOURS: &[&str] = &["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];

/// An SVG plot: score against bitrate (log scale), one curve per resolution, the hull as a
/// thick grey line, the rungs as circled points with their labels.
pub fn svg_plot(ladder: &Ladder) -> String {
    let pts = &ladder.points;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    if pts.is_empty() {
        out.push_str("</svg>\n");
        return out;
    }
    let (rmin, rmax) =
        pts.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.bitrate_kbps), hi.max(p.bitrate_kbps)));
    let (smin, smax) =
        pts.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.score), hi.max(p.score)));
    let (lr0, lr1) = ((rmin * 0.9).log10(), (rmax * 1.1).log10());
    let (s0, s1) = ((smin - 2.0).floor(), (smax + 2.0).ceil());
    let x = |r: f64| LEFT + (r.log10() - lr0) / (lr1 - lr0) * (W - LEFT - RIGHT);
    let y = |s: f64| H - BOTTOM - (s - s0) / (s1 - s0) * (H - TOP - BOTTOM);
    // Axes, ticks and labels.
    let _ = writeln!(
        out,
        r##"<g stroke="#444" fill="none"><path d="M{LEFT},{TOP} V{} H{}"/></g>"##,
        H - BOTTOM,
        W - RIGHT
    );
    let mut decade = 10f64.powf(lr0.floor());
    while decade <= 10f64.powf(lr1) {
        for m in [1.0, 2.0, 5.0] {
            let r = decade * m;
            if r.log10() >= lr0 && r.log10() <= lr1 {
                let _ = writeln!(
                    out,
                    r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="#ddd"/><text x="{0:.1}" y="{3}" text-anchor="middle">{4}</text>"##,
                    x(r),
                    TOP,
                    H - BOTTOM,
                    H - BOTTOM + 16.0,
                    r
                );
            }
        }
        decade *= 10.0;
    }
    // A round tick step giving about 8 ticks, starting on a multiple of it.
    let step =
        [1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0].into_iter().find(|st| (s1 - s0) / st <= 8.0).unwrap_or(100.0);
    let mut s = (s0 / step).ceil() * step;
    while s <= s1 {
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{s}</text>"##,
            y(s),
            W - RIGHT,
            LEFT - 6.0,
            y(s) + 4.0
        );
        s += step;
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">bitrate (kbit/s, log scale)</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 20.0
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(18,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (TOP + H - BOTTOM) / 2.0,
        vmafx_core::report::xml_escape(&ladder.metric)
    );
    // One curve per resolution, in CRF order.
    let mut sizes: Vec<(u32, u32)> = pts.iter().map(|p| (p.width, p.height)).collect();
    sizes.sort_by_key(|&(w, h)| std::cmp::Reverse(w * h));
    sizes.dedup();
    for (k, &(w, h)) in sizes.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut mine: Vec<&Point> = pts.iter().filter(|p| (p.width, p.height) == (w, h)).collect();
        mine.sort_by(|a, b| a.bitrate_kbps.total_cmp(&b.bitrate_kbps));
        let path: Vec<String> =
            mine.iter().map(|p| format!("{:.1},{:.1}", x(p.bitrate_kbps), y(p.score))).collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/>"#,
            path.join(" ")
        );
        for p in &mine {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"><title>{}x{} CRF {}: {:.0} kbit/s, {:.2}</title></circle>"#,
                x(p.bitrate_kbps),
                y(p.score),
                p.width,
                p.height,
                p.crf,
                p.bitrate_kbps,
                p.score
            );
        }
        let ly = TOP + 20.0 * k as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{0}" y1="{ly}" x2="{1}" y2="{ly}" stroke="{colour}" stroke-width="2"/><text x="{2}" y="{3}">{w}x{h}</text>"#,
            W - RIGHT + 15.0,
            W - RIGHT + 35.0,
            W - RIGHT + 40.0,
            ly + 4.0
        );
    }
    let hull: Vec<String> =
        ladder.hull.iter().map(|p| format!("{:.1},{:.1}", x(p.bitrate_kbps), y(p.score))).collect();
    let _ = writeln!(
        out,
        r##"<polyline fill="none" stroke="#000" stroke-opacity="0.35" stroke-width="5" points="{}"/>"##,
        hull.join(" ")
    );
    let ly = TOP + 20.0 * sizes.len() as f64;
    let _ = writeln!(
        out,
        r##"<line x1="{0}" y1="{ly}" x2="{1}" y2="{ly}" stroke="#000" stroke-opacity="0.35" stroke-width="5"/><text x="{2}" y="{3}">convex hull</text>"##,
        W - RIGHT + 15.0,
        W - RIGHT + 35.0,
        W - RIGHT + 40.0,
        ly + 4.0
    );
    for r in &ladder.rungs {
        let (cx, cy) = (x(r.bitrate_kbps), y(r.score));
        // Labels go right of the point, or left of it near the right edge.
        let (tx, anchor) = if cx > W - RIGHT - 110.0 { (cx - 10.0, "end") } else { (cx + 9.0, "start") };
        let _ = writeln!(
            out,
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="7" fill="none" stroke="#000" stroke-width="2"/><text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}">{}p CRF {}</text>"##,
            cy + 16.0,
            r.height,
            r.crf
        );
    }
    let ly = TOP + 20.0 * (sizes.len() + 1) as f64;
    let _ = writeln!(
        out,
        r##"<circle cx="{0}" cy="{ly}" r="6" fill="none" stroke="#000" stroke-width="2"/><text x="{1}" y="{2}">rung</text>"##,
        W - RIGHT + 25.0,
        W - RIGHT + 40.0,
        ly + 4.0
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pool;

    fn ladder() -> Ladder {
        let p = |w, h, crf, b, s| Point { width: w, height: h, crf, bitrate_kbps: b, score: s, args: vec![] };
        let points = vec![
            p(1280, 720, 20, 3000.0, 95.0),
            p(1280, 720, 30, 1000.0, 85.0),
            p(640, 360, 20, 900.0, 80.0),
            p(640, 360, 30, 300.0, 60.0),
        ];
        Ladder {
            source: "s.y4m".into(),
            encoder: "libx264".into(),
            metric: "vmaf".into(),
            pool: Pool::Mean,
            source_width: 1280,
            source_height: 720,
            hull: vec![points[3].clone(), points[1].clone(), points[0].clone()],
            rungs: vec![points[3].clone(), points[0].clone()],
            encodes: 4,
            points,
        }
    }

    #[test]
    fn playlist_lists_rungs_top_first() {
        let m = hls_master(&ladder());
        let lines: Vec<&str> = m.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines, ["1280x720_crf20/index.m3u8", "640x360_crf30/index.m3u8"]);
        assert!(m.contains("BANDWIDTH=3000000,") && m.contains("RESOLUTION=640x360"));
    }

    #[test]
    fn plot_is_well_formed_svg_with_every_point() {
        let svg = svg_plot(&ladder());
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<title>").count(), 4);
        assert_eq!(svg.matches(r#"r="7""#).count(), 2, "two rungs circled");
        assert!(svg.contains("640x360") && svg.contains("convex hull"));
    }
}
