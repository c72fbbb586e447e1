//! Errors of host operations.

use std::fmt;
use std::path::PathBuf;

use super::status::{self, Status};

/// Why a host operation failed.
#[derive(Debug)]
pub enum HostError {
    /// The bundle layout is wrong (no binary where OFX says it must be).
    Bundle { path: PathBuf, reason: String },
    /// dlopen failed.
    Load { path: PathBuf, reason: String },
    /// A mandatory entry point is missing from the binary.
    MissingSymbol { path: PathBuf, symbol: &'static str },
    /// The binary exposes no plugin with this identifier.
    NoSuchPlugin(String),
    /// The plugin is not an image effect of a supported API version.
    UnsupportedApi {
        plugin: String,
        api: String,
        version: i32,
    },
    /// The plugin answered an action with a failure status.
    Action {
        action: &'static str,
        status: Status,
    },
    /// The plugin does not offer that context, or the host does not.
    UnsupportedContext(String),
    /// A caller asked for something the plugin or host cannot do (render a
    /// tile of an effect without tile support, a wrong output image ...).
    Invalid(String),
    /// No such clip or parameter, or a value of the wrong type.
    Unknown(String),
    /// The render stopped because the instance was told to abort.
    Aborted,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Bundle { path, reason } => {
                write!(f, "bad OFX bundle {}: {reason}", path.display())
            }
            HostError::Load { path, reason } => {
                write!(f, "cannot load {}: {reason}", path.display())
            }
            HostError::MissingSymbol { path, symbol } => {
                write!(f, "{} does not export {symbol}", path.display())
            }
            HostError::NoSuchPlugin(id) => write!(f, "no plugin with identifier {id}"),
            HostError::UnsupportedApi {
                plugin,
                api,
                version,
            } => {
                write!(f, "plugin {plugin} implements {api} version {version}, not OfxImageEffectPluginAPI 1")
            }
            HostError::Action { action, status } => {
                write!(
                    f,
                    "the plugin answered {action} with {}",
                    status::describe(*status)
                )
            }
            HostError::UnsupportedContext(c) => write!(f, "context {c} is not supported"),
            HostError::Invalid(why) => write!(f, "{why}"),
            HostError::Unknown(what) => write!(f, "{what}"),
            HostError::Aborted => write!(f, "the render was aborted"),
        }
    }
}

impl std::error::Error for HostError {}
