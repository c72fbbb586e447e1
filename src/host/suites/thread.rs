//! `OfxMultiThreadSuiteV1`.

use std::ffi::{c_int, c_uint, c_void};
use std::sync::{Arc, LazyLock};

use super::{current_journal, guard, put, status};
use crate::ffi::{OfxMultiThreadSuiteV1, OfxMutexHandle, OfxStatus, OfxThreadFunctionV1};
use crate::host::actions;
use crate::host::handles::{self, Object, Scope};
use crate::host::status as st;
use crate::host::threads::{self, OfxMutex};

static SUITE: OfxMultiThreadSuiteV1 = OfxMultiThreadSuiteV1 {
    multiThread: Some(multi_thread),
    multiThreadNumCPUs: Some(num_cpus),
    multiThreadIndex: Some(thread_index),
    multiThreadIsSpawnedThread: Some(is_spawned),
    mutexCreate: Some(mutex_create),
    mutexDestroy: Some(mutex_destroy),
    mutexLock: Some(mutex_lock),
    mutexUnLock: Some(mutex_unlock),
    mutexTryLock: Some(mutex_try_lock),
};

pub fn suite() -> *const c_void {
    &SUITE as *const OfxMultiThreadSuiteV1 as *const c_void
}

/// Owner of mutex handles (a plugin may keep one from load to unload).
static MUTEXES: LazyLock<Scope> = LazyLock::new(Scope::default);

/// CPUs offered: from the configuration of the host whose plugin is running.
fn cpus() -> usize {
    actions::current()
        .and_then(
            |frame| match handles::lookup(frame.effect as *const c_void) {
                Some(Object::Effect(e)) => Some(e.config.cpus()),
                _ => None,
            },
        )
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

unsafe extern "C" fn multi_thread(
    func: OfxThreadFunctionV1,
    n: c_uint,
    arg: *mut c_void,
) -> OfxStatus {
    status(|| {
        if threads::spawned_index().is_some() {
            current_journal().violation("multiThread called from a spawned thread (recursively)");
            return Err(st::ERR_EXISTS);
        }
        if func.is_none() || n == 0 {
            current_journal().violation(format!(
                "multiThread with {} function and {n} threads",
                if func.is_none() { "a NULL" } else { "a" }
            ));
            return Err(st::FAILED);
        }
        threads::run(func, n, arg, cpus());
        Ok(())
    })
}

unsafe extern "C" fn num_cpus(out: *mut c_uint) -> OfxStatus {
    status(|| {
        put(
            &current_journal(),
            "multiThreadNumCPUs",
            out,
            cpus() as c_uint,
        )
    })
}

unsafe extern "C" fn thread_index(out: *mut c_uint) -> OfxStatus {
    status(|| {
        put(
            &current_journal(),
            "multiThreadIndex",
            out,
            threads::spawned_index().unwrap_or(0),
        )
    })
}

unsafe extern "C" fn is_spawned() -> c_int {
    guard(0, || threads::spawned_index().is_some() as c_int)
}

fn mutex(call: &str, h: OfxMutexHandle) -> Result<Arc<OfxMutex>, OfxStatus> {
    match handles::lookup(h) {
        Some(Object::Mutex(m)) => Ok(m),
        _ => Err(super::bad_handle(call, h, "mutex")),
    }
}

unsafe extern "C" fn mutex_create(out: *mut OfxMutexHandle, count: c_int) -> OfxStatus {
    status(|| {
        let journal = current_journal();
        if out.is_null() {
            journal.violation("mutexCreate: NULL return pointer");
            return Err(st::ERR_BAD_HANDLE);
        }
        let key = MUTEXES.add(Object::Mutex(Arc::new(OfxMutex::new(count))));
        out.write(key as OfxMutexHandle);
        Ok(())
    })
}

unsafe extern "C" fn mutex_destroy(h: OfxMutexHandle) -> OfxStatus {
    status(|| {
        let m = mutex("mutexDestroy", h)?;
        if m.is_locked() {
            current_journal().violation("mutexDestroy on a locked mutex");
        }
        MUTEXES.remove(h as usize);
        Ok(())
    })
}

unsafe extern "C" fn mutex_lock(h: OfxMutexHandle) -> OfxStatus {
    status(|| {
        mutex("mutexLock", h)?.lock();
        Ok(())
    })
}

unsafe extern "C" fn mutex_unlock(h: OfxMutexHandle) -> OfxStatus {
    status(|| {
        if mutex("mutexUnLock", h)?.unlock() {
            Ok(())
        } else {
            current_journal().violation("mutexUnLock by a thread that does not hold the mutex");
            Err(st::FAILED)
        }
    })
}

unsafe extern "C" fn mutex_try_lock(h: OfxMutexHandle) -> OfxStatus {
    status(|| {
        if mutex("mutexTryLock", h)?.try_lock() {
            Ok(())
        } else {
            Err(st::FAILED)
        }
    })
}
