//! The controller, as the tools use it: the shared job client, and its errors worded for an
//! agent.

use vmafx_client::{ClientError, JobClient};

/// A controller to send jobs to.
#[derive(Clone)]
pub struct Cluster {
    pub client: JobClient,
    token: String,
    tls: vmafx_client::Tls,
}

impl Cluster {
    /// A lazily connected client: the controller may start after the server.
    pub fn new(address: &str, token: &str, tls: &vmafx_client::Tls) -> anyhow::Result<Self> {
        let client =
            JobClient::connect_lazy(address, token, tls).map_err(|e| anyhow::anyhow!("--controller: {e}"))?;
        Ok(Self { client, token: token.trim().into(), tls: tls.clone() })
    }

    pub fn address(&self) -> &str {
        self.client.address()
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn tls(&self) -> &vmafx_client::Tls {
        &self.tls
    }

    /// A controller error as an agent should read it.
    pub fn explain(&self, e: ClientError) -> String {
        match e {
            ClientError::Refused { code: tonic::Code::Unauthenticated, message } => {
                format!("the controller at {} refused the token: {message}", self.address())
            }
            e => e.to_string(),
        }
    }
}
