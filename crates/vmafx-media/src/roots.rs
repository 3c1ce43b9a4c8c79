//! Which local files a service may open: only regular files under the directories it was
//! given (`--allow-root DIR`), judged after resolving `..` and symlinks, so that a job, an
//! agent or a link cannot reach `/etc/shadow`, a device, or a FIFO that would block a reader
//! for ever.

use std::path::{Component, Path, PathBuf};

/// The directories a service reads inputs from, canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedRoots {
    roots: Vec<PathBuf>,
    /// The flag that adds one, for messages (`--allow-root`).
    flag: &'static str,
}

impl AllowedRoots {
    /// The roots `dirs`, each resolved; an entry that is not a directory is an error naming it.
    pub fn new(dirs: &[PathBuf]) -> Result<Self, String> {
        let roots = dirs
            .iter()
            .map(|d| {
                let c = d.canonicalize().map_err(|e| format!("--allow-root `{}`: {e}", d.display()))?;
                if !c.is_dir() {
                    return Err(format!("--allow-root `{}`: not a directory", d.display()));
                }
                Ok(c)
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { roots, flag: "--allow-root" })
    }

    /// No root: no local file may be read.
    pub fn none() -> Self {
        Self { roots: vec![], flag: "--allow-root" }
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.roots
    }

    fn listed(&self) -> String {
        self.roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
    }

    fn none_given(&self, field: &str, path: &str) -> String {
        format!(
            "{field} `{path}`: this service reads no local file until it is given a directory to read from: \
             start it with {} DIR",
            self.flag
        )
    }

    /// `path` resolved and checked: an existing regular file under a root. The error names
    /// `field` and says what to do.
    pub fn check(&self, field: &str, path: &str) -> Result<PathBuf, String> {
        if path.trim().is_empty() {
            return Err(format!("{field}: a path is required"));
        }
        if self.roots.is_empty() {
            return Err(self.none_given(field, path));
        }
        let canonical = Path::new(path).canonicalize().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{field} `{path}`: no such file"),
            _ => format!("{field} `{path}`: cannot open: {e}"),
        })?;
        if !self.roots.iter().any(|r| canonical.starts_with(r)) {
            let via = if canonical != Path::new(path) {
                format!(" (it resolves to `{}`)", canonical.display())
            } else {
                String::new()
            };
            return Err(format!(
                "{field} `{path}` is outside the allowed roots ({}){via}; files are read only under those ({} DIR)",
                self.listed(),
                self.flag
            ));
        }
        let meta =
            std::fs::metadata(&canonical).map_err(|e| format!("{field} `{path}`: cannot open: {e}"))?;
        if !meta.is_file() {
            return Err(format!(
                "{field} `{path}` is not a regular file (a FIFO, device or directory); give a video file"
            ));
        }
        Ok(canonical)
    }

    /// For a path this machine cannot see (the files are on the nodes): whether it lies under
    /// a root by its spelling alone: absolute, no `..`, below a root.
    pub fn check_spelling(&self, field: &str, path: &str) -> Result<(), String> {
        if self.roots.is_empty() {
            return Err(self.none_given(field, path));
        }
        let p = Path::new(path);
        if !p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(format!("{field} `{path}`: give an absolute path without `..`"));
        }
        if !self.roots.iter().any(|r| p.starts_with(r)) {
            return Err(format!(
                "{field} `{path}` is outside the allowed roots ({}); files are read only under those ({} DIR)",
                self.listed(),
                self.flag
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_under_a_root_pass_after_links_and_dots_are_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("videos");
        std::fs::create_dir(&root).unwrap();
        let inside = root.join("a.y4m");
        std::fs::write(&inside, b"x").unwrap();
        let roots = AllowedRoots::new(std::slice::from_ref(&root)).unwrap();
        assert_eq!(
            roots.check("score.reference", inside.to_str().unwrap()).unwrap(),
            inside.canonicalize().unwrap()
        );

        let e = roots.check("score.reference", "/etc/hostname").unwrap_err();
        assert!(e.starts_with("score.reference `/etc/hostname` is outside the allowed roots"), "{e}");
        let sneaky = format!("{}/../../../../../../../../etc/hostname", root.display());
        assert!(roots.check("score.reference", &sneaky).unwrap_err().contains("outside"));
        // A symlink inside that points out: refused, saying where it leads.
        let link = root.join("escape.y4m");
        std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
        let e = roots.check("score.distorted", link.to_str().unwrap()).unwrap_err();
        assert!(e.contains("outside") && e.contains("resolves to `/etc/hostname`"), "{e}");
        // A FIFO and a directory under the root: refused with the reason.
        let fifo = root.join("pipe.y4m");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = roots.check("score.reference", fifo.to_str().unwrap()).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(roots
            .check("score.reference", root.to_str().unwrap())
            .unwrap_err()
            .contains("not a regular file"));
        let e = roots.check("score.model_path", &root.join("nope.json").display().to_string()).unwrap_err();
        assert!(e.ends_with("no such file"), "{e}");

        // No root: nothing, saying how to add one.
        let e = AllowedRoots::none().check("score.reference", inside.to_str().unwrap()).unwrap_err();
        assert!(e.contains("start it with --allow-root DIR"), "{e}");
        // By spelling, for files on other machines.
        let root = roots.dirs()[0].clone();
        assert!(roots.check_spelling("f", &root.join("x/y.mp4").display().to_string()).is_ok());
        assert!(roots.check_spelling("f", &root.join("../y.mp4").display().to_string()).is_err());
        assert!(roots.check_spelling("f", "/srv/other.mp4").unwrap_err().contains("outside"));
        assert!(AllowedRoots::new(&[inside]).unwrap_err().contains("not a directory"));
    }
}
