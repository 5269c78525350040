use serde::Serialize;
use ts_rs::TS;

/// What every command rejects with: the engine's error kind (or `workspace` for the app's own
/// problems) and a message meant to be shown as it is.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct AppError {
    pub kind: String,
    pub message: String,
}

impl AppError {
    pub fn workspace(message: impl Into<String>) -> Self {
        AppError {
            kind: "workspace".into(),
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AppError {
            kind: "internal".into(),
            message: message.into(),
        }
    }
}

impl From<procdeck_engine::Error> for AppError {
    fn from(e: procdeck_engine::Error) -> Self {
        AppError {
            kind: e.kind().into(),
            message: e.to_string(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
