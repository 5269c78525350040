//! Ctrl-C, Ctrl-Break and the console closing, for an async front.

use std::io;

use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, CtrlBreak, CtrlC, CtrlClose};

pub(in crate::platform) struct TerminationRequests {
    interrupt: CtrlC,
    brk: CtrlBreak,
    close: CtrlClose,
}

impl TerminationRequests {
    pub(in crate::platform) fn listen() -> io::Result<TerminationRequests> {
        Ok(TerminationRequests {
            interrupt: ctrl_c()?,
            brk: ctrl_break()?,
            close: ctrl_close()?,
        })
    }

    pub(in crate::platform) async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "interrupted",
            _ = self.brk.recv() => "terminated",
            _ = self.close.recv() => "terminated",
        }
    }
}
