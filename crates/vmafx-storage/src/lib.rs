//! Inputs that are not local files: which of them a job may name ([`policy`]), and how a
//! reader with no credentials reaches their bytes ([`resolver`]: presigned URLs for object
//! stores, the URL itself for a web server). The bytes themselves are read by
//! `vmafx-media` (ffmpeg over HTTP with ranges, or ranged GETs for Y4M): nothing is copied to
//! disk on the way.

pub mod aws_files;
pub mod output;
pub mod policy;
pub mod rclone;
pub mod resolver;

pub use output::{OutputDir, OutputFile, OutputPolicy};
pub use policy::{forbidden_address, InputPolicy};
pub use rclone::Rclone;
pub use resolver::{ObjectInfo, Resolver};
use vmafx_core::InputUri;

/// How long a presigned URL lives by default: longer than any one work item runs.
pub const DEFAULT_URL_TTL: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// What can go wrong reaching a remote input; every variant names the input (never with a
/// signature) and the store's reason.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0}")]
    Refused(String),
    #[error("`{input}`: no such bucket or object")]
    NotFound { input: String },
    #[error("`{input}`: access denied: {reason}")]
    Denied { input: String, reason: String },
    #[error("`{input}`: the store could not be reached: {reason}")]
    Unreachable { input: String, reason: String },
    #[error("`{input}`: the store's configuration is incomplete: {reason}")]
    Config { input: String, reason: String },
    #[error("{0}")]
    Unsupported(String),
}

impl StorageError {
    /// True when the job's input is at fault (refused, missing, denied), false when the store
    /// or this process is (unreachable, misconfigured): a client may try again later.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StorageError::Refused(_)
                | StorageError::NotFound { .. }
                | StorageError::Denied { .. }
                | StorageError::Unsupported(_)
        )
    }
}

/// The remote-input flags of `vmafx-controller` and `vmafx up`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RemoteInputArgs {
    /// A remote input jobs may name, repeatable: a scheme (`s3://`, `gs://`, `az://`,
    /// `https://`), a bucket or container (`s3://media`), a host (`https://cdn.example.com`)
    /// or an rclone remote (`rclone:nas`). Object-store credentials come from this process's
    /// environment (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_*); nodes get presigned
    /// URLs and hold none [default: no remote input].
    #[arg(
        long = "allow-input",
        env = "VMAFX_ALLOW_INPUTS",
        value_name = "URI_PREFIX",
        value_delimiter = ','
    )]
    pub allow_inputs: Vec<String>,
    /// Let job URLs reach loopback, private and link-local addresses (cloud metadata
    /// included): only for a lab or an object store on the cluster's own network.
    #[arg(long, env = "VMAFX_ALLOW_PRIVATE_ADDRESSES")]
    pub allow_private_addresses: bool,
    /// How long a URL signed into a work item stays valid: longer than the longest item runs.
    #[arg(long, env = "VMAFX_URL_TTL", value_name = "DURATION", default_value = "6h", value_parser = vmafx_core::parse_duration)]
    pub url_ttl: std::time::Duration,
    /// An rclone configuration naming the same remotes as the nodes': the controller then
    /// probes `rclone:` inputs at submission (through `rclone serve http` on loopback) and
    /// splits their jobs into segments. Without it, nodes alone read rclone remotes and a job
    /// on them is one work item.
    #[arg(long, env = "VMAFX_RCLONE_CONFIG", value_name = "FILE")]
    pub rclone_config: Option<std::path::PathBuf>,
}

impl RemoteInputArgs {
    /// The resolver these flags describe; a rule that is not one is an error naming it. It
    /// reads rclone remotes when given an rclone configuration.
    pub fn resolver(&self) -> Result<Resolver, String> {
        let resolver = Resolver::new(InputPolicy::parse(&self.allow_inputs, self.allow_private_addresses)?);
        Ok(match &self.rclone_config {
            Some(_) => resolver.with_rclone(std::sync::Arc::new(self.rclone())),
            None => resolver,
        })
    }

    /// How this process reads rclone remotes: `rclone serve http` with `--rclone-config`, else
    /// rclone's default configuration.
    pub fn rclone(&self) -> Rclone {
        Rclone::serving("rclone".into(), self.rclone_config.clone())
    }
}

/// An input a user named on their own machine, located for reading there.
#[derive(Debug, Clone)]
pub struct Located {
    /// What readers open: the path, the URL, a presigned URL or an rclone location.
    pub at: String,
    /// The object's version (ETag) when the store has one: with the URI, it names the bytes.
    pub version: Option<String>,
}

/// Locates the inputs a user names on their own machine (`vmafx score`, `vmafx-tune`): any
/// kind, with this user's own credentials and rclone configuration. Each store is asked about
/// its object first, so a missing object or a refusal is named by the input as written. The
/// returned rclone servers (if any input needed them) serve while they live. An error comes
/// with the index of the input it is about.
#[allow(clippy::type_complexity)]
pub fn locate_for_user(
    inputs: &[InputUri],
) -> Result<(Vec<Located>, Option<std::sync::Arc<Rclone>>), (usize, StorageError)> {
    let local = |i: &InputUri| match i {
        InputUri::Local(p) => Some(p.clone()),
        InputUri::Http(u) => Some(u.clone()),
        _ => None,
    };
    if inputs.iter().all(|i| local(i).is_some()) {
        let at = inputs.iter().filter_map(local).map(|at| Located { at, version: None }).collect();
        return Ok((at, None));
    }
    let rclone = std::sync::Arc::new(Rclone::serving("rclone".into(), None));
    let resolver = Resolver::new(InputPolicy::everything()).with_rclone(rclone.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (0, StorageError::Unsupported(format!("no runtime to reach the stores: {e}"))))?;
    let located = inputs
        .iter()
        .enumerate()
        .map(|(n, input)| {
            runtime.block_on(async {
                let info = resolver.stat(input).await.map_err(|e| (n, e))?;
                let at = resolver.locate(input, DEFAULT_URL_TTL).await.map_err(|e| (n, e))?;
                Ok(Located { at, version: info.and_then(|i| i.etag) })
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((located, Some(rclone)))
}
