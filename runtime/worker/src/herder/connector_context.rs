//! The [`ConnectorContext`] the herders hand to running connectors: requests from a connector's
//! own threads travel over a channel to the herder's loop, which acts on them in order.

use ferry_api::{ConnectError, ConnectorContext};
use tokio::sync::mpsc;

/// What a connector asks of the herder from its own threads.
#[derive(Debug)]
pub enum ConnectorRequest {
    /// The connector's inputs changed: generate task configs again.
    Reconfigure(String),
    /// The connector failed in the background: mark it FAILED.
    Fail(String, ConnectError),
}

/// A connector's handle on its herder.
#[derive(Debug)]
pub struct HerderConnectorContext {
    /// The connector's name.
    pub name: String,
    /// Where requests go.
    pub tx: mpsc::UnboundedSender<ConnectorRequest>,
}

impl ConnectorContext for HerderConnectorContext {
    fn request_task_reconfiguration(&self) {
        let _ = self
            .tx
            .send(ConnectorRequest::Reconfigure(self.name.clone()));
    }
    fn raise_error(&self, error: ConnectError) {
        let _ = self
            .tx
            .send(ConnectorRequest::Fail(self.name.clone(), error));
    }
}
