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
    /// Which remote inputs (object stores, web servers) tools may read, with this server's
    /// credentials; none by default.
    pub remote_inputs: std::sync::Arc<vmafx_storage::Resolver>,
    /// Where `ladder` may write its files; nowhere by default.
    pub outputs: vmafx_storage::OutputPolicy,
}

impl Settings {
    /// `path` resolved and checked: it must exist and lie under an allowed root. The error
    /// names the argument and says what to do.
    pub fn check_path(&self, arg: &str, path: &str) -> Result<PathBuf, String> {
        self.roots.check(arg, path)
    }

    /// An input as a tool takes it: a local path checked against the roots (returned
    /// resolved), or a remote URI checked against the policy and its store (returned as
    /// written).
    pub async fn check_input(&self, arg: &str, input: &str) -> Result<String, String> {
        match vmafx_core::InputUri::parse(input) {
            Ok(vmafx_core::InputUri::Local(_)) => Ok(self.check_path(arg, input)?.display().to_string()),
            Ok(uri) => {
                let resolver = &self.remote_inputs;
                resolver.check(&uri).await.map_err(|e| format!("{arg} {e}"))?;
                resolver.stat(&uri).await.map_err(|e| format!("{arg} {e}"))?;
                Ok(uri.to_string())
            }
            Err(e) => Err(format!("{arg} {e}")),
        }
    }

    /// A tuning source, checked as [`Settings::check_input`] checks an input, and located for
    /// reading here.
    pub async fn tune_source(&self, arg: &str, input: &str) -> Result<TuneSource, String> {
        let uri = match vmafx_core::InputUri::parse(input) {
            Ok(vmafx_core::InputUri::Local(_)) => {
                let at = self.check_path(arg, input)?;
                return Ok(TuneSource { at, given: input.to_string(), version: None, remote: false });
            }
            Ok(uri) => uri,
            Err(e) => return Err(format!("{arg} {e}")),
        };
        let resolver = &self.remote_inputs;
        resolver.check(&uri).await.map_err(|e| format!("{arg} {e}"))?;
        let info = resolver.stat(&uri).await.map_err(|e| format!("{arg} {e}"))?;
        let at =
            resolver.locate(&uri, vmafx_storage::DEFAULT_URL_TTL).await.map_err(|e| format!("{arg} {e}"))?;
        Ok(TuneSource {
            at: at.into(),
            given: uri.to_string(),
            version: info.and_then(|i| i.etag),
            remote: true,
        })
    }

    /// Where the engine reads a checked input: its path, or a URL signed for one run.
    pub async fn readable(&self, arg: &str, input: &str) -> Result<PathBuf, String> {
        match vmafx_core::InputUri::parse(input) {
            Ok(vmafx_core::InputUri::Local(p)) => Ok(p.into()),
            Ok(uri) => self
                .remote_inputs
                .locate(&uri, vmafx_storage::DEFAULT_URL_TTL)
                .await
                .map(PathBuf::from)
                .map_err(|e| format!("{arg} {e}")),
            Err(e) => Err(format!("{arg} {e}")),
        }
    }
}

/// A tuning source: where it is read here, and how jobs and answers name it.
#[derive(Debug, Clone)]
pub struct TuneSource {
    /// A path, or a URL (signed for a store's object).
    pub at: PathBuf,
    /// As the caller wrote it: answers name the source so, never by a signed URL.
    pub given: String,
    /// An object's version (ETag): with its URI, it names its bytes.
    pub version: Option<String>,
    /// Not a local path: cluster jobs name it by `given`, for the controller to read.
    pub remote: bool,
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
            remote_inputs: Default::default(),
            outputs: Default::default(),
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
