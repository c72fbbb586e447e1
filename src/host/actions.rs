//! Calling the plugin's main entry, and knowing on every thread which action
//! is running (violations name it, and some calls are only legal in some actions).

use std::cell::RefCell;
use std::ffi::c_void;
use std::sync::Arc;

use super::render::RenderCtx;
use super::status::Status;
use super::strings::{c_ptr, name};
use crate::ffi::{self as f, OfxPropertySetHandle};

/// The plugin's `mainEntry`.
pub type MainEntry = unsafe extern "C" fn(
    *const std::ffi::c_char,
    *const c_void,
    OfxPropertySetHandle,
    OfxPropertySetHandle,
) -> Status;

/// One action in progress on this thread.
#[derive(Clone)]
pub struct Frame {
    pub action: &'static str,
    /// Handle of the effect the action runs on (0 for load/unload).
    pub effect: usize,
    /// Set for the render action: what `clipGetImage` needs.
    pub render: Option<Arc<RenderCtx>>,
}

thread_local! {
    static STACK: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// The innermost action running on this thread.
pub fn current() -> Option<Frame> {
    STACK.with(|s| s.borrow().last().cloned())
}

/// Identifies what the plugin is doing on this thread, for state it may keep
/// per job (an open progress bar): the render (shared with the threads it
/// spawned) or else the thread.
pub fn job_key() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1 << 63);
    thread_local! {
        static THREAD_KEY: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    STACK
        .with(|s| {
            s.borrow()
                .iter()
                .rev()
                .find_map(|f| f.render.as_ref().map(|r| r.id))
        })
        .unwrap_or_else(|| THREAD_KEY.with(|k| *k))
}

/// Name of the innermost action, for messages.
pub fn current_name() -> &'static str {
    STACK.with(|s| s.borrow().last().map_or("outside any action", |f| f.action))
}

/// The render running on this thread for `effect`, if any.
pub fn render_for(effect: usize) -> Option<Arc<RenderCtx>> {
    STACK.with(|s| {
        s.borrow()
            .iter()
            .rev()
            .find(|f| f.effect == effect)
            .and_then(|f| f.render.clone())
    })
}

/// Whether an action for `effect` runs on this thread.
pub fn in_action_on(effect: usize, action: &str) -> bool {
    STACK.with(|s| {
        s.borrow()
            .iter()
            .any(|f| f.effect == effect && f.action == action)
    })
}

/// This thread's action stack, to hand to threads it spawns for the plugin.
pub fn snapshot() -> Vec<Frame> {
    STACK.with(|s| s.borrow().clone())
}

/// Runs `f` with `frames` as this thread's action stack.
pub fn with_stack<R>(frames: Vec<Frame>, f: impl FnOnce() -> R) -> R {
    let saved = STACK.with(|s| std::mem::replace(&mut *s.borrow_mut(), frames));
    struct Restore(Option<Vec<Frame>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let saved = self.0.take().unwrap_or_default();
            STACK.with(|s| *s.borrow_mut() = saved);
        }
    }
    let _restore = Restore(Some(saved));
    f()
}

/// Actions during which the plugin must not change parameter values.
pub fn forbids_param_writes(action: &str) -> bool {
    const READ_ONLY: &[&str] = &[
        name(f::kOfxActionLoad),
        name(f::kOfxActionUnload),
        name(f::kOfxActionDescribe),
        name(f::kOfxImageEffectActionDescribeInContext),
        name(f::kOfxActionDestroyInstance),
        name(f::kOfxImageEffectActionRender),
        name(f::kOfxImageEffectActionBeginSequenceRender),
        name(f::kOfxImageEffectActionEndSequenceRender),
        name(f::kOfxImageEffectActionGetRegionOfDefinition),
        name(f::kOfxImageEffectActionGetRegionsOfInterest),
        name(f::kOfxImageEffectActionGetFramesNeeded),
        name(f::kOfxImageEffectActionIsIdentity),
        name(f::kOfxImageEffectActionGetClipPreferences),
        name(f::kOfxImageEffectActionGetTimeDomain),
    ];
    READ_ONLY.contains(&action)
}

/// Calls `entry` with `action` (a bindgen string constant) on `handle`.
pub fn call(
    entry: MainEntry,
    action: &'static [u8],
    handle: *const c_void,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
    render: Option<Arc<RenderCtx>>,
) -> Status {
    enter(
        entry,
        action,
        handle,
        handle as usize,
        in_args,
        out_args,
        render,
    )
}

/// Calls an overlay interact's `entry` on `handle`; the action runs on behalf
/// of the effect instance `effect` (its journal, its parameter rules).
pub fn call_for(
    entry: MainEntry,
    action: &'static [u8],
    handle: *const c_void,
    effect: usize,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> Status {
    enter(entry, action, handle, effect, in_args, out_args, None)
}

fn enter(
    entry: MainEntry,
    action: &'static [u8],
    handle: *const c_void,
    effect: usize,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
    render: Option<Arc<RenderCtx>>,
) -> Status {
    let frame = Frame {
        action: name(action),
        effect,
        render,
    };
    STACK.with(|s| s.borrow_mut().push(frame));
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            STACK.with(|s| s.borrow_mut().pop());
        }
    }
    let _pop = Pop;
    log::trace!("OFX action {}", name(action));
    // SAFETY: `entry` is the plugin's main entry, its library is loaded for as
    // long as the caller holds the plugin; the argument sets are live handles.
    unsafe { entry(c_ptr(action), handle, in_args, out_args) }
}
