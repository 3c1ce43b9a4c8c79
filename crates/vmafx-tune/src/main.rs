//! `vmafx-tune`: the command line over the tuning library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use vmafx_media::Tools;
use vmafx_tune::hull::RungRules;
use vmafx_tune::{
    bdrate, encoder, output, parse_crfs, parse_resolution, CrfSearch, EncodeSettings, LadderRequest,
    LocalRunner, Pool, Runner as _, Scoring, TuneError,
};

#[derive(Debug, Parser)]
#[command(
    name = "vmafx-tune",
    version,
    about = "Tune encoders with measured quality: the CRF that hits a target score, per-title bitrate ladders, BD-rate",
    after_help = "Examples:\n  \
        vmafx-tune crf-search --source title.y4m --encoder libx264 --target-vmaf 95\n  \
        vmafx-tune crf-search --source film.mkv --encoder libsvtav1 --target-vmaf 93 --samples 6 --sample-seconds 4\n  \
        vmafx-tune ladder --source title.y4m --encoder libx264 --resolutions 1920x1080,1280x720,640x360 --auto -o ladder/\n  \
        vmafx-tune bd-rate x264/ladder.json svtav1/ladder.json\n\n\
        Encodes are cached (see --cache-dir): running again re-encodes nothing."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find the highest CRF (smallest file) whose score reaches a target.
    CrfSearch(Box<CrfArgs>),
    /// Build a per-title bitrate ladder from the rate–quality convex hull.
    Ladder(Box<LadderArgs>),
    /// Bjøntegaard delta rate and score between two ladders or curves (JSON).
    BdRate(BdArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The source as given, and where this machine reads it.
struct Source {
    given: vmafx_core::InputUri,
    /// A path, a URL, a presigned URL or an rclone location.
    at: PathBuf,
    /// The object's version, when its store has one.
    version: Option<String>,
    /// The rclone servers reading an `rclone:` source, while the run lasts.
    _rclone: Option<std::sync::Arc<vmafx_storage::Rclone>>,
}

/// What every encoding command shares.
#[derive(Debug, Args)]
struct Common {
    /// The source video (the reference every encode is scored against): a path, or a URI
    /// read with no copy on disk (`https://`, `s3://B/K`, `gs://B/O`, `az://C/B` with your
    /// own credentials, `rclone:REMOTE:PATH` with your rclone.conf). Encodes (and sample
    /// excerpts) go to the cache. With --controller, the controller reads a URI for its nodes.
    #[arg(long, short = 's', value_name = "FILE|URI")]
    source: String,
    /// ffmpeg encoder: libx264, libx265, libsvtav1, libaom-av1, libvpx-vp9.
    #[arg(long, short = 'e', default_value = "libx264")]
    encoder: String,
    /// Speed preset (x264/x265/SVT-AV1 `-preset`, libaom/libvpx `-cpu-used`).
    #[arg(long)]
    preset: Option<String>,
    /// Extra encoder option as KEY=VALUE, passed to ffmpeg as `-KEY VALUE` (repeatable),
    /// e.g. --enc tune=film --enc x264-params=aq-mode=3.
    #[arg(long = "enc", value_name = "KEY=VALUE")]
    enc: Vec<String>,
    /// VMAF model used for scoring.
    #[arg(long, default_value = "vmaf_v0.6.1")]
    model: String,
    /// Metric to optimise: vmaf, or a feature output such as psnr_y, float_ssim, float_ms_ssim.
    #[arg(long, default_value = "vmaf")]
    metric: String,
    /// How per-frame scores become one number.
    #[arg(long, value_enum, default_value = "mean")]
    pool: Pool,
    /// Encode-and-score runs at once: a probe's samples, a ladder's points. Two keep both
    /// cores of a small machine busy while one run starts or drains its encoder; the runs at
    /// once share libvmaf's threads (one per core).
    #[arg(long, short = 'j', default_value_t = 2)]
    jobs: usize,
    /// Where encodes and their scores are cached [default: $XDG_CACHE_HOME/vmafx-tune].
    #[arg(long, env = "VMAFX_TUNE_CACHE")]
    cache_dir: Option<PathBuf>,
    /// text (default) or json on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// No progress lines on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Run every encode-and-score as a job on this controller (e.g. https://127.0.0.1:50051,
    /// a `vmafx up`); the nodes must see a local --source at the same path (a URI --source is
    /// read by the controller's rules: its `--allow-input`).
    #[arg(long, env = "VMAFX_CONTROLLER")]
    controller: Option<String>,
    /// Admin token for --controller [default: $VMAFX_DATA_DIR/admin.token or ./vmafx-data/admin.token].
    #[arg(long, env = "VMAFX_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The CA certificate (PEM) that signed the controller's [default: $VMAFX_DATA_DIR/tls/ca.pem
    /// or ./vmafx-data/tls/ca.pem, where the controller makes one].
    #[arg(long, env = "VMAFX_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// ffmpeg binary that encodes (and decodes for scoring), e.g. another build with more
    /// encoders; a cluster's nodes use their own (`vmafx-node --ffmpeg`).
    #[arg(long, env = "VMAFX_FFMPEG", default_value = "ffmpeg")]
    ffmpeg: PathBuf,
    /// ffprobe binary that inspects the source and encodes.
    #[arg(long, env = "VMAFX_FFPROBE", default_value = "ffprobe")]
    ffprobe: PathBuf,
}

#[derive(Debug, Args)]
struct CrfArgs {
    #[command(flatten)]
    common: Common,
    /// The score to reach (for --metric; VMAF by default).
    #[arg(long, visible_alias = "target")]
    target_vmaf: f64,
    /// Search on N evenly spread samples instead of the whole source...
    #[arg(long, default_value_t = 0)]
    samples: u64,
    /// ...of this many seconds each.
    #[arg(long, default_value_t = 3.0)]
    sample_seconds: f64,
    /// Give up after this many probes (each an encode and a score).
    #[arg(long, default_value_t = 12)]
    max_probes: usize,
    /// Lowest CRF (best quality) the search may try [default: the encoder's range].
    #[arg(long)]
    min_crf: Option<f64>,
    /// Highest CRF (smallest file) the search may try [default: the encoder's range].
    #[arg(long)]
    max_crf: Option<f64>,
    /// Precision of the answer: the next CRF up by this step misses the target [default: 0.1
    /// for libx264 and libx265, which take fractional CRFs; 0.25 for libsvtav1 when this
    /// ffmpeg's SVT-AV1 is 4.0 or later (quarter steps); 1 for the others].
    #[arg(long, value_name = "STEP")]
    crf_step: Option<f64>,
}

#[derive(Debug, Args)]
struct LadderArgs {
    #[command(flatten)]
    common: Common,
    /// Resolutions to encode at, WxH, comma-separated; none may exceed the source
    /// [default: those of 1920x1080,1280x720,960x540,640x360 that fit the source].
    #[arg(long, value_delimiter = ',')]
    resolutions: Vec<String>,
    /// Quality points: a list `18,23,28` or a lattice `START:END:STEP` [default: the encoder's].
    #[arg(long)]
    crfs: Option<String>,
    /// Choose quality points adaptively from the --crfs lattice, where the hull changes.
    #[arg(long)]
    auto: bool,
    /// Rungs wanted.
    #[arg(long, default_value_t = 6)]
    rungs: usize,
    /// Each rung's bitrate at least this many times the one below.
    #[arg(long, default_value_t = 1.5)]
    min_gap_ratio: f64,
    /// No rung scores above this.
    #[arg(long)]
    max_vmaf: Option<f64>,
    /// Write ladder.json, master.m3u8, ladder.svg and each rung's encode (WxH_crfN.mkv; not
    /// with --controller) here: a local directory, or an object-store prefix
    /// (s3://BUCKET/PREFIX, gs://…, az://…) written with your credentials.
    #[arg(long, short = 'o', value_name = "DIR|URI", value_parser = vmafx_storage::OutputDir::parse)]
    output_dir: Option<vmafx_storage::OutputDir>,
}

#[derive(Debug, Args)]
struct BdArgs {
    /// The anchor: a ladder JSON (its hull is used) or `[{"bitrate_kbps", "score"}, ...]`.
    anchor: PathBuf,
    /// The curve compared with the anchor.
    test: PathBuf,
    /// Output: text, or json.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", vmafx_core::one_statement(e.as_ref()));
            let bad = e.downcast_ref::<TuneError>().is_some_and(TuneError::is_bad_input);
            ExitCode::from(if bad { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::CrfSearch(a) => crf_search(*a),
        Command::Ladder(a) => ladder(*a),
        Command::BdRate(a) => bd_rate(a),
    }
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    TuneError::Usage(msg.into()).into()
}

impl Common {
    fn settings(&self) -> anyhow::Result<EncodeSettings> {
        let encoder = encoder(&self.encoder).map_err(usage)?;
        let extra = self
            .enc
            .iter()
            .map(|kv| {
                let (k, v) =
                    kv.split_once('=').ok_or_else(|| usage(format!("--enc `{kv}`: expected KEY=VALUE")))?;
                Ok((k.trim().to_string(), v.trim().to_string()))
            })
            .collect::<anyhow::Result<_>>()?;
        let settings = EncodeSettings { encoder, preset: self.preset.clone(), extra };
        settings.check_options(&self.tools())?;
        Ok(settings)
    }

    /// The encode settings, checked ([`Self::settings`]) while `runner` asks what the first
    /// encode needs ([`LocalRunner::prepare`]): both are ffmpeg runs and file reads that wait
    /// on nothing of each other.
    fn settings_prepared(&self, runner: &LocalRunner, source: &Source) -> anyhow::Result<EncodeSettings> {
        std::thread::scope(|s| {
            if let Ok(e) = encoder(&self.encoder) {
                s.spawn(move || runner.prepare(&source.at, e));
            }
            self.settings()
        })
    }

    fn tools(&self) -> Tools {
        Tools::new(self.ffmpeg.clone(), self.ffprobe.clone())
    }

    fn scoring(&self) -> anyhow::Result<Scoring> {
        if !vmafx_core::catalog::model_names().contains(&self.model) {
            return Err(usage(format!(
                "unknown model `{}`; built-in models: {}",
                self.model,
                vmafx_core::catalog::model_names().join(", ")
            )));
        }
        let known = self.metric == "vmaf"
            || vmafx_core::catalog::FEATURES.iter().any(|f| f.outputs.contains(&self.metric.as_str()));
        if !known {
            return Err(usage(format!(
                "unknown metric `{}`: use vmaf or a feature output (`vmafx features`)",
                self.metric
            )));
        }
        Ok(Scoring { model: self.model.clone(), metric: self.metric.clone(), pool: self.pool })
    }

    /// The source, located for reading here.
    fn source(&self) -> anyhow::Result<Source> {
        let given = vmafx_core::InputUri::parse(&self.source).map_err(|e| usage(format!("--source {e}")))?;
        if let vmafx_core::InputUri::Local(path) = &given {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(TuneError::Source { path, problem: "no such file".into() }.into());
            }
            return Ok(Source { at: path, given, version: None, _rclone: None });
        }
        let (mut located, rclone) =
            vmafx_storage::locate_for_user(std::slice::from_ref(&given)).map_err(|(_, e)| {
                match e.is_bad_input() {
                    true => anyhow::Error::from(TuneError::Usage(format!("--source {e}"))),
                    false => anyhow::anyhow!("--source {e}"),
                }
            })?;
        let located = located.remove(0);
        Ok(Source { at: PathBuf::from(located.at), given, version: located.version, _rclone: rclone })
    }

    fn runner(&self, source: &Source) -> anyhow::Result<LocalRunner> {
        let cache = match &self.cache_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
                .context("no cache directory: pass --cache-dir")?
                .join("vmafx-tune"),
        };
        let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
        let mut runner = LocalRunner::new(cache, self.tools(), cores);
        if let Some(version) = &source.version {
            // An object's URI and version name its bytes: no need to read them all to hash.
            runner = runner.with_source_version(&source.at, &source.given.to_string(), version);
        }
        let Some(controller) = &self.controller else { return Ok(runner) };
        let token = vmafx_client::find_token(vmafx_client::TokenKind::Admin, self.token.as_deref())
            .map_err(|e| usage(format!("--controller {controller}: {e}")))?;
        let mut remote = vmafx_tune::remote::Remote::connect(
            controller,
            &token,
            &vmafx_client::Tls::with_ca(self.ca.clone()),
        )?;
        if !matches!(source.given, vmafx_core::InputUri::Local(_)) {
            remote = remote.with_source(source.given.to_string());
        }
        if !self.quiet {
            // VMAFX_CONTROLLER may be exported for other tools: say where the work goes.
            eprintln!(
                "vmafx-tune: encoding and scoring as jobs on the cluster at {controller} \
                 (--controller or VMAFX_CONTROLLER; without it, everything runs here)"
            );
        }
        Ok(runner.with_remote(remote))
    }
}

fn crf_search(a: CrfArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let source = c.source()?;
    let runner = c.runner(&source)?;
    let settings = c.settings_prepared(&runner, &source)?;
    let samples = if a.samples > 0 {
        let fps = runner.source(&source.at)?.fps;
        Some((a.samples, ((a.sample_seconds * fps).round() as u64).max(1)))
    } else {
        None
    };
    let req = CrfSearch {
        source: source.at.clone(),
        settings,
        target: a.target_vmaf,
        scoring: c.scoring()?,
        samples,
        max_probes: a.max_probes,
        min_crf: a.min_crf,
        max_crf: a.max_crf,
        crf_step: a.crf_step,
        jobs: c.jobs,
    };
    let quiet = c.quiet;
    // `vmaf`, or `vmaf p5` when the search pools otherwise than by the mean.
    let metric = match c.pool {
        Pool::Mean => c.metric.clone(),
        pool => format!("{} {}", c.metric, pool.name()),
    };
    let answer = vmafx_tune::crf_search(&runner, &req, &|p| {
        if !quiet {
            eprintln!(
                "  CRF {:>2}: {metric} {:.3}, {:.0} kbit/s, encoded in {:.1} s{}",
                p.crf,
                p.score,
                p.bitrate_kbps,
                p.encode_seconds,
                if p.cached { " (cached)" } else { "" }
            );
        }
    })?;
    match c.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&answer)?),
        Format::Text => {
            println!(
                "CRF {} ({}): {} {:.2} (target {}), {:.0} kbit/s, predicted size {}{}",
                answer.crf,
                answer.encoder,
                metric,
                answer.score,
                answer.target,
                answer.bitrate_kbps,
                human_bytes(answer.predicted_bytes),
                if answer.sampled { " (from samples)" } else { "" }
            );
            println!(
                "  encode time at that CRF {:.1} s; {} probes",
                answer.encode_seconds,
                answer.probes.len()
            );
            match &answer.next {
                Some(n) if n.predicted => println!(
                    "  CRF {} misses it: {:.2} on the line between the probes either side (not encoded)",
                    n.crf, n.score
                ),
                Some(n) => println!("  CRF {} misses it: {:.2}", n.crf, n.score),
                None => {}
            }
            if !answer.exact {
                println!("  note: --max-probes stopped the search; a higher CRF may also reach the target");
            }
        }
    }
    Ok(())
}

/// `123 kB`, `4.5 MB`, `1.20 GB`.
fn human_bytes(n: u64) -> String {
    match n {
        0..1_000_000 => format!("{:.0} kB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}

fn ladder(a: LadderArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let source = c.source()?;
    let runner = c.runner(&source)?;
    let settings = c.settings_prepared(&runner, &source)?;
    let resolutions = a
        .resolutions
        .iter()
        .map(|r| parse_resolution(r).map_err(usage))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let crfs = match &a.crfs {
        Some(s) => parse_crfs(s).map_err(|e| usage(format!("--crfs: {e}")))?,
        None if a.auto => {
            // The lattice auto chooses from: every other CRF across the default grid's span.
            let g = settings.encoder.ladder_crfs;
            (g[0]..=g[g.len() - 1]).step_by(2).collect()
        }
        None => settings.encoder.ladder_crfs.to_vec(),
    };
    let req = LadderRequest {
        source: source.at.clone(),
        settings,
        resolutions,
        crfs,
        auto: a.auto,
        rules: RungRules { rungs: a.rungs, min_gap_ratio: a.min_gap_ratio, max_score: a.max_vmaf },
        scoring: c.scoring()?,
        jobs: c.jobs,
    };
    let quiet = c.quiet;
    let mut ladder = vmafx_tune::ladder(&runner, &req, &|p| {
        if !quiet {
            eprintln!(
                "  {}x{} CRF {:>2}: {:.3}, {:.0} kbit/s",
                p.width, p.height, p.crf, p.score, p.bitrate_kbps
            );
        }
    })?;
    // Named as given: never a signed URL.
    ladder.source = source.given.to_string();
    let encodes_written = !runner.on_cluster();
    if let Some(dir) = &a.output_dir {
        if !encodes_written && !c.quiet {
            eprintln!("vmafx-tune: the rungs' encodes were made on the cluster's nodes, which keep none: -o gets the ladder files only");
        }
        let files = output::ladder_files(&runner, &req, &ladder)?;
        dir.write(&files).map_err(anyhow::Error::msg)?;
    }
    match c.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&ladder)?),
        Format::Text => {
            println!(
                "{} rungs from {} encodes ({} on the hull):",
                ladder.rungs.len(),
                ladder.encodes,
                ladder.hull.len()
            );
            for r in ladder.rungs.iter().rev() {
                println!(
                    "  {:>4}x{:<4} CRF {:>2}  {:>8.0} kbit/s  {} {:.2}",
                    r.width, r.height, r.crf, r.bitrate_kbps, ladder.metric, r.score
                );
            }
            if let Some(dir) = &a.output_dir {
                let encodes = if encodes_written { " and the rungs' encodes" } else { "" };
                println!("wrote ladder.json, master.m3u8, ladder.svg{encodes} to {dir}");
            }
        }
    }
    Ok(())
}

/// Reads a curve: a ladder's hull, or a list of `{bitrate_kbps, score}`.
fn read_curve(path: &Path) -> anyhow::Result<Vec<(f64, f64)>> {
    let bad = |m: String| TuneError::Source { path: path.to_path_buf(), problem: m };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let list = v.get("hull").or(v.get("points")).unwrap_or(&v);
    let list = list
        .as_array()
        .ok_or_else(|| bad("expected a ladder JSON or a list of {bitrate_kbps, score}".into()))?;
    list.iter()
        .map(|p| {
            let num = |k: &str| p.get(k).and_then(|x| x.as_f64());
            match (num("bitrate_kbps").or(num("bitrate")), num("score").or(num("vmaf"))) {
                (Some(r), Some(s)) => Ok((r, s)),
                _ => Err(bad(format!("point {p} has no bitrate_kbps and score")).into()),
            }
        })
        .collect()
}

fn bd_rate(a: BdArgs) -> anyhow::Result<()> {
    let (anchor, test) = (read_curve(&a.anchor)?, read_curve(&a.test)?);
    let r = bdrate::bd(&anchor, &test).map_err(|e| usage(e.to_string()))?;
    let (anchor_path, test_path) = (a.anchor.display(), a.test.display());
    let (slo, shi) = r.score_overlap;
    let (rlo, rhi) = r.rate_overlap;
    match a.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "anchor": anchor_path.to_string(),
                "test": test_path.to_string(),
                "bd_rate_percent": r.rate_percent,
                "bd_score": r.score_delta,
                "overlap": {"score": [slo, shi], "bitrate_kbps": [rlo, rhi]},
            })
        ),
        Format::Text => {
            println!("{test_path} against the anchor {anchor_path}:");
            println!(
                "BD-rate  {:+.2} %  ({} the bitrate for the same quality, over scores {slo:.2} to {shi:.2})",
                r.rate_percent,
                if r.rate_percent <= 0.0 { "saves" } else { "costs" }
            );
            println!(
                "BD-score {:+.3}    (at the same bitrate, over {rlo:.0} to {rhi:.0} kbit/s)",
                r.score_delta
            );
        }
    }
    Ok(())
}

#[cfg(test)]
vmafx_logging::every_flag_has_help_text!(Cli);
