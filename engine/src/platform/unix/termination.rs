//! SIGTERM and SIGINT for an async front.

use std::io;

use tokio::signal::unix::{signal, Signal, SignalKind};

pub(in crate::platform) struct TerminationRequests {
    term: Signal,
    interrupt: Signal,
}

impl TerminationRequests {
    pub(in crate::platform) fn listen() -> io::Result<TerminationRequests> {
        Ok(TerminationRequests {
            term: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    pub(in crate::platform) async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "terminated",
            _ = self.interrupt.recv() => "interrupted",
        }
    }
}
