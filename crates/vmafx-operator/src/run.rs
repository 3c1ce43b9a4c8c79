//! The adapter between the cluster and the pure reconcile logic: kube-rs controllers for
//! VmafxNode pools and VmafxJobs, and leader election on a Lease. Every decision is made by
//! [`pool`], [`scale`], [`job`] and [`lease`]; this module reads, applies and writes.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{finalizer, Event};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use tracing::{info, warn};
use vmafx_client::{ClientError, JobClient};

use crate::crd::{VmafxJob, VmafxJobStatus, VmafxModelTraining, VmafxModelTrainingStatus, VmafxNode};
use crate::pool::PodSettings;
use crate::{job, lease, pool, scale};

/// The field manager of everything the operator applies.
pub const MANAGER: &str = "vmafx-operator";

/// How the operator runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub pods: PodSettings,
    /// How often a pool's size is decided again from the controller's queue.
    pub resync: Duration,
    /// How often an unfinished VmafxJob's controller job is looked at.
    pub job_poll: Duration,
    /// The Lease (in `pods.namespace`) whose holder reconciles.
    pub lease_name: String,
    /// This replica's name in the Lease.
    pub identity: String,
    pub lease_seconds: i32,
}

struct Ctx {
    kube: Client,
    jobs: JobClient,
    settings: Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}")]
    Controller(#[from] ClientError),
    #[error("{0}")]
    Finalizer(String),
}

/// Runs until the Lease is lost (an error: the process exits and restarts as a follower) or
/// the controllers stop.
pub async fn run(kube: Client, jobs: JobClient, settings: Settings) -> anyhow::Result<()> {
    let lost = lead(kube.clone(), settings.clone()).await?;
    let ctx = Arc::new(Ctx { kube: kube.clone(), jobs, settings });

    let pools = Controller::new(Api::<VmafxNode>::all(kube.clone()), watcher::Config::default())
        // A pool's Deployment changing (ready replicas, an edit) reconciles the pool. Not
        // `owns`: the pool is cluster-scoped and its Deployment namespaced, so map by label.
        .watches(
            Api::<Deployment>::all(kube.clone()),
            watcher::Config::default().labels("app.kubernetes.io/managed-by=vmafx-operator"),
            |d: Deployment| d.labels().get(crate::crd::POOL_LABEL).map(|p| ObjectRef::new(p)),
        )
        // A training added, changed or removed changes its pool's pods.
        .watches(
            Api::<VmafxModelTraining>::all(kube.clone()),
            watcher::Config::default(),
            |t: VmafxModelTraining| Some(ObjectRef::new(&t.spec.pool)),
        )
        .shutdown_on_signal()
        .run(reconcile_pool, retry_later, ctx.clone())
        .for_each(|r| async move {
            if let Err(e) = r {
                warn!(error = %e, "pool reconcile");
            }
        });
    let jobs = Controller::new(Api::<VmafxJob>::all(kube), watcher::Config::default())
        .shutdown_on_signal()
        .run(reconcile_job, retry_later, ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                warn!(error = %e, "job reconcile");
            }
        });
    tokio::select! {
        _ = pools => Ok(()),
        _ = jobs => Ok(()),
        why = lost => Err(anyhow::anyhow!(why.unwrap_or_else(|_| "leader election stopped".into()))),
    }
}

fn retry_later<K>(_: Arc<K>, e: &Error, _: Arc<Ctx>) -> Action {
    match e {
        Error::Controller(ClientError::Overloaded { retry_after, .. }) => Action::requeue(*retry_after),
        _ => Action::requeue(Duration::from_secs(5)),
    }
}

// ---- VmafxNode pools ----

async fn reconcile_pool(pool: Arc<VmafxNode>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let name = pool.name_any();
    let settings = &ctx.settings;
    let ns = pool::namespace_of(&pool, &settings.pods);
    let deployments: Api<Deployment> = Api::namespaced(ctx.kube.clone(), &ns);
    let dname = pool::deployment_name(&name);
    let existing = deployments.get_opt(&dname).await?;
    let replicas = existing.as_ref().and_then(|d| d.spec.as_ref()?.replicas).unwrap_or(0).max(0) as u32;
    let ready = existing.as_ref().and_then(|d| d.status.as_ref()?.ready_replicas).unwrap_or(0).max(0) as u32;

    let previous = pool.status.clone().unwrap_or_default();
    let now = Timestamp::now();
    let (demand, queue_error) = match ctx.jobs.queue().await {
        Ok(queues) => (scale::demand(&name, &pool.spec, &queues), None),
        Err(e) => (0, Some(e.to_string())),
    };
    let decision = match &queue_error {
        None => scale::decide(&pool.spec, replicas, demand, scale::memory_of(&previous), now.as_second()),
        Some(e) => scale::without_queue(&pool.spec, replicas, scale::memory_of(&previous), e),
    };
    if decision.replicas.is_some_and(|r| r != replicas) {
        info!(pool = %name, from = replicas, to = decision.replicas, reason = %decision.reason, "scaling");
    }

    // The trainer beside the pool's nodes, if a training in its namespace names it.
    let trainings: Api<VmafxModelTraining> = Api::namespaced(ctx.kube.clone(), &ns);
    let all = trainings.list(&ListParams::default()).await?.items;
    let (training, waiting) = pool::training_for(&name, &all);

    let apply = PatchParams::apply(MANAGER).force();
    let desired = pool::desired_deployment(&pool, &settings.pods, decision.replicas, training);
    deployments.patch(&dname, &apply, &Patch::Apply(&desired)).await?;
    let running = training.map(|t| {
        let message = format!(
            "vmafx-trainer runs beside each node pod of pool {name}, training {} into claim {}",
            t.spec.model_id, t.spec.registry_claim
        );
        (t, training_status(t, "Running", message))
    });
    let first = training.and_then(|t| t.metadata.name.clone()).unwrap_or_default();
    let conflicts = waiting.into_iter().map(|t| {
        let message = format!("pool {name} already trains beside its nodes, for VmafxModelTraining {first}");
        (t, training_status(t, "Conflict", message))
    });
    for (t, status) in running.into_iter().chain(conflicts) {
        if t.status.as_ref() != Some(&status) {
            trainings
                .patch_status(
                    &t.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(json!({ "status": status })),
                )
                .await?;
        }
    }
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.kube.clone(), &ns);
    match pool::desired_hpa(&pool, &settings.pods) {
        Some(hpa) => {
            hpas.patch(&dname, &apply, &Patch::Apply(&hpa)).await?;
        }
        // An HPA left from hpa mode goes, looked for only when the spec changed since the
        // last reconcile (or on the first): not a DELETE every resync of every pool.
        None if previous.observed_generation != pool.metadata.generation => {
            match hpas.delete(&dname, &DeleteParams::default()).await {
                Ok(_) => info!(pool = %name, "removed the HorizontalPodAutoscaler (not in hpa mode)"),
                Err(kube::Error::Api(s)) if s.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        None => {}
    }

    let seen =
        scale::Observed { replicas, ready_replicas: ready, demand, queue_error: queue_error.as_deref() };
    let status = scale::pool_status(&previous, &decision, &seen, pool.metadata.generation, now);
    if status != previous {
        let pools: Api<VmafxNode> = Api::all(ctx.kube.clone());
        pools
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(json!({ "status": status })))
            .await?;
    }
    Ok(Action::requeue(settings.resync))
}

/// A training's status: its phase and why, for the generation seen.
fn training_status(t: &VmafxModelTraining, phase: &str, message: String) -> VmafxModelTrainingStatus {
    VmafxModelTrainingStatus {
        phase: Some(phase.into()),
        message: Some(message),
        observed_generation: t.metadata.generation,
        conditions: Vec::new(),
    }
}

// ---- VmafxJobs ----

async fn reconcile_job(vjob: Arc<VmafxJob>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let api: Api<VmafxJob> = Api::namespaced(ctx.kube.clone(), &vjob.namespace().unwrap_or_default());
    finalizer(&api, job::FINALIZER, vjob, |event| async {
        match event {
            Event::Apply(vjob) => apply_job(&vjob, &api, &ctx).await,
            Event::Cleanup(vjob) => cleanup_job(&vjob, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    })
}

async fn write_status(api: &Api<VmafxJob>, vjob: &VmafxJob, status: &VmafxJobStatus) -> Result<(), Error> {
    if vjob.status.as_ref() != Some(status) {
        api.patch_status(
            &vjob.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await?;
    }
    Ok(())
}

async fn apply_job(vjob: &VmafxJob, api: &Api<VmafxJob>, ctx: &Ctx) -> Result<Action, Error> {
    let previous = vjob.status.clone().unwrap_or_default();
    let generation = vjob.metadata.generation;
    let now = || Time(Timestamp::now());
    let name = vjob.name_any();
    let Some(id) = previous.controller_job_id.clone() else {
        if previous.phase.is_terminal() {
            return Ok(Action::await_change()); // refused before; the spec cannot change
        }
        let spec = match job::job_spec(&vjob.spec) {
            Ok(spec) => spec,
            Err(why) => {
                warn!(vjob = %name, error = %why, "refused");
                write_status(api, vjob, &job::refused(&previous, &why.0, generation, now())).await?;
                return Ok(Action::await_change());
            }
        };
        let key = job::idempotency_key(vjob);
        let submitted = match ctx.jobs.submit(&spec, vjob.spec.priority, key.as_deref()).await {
            Ok(s) => s,
            Err(e) if e.is_caller_mistake() => {
                let why = format!("the controller refused the job: {e}");
                warn!(vjob = %name, error = %e, "refused by the controller");
                write_status(api, vjob, &job::refused(&previous, &why, generation, now())).await?;
                return Ok(Action::await_change());
            }
            Err(e) => return Err(e.into()),
        };
        info!(vjob = %name, job_id = %submitted.job.id, created = submitted.created, "submitted");
        let with_digest = VmafxJobStatus { submitted_spec: Some(job::spec_digest(&vjob.spec)), ..previous };
        let status = job::status_from_view(&submitted.job, &with_digest, generation, now());
        write_status(api, vjob, &status).await?;
        return Ok(Action::requeue(ctx.settings.job_poll));
    };
    if previous.phase.is_terminal() {
        return Ok(Action::await_change());
    }
    if previous.submitted_spec.as_deref().is_some_and(|d| d != job::spec_digest(&vjob.spec)) {
        let why = format!(
            "the spec changed after job {id} was submitted; the job runs as submitted (delete this VmafxJob and create a new one to change it)"
        );
        write_status(api, vjob, &job::refused(&previous, &why, generation, now())).await?;
    }
    let view = match ctx.jobs.get(&id, false).await {
        Ok(view) => view,
        Err(ClientError::Refused { code: tonic::Code::NotFound, message }) => {
            let mut status = previous.clone();
            status.phase = crate::crd::JobPhase::Failed;
            status.message = Some(format!("controller job {id} is gone: {message}"));
            write_status(api, vjob, &status).await?;
            return Ok(Action::await_change());
        }
        Err(e) => return Err(e.into()),
    };
    let status = job::status_from_view(&view, &previous, generation, now());
    if status.phase != previous.phase {
        info!(vjob = %name, job_id = %id, phase = ?status.phase, "phase");
    }
    let done = status.phase.is_terminal();
    write_status(api, vjob, &status).await?;
    Ok(if done { Action::await_change() } else { Action::requeue(ctx.settings.job_poll) })
}

/// A VmafxJob being deleted: cancel its controller job unless it has ended.
async fn cleanup_job(vjob: &VmafxJob, ctx: &Ctx) -> Result<Action, Error> {
    let status = vjob.status.clone().unwrap_or_default();
    let Some(id) = status.controller_job_id else { return Ok(Action::await_change()) };
    if status.phase.is_terminal() {
        return Ok(Action::await_change());
    }
    match ctx.jobs.cancel(&id).await {
        Ok(view) => {
            info!(vjob = %vjob.name_any(), job_id = %id, state = ?view.state, "cancelled on deletion")
        }
        // Gone or already ended: nothing to cancel.
        Err(ClientError::Refused {
            code: tonic::Code::NotFound | tonic::Code::FailedPrecondition, ..
        }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}

// ---- leader election ----

/// Waits until this replica holds the Lease, then keeps renewing it in the background; the
/// returned channel says why if it is lost.
async fn lead(kube: Client, s: Settings) -> anyhow::Result<tokio::sync::oneshot::Receiver<String>> {
    let leases: Api<Lease> = Api::namespaced(kube, &s.pods.namespace);
    let mut announced = None;
    loop {
        match try_lead(&leases, &s).await {
            Ok(Ok(())) => break,
            Ok(Err(holder_and_wait)) => {
                let (holder, wait) = holder_and_wait;
                if announced.as_ref() != Some(&holder) {
                    info!(identity = %s.identity, leader = %holder, "following");
                    announced = Some(holder);
                }
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                warn!(error = %e, lease = %s.lease_name, "leader election");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
    info!(identity = %s.identity, lease = %s.lease_name, "leading");
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let period = Duration::from_secs((s.lease_seconds.max(3) / 3) as u64);
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(period).await;
            match try_lead(&leases, &s).await {
                Ok(Ok(())) => last_renewal = tokio::time::Instant::now(),
                Ok(Err((holder, _))) => {
                    let _ = tx.send(format!("lost the leader Lease {} to {holder}", s.lease_name));
                    return;
                }
                Err(e) => {
                    warn!(error = %e, "renewing the leader Lease");
                    if last_renewal.elapsed() >= Duration::from_secs(s.lease_seconds.max(1) as u64) {
                        let _ = tx
                            .send(format!("could not renew the leader Lease {} in time: {e}", s.lease_name));
                        return;
                    }
                }
            }
        }
    });
    Ok(rx)
}

/// One round: `Ok(Ok(()))` leading, `Ok(Err((holder, wait)))` following, `Err` the API failed
/// (a conflicting write counts as following: another replica wrote first).
async fn try_lead(leases: &Api<Lease>, s: &Settings) -> Result<Result<(), (String, Duration)>, kube::Error> {
    let current = leases.get_opt(&s.lease_name).await?;
    let spec = current.as_ref().and_then(|l| l.spec.as_ref());
    match lease::step(spec, &s.identity, Timestamp::now(), s.lease_seconds) {
        lease::Step::Follow { holder, retry_in_ms } => {
            let wait = Duration::from_millis(retry_in_ms.clamp(200, 5_000) as u64);
            Ok(Err((holder, wait)))
        }
        lease::Step::Write { spec, took_over_from } => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(s.lease_name.clone()),
                    namespace: Some(s.pods.namespace.clone()),
                    resource_version: current.as_ref().and_then(|l| l.metadata.resource_version.clone()),
                    ..Default::default()
                },
                spec: Some(spec),
            };
            let written = match &current {
                None => leases.create(&PostParams::default(), &lease).await,
                Some(_) => leases.replace(&s.lease_name, &PostParams::default(), &lease).await,
            };
            match written {
                Ok(_) => {
                    if let Some(from) = took_over_from {
                        info!(identity = %s.identity, from = %from, "took over the leader Lease");
                    }
                    Ok(Ok(()))
                }
                Err(kube::Error::Api(st)) if st.is_conflict() || st.is_already_exists() || st.code == 409 => {
                    Ok(Err(("another replica".into(), Duration::from_millis(500))))
                }
                Err(e) => Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;

    use http::{Request, Response, StatusCode};
    use kube::client::Body;
    use serde_json::Value;
    use vmafx_client::Tls;

    use super::*;

    /// A request as the API server got it.
    #[derive(Debug)]
    struct Seen {
        method: String,
        uri: String,
        content_type: String,
        body: Value,
    }

    /// Runs one pool reconcile against kube's mock service (the controller unreachable),
    /// answering GETs and DELETEs with 404 and echoing writes; returns what was sent.
    async fn reconcile_once(pool: Value) -> Vec<Seen> {
        let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let pool_json = pool.clone();
        let server = tokio::spawn(async move {
            let mut handle = pin!(handle);
            let mut seen = Vec::new();
            while let Some((request, send)) = handle.next_request().await {
                let (parts, body) = request.into_parts();
                let bytes = body.collect_bytes().await.unwrap();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let content_type = parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                let reply = match parts.method.as_str() {
                    "GET" if parts.uri.path().ends_with("/vmafxmodeltrainings") => Response::new(Body::from(
                        serde_json::to_vec(&json!({"apiVersion": "vmafx.io/v1alpha1",
                            "kind": "VmafxModelTrainingList", "metadata": {}, "items": []}))
                        .unwrap(),
                    )),
                    "GET" | "DELETE" => Response::builder()
                        .status(StatusCode::NOT_FOUND)
                        .body(Body::from(
                            serde_json::to_vec(
                                &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                "reason": "NotFound", "code": 404, "message": "not found"}),
                            )
                            .unwrap(),
                        ))
                        .unwrap(),
                    _ if parts.uri.path().ends_with("/status") => {
                        Response::new(Body::from(serde_json::to_vec(&pool_json).unwrap()))
                    }
                    _ => Response::new(Body::from(bytes.to_vec())),
                };
                seen.push(Seen {
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    content_type,
                    body,
                });
                send.send_response(reply);
            }
            seen
        });
        let settings = Settings {
            pods: PodSettings {
                controller: "https://vmafx-controller:50051".into(),
                join_token_secret: "join".into(),
                ca_secret: None,
                namespace: "vmafx".into(),
            },
            resync: Duration::from_secs(15),
            job_poll: Duration::from_secs(5),
            lease_name: "vmafx-operator".into(),
            identity: "test".into(),
            lease_seconds: 15,
        };
        let ctx = Arc::new(Ctx {
            kube: Client::new(service, "vmafx"),
            jobs: JobClient::connect_lazy("http://127.0.0.1:1", "t", &Tls::default()).unwrap(),
            settings,
        });
        let pool: VmafxNode = serde_json::from_value(pool).unwrap();
        let action = reconcile_pool(Arc::new(pool), ctx.clone()).await.unwrap();
        assert_eq!(action, Action::requeue(Duration::from_secs(15)));
        drop(ctx); // closes the mock service: the server loop ends
        server.await.unwrap()
    }

    fn pool(spec: Value) -> Value {
        json!({"apiVersion": "vmafx.io/v1alpha1", "kind": "VmafxNode",
               "metadata": {"name": "gpu", "uid": "u-1", "generation": 1}, "spec": spec})
    }

    #[tokio::test]
    async fn a_pool_is_applied_server_side_and_its_status_says_the_queue_is_unknown() {
        let seen = reconcile_once(pool(json!({"gpuVendor": "nvidia", "minReplicas": 2, "maxReplicas": 4,
            "image": "vmafx-node", "autoscaling": {"mode": "fixed"}})))
        .await;
        let calls: Vec<(&str, &str)> =
            seen.iter().map(|s| (s.method.as_str(), s.uri.split('?').next().unwrap())).collect();
        assert_eq!(
            calls,
            [
                ("GET", "/apis/apps/v1/namespaces/vmafx/deployments/vmafx-node-gpu"),
                // Trainings in the pool's namespace, one of which may name it.
                ("GET", "/apis/vmafx.io/v1alpha1/namespaces/vmafx/vmafxmodeltrainings"),
                ("PATCH", "/apis/apps/v1/namespaces/vmafx/deployments/vmafx-node-gpu"),
                ("DELETE", "/apis/autoscaling/v2/namespaces/vmafx/horizontalpodautoscalers/vmafx-node-gpu"),
                ("PATCH", "/apis/vmafx.io/v1alpha1/vmafxnodes/gpu/status"),
            ]
        );
        // Server-side apply: its content type, this field manager, forced (the operator owns
        // these fields; a conflict with a hand edit is resolved in its favour).
        let apply = &seen[2];
        assert_eq!(apply.content_type, "application/apply-patch+yaml");
        assert!(
            apply.uri.contains("fieldManager=vmafx-operator") && apply.uri.contains("force=true"),
            "{}",
            apply.uri
        );
        assert_eq!(apply.body["kind"], "Deployment");
        assert_eq!(apply.body["spec"]["replicas"], 2, "fixed at the minimum with the queue unknown");
        // The status: a merge patch naming why the size was kept.
        let status = &seen[4];
        assert_eq!(status.content_type, "application/merge-patch+json");
        let conditions = status.body["status"]["conditions"].as_array().unwrap();
        let known = conditions.iter().find(|c| c["type"] == "QueueKnown").unwrap();
        assert_eq!(
            (known["status"].as_str(), known["reason"].as_str()),
            (Some("False"), Some("ControllerUnreachable"))
        );
    }

    #[tokio::test]
    async fn an_unchanged_pool_is_not_asked_to_delete_an_hpa_again() {
        let mut seen_pool = pool(json!({"minReplicas": 1, "maxReplicas": 1, "image": "vmafx-node",
            "autoscaling": {"mode": "fixed"}}));
        seen_pool["metadata"]["generation"] = json!(3);
        seen_pool["status"] = json!({"observedGeneration": 3});
        let seen = reconcile_once(seen_pool).await;
        assert!(!seen.iter().any(|s| s.method == "DELETE"), "{seen:?}");
        assert!(seen.iter().any(|s| s.uri.contains("/deployments/") && s.method == "PATCH"));
    }

    #[tokio::test]
    async fn in_hpa_mode_the_replicas_are_left_to_the_hpa_it_applies() {
        let seen = reconcile_once(pool(json!({"gpuVendor": "amd", "minReplicas": 1, "maxReplicas": 4,
            "image": "vmafx-node", "autoscaling": {"mode": "hpa", "itemsPerReplica": 2}})))
        .await;
        let deployment =
            seen.iter().find(|s| s.uri.contains("/deployments/") && s.method == "PATCH").unwrap();
        assert!(deployment.body["spec"].get("replicas").is_none(), "{}", deployment.body);
        let hpa = seen.iter().find(|s| s.uri.contains("/horizontalpodautoscalers/")).unwrap();
        assert_eq!(
            (hpa.method.as_str(), hpa.content_type.as_str()),
            ("PATCH", "application/apply-patch+yaml")
        );
        assert_eq!(hpa.body["spec"]["maxReplicas"], 4);
    }
}
