//! Training triples: what a node measured of one frame — the model's inputs (features by
//! name), the true score (full VMAF), and where it came from — one JSON object per line.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The longest line read (a triple is a few hundred bytes; a longer line is refused).
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triple {
    /// The model's inputs for this frame, by feature name.
    pub features: BTreeMap<String, f64>,
    /// The truth: full VMAF of this frame.
    pub vmaf: f64,
    pub meta: Meta,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The clip pair the frame belongs to (the holdout keeps whole clips apart).
    pub clip: String,
    pub frame: u64,
    /// How many times smaller each way the features' frames were (0: not recorded).
    #[serde(default)]
    pub downscale: u32,
    /// The centre `1/crop` of each frame the features were measured on (0 or 1: the whole
    /// frame; triples from before crops were recorded read 0).
    #[serde(default)]
    pub crop: u32,
    #[serde(default)]
    pub job: Option<String>,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub codec: Option<String>,
}

impl Triple {
    /// This triple's row for `features` (in that order); `None` when one is missing or not
    /// finite, or the truth is not a VMAF value.
    pub fn row(&self, features: &[String]) -> Option<Vec<f32>> {
        if !(self.vmaf.is_finite() && (-1.0..=101.0).contains(&self.vmaf)) {
            return None;
        }
        features
            .iter()
            .map(|f| self.features.get(f).copied().filter(|v| v.is_finite()).map(|v| v as f32))
            .collect()
    }

    /// Whether this triple's clip is kept aside for the holdout: a fixed share of clips,
    /// chosen by a hash of the clip's name (the same on every run and machine).
    pub fn in_holdout(&self, percent: u32) -> bool {
        fnv1a(self.meta.clip.as_bytes()) % 100 < u64::from(percent)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Reads NDJSON triples from `path`; a bad line is an error naming its number.
pub fn read(path: &Path) -> Result<Vec<Triple>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > MAX_LINE {
            return Err(format!("{} line {}: longer than {MAX_LINE} bytes", path.display(), i + 1));
        }
        out.push(serde_json::from_str(&line).map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_feature_order_and_skip_incomplete_frames() {
        let t = Triple {
            features: [("a".to_string(), 1.0), ("b".to_string(), 2.0)].into(),
            vmaf: 90.0,
            meta: Meta { clip: "c".into(), ..Meta::default() },
        };
        assert_eq!(t.row(&["b".into(), "a".into()]), Some(vec![2.0, 1.0]));
        assert_eq!(t.row(&["c".into()]), None);
        assert_eq!(Triple { vmaf: f64::NAN, ..t.clone() }.row(&["a".into()]), None);
        // The holdout is by clip, stable, and about the share asked for.
        let held = (0..1000)
            .filter(|i| {
                Triple { meta: Meta { clip: format!("clip{i}"), ..Meta::default() }, ..t.clone() }
                    .in_holdout(20)
            })
            .count();
        assert!((150..250).contains(&held), "{held}");
        assert_eq!(t.in_holdout(20), t.clone().in_holdout(20));
    }
}
