//! vmafx as MCP tools: an agent scores videos, runs and watches cluster jobs, and tunes
//! encoders by calling tools, and gets the same numbers a person gets from the CLI.
//!
//! Scoring runs on the local engine, or as a job on the controller when one is configured.
//! Every path an agent passes is checked against the allowed roots before anything opens it.
//! Failures come back as tool errors (`isError: true`) whose text says what is wrong; the
//! server keeps serving.

mod cluster;
mod tools;

use std::path::PathBuf;

pub use cluster::Cluster;
pub use tools::Vmafx;

/// How the server runs its tools.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Directories whose files the tools may read.
    pub roots: vmafx_media::AllowedRoots,
    /// Where `crf_search` and `ladder` cache their encodes.
    pub cache_dir: PathBuf,
    /// libvmaf threads for local scoring.
    pub threads: u32,
}

impl Settings {
    /// `path` resolved and checked: it must exist and lie under an allowed root. The error
    /// names the argument and says what to do.
    pub fn check_path(&self, arg: &str, path: &str) -> Result<PathBuf, String> {
        self.roots.check(arg, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_roots_and_missing_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("a.y4m");
        std::fs::write(&inside, b"x").unwrap();
        let s = Settings {
            roots: vmafx_media::AllowedRoots::new(&[dir.path().into()]).unwrap(),
            cache_dir: dir.path().into(),
            threads: 1,
        };
        assert!(s.check_path("reference", inside.to_str().unwrap()).is_ok());
        let err = s.check_path("reference", "/etc/hostname").unwrap_err();
        assert!(err.contains("outside the allowed roots"), "{err}");
        let err = s.check_path("distorted", &dir.path().join("nope.mp4").display().to_string()).unwrap_err();
        assert!(err.starts_with("distorted `") && err.ends_with("no such file"), "{err}");
        // A way out through `..` is resolved before the check.
        let sneaky = format!("{}/../../etc/hostname", dir.path().display());
        assert!(s.check_path("reference", &sneaky).unwrap_err().contains("outside"));
    }
}
