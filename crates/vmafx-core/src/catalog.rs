//! What libvmaf can compute, by name: built-in models, feature extractors, and the names
//! under which extractors store their per-frame values.
//!
//! libvmaf has no API to enumerate models and extractors, so they are listed here from the
//! vendored source (libvmaf 3.2, `src/model.c`, `src/feature/*.c`, `src/feature/alias.c`).
//! Per-frame value names are not listed: the scorer reads them from libvmaf after scoring.

use std::path::PathBuf;

/// A built-in model: version string and what it is for.
pub struct BuiltinModel {
    pub name: &'static str,
    pub description: &'static str,
}

pub const DEFAULT_MODEL: &str = "vmaf_v0.6.1";

pub const BUILTIN_MODELS: &[BuiltinModel] = &[
    BuiltinModel {
        name: "vmaf_v0.6.1",
        description: "default: 1080p viewed at 3x the screen height (HD TV, laptop)",
    },
    BuiltinModel {
        name: "vmaf_v0.6.1neg",
        description:
            "no-enhancement-gain variant: penalises sharpening and contrast tricks (codec evaluation)",
    },
    BuiltinModel {
        name: "vmaf_b_v0.6.3",
        description: "bootstrapped: adds vmaf_bagging, vmaf_stddev and a 95 % confidence interval",
    },
    BuiltinModel { name: "vmaf_4k_v0.6.1", description: "4K TV viewed at 1.5x the screen height" },
    BuiltinModel { name: "vmaf_4k_v0.6.1neg", description: "4K no-enhancement-gain variant" },
    BuiltinModel {
        name: "vmaf_v1.0.16_3d0h",
        description: "v1.0.16, 1080p at 3x height (newer feature set)",
    },
    BuiltinModel { name: "vmaf_v1.0.16_3d0h_2160", description: "v1.0.16, 2160p at 3x height" },
    BuiltinModel {
        name: "vmaf_v1.0.16_5d0h",
        description: "v1.0.16, 1080p at 5x height (phone-like distance)",
    },
    BuiltinModel {
        name: "vmaf_float_v0.6.1",
        description: "v0.6.1 on floating-point features (slower, legacy)",
    },
    BuiltinModel { name: "vmaf_float_v0.6.1neg", description: "v0.6.1neg on floating-point features" },
    BuiltinModel { name: "vmaf_float_b_v0.6.3", description: "v0.6.3 bootstrapped, floating-point features" },
    BuiltinModel { name: "vmaf_float_4k_v0.6.1", description: "4K v0.6.1 on floating-point features" },
];

/// The model to score with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelChoice {
    /// A model compiled into libvmaf, by version (`vmaf_v0.6.1`).
    Builtin(String),
    /// A model JSON file.
    Path(PathBuf),
}

impl Default for ModelChoice {
    fn default() -> Self {
        ModelChoice::Builtin(DEFAULT_MODEL.into())
    }
}

impl ModelChoice {
    pub fn label(&self) -> String {
        match self {
            ModelChoice::Builtin(n) => n.clone(),
            ModelChoice::Path(p) => p.display().to_string(),
        }
    }
}

/// An extra feature extractor users can request with `--feature`.
pub struct Feature {
    /// libvmaf's extractor name.
    pub name: &'static str,
    pub description: &'static str,
    /// Names of the per-frame values it adds to the report, as libvmaf prints them.
    pub outputs: &'static [&'static str],
}

pub const FEATURES: &[Feature] = &[
    Feature { name: "psnr", description: "PSNR of Y, Cb and Cr", outputs: &["psnr_y", "psnr_cb", "psnr_cr"] },
    Feature { name: "float_ssim", description: "SSIM on luma", outputs: &["float_ssim"] },
    Feature { name: "float_ms_ssim", description: "multi-scale SSIM on luma", outputs: &["float_ms_ssim"] },
    Feature {
        name: "cambi",
        description: "CAMBI banding index (0 = no banding, higher is worse)",
        outputs: &["cambi"],
    },
    Feature {
        name: "ciede",
        description: "CIEDE2000 colour difference as 45 - 20*log10(mean dE00): higher is better",
        outputs: &["ciede2000"],
    },
    Feature {
        name: "psnr_hvs",
        description: "PSNR-HVS (contrast-sensitivity weighted)",
        outputs: &["psnr_hvs_y", "psnr_hvs_cb", "psnr_hvs_cr", "psnr_hvs"],
    },
    Feature { name: "float_psnr", description: "floating-point luma PSNR", outputs: &["float_psnr"] },
    Feature { name: "float_ansnr", description: "anti-noise SNR", outputs: &["float_ansnr"] },
    Feature {
        name: "float_moment",
        description: "first and second moments of both inputs",
        outputs: &[
            "float_moment_ref1st",
            "float_moment_dis1st",
            "float_moment_ref2nd",
            "float_moment_dis2nd",
        ],
    },
    Feature { name: "adm", description: "integer ADM (detail loss), as in VMAF", outputs: &["integer_adm2"] },
    Feature {
        name: "vif",
        description: "integer VIF (visual information fidelity), as in VMAF",
        outputs: &["integer_vif_scale0", "integer_vif_scale1", "integer_vif_scale2", "integer_vif_scale3"],
    },
    Feature {
        name: "motion",
        description: "integer temporal motion, as in VMAF",
        outputs: &["integer_motion2"],
    },
    Feature { name: "float_adm", description: "floating-point ADM", outputs: &["adm2"] },
    Feature {
        name: "float_vif",
        description: "floating-point VIF",
        outputs: &["vif_scale0", "vif_scale1", "vif_scale2", "vif_scale3"],
    },
    Feature { name: "float_motion", description: "floating-point motion", outputs: &["motion2"] },
];

/// Other spellings people use for a feature.
const FEATURE_ALIASES: &[(&str, &str)] = &[
    ("ssim", "float_ssim"),
    ("ms_ssim", "float_ms_ssim"),
    ("ms-ssim", "float_ms_ssim"),
    ("ciede2000", "ciede"),
    ("psnr-hvs", "psnr_hvs"),
];

/// Collector keys that libvmaf prints under a shorter name (`src/feature/alias.c`).
const OUTPUT_ALIASES: &[(&str, &str)] = &[
    ("VMAF_feature_adm2_score", "adm2"),
    ("VMAF_feature_aim_score", "aim"),
    ("VMAF_feature_adm3_score", "adm3"),
    ("VMAF_feature_adm_scale0_score", "adm_scale0"),
    ("VMAF_feature_adm_scale1_score", "adm_scale1"),
    ("VMAF_feature_adm_scale2_score", "adm_scale2"),
    ("VMAF_feature_adm_scale3_score", "adm_scale3"),
    ("VMAF_feature_motion_score", "motion"),
    ("VMAF_feature_motion2_score", "motion2"),
    ("VMAF_feature_motion3_score", "motion3"),
    ("VMAF_feature_vif_scale0_score", "vif_scale0"),
    ("VMAF_feature_vif_scale1_score", "vif_scale1"),
    ("VMAF_feature_vif_scale2_score", "vif_scale2"),
    ("VMAF_feature_vif_scale3_score", "vif_scale3"),
    ("VMAF_integer_feature_adm2_score", "integer_adm2"),
    ("VMAF_integer_feature_aim_score", "integer_aim"),
    ("VMAF_integer_feature_adm3_score", "integer_adm3"),
    ("VMAF_integer_feature_motion_score", "integer_motion"),
    ("VMAF_integer_feature_motion2_score", "integer_motion2"),
    ("VMAF_integer_feature_motion3_score", "integer_motion3"),
    ("VMAF_integer_feature_vif_scale0_score", "integer_vif_scale0"),
    ("VMAF_integer_feature_vif_scale1_score", "integer_vif_scale1"),
    ("VMAF_integer_feature_vif_scale2_score", "integer_vif_scale2"),
    ("VMAF_integer_feature_vif_scale3_score", "integer_vif_scale3"),
    ("Cambi_feature_cambi_score", "cambi"),
];

/// The name libvmaf prints for collector key `key`.
pub fn output_name(key: &str) -> &str {
    OUTPUT_ALIASES.iter().find(|(k, _)| *k == key).map(|(_, a)| *a).unwrap_or(key)
}

/// The collector key behind a printed name (the inverse of [`output_name`]).
pub fn collector_key(printed: &str) -> &str {
    OUTPUT_ALIASES.iter().find(|(_, a)| *a == printed).map(|(k, _)| *k).unwrap_or(printed)
}

/// Resolves a user's feature name (or one of its aliases) to the extractor.
pub fn feature(name: &str) -> Option<&'static Feature> {
    let lower = name.to_ascii_lowercase();
    let canonical = FEATURE_ALIASES.iter().find(|(a, _)| *a == lower).map(|(_, c)| *c).unwrap_or(&lower);
    FEATURES.iter().find(|f| f.name == canonical)
}

/// The metrics a text summary shows under the score: a bootstrapped model's interval, then
/// the requested features' values, each only if it was collected.
pub fn headline_metrics(features: &[String], collected: &[String]) -> Vec<String> {
    let bootstrap = ["vmaf_bagging", "vmaf_ci_p95_lo", "vmaf_ci_p95_hi"].into_iter();
    let requested = features.iter().filter_map(|f| feature(f)).flat_map(|f| f.outputs.iter().copied());
    let mut out: Vec<String> = Vec::new();
    for m in bootstrap.chain(requested) {
        if collected.iter().any(|c| c == m) && !out.iter().any(|o| o == m) {
            out.push(m.to_string());
        }
    }
    out
}

pub fn feature_names() -> Vec<String> {
    FEATURES.iter().map(|f| f.name.to_string()).collect()
}

pub fn model_names() -> Vec<String> {
    BUILTIN_MODELS.iter().map(|m| m.name.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_resolve_by_name_and_alias() {
        assert_eq!(feature("psnr").unwrap().name, "psnr");
        assert_eq!(feature("SSIM").unwrap().name, "float_ssim");
        assert_eq!(feature("ms_ssim").unwrap().name, "float_ms_ssim");
        assert!(feature("sharpness").is_none());
    }

    #[test]
    fn headline_lists_collected_interval_then_requested_features() {
        let collected: Vec<String> =
            ["vmaf", "psnr_y", "psnr_cb", "vmaf_bagging", "vmaf_ci_p95_lo", "vmaf_ci_p95_hi"]
                .map(String::from)
                .into();
        let features = vec!["psnr".to_string(), "PSNR".to_string(), "cambi".to_string()];
        let h = headline_metrics(&features, &collected);
        assert_eq!(h, ["vmaf_bagging", "vmaf_ci_p95_lo", "vmaf_ci_p95_hi", "psnr_y", "psnr_cb"]);
        assert!(headline_metrics(&[], &["vmaf".to_string()]).is_empty());
    }

    #[test]
    fn aliases_match_libvmaf_output_names() {
        assert_eq!(output_name("VMAF_integer_feature_adm2_score"), "integer_adm2");
        assert_eq!(output_name("Cambi_feature_cambi_score"), "cambi");
        assert_eq!(output_name("psnr_y"), "psnr_y");
        assert_eq!(collector_key("integer_vif_scale3"), "VMAF_integer_feature_vif_scale3_score");
        assert_eq!(collector_key("integer_adm2_egl_1"), "integer_adm2_egl_1");
    }

    #[test]
    fn issue_features_are_all_listed() {
        for f in ["psnr", "float_ssim", "float_ms_ssim", "cambi", "ciede", "psnr_hvs"] {
            assert!(feature(f).is_some(), "{f}");
        }
        assert!(model_names().contains(&DEFAULT_MODEL.to_string()));
    }
}

/// A model a user can name: a libvmaf built-in (`source` "builtin"), or a version of an ONNX
/// model in a model registry (`source` "registry": an estimate of VMAF by that model, named
/// `ID@VERSION`), as `/v1/models`, `vmafx models` and MCP's `list_models` show it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelInfo {
    /// What a job names: a built-in's name, or `ID@VERSION`.
    pub name: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The default built-in.
    #[serde(default)]
    pub default: bool,
    /// Registry models: `fr` or `nr`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Registry models: the features it takes, in input order, and the downscale of the
    /// frames they are measured on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub downscale: u32,
    /// Registry models: the centre `1/crop` of each frame the features are measured on.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub crop: u32,
    /// Registry models: the version nodes serve for the bare id (the newest, or the pinned).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub served: bool,
    /// Registry models: PLCC, SROCC and RMSE against full VMAF on the trainer's holdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<[f64; 3]>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The built-in models as [`ModelInfo`]s.
pub fn builtin_infos() -> Vec<ModelInfo> {
    BUILTIN_MODELS
        .iter()
        .map(|m| ModelInfo {
            name: m.name.into(),
            source: "builtin".into(),
            description: m.description.into(),
            default: m.name == DEFAULT_MODEL,
            ..ModelInfo::default()
        })
        .collect()
}
