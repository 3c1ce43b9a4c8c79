//! Turns an input into a location a node can read with no credentials: a local path stays a
//! path, an `http(s)` URL stays itself (its addresses checked), and an object in S3, GCS or
//! Azure Blob becomes a presigned GET URL made with the credentials of whoever resolves it
//! (the controller, or a user's own `vmafx score`). Credentials come from each SDK's usual
//! environment (`AWS_*` including `AWS_ENDPOINT_URL`, `GOOGLE_*`, `AZURE_*`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::azure::{MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorage, GoogleCloudStorageBuilder};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::ObjectStoreExt;
use vmafx_core::InputUri;

use crate::policy::{split_url, InputPolicy};
use crate::rclone::Rclone;
use crate::StorageError;

/// What an object store says of an object: its size and the tag that changes with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub etag: Option<String>,
}

/// One bucket or container, with the credentials of this process.
#[derive(Debug, Clone)]
enum Bucket {
    S3(Arc<AmazonS3>),
    Gs(Arc<GoogleCloudStorage>),
    Az(Arc<MicrosoftAzure>),
}

/// Resolves inputs under a policy; remembers one client per bucket.
#[derive(Debug, Default)]
pub struct Resolver {
    policy: InputPolicy,
    buckets: Mutex<HashMap<(&'static str, String), Bucket>>,
    /// How this process reads rclone remotes; `None`: it does not (a controller: its nodes do).
    rclone: Option<Arc<Rclone>>,
}

impl Resolver {
    pub fn new(policy: InputPolicy) -> Self {
        Self { policy, buckets: Mutex::default(), rclone: None }
    }

    /// Whether this resolver reads `rclone:` inputs (a controller given an rclone
    /// configuration; `vmafx score`; MCP).
    pub fn reads_rclone(&self) -> bool {
        self.rclone.is_some()
    }

    /// This resolver, reading `rclone:` inputs through `servers`.
    pub fn with_rclone(self, servers: Arc<Rclone>) -> Self {
        Self { rclone: Some(servers), ..self }
    }

    /// Whether a job may name `input`: the policy's rules, and for a URL the addresses its host
    /// resolves to now.
    pub async fn check(&self, input: &InputUri) -> Result<(), StorageError> {
        self.policy.check(input).map_err(StorageError::Refused)?;
        if let InputUri::Http(url) = input {
            let (scheme, host, port) = split_url(url)
                .ok_or_else(|| StorageError::Refused(format!("`{input}`: the URL names no host")))?;
            let port = port.unwrap_or(if scheme == "https" { 443 } else { 80 });
            let addrs = tokio::net::lookup_host((host.as_str(), port)).await.map_err(|e| {
                StorageError::Unreachable {
                    input: input.to_string(),
                    reason: format!("cannot resolve `{host}`: {e}"),
                }
            })?;
            for addr in addrs {
                self.policy
                    .check_address(&host, addr.ip())
                    .map_err(|reason| StorageError::Refused(format!("`{input}`: {reason}")))?;
            }
        }
        Ok(())
    }

    /// The location a reader opens for `input`: its path, its URL, or a GET URL signed for
    /// `ttl`. Signing is local (no request) for keys given in the environment.
    pub async fn locate(&self, input: &InputUri, ttl: Duration) -> Result<String, StorageError> {
        let (bucket, name) = match input {
            InputUri::Local(path) => return Ok(path.clone()),
            InputUri::Http(url) => return Ok(url.clone()),
            InputUri::Rclone { remote, path } => {
                let Some(servers) = self.rclone.clone() else {
                    return Err(StorageError::Unsupported(format!(
                        "`{input}`: this process reads no rclone remote (nodes read them with their rclone.conf)"
                    )));
                };
                let (remote, path) = (remote.clone(), path.clone());
                return tokio::task::spawn_blocking(move || servers.locate(&remote, &path)).await.map_err(
                    |e| StorageError::Unreachable { input: input.to_string(), reason: e.to_string() },
                )?;
            }
            InputUri::S3 { key, .. } => (self.bucket(input)?, key),
            InputUri::Gs { object, .. } => (self.bucket(input)?, object),
            InputUri::Az { blob, .. } => (self.bucket(input)?, blob),
        };
        let path = ObjectPath::from(name.as_str());
        let signed = match &bucket {
            Bucket::S3(s) => s.signed_url(http::Method::GET, &path, ttl).await,
            Bucket::Gs(s) => s.signed_url(http::Method::GET, &path, ttl).await,
            Bucket::Az(s) => s.signed_url(http::Method::GET, &path, ttl).await,
        };
        signed.map(|u| u.to_string()).map_err(|e| object_error(input, e))
    }

    /// Asks the store about an object (`None` for a path or URL): it exists, this process
    /// may read it, and its size and tag.
    pub async fn stat(&self, input: &InputUri) -> Result<Option<ObjectInfo>, StorageError> {
        let (bucket, name) = match input {
            InputUri::S3 { key, .. } => (self.bucket(input)?, key),
            InputUri::Gs { object, .. } => (self.bucket(input)?, object),
            InputUri::Az { blob, .. } => (self.bucket(input)?, blob),
            _ => return Ok(None),
        };
        let path = ObjectPath::from(name.as_str());
        let meta = match &bucket {
            Bucket::S3(s) => s.head(&path).await,
            Bucket::Gs(s) => s.head(&path).await,
            Bucket::Az(s) => s.head(&path).await,
        }
        .map_err(|e| object_error(input, e))?;
        Ok(Some(ObjectInfo { size: meta.size, etag: meta.e_tag }))
    }

    /// Writes `bytes` as the object `output` (`s3://`, `gs://`, `az://`), replacing it.
    pub async fn put(&self, output: &InputUri, bytes: Vec<u8>) -> Result<(), StorageError> {
        let name = object_name(output)?;
        let path = ObjectPath::from(name.as_str());
        let payload = object_store::PutPayload::from(bytes);
        let put = match &self.bucket(output)? {
            Bucket::S3(s) => s.put(&path, payload).await,
            Bucket::Gs(s) => s.put(&path, payload).await,
            Bucket::Az(s) => s.put(&path, payload).await,
        };
        put.map(|_| ()).map_err(|e| object_error(output, e))
    }

    /// Streams the file at `file` into the object `output` (in parts when it is large),
    /// replacing it; the file is never held in memory whole.
    pub async fn put_file(&self, output: &InputUri, file: &std::path::Path) -> Result<(), StorageError> {
        use tokio::io::AsyncWriteExt;
        let name = object_name(output)?;
        let store: Arc<dyn object_store::ObjectStore> = match self.bucket(output)? {
            Bucket::S3(s) => s,
            Bucket::Gs(s) => s,
            Bucket::Az(s) => s,
        };
        let failed = |e: std::io::Error| StorageError::Unreachable {
            input: output.to_string(),
            reason: first_line(&e.to_string()),
        };
        let mut source = tokio::fs::File::open(file).await.map_err(|e| {
            StorageError::Refused(format!("cannot read `{}` to write `{output}`: {e}", file.display()))
        })?;
        let mut sink = object_store::buffered::BufWriter::new(store, ObjectPath::from(name.as_str()));
        tokio::io::copy(&mut source, &mut sink).await.map_err(failed)?;
        sink.shutdown().await.map_err(failed)
    }

    fn bucket(&self, input: &InputUri) -> Result<Bucket, StorageError> {
        let (scheme, name) = match input {
            InputUri::S3 { bucket, .. } => ("s3", bucket),
            InputUri::Gs { bucket, .. } => ("gs", bucket),
            InputUri::Az { container, .. } => ("az", container),
            _ => unreachable!("only object-store inputs have a bucket"),
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get(&(scheme, name.clone())) {
            return Ok(b.clone());
        }
        let config = |e: object_store::Error| StorageError::Config {
            input: input.to_string(),
            reason: first_line(&e.to_string()),
        };
        let bucket = match scheme {
            "s3" => Bucket::S3(Arc::new(s3_builder().with_bucket_name(name).build().map_err(config)?)),
            "gs" => Bucket::Gs(Arc::new(
                GoogleCloudStorageBuilder::from_env().with_bucket_name(name).build().map_err(config)?,
            )),
            _ => Bucket::Az(Arc::new(
                MicrosoftAzureBuilder::from_env().with_container_name(name).build().map_err(config)?,
            )),
        };
        buckets.insert((scheme, name.clone()), bucket.clone());
        Ok(bucket)
    }
}

/// The object's name in its bucket, for an object-store URI.
fn object_name(uri: &InputUri) -> Result<&String, StorageError> {
    match uri {
        InputUri::S3 { key, .. } => Ok(key),
        InputUri::Gs { object, .. } => Ok(object),
        InputUri::Az { blob, .. } => Ok(blob),
        _ => Err(StorageError::Unsupported(format!("`{uri}`: not an object-store URI"))),
    }
}

/// S3 settings from the environment (`AWS_*`), then from the shared files' profile
/// (`~/.aws/credentials`, `~/.aws/config`, `AWS_PROFILE`) for what the environment leaves
/// unset; with neither, object_store asks the instance's or task's role (IMDS, ECS, web
/// identity), as the SDKs do.
fn s3_builder() -> AmazonS3Builder {
    use object_store::aws::AmazonS3ConfigKey as Key;
    let mut builder = AmazonS3Builder::from_env();
    let set = |var: &str| std::env::var_os(var).is_some();
    let profile = crate::aws_files::from_shared_files();
    if !set("AWS_ACCESS_KEY_ID") {
        if let (Some(id), Some(secret)) = (profile.access_key_id, profile.secret_access_key) {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
            if let Some(token) = profile.session_token {
                builder = builder.with_config(Key::Token, token);
            }
        }
    }
    if !set("AWS_REGION") && !set("AWS_DEFAULT_REGION") {
        if let Some(region) = profile.region {
            builder = builder.with_region(region);
        }
    }
    if !set("AWS_ENDPOINT") && !set("AWS_ENDPOINT_URL") {
        if let Some(endpoint) = profile.endpoint_url {
            // A plain-HTTP endpoint (a lab's MinIO) is meant as written.
            if endpoint.starts_with("http://") {
                builder = builder.with_allow_http(true);
            }
            builder = builder.with_endpoint(endpoint);
        }
    }
    builder
}

/// An object store's error as one line that names the input and the store's reason.
fn object_error(input: &InputUri, e: object_store::Error) -> StorageError {
    let text = first_line(&e.to_string());
    let input = input.to_string();
    match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound { input },
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
            StorageError::Denied { input, reason: text }
        }
        _ if text.contains("NoSuchBucket")
            || text.contains("ContainerNotFound")
            || text.contains("bucket does not exist") =>
        {
            StorageError::NotFound { input }
        }
        _ if text.contains("AccessDenied")
            || text.contains("403")
            || text.contains("AuthorizationFailure") =>
        {
            StorageError::Denied { input, reason: text }
        }
        _ => StorageError::Unreachable { input, reason: text },
    }
}

/// Errors of the stores can run over several lines and quote signed URLs.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    line.split(' ').map(vmafx_core::input::shown).collect::<Vec<_>>().join(" ")
}
