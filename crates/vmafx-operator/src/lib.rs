//! vmafx-operator: the Kubernetes side of vmafx.
//!
//! The reconcile logic is plain functions a test drives without a cluster:
//! - [`crd`]: the custom resources (`vmafx.io/v1alpha1`), the source of the CRDs;
//! - [`pool`]: a [`crd::VmafxNode`] in, its Deployment and HorizontalPodAutoscaler out;
//! - [`job`]: a [`crd::VmafxJob`] in, its controller submission and status out;
//! - [`scale`]: the operator's own autoscaler (queue depth in, replicas out);
//! - [`lease`]: leader election on a coordination Lease (the Lease and the clock in, a step out).
//!
//! [`run`] is the thin kube-rs adapter that applies these decisions to a cluster (watches,
//! server-side apply, status, finalizers, the leader Lease); `main.rs` parses the flags.

pub mod crd;
pub mod job;
pub mod lease;
pub mod pool;
pub mod run;
pub mod scale;
