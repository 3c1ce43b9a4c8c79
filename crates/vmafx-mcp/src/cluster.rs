//! The controller, as the tools use it: an authenticated gRPC job client.

use std::time::Duration;

use tonic::transport::Channel;
use tonic::Request;
use vmafx_proto::v1::job_service_client::JobServiceClient;

/// A controller to send jobs to.
#[derive(Clone)]
pub struct Cluster {
    pub address: String,
    client: JobServiceClient<Channel>,
    token: String,
}

impl Cluster {
    /// A lazily connected client: the controller may start after the server.
    pub fn new(address: &str, token: &str) -> anyhow::Result<Self> {
        let channel = Channel::from_shared(address.to_string())
            .map_err(|_| {
                anyhow::anyhow!("--controller `{address}` is not a URL like http://127.0.0.1:50051")
            })?
            .connect_timeout(Duration::from_secs(5))
            .connect_lazy();
        Ok(Self {
            address: address.into(),
            client: JobServiceClient::new(channel),
            token: token.trim().into(),
        })
    }

    pub fn client(&self) -> JobServiceClient<Channel> {
        self.client.clone()
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn request<T>(&self, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        if let Ok(v) = format!("Bearer {}", self.token).parse() {
            r.metadata_mut().insert("authorization", v);
        }
        r
    }

    /// A controller error as an agent should read it.
    pub fn explain(&self, s: tonic::Status) -> String {
        match s.code() {
            tonic::Code::Unavailable => {
                format!("cannot reach the controller at {}: {}", self.address, s.message())
            }
            tonic::Code::Unauthenticated => {
                format!("the controller at {} refused the token: {}", self.address, s.message())
            }
            _ => s.message().to_string(),
        }
    }
}
