//! Where a tool writes its output files (`vmafx-tune ladder -o`): a local directory, or a
//! prefix in an object store (`s3://BUCKET/PREFIX`, `gs://…`, `az://…`) written with the
//! user's own credentials from the SDKs' usual chain.

use std::path::PathBuf;

use vmafx_core::InputUri;

use crate::{InputPolicy, Resolver};

/// An output file's content.
#[derive(Debug, Clone)]
pub enum OutputFile {
    Bytes(Vec<u8>),
    /// A copy of this local file (an encode), streamed.
    Copy(PathBuf),
}

/// A directory for output files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputDir {
    Local(PathBuf),
    /// `scheme://bucket/prefix`: each file is the object `prefix/NAME`.
    Store {
        scheme: &'static str,
        bucket: String,
        prefix: String,
    },
}

impl OutputDir {
    /// A local directory, or an object-store prefix; anything else is an error saying what is.
    pub fn parse(text: &str) -> Result<Self, String> {
        for scheme in ["s3", "gs", "az"] {
            if let Some(rest) = text.strip_prefix(&format!("{scheme}://")) {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let dir = OutputDir::Store {
                    scheme,
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_matches('/').to_string(),
                };
                // The bucket's name is checked as an input's would be.
                dir.object("probe").map_err(|e| format!("`{text}`: {e}"))?;
                return Ok(dir);
            }
        }
        match InputUri::parse(text) {
            Ok(InputUri::Local(path)) => Ok(OutputDir::Local(path.into())),
            Ok(other) => Err(format!(
                "`{other}`: an output directory is a local directory or an object-store prefix \
                 (s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX), not {} URIs",
                other.scheme()
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The object-store URI of the file `name` in this directory.
    fn object(&self, name: &str) -> Result<InputUri, String> {
        let OutputDir::Store { scheme, bucket, prefix } = self else {
            return Err("not an object-store prefix".into());
        };
        let key = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
        InputUri::parse(&format!("{scheme}://{bucket}/{key}")).map_err(|e| e.to_string())
    }

    /// Writes each file, replacing what is there; an error names the file.
    pub fn write(&self, files: &[(String, OutputFile)]) -> Result<(), String> {
        match self {
            OutputDir::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
                for (name, file) in files {
                    let path = dir.join(name);
                    let written = match file {
                        OutputFile::Bytes(bytes) => std::fs::write(&path, bytes),
                        OutputFile::Copy(from) => std::fs::copy(from, &path).map(|_| ()),
                    };
                    written.map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
                }
                Ok(())
            }
            OutputDir::Store { .. } => {
                let resolver = Resolver::new(InputPolicy::everything());
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("no runtime to reach the store: {e}"))?;
                for (name, file) in files {
                    let object = self.object(name)?;
                    let put = match file {
                        OutputFile::Bytes(bytes) => runtime.block_on(resolver.put(&object, bytes.clone())),
                        OutputFile::Copy(from) => runtime.block_on(resolver.put_file(&object, from)),
                    };
                    put.map_err(|e| format!("cannot write {e}"))?;
                }
                Ok(())
            }
        }
    }
}

/// Where a server writes output on a client's behalf (vmafx-mcp's `ladder`): only under
/// these directories and object-store prefixes; none by default.
#[derive(Debug, Clone, Default)]
pub struct OutputPolicy {
    allowed: Vec<OutputDir>,
}

impl OutputPolicy {
    /// Rules as `--allow-output` gives them: absolute local directories (resolved, symlinks
    /// included) or object-store prefixes.
    pub fn parse(rules: &[String]) -> Result<Self, String> {
        let allowed = rules
            .iter()
            .map(|rule| match OutputDir::parse(rule)? {
                OutputDir::Local(dir) if !dir.is_absolute() => {
                    Err(format!("--allow-output `{rule}`: a local directory must be absolute"))
                }
                OutputDir::Local(dir) => Ok(OutputDir::Local(resolved(&dir))),
                store => Ok(store),
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { allowed })
    }

    /// `out` if it lies under an allowed directory or prefix (a local one resolved first, so
    /// neither `..` nor a symlink leads out); else an error naming it and the rules.
    pub fn check(&self, out: &OutputDir) -> Result<OutputDir, String> {
        let out = match out {
            OutputDir::Local(dir) if !dir.is_absolute() => {
                return Err(format!("output `{}`: give an absolute directory", dir.display()))
            }
            OutputDir::Local(dir) => OutputDir::Local(resolved(dir)),
            store => store.clone(),
        };
        if self.allowed.iter().any(|rule| out.is_under(rule)) {
            return Ok(out);
        }
        let rules: Vec<String> = self.allowed.iter().map(|r| r.to_string()).collect();
        Err(match rules.is_empty() {
            true => format!("output `{out}` is not allowed: this server writes nowhere (vmafx-mcp --allow-output DIR|PREFIX)"),
            false => format!("output `{out}` is not allowed: this server writes only under {}", rules.join(", ")),
        })
    }
}

impl OutputDir {
    fn is_under(&self, rule: &OutputDir) -> bool {
        match (self, rule) {
            (OutputDir::Local(dir), OutputDir::Local(root)) => dir.starts_with(root),
            (
                OutputDir::Store { scheme, bucket, prefix },
                OutputDir::Store { scheme: s, bucket: b, prefix: p },
            ) => {
                scheme == s
                    && bucket == b
                    && (p.is_empty() || prefix == p || prefix.starts_with(&format!("{p}/")))
            }
            _ => false,
        }
    }
}

/// `path` with its longest existing ancestor resolved (symlinks, `..`) and the rest appended;
/// a `..` in the rest stays, and then no rule matches it.
fn resolved(path: &std::path::Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        if let Ok(real) = at.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return out;
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            // `..` at the end of a path that does not exist: kept, matched by no rule.
            _ => return path.to_path_buf(),
        }
    }
}

impl std::fmt::Display for OutputDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputDir::Local(dir) => write!(f, "{}", dir.display()),
            OutputDir::Store { scheme, bucket, prefix } if prefix.is_empty() => {
                write!(f, "{scheme}://{bucket}")
            }
            OutputDir::Store { scheme, bucket, prefix } => write!(f, "{scheme}://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_directories_are_local_paths_or_object_store_prefixes() {
        assert_eq!(OutputDir::parse("ladder/").unwrap(), OutputDir::Local("ladder/".into()));
        let s3 = OutputDir::parse("s3://media/ladders/title1/").unwrap();
        assert_eq!(s3.to_string(), "s3://media/ladders/title1");
        assert_eq!(s3.object("ladder.json").unwrap().to_string(), "s3://media/ladders/title1/ladder.json");
        let bare = OutputDir::parse("gs://media").unwrap();
        assert_eq!(bare.object("a.svg").unwrap().to_string(), "gs://media/a.svg");
        assert!(OutputDir::parse("s3://Bad_Bucket/x").unwrap_err().contains("s3://Bad_Bucket/x"));
        let e = OutputDir::parse("https://cdn.example.com/x").unwrap_err();
        assert!(e.contains("an output directory is a local directory or an object-store prefix"), "{e}");
        assert!(OutputDir::parse("rclone:nas:out").unwrap_err().contains("not rclone URIs"));
    }

    #[test]
    fn outputs_are_allowed_only_under_the_rules() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        std::fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
        let rules = [root.display().to_string(), "s3://media/ladders".to_string()];
        let policy = OutputPolicy::parse(&rules).unwrap();
        let check = |text: &str| policy.check(&OutputDir::parse(text).unwrap());
        assert!(check(&format!("{}/title1/new", root.display())).is_ok());
        assert!(check("s3://media/ladders/title1").is_ok());
        assert!(check("s3://media/ladders").is_ok());
        for refused in [
            "s3://media/ladders-other/x".to_string(),
            "s3://media/x".to_string(),
            "gs://media/ladders/x".to_string(),
            format!("{}/../elsewhere", root.display()),
            format!("{}/escape/x", root.display()),
            "/tmp".to_string(),
        ] {
            let e = check(&refused).unwrap_err();
            assert!(e.contains("is not allowed") && e.contains("s3://media/ladders"), "{refused}: {e}");
        }
        assert!(check("relative/dir").unwrap_err().contains("absolute"));
        let none = OutputPolicy::default().check(&OutputDir::parse("s3://media/x").unwrap()).unwrap_err();
        assert!(none.contains("writes nowhere"), "{none}");
    }

    #[test]
    fn a_local_output_directory_is_made_and_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::parse(&format!("{}/a/b", dir.path().display())).unwrap();
        out.write(&[("x.json".into(), OutputFile::Bytes(b"{}".to_vec()))]).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/b/x.json")).unwrap(), b"{}");
    }
}
