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
    pub fn write(&self, files: &[(&str, OutputFile)]) -> Result<(), String> {
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
    fn a_local_output_directory_is_made_and_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::parse(&format!("{}/a/b", dir.path().display())).unwrap();
        out.write(&[("x.json", OutputFile::Bytes(b"{}".to_vec()))]).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/b/x.json")).unwrap(), b"{}");
    }
}
