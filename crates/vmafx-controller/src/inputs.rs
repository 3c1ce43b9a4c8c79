//! A job's inputs that are not local paths (`s3://`, `gs://`, `az://`, `http(s)://`): checked
//! against the controller's policy when the job is submitted, located (signed) for the
//! controller's own probe, and signed afresh each time a work item is leased, so a node holds
//! no cloud credentials and a retried item never gets a URL that has run out. The job keeps
//! the URIs as the client wrote them; signed URLs live only in leases.

use std::collections::BTreeMap;
use std::time::Duration;

use vmafx_core::{InputUri, ScoreJobSpec};
use vmafx_storage::{Resolver, StorageError};
use vmafx_store::Lease;

use crate::ControllerError;

/// How long the URL signed for the controller's probe lives.
const PROBE_URL_TTL: Duration = Duration::from_secs(600);

/// The inputs of a spec that a job names (the distorted of an encode job is made on the node).
fn named(spec: &ScoreJobSpec) -> Vec<(&'static str, &str)> {
    let mut inputs = Vec::new();
    if !spec.is_no_reference() {
        inputs.push(("score.reference", spec.reference.as_str()));
    }
    if spec.encode.is_none() {
        inputs.push(("score.distorted", spec.distorted.as_str()));
    }
    inputs
}

/// Whether `text` names a remote input (anything but a local path), parsed.
pub(crate) fn remote(field: &str, text: &str) -> Result<Option<InputUri>, ControllerError> {
    match InputUri::parse(text) {
        Ok(InputUri::Local(_)) => Ok(None),
        Ok(uri) => Ok(Some(uri)),
        Err(e) => Err(ControllerError::invalid(field, e.to_string())),
    }
}

fn storage_error(field: &str, e: StorageError) -> ControllerError {
    match e.is_bad_input() {
        true => ControllerError::invalid(field, e.to_string()),
        false => ControllerError::InputUnavailable { field: field.into(), message: e.to_string() },
    }
}

/// Checks the remote inputs of `spec` against the policy and, with `stat`, asks their stores
/// that they exist and may be read. Returns the version (ETag) of each object, by URI.
pub(crate) async fn check(
    resolver: &Resolver,
    spec: &ScoreJobSpec,
    stat: bool,
) -> Result<BTreeMap<String, String>, ControllerError> {
    let mut versions = BTreeMap::new();
    for (field, text) in named(spec) {
        if let Some(uri) = remote(field, text)? {
            resolver.check(&uri).await.map_err(|e| storage_error(field, e))?;
            if stat {
                let info = resolver.stat(&uri).await.map_err(|e| storage_error(field, e))?;
                if let Some(etag) = info.and_then(|i| i.etag) {
                    versions.insert(text.to_string(), etag);
                }
            }
        }
    }
    Ok(versions)
}

/// Whether an object of `spec` is no longer the version the job was accepted with: the reason
/// to fail the job, or `None`. A store that cannot be asked now is not a change (the next
/// check asks again).
pub(crate) async fn changed(resolver: &Resolver, spec: &ScoreJobSpec) -> Option<String> {
    for (text, then) in &spec.versions {
        let Ok(uri) = InputUri::parse(text) else { continue };
        let now = match resolver.stat(&uri).await {
            Ok(info) => info.and_then(|i| i.etag),
            Err(StorageError::NotFound { .. }) => {
                return Some(format!("`{uri}` was deleted after the job was submitted"));
            }
            Err(e) => {
                tracing::warn!(input = %uri, error = %e, "cannot check that the input is unchanged");
                continue;
            }
        };
        if now.as_deref() != Some(then.as_str()) {
            return Some(format!(
                "`{uri}` changed after the job was submitted (ETag {then} then, {} now): its segments would \
                 not score the same video; submit the job again to score the new version",
                now.as_deref().unwrap_or("none")
            ));
        }
    }
    None
}

/// `spec` with each remote input replaced by a URL a reader with no credentials can open for
/// `ttl`; rclone remotes too with `rclone` (the controller's own probe), else they are left to
/// the node, which reads them through its own rclone.conf.
async fn located(
    resolver: &Resolver,
    spec: &ScoreJobSpec,
    ttl: Duration,
    rclone: bool,
) -> Result<ScoreJobSpec, ControllerError> {
    let mut out = spec.clone();
    for (field, text) in named(spec) {
        let uri = remote(field, text)?.filter(|u| rclone || !matches!(u, InputUri::Rclone { .. }));
        if let Some(uri) = uri {
            let at = resolver.locate(&uri, ttl).await.map_err(|e| storage_error(field, e))?;
            match field {
                "score.reference" => out.reference = at,
                _ => out.distorted = at,
            }
        }
    }
    Ok(out)
}

/// [`located`] for the controller's probe at submission.
pub(crate) async fn for_probe(
    resolver: &Resolver,
    spec: &ScoreJobSpec,
) -> Result<ScoreJobSpec, ControllerError> {
    located(resolver, spec, PROBE_URL_TTL, resolver.reads_rclone()).await
}

/// A lease whose job names remote inputs, with URLs signed for `ttl` from now.
pub(crate) async fn readable_lease(
    resolver: &Resolver,
    mut lease: Lease,
    ttl: Duration,
) -> Result<Lease, ControllerError> {
    let spec = &lease.job.spec;
    if named(spec).iter().all(|(_, t)| !is_remote_text(t)) {
        return Ok(lease);
    }
    lease.job.spec = located(resolver, spec, ttl, false).await?;
    Ok(lease)
}

/// Whether `spec` names an rclone remote: a controller with no rclone configuration cannot
/// probe it (its nodes hold the remote's), so the video's length is found by the node that
/// scores it.
pub(crate) fn names_rclone(spec: &ScoreJobSpec) -> bool {
    named(spec).iter().any(|(_, t)| t.starts_with("rclone:"))
}

/// A cheap test that keeps the pull path free of parsing for local paths.
fn is_remote_text(text: &str) -> bool {
    text.contains("://") || text.starts_with("rclone:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmafx_storage::InputPolicy;

    fn spec(reference: &str, distorted: &str) -> ScoreJobSpec {
        serde_json::from_value(serde_json::json!({
            "reference": reference, "distorted": distorted, "model": "vmaf_v0.6.1",
            "model_path": null, "segment_frames": null,
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn refused_inputs_name_the_field_and_the_rule() {
        let none = Resolver::new(InputPolicy::none());
        let e = check(&none, &spec("/d/r.y4m", "s3://media/d.mp4"), true).await.unwrap_err().to_string();
        assert!(
            e.starts_with("score.distorted: `s3://media/d.mp4` is not allowed")
                && e.contains("--allow-input"),
            "{e}"
        );
        let https = Resolver::new(InputPolicy::parse(&["http://".into()], false).unwrap());
        let e = check(&https, &spec("http://169.254.169.254/latest/meta-data/x", "/d.mp4"), true)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("link-local") && e.to_string().starts_with("score.reference"), "{e}");
        let e = check(&https, &spec("http://127.0.0.1:9/x.mp4", "/d.mp4"), true).await.unwrap_err();
        assert!(e.to_string().contains("loopback"), "{e}");
        let e = check(&none, &spec("ftp://h/x.mp4", "/d.mp4"), true).await.unwrap_err();
        assert!(e.to_string().contains("unsupported scheme `ftp://`"), "{e}");
    }

    #[tokio::test]
    async fn local_and_plain_urls_are_located_as_written() {
        let all = Resolver::new(InputPolicy::everything());
        let s = spec("/d/r.y4m", "https://h/d.mp4?x=1");
        assert_eq!(located(&all, &s, PROBE_URL_TTL, false).await.unwrap(), s);
    }
}
