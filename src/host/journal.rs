//! What a plugin told the host (messages, progress) and what it did wrong
//! (protocol violations), recorded for the tests and the renderer to read.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use super::actions;

/// Severity of a message-suite message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageLevel {
    Fatal,
    Error,
    Warning,
    Message,
    Log,
    Question,
}

/// One message sent through the message suite.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub level: MessageLevel,
    pub id: Option<String>,
    pub text: String,
    /// Sent with `setPersistentMessage` (message suite V2).
    pub persistent: bool,
}

/// One call of the progress suite.
#[derive(Clone, Debug, PartialEq)]
pub enum ProgressEvent {
    Start { label: String, id: Option<String> },
    Update(f64),
    End,
}

#[derive(Default)]
struct Records {
    violations: Vec<String>,
    messages: Vec<Message>,
    persistent: Option<Message>,
    progress: Vec<ProgressEvent>,
    /// Jobs (see `actions::job_key`) with a progress started and not ended.
    progress_open: HashSet<u64>,
}

/// The record of one plugin or one instance. Shared by every object it owns.
pub struct Journal {
    owner: String,
    records: Mutex<Records>,
}

impl Journal {
    pub fn new(owner: impl Into<String>) -> Arc<Self> {
        Arc::new(Journal {
            owner: owner.into(),
            records: Mutex::default(),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut Records) -> R) -> R {
        // A panic while the lock is held cannot leave the records inconsistent.
        let mut guard = self.records.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Records a protocol violation, tagged with the owner and the action running
    /// on this thread.
    pub fn violation(&self, text: impl AsRef<str>) {
        let text = format!(
            "{} [{}]: {}",
            self.owner,
            actions::current_name(),
            text.as_ref()
        );
        log::warn!("OFX violation: {text}");
        self.with(|r| r.violations.push(text));
    }

    pub fn violations(&self) -> Vec<String> {
        self.with(|r| r.violations.clone())
    }

    pub fn message(&self, message: Message) {
        self.with(|r| {
            if message.persistent {
                r.persistent = Some(message.clone());
            }
            r.messages.push(message);
        });
    }

    pub fn messages(&self) -> Vec<Message> {
        self.with(|r| r.messages.clone())
    }

    pub fn persistent_message(&self) -> Option<Message> {
        self.with(|r| r.persistent.clone())
    }

    /// Clears the persistent message; false when there was none.
    pub fn clear_persistent(&self) -> bool {
        self.with(|r| r.persistent.take().is_some())
    }

    /// Records a progress call; pairing mistakes (within one render or, outside
    /// renders, one thread) are violations.
    pub fn progress(&self, event: ProgressEvent) {
        let job = actions::job_key();
        let problem = self.with(|r| {
            let problem = match (&event, r.progress_open.contains(&job)) {
                (ProgressEvent::Start { .. }, true) => {
                    Some("progressStart while a progress is already running")
                }
                (ProgressEvent::Update(_), false) => Some("progressUpdate without progressStart"),
                (ProgressEvent::End, false) => Some("progressEnd without progressStart"),
                (ProgressEvent::Update(p), true) if !(0.0..=1.0).contains(p) => {
                    Some("progressUpdate with a value outside [0, 1]")
                }
                _ => None,
            };
            match event {
                ProgressEvent::Start { .. } => r.progress_open.insert(job),
                ProgressEvent::End => r.progress_open.remove(&job),
                ProgressEvent::Update(_) => false,
            };
            r.progress.push(event);
            problem
        });
        if let Some(problem) = problem {
            self.violation(problem);
        }
    }

    pub fn progress_events(&self) -> Vec<ProgressEvent> {
        self.with(|r| r.progress.clone())
    }
}

/// Journal for calls whose handle belongs to no live object.
pub fn stray() -> &'static Arc<Journal> {
    static STRAY: OnceLock<Arc<Journal>> = OnceLock::new();
    STRAY.get_or_init(|| Journal::new("unknown handle"))
}
