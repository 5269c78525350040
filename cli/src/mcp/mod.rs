//! `procdeck mcp`: a Model Context Protocol server over standard input and output, so that a
//! coding agent runs, reads and stops a workspace's processes through the same engine and store
//! as the app and the CLI. It keeps nothing of its own: killed at any moment, it loses no
//! process and no byte of output, and the next server (or the app) finds everything.

mod convert;
mod events;
mod manage;
mod read;
mod schema;
mod session;
mod start;
mod text;
mod tools;
mod transport;
mod wait;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt;

use session::Session;

/// How long the runtime is given to wind down once the session is over.
const SHUTDOWN: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("starting the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("listening for termination signals: {0}")]
    Signals(std::io::Error),
    #[error("the MCP session could not start: {0}")]
    Initialize(String),
}

/// Serves one client on standard input and output until it closes standard input (or the
/// server is told to terminate), then, with `stop_on_exit`, stops what this session started.
pub fn run(folder: Option<PathBuf>, stop_on_exit: bool) -> Result<ExitCode, McpError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(McpError::Runtime)?;
    let session = Arc::new(Session::new(folder, stop_on_exit));
    let served = runtime.block_on(serve(session.clone()));
    // Stops run on this thread, with the runtime's threads idle: a stop is blocking work.
    session.stop_started();
    runtime.shutdown_timeout(SHUTDOWN);
    served.map(|()| ExitCode::SUCCESS)
}

async fn serve(session: Arc<Session>) -> Result<(), McpError> {
    let mut ending =
        procdeck_engine::platform::TerminationRequests::listen().map_err(McpError::Signals)?;
    let server = tools::Server::new(session);
    let running = server
        .serve(transport::stdio())
        .await
        .map_err(|e| McpError::Initialize(e.to_string()))?;
    tokio::select! {
        ended = running.waiting() => {
            if let Err(e) = ended {
                tracing::warn!("the session ended with an error: {e}");
            }
        }
        how = ending.recv() => tracing::info!("{how}"),
    }
    Ok(())
}
