//! The server's tools: each one takes its input, runs its operation and returns a short text
//! with the `structuredContent` its `outputSchema` declares, or an `isError` result with one
//! sentence. Nothing a client sends ends the server.

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::schema_for_output;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProtocolVersion, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler};
use serde::Serialize;

use super::schema::{
    ListInput, ListOutput, NameInput, OutputInput, OutputOutput, RemoveOutput, RestartOutput,
    StartInput, StartOutput, StopInput, StopOutput, WaitInput, WaitOutput,
};
use super::session::{Session, ToolResult};
use super::{manage, read, start, wait};

const INSTRUCTIONS: &str = "Procdeck runs long-lived commands (dev servers, watchers, builds) \
in the background of a workspace folder, shared with the Procdeck app and CLI. Start them with \
process_start (with `ready` to wait until they serve), read their output with process_output \
(mode since + next_cursor reads only what is new), and stop them with process_stop. Every result \
lists in `events` the processes that ended since your previous call.";

#[derive(Clone)]
pub struct Server {
    session: Arc<Session>,
    tool_router: ToolRouter<Server>,
}

impl Server {
    pub fn new(session: Arc<Session>) -> Server {
        Server {
            session,
            tool_router: Self::tool_router(),
        }
    }
}

/// A tool's answer: its text and structured content, or its error as an `isError` result.
fn reply<T: Serialize>(result: ToolResult<(String, T)>) -> Result<CallToolResult, ErrorData> {
    match result {
        Ok((text, value)) => {
            let value = serde_json::to_value(value).map_err(|e| {
                ErrorData::internal_error(format!("encoding the result: {e}"), None)
            })?;
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            result.structured_content = Some(value);
            Ok(result)
        }
        Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(e.0)])),
    }
}

/// A flag set when the client cancels the request, for waits (which run off the async threads)
/// to check. Dropping it sets it too: a request whose handler is gone has nobody left to answer,
/// so a wait still running for it ends.
struct CancelFlag {
    flag: Arc<AtomicBool>,
    watcher: tokio::task::JoinHandle<()>,
}

impl CancelFlag {
    fn new(ctx: &RequestContext<RoleServer>) -> CancelFlag {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        let ct = ctx.ct.clone();
        let watcher = tokio::spawn(async move {
            ct.cancelled().await;
            set.store(true, Ordering::Relaxed);
        });
        CancelFlag { flag, watcher }
    }
}

impl Drop for CancelFlag {
    fn drop(&mut self) {
        self.flag.store(true, Ordering::Relaxed);
        self.watcher.abort();
    }
}

/// Runs `op` on the session's workspace, opened at the first call.
async fn with_workspace<T, F, Fut>(
    server: &Server,
    ctx: &RequestContext<RoleServer>,
    op: F,
) -> ToolResult<(String, T)>
where
    F: FnOnce(Arc<Session>, Arc<procdeck_engine::Workspace>) -> Fut,
    Fut: Future<Output = ToolResult<(String, T)>>,
{
    let ws = server.session.workspace(&ctx.peer).await?;
    op(server.session.clone(), ws).await
}

#[tool_router]
impl Server {
    #[tool(
        description = "Start a command in the background of the workspace (or return the running one of the same title, or same command and folder, with reuse). With `ready`, answer once a line of output matches log_regex, the process listens on port, it exits, or timeout_s passes, and say which. Returns id, status (running|ready|exited|failed|timed_out), pid, ports and the last output.",
        output_schema = schema_for_output::<StartOutput>()
    )]
    async fn process_start(
        &self,
        Parameters(input): Parameters<StartInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let client = Session::client_name(&ctx.peer);
        let cancel = CancelFlag::new(&ctx);
        let flag = cancel.flag.clone();
        reply(
            with_workspace(self, &ctx, |session, ws| async move {
                start::start(&session, ws, client, input, flag).await
            })
            .await,
        )
    }

    #[tool(
        description = "List every process of the workspace, whoever started it (the app, the CLI or an agent): id, title, command, status, exit code, pid, listening ports, start and end times, output size, started_by.",
        output_schema = schema_for_output::<ListOutput>(),
        annotations(read_only_hint = true)
    )]
    async fn process_list(
        &self,
        Parameters(input): Parameters<ListInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        reply(
            with_workspace(self, &ctx, |session, ws| async move {
                manage::list(&session, ws, input).await
            })
            .await,
        )
    }

    #[tool(
        description = "Read a process's output without consuming it: mode tail or head (lines), grep (lines matching pattern), or since (the bytes after cursor; pass the returned next_cursor next time to read only what is new). ANSI sequences are stripped and \\r progress redraws collapsed; at most max_bytes (default 16 KiB, at most 256 KiB).",
        output_schema = schema_for_output::<OutputOutput>(),
        annotations(read_only_hint = true)
    )]
    async fn process_output(
        &self,
        Parameters(input): Parameters<OutputInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        reply(
            with_workspace(self, &ctx, |session, ws| async move {
                read::output(&session, ws, input).await
            })
            .await,
        )
    }

    #[tool(
        description = "Wait (at most timeout_s, up to 50 s) until a process exits (until \"exit\"), is ready (\"ready\": as its process_start asked, else listening on a port), prints a line matching {\"log_regex\": ...}, or listens on {\"port\": N}. Returns whether it was satisfied and why the wait ended. Sends progress notifications when given a progress token.",
        output_schema = schema_for_output::<WaitOutput>(),
        annotations(read_only_hint = true)
    )]
    async fn process_wait(
        &self,
        Parameters(input): Parameters<WaitInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let progress = ctx
            .meta
            .get_progress_token()
            .map(|token| (ctx.peer.clone(), token));
        let cancel = CancelFlag::new(&ctx);
        let flag = cancel.flag.clone();
        reply(
            with_workspace(self, &ctx, |session, ws| async move {
                wait::wait(&session, ws, input, progress, flag).await
            })
            .await,
        )
    }

    #[tool(
        description = "Stop a process (by id or title) and its whole tree: SIGTERM, then SIGKILL after grace_s (default 2). Returns its exit code or signal, survivors (0 expected) and the ports it freed.",
        output_schema = schema_for_output::<StopOutput>(),
        annotations(destructive_hint = true)
    )]
    async fn process_stop(
        &self,
        Parameters(input): Parameters<StopInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        reply(
            with_workspace(self, &ctx, |session, ws| async move {
                manage::stop(&session, ws, input).await
            })
            .await,
        )
    }

    #[tool(
        description = "Remove a process (by id or title): stop it if it runs, then delete its record and output.",
        output_schema = schema_for_output::<RemoveOutput>(),
        annotations(destructive_hint = true)
    )]
    async fn process_remove(
        &self,
        Parameters(input): Parameters<NameInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        reply(
            with_workspace(self, &ctx, |session, ws| async move {
                manage::remove(&session, ws, input).await
            })
            .await,
        )
    }

    #[tool(
        description = "Restart a process (by id or title): stop it if it runs, then start it again with the same command, title, folder and environment. A process the user did not start here is refused: the user must confirm it.",
        output_schema = schema_for_output::<RestartOutput>(),
        annotations(destructive_hint = true)
    )]
    async fn process_restart(
        &self,
        Parameters(input): Parameters<NameInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        reply(
            with_workspace(self, &ctx, |session, ws| async move {
                manage::restart(&session, ws, input).await
            })
            .await,
        )
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("procdeck", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS);
        info.protocol_version = ProtocolVersion::LATEST_WITH_INITIALIZE;
        info
    }

    /// The revisions with an `initialize` handshake: the client's name, which records keep,
    /// comes from it.
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(
            &ProtocolVersion::LATEST_WITH_INITIALIZE,
        ))
    }
}
