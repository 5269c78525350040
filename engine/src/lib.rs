//! Procdeck's engine: everything the desktop app and the CLI do to processes goes through here.
//!
//! The files under `<workspace>/.procdeck/` are the truth. Each process is owned by a shim (the
//! `procdeck` CLI re-run with a hidden argument, see [`shim`]) that writes only inside its
//! process folder; the index is merged from those folders on every listing.

pub mod atomic;
pub mod conflict;
pub mod error;
pub mod events;
pub mod follow;
pub mod id;
mod lock;
mod nofollow;
pub mod origin;
pub mod output;
pub mod platform;
pub mod ports;
mod procdir;
pub mod ready;
pub mod record;
pub mod resolve;
mod restart;
pub mod runs;
pub mod settings;
pub mod shell;
pub mod shellenv;
pub mod shim;
mod spawn;
pub mod stack;
pub mod store;
pub mod suggest;
pub mod usage;
mod watch;
pub mod workspace;

pub use error::{Error, Result};
pub use events::Event;
pub use follow::{FollowControl, FollowEnd};
pub use output::{
    GrepLine, GrepResult, LineChunk, ReadMethod, ReadRequest, ReadResult, SinceChunk,
};
pub use ready::{MatchedLine, PortWanted, ReadyOutcome, ReadyReason, ReadyWhen};
pub use record::{Origin, ProcessRecord, StartedBy, Starter, Status};
pub use restart::ForeignConsent;
pub use settings::{BaseEnv, Settings};
pub use usage::{Usage, UsageSampler};
pub use watch::StoreWatcher;
pub use workspace::{OpenReport, StartRequest, StopRequest, Workspace};
