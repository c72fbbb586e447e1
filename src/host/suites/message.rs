//! `OfxMessageSuiteV1` / `V2`. The formatting calls are C shims that come back
//! here through `message`.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use super::status;
use crate::ffi::{self as f, OfxMessageSuiteV1, OfxMessageSuiteV2, OfxStatus};
use crate::host::actions;
use crate::host::effect::Effect;
use crate::host::handles::{self, Object};
use crate::host::journal::{Journal, Message, MessageLevel};
use crate::host::status as st;
use crate::host::strings::{self, name};

unsafe extern "C" {
    fn collapse_host_message(
        handle: *mut c_void,
        kind: *const c_char,
        id: *const c_char,
        format: *const c_char,
        ...
    ) -> OfxStatus;
    fn collapse_host_set_persistent_message(
        handle: *mut c_void,
        kind: *const c_char,
        id: *const c_char,
        format: *const c_char,
        ...
    ) -> OfxStatus;
}

static SUITE_V1: OfxMessageSuiteV1 = OfxMessageSuiteV1 {
    message: Some(collapse_host_message),
};

static SUITE_V2: OfxMessageSuiteV2 = OfxMessageSuiteV2 {
    message: Some(collapse_host_message),
    setPersistentMessage: Some(collapse_host_set_persistent_message),
    clearPersistentMessage: Some(clear_persistent_message),
};

pub fn suite_v1() -> *const c_void {
    &SUITE_V1 as *const OfxMessageSuiteV1 as *const c_void
}

pub fn suite_v2() -> *const c_void {
    &SUITE_V2 as *const OfxMessageSuiteV2 as *const c_void
}

fn level(kind: &str) -> Option<MessageLevel> {
    Some(match kind {
        k if k == name(f::kOfxMessageFatal) => MessageLevel::Fatal,
        k if k == name(f::kOfxMessageError) => MessageLevel::Error,
        k if k == name(f::kOfxMessageWarning) => MessageLevel::Warning,
        k if k == name(f::kOfxMessageMessage) => MessageLevel::Message,
        k if k == name(f::kOfxMessageLog) => MessageLevel::Log,
        k if k == name(f::kOfxMessageQuestion) => MessageLevel::Question,
        _ => return None,
    })
}

/// The effect a message is about: its handle, or (for NULL) the effect whose
/// action runs on this thread.
fn target(call: &str, handle: *mut c_void) -> Result<Option<Arc<Effect>>, OfxStatus> {
    let key = if handle.is_null() {
        actions::current().map_or(0, |f| f.effect)
    } else {
        handle as usize
    };
    match handles::lookup(key as *const c_void) {
        Some(Object::Effect(e)) => Ok(Some(e)),
        _ if handle.is_null() => Ok(None),
        _ => Err(super::bad_handle(call, handle, "image effect")),
    }
}

/// Callback of the C shims: `text` is the formatted message.
pub unsafe extern "C" fn message(
    handle: *mut c_void,
    kind: *const c_char,
    id: *const c_char,
    text: *const c_char,
    persistent: c_int,
) -> OfxStatus {
    let call = if persistent != 0 {
        "setPersistentMessage"
    } else {
        "message"
    };
    let mut reply = st::OK;
    let result = status(|| {
        let effect = target(call, handle)?;
        let journal: Arc<Journal> = effect
            .as_ref()
            .map_or_else(super::current_journal, |e| e.journal.clone());
        let kind = super::text(&journal, call, kind, "message type")?;
        let Some(level) = level(kind) else {
            journal.violation(format!("{call}: unknown message type \"{kind}\""));
            return Err(st::ERR_UNKNOWN);
        };
        let text = super::text(&journal, call, text, "formatted message")?;
        if persistent != 0
            && !matches!(
                level,
                MessageLevel::Error | MessageLevel::Warning | MessageLevel::Message
            )
        {
            journal.violation(format!(
                "{call} with type \"{kind}\" (only error, warning and message are allowed)"
            ));
            return Err(st::ERR_UNKNOWN);
        }
        let id = strings::from_c(id).map(str::to_owned);
        log::info!("OFX {level:?} message: {text}");
        journal.message(Message {
            level,
            id,
            text: text.to_owned(),
            persistent: persistent != 0,
        });
        if level == MessageLevel::Question {
            let yes = effect.is_none_or(|e| e.config.answer_questions_yes);
            reply = if yes { st::REPLY_YES } else { st::REPLY_NO };
        }
        Ok(())
    });
    if result == st::OK {
        reply
    } else {
        result
    }
}

unsafe extern "C" fn clear_persistent_message(handle: *mut c_void) -> OfxStatus {
    status(|| {
        if let Some(effect) = target("clearPersistentMessage", handle)? {
            effect.journal.clear_persistent();
        }
        Ok(())
    })
}
