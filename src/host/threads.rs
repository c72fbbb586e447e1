//! Real threads and recursive mutexes for the multi-thread suite.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::ThreadId;

use super::actions;
use crate::ffi::OfxThreadFunctionV1;

thread_local! {
    /// (index, count) of the `multiThread` worker this thread is running.
    static SPAWNED: Cell<Option<(u32, u32)>> = const { Cell::new(None) };
}

/// The `multiThread` index of this thread, if it is a spawned one.
pub fn spawned_index() -> Option<u32> {
    SPAWNED.with(|s| s.get().map(|(i, _)| i))
}

/// The plugin's argument, shared with the workers.
#[derive(Clone, Copy)]
struct SendPtr(*mut c_void);
// SAFETY: OFX makes the plugin responsible for sharing `customArg` across threads.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

/// Calls `func(i, n, arg)` for every `i < n` on at most `cpus` threads and
/// waits for all of them. Spawned threads inherit the caller's action context.
pub fn run(func: OfxThreadFunctionV1, n: u32, arg: *mut c_void, cpus: usize) {
    let Some(func) = func else { return };
    let arg = SendPtr(arg);
    let stack = actions::snapshot();
    let next = AtomicU32::new(0);
    let workers = (n as usize).min(cpus).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (stack, next) = (stack.clone(), &next);
            scope.spawn(move || {
                let arg = arg;
                actions::with_stack(stack, || loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    SPAWNED.with(|s| s.set(Some((i, n))));
                    // SAFETY: the plugin's thread function with its own argument.
                    unsafe { func(i, n, arg.0) };
                    SPAWNED.with(|s| s.set(None));
                })
            });
        }
    });
}

/// An OFX mutex: recursive, owned by the thread that locked it.
pub struct OfxMutex {
    state: Mutex<(Option<ThreadId>, u32)>,
    released: Condvar,
}

impl OfxMutex {
    /// A mutex already locked `count` times by this thread when `count > 0`.
    pub fn new(count: i32) -> OfxMutex {
        let state = if count > 0 {
            (Some(std::thread::current().id()), count as u32)
        } else {
            (None, 0)
        };
        OfxMutex {
            state: Mutex::new(state),
            released: Condvar::new(),
        }
    }

    pub fn lock(&self) {
        let me = std::thread::current().id();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while s.0.is_some_and(|owner| owner != me) {
            s = self.released.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        *s = (Some(me), s.1 + 1);
    }

    pub fn try_lock(&self) -> bool {
        let me = std::thread::current().id();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.0.is_some_and(|owner| owner != me) {
            return false;
        }
        *s = (Some(me), s.1 + 1);
        true
    }

    /// False when this thread does not hold the mutex.
    pub fn unlock(&self) -> bool {
        let me = std::thread::current().id();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.0 != Some(me) {
            return false;
        }
        s.1 -= 1;
        if s.1 == 0 {
            s.0 = None;
            self.released.notify_one();
        }
        true
    }

    pub fn is_locked(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .is_some()
    }
}
