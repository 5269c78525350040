//! `process_list`, `process_stop`, `process_remove` and `process_restart`: the engine's own
//! operations, with their results shaped for an agent.

use std::sync::Arc;

use procdeck_engine::{ports, Error, StopRequest, Workspace};

use super::convert::{self, ports_of, process_out};
use super::schema::{
    ListInput, ListOutput, NameInput, RemoveOutput, RestartOutput, StopInput, StopOutput,
};
use super::session::{blocking, Session, ToolError, ToolResult};

const MAX_GRACE_S: f64 = 60.0;

pub async fn list(
    session: &Session,
    ws: Arc<Workspace>,
    input: ListInput,
) -> ToolResult<(String, ListOutput)> {
    let work_ws = ws.clone();
    let processes = blocking(move || {
        let mut records = work_ws.list()?;
        if !input.include_ended.unwrap_or(true) {
            records.retain(|r| r.status.is_running());
        }
        if let Some(limit) = input.limit {
            let keep = usize::try_from(limit).unwrap_or(usize::MAX);
            records.drain(..records.len().saturating_sub(keep));
        }
        Ok(records
            .into_iter()
            .map(|r| {
                let ports = if r.status.is_running() {
                    ports_of(&work_ws, &r.id)
                } else {
                    Vec::new()
                };
                process_out(r, ports)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let events = session.events(&ws, &[]).await;
    let mut text = format!(
        "{} process(es) in {}",
        processes.len(),
        ws.folder().display()
    );
    for p in &processes {
        let by = p
            .started_by
            .as_ref()
            .map(|b| match &b.client {
                Some(client) => format!("{} {client}", b.kind),
                None => b.kind.clone(),
            })
            .unwrap_or_else(|| "unknown".into());
        text.push_str(&format!(
            "\n{}  {}  {}  {:?}  started by {by}",
            p.id, p.status, p.title, p.ports
        ));
    }
    let out = ListOutput { processes, events };
    Ok((convert::with_events(text, &out.events), out))
}

pub async fn stop(
    session: &Session,
    ws: Arc<Workspace>,
    input: StopInput,
) -> ToolResult<(String, StopOutput)> {
    let grace = input
        .grace_s
        .map(|g| convert::seconds(Some(g), 0.0, MAX_GRACE_S, "grace_s"))
        .transpose()?;
    let work_ws = ws.clone();
    let (record, survivors, ports_freed) = blocking(move || {
        let ws = work_ws;
        let id = convert::resolve(&ws, input.id.as_deref(), input.title.as_deref())?;
        let before = ports_of(&ws, &id);
        let record = ws.stop(&id, StopRequest { grace })?;
        let survivors = ws.survivors(&id)?.len() as u64;
        let freed = before
            .into_iter()
            .filter(|&p| ports::who_listens_on(p).is_none())
            .collect::<Vec<_>>();
        Ok((record, survivors, freed))
    })
    .await?;
    let events = session.events(&ws, &[&record.id]).await;
    let text = format!(
        "stopped {} ({}): {}{}, {survivors} survivor(s), ports freed {ports_freed:?}",
        record.title,
        record.id,
        record.status.as_str(),
        record
            .exit_code
            .map(|c| format!(", exit code {c}"))
            .or(record.signal.map(|s| format!(", signal {s}")))
            .unwrap_or_default(),
    );
    let out = StopOutput {
        id: record.id,
        title: record.title,
        status: record.status.as_str().to_owned(),
        exit_code: record.exit_code,
        signal: record.signal,
        survivors,
        ports_freed,
        events,
    };
    Ok((convert::with_events(text, &out.events), out))
}

pub async fn remove(
    session: &Session,
    ws: Arc<Workspace>,
    input: NameInput,
) -> ToolResult<(String, RemoveOutput)> {
    let work_ws = ws.clone();
    let id = blocking(move || {
        let id = convert::resolve(&work_ws, input.id.as_deref(), input.title.as_deref())?;
        work_ws.remove(&id)?;
        Ok(id)
    })
    .await?;
    let events = session.events(&ws, &[&id]).await;
    let text = format!("removed {id} (stopped if it ran; its record and output are deleted)");
    let out = RemoveOutput {
        id,
        removed: true,
        events,
    };
    Ok((convert::with_events(text, &out.events), out))
}

pub async fn restart(
    session: &Session,
    ws: Arc<Workspace>,
    input: NameInput,
) -> ToolResult<(String, RestartOutput)> {
    let work_ws = ws.clone();
    let (previous, record) = blocking(move || {
        let id = convert::resolve(&work_ws, input.id.as_deref(), input.title.as_deref())?;
        // No consent is ever given here: a record the user did not start runs again only once
        // the user has seen it.
        match work_ws.restart(&id, None) {
            Ok(record) => Ok((id, record)),
            Err(Error::ForeignRecord { id, command, .. }) => Err(ToolError(format!(
                "process {id} was not started by this user in this folder (its record came with the folder or was edited), so restarting it would run {command:?} without the user's consent: the user must confirm it in the Procdeck app or with `procdeck restart {id} --yes`"
            ))),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    if session.started_here(&previous) {
        session.remember_start(&record.id, session.ready_of(&previous));
    }
    let events = session.events(&ws, &[&previous, &record.id]).await;
    let text = format!(
        "restarted {} as {} (was {previous}), pid {}",
        record.title,
        record.id,
        record
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    let out = RestartOutput {
        id: record.id,
        previous_id: previous,
        title: record.title,
        status: record.status.as_str().to_owned(),
        pid: record.pid,
        events,
    };
    Ok((convert::with_events(text, &out.events), out))
}
