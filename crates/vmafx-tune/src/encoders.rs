//! The encoders vmafx-tune drives through ffmpeg, with what it needs to know of each: the
//! quality scale (CRF range, where a search starts, a ladder's default grid), how a speed
//! preset is passed, and the arguments that put it in constant-quality mode.

/// An ffmpeg video encoder in constant-quality mode.
#[derive(Debug, PartialEq, Eq)]
pub struct Encoder {
    /// ffmpeg's name (`-c:v`).
    pub name: &'static str,
    pub crf_min: u32,
    pub crf_max: u32,
    /// A CRF near the middle of the useful range, where a search starts.
    pub start_crf: u32,
    /// The flag that takes `--preset`.
    pub preset_flag: &'static str,
    /// Preset used when none is given (`None`: the encoder's own default).
    pub default_preset: Option<&'static str>,
    /// Always passed: what makes `-crf` mean constant quality for this encoder.
    pub fixed_args: &'static [&'static str],
    /// A ladder's default quality points.
    pub ladder_crfs: &'static [u32],
    /// Takes a fractional CRF (x264 and x265 do; ffmpeg's libvpx and libaom wrappers and
    /// SVT-AV1 take whole numbers, so that 30.4 encodes exactly as 30).
    pub fractional: bool,
}

pub const ENCODERS: &[Encoder] = &[
    Encoder {
        name: "libx264",
        crf_min: 0,
        crf_max: 51,
        start_crf: 23,
        preset_flag: "-preset",
        default_preset: None,
        fixed_args: &[],
        ladder_crfs: &[18, 22, 26, 30, 34, 38],
        fractional: true,
    },
    Encoder {
        name: "libx265",
        crf_min: 0,
        crf_max: 51,
        start_crf: 28,
        preset_flag: "-preset",
        default_preset: None,
        fixed_args: &["-x265-params", "log-level=error"],
        ladder_crfs: &[20, 24, 28, 32, 36, 40],
        fractional: true,
    },
    Encoder {
        name: "libsvtav1",
        crf_min: 1,
        crf_max: 63,
        start_crf: 35,
        preset_flag: "-preset",
        default_preset: Some("8"),
        fixed_args: &[],
        ladder_crfs: &[24, 30, 36, 42, 48, 54],
        fractional: false,
    },
    Encoder {
        name: "libaom-av1",
        crf_min: 0,
        crf_max: 63,
        start_crf: 32,
        preset_flag: "-cpu-used",
        default_preset: Some("6"),
        fixed_args: &["-b:v", "0", "-row-mt", "1"],
        ladder_crfs: &[20, 27, 34, 41, 48, 55],
        fractional: false,
    },
    Encoder {
        name: "libvpx-vp9",
        crf_min: 0,
        crf_max: 63,
        start_crf: 32,
        preset_flag: "-cpu-used",
        default_preset: Some("4"),
        fixed_args: &["-b:v", "0", "-row-mt", "1", "-deadline", "good"],
        ladder_crfs: &[20, 27, 34, 41, 48, 55],
        fractional: false,
    },
];

/// The encoder called `name`, or a message listing the known ones.
pub fn encoder(name: &str) -> Result<&'static Encoder, String> {
    ENCODERS.iter().find(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = ENCODERS.iter().map(|e| e.name).collect();
        format!("unknown encoder `{name}`; supported: {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for e in ENCODERS {
            assert!(e.crf_min < e.start_crf && e.start_crf < e.crf_max, "{}", e.name);
            assert!(e.ladder_crfs.windows(2).all(|w| w[0] < w[1]), "{}", e.name);
            assert!(e.ladder_crfs.iter().all(|c| (e.crf_min..=e.crf_max).contains(c)), "{}", e.name);
        }
        assert_eq!(encoder("libx264").unwrap().crf_max, 51);
        assert!(encoder("h264_nvenc").unwrap_err().contains("libsvtav1"));
    }
}
