//! `OfxMemorySuiteV1` and the image-memory calls of the image effect suite.

use std::alloc::Layout;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use super::{current_journal, put, status};
use crate::ffi::{OfxImageEffectHandle, OfxImageMemoryHandle, OfxMemorySuiteV1, OfxStatus};
use crate::host::handles::{self, Object, Scope};
use crate::host::journal::Journal;
use crate::host::status as st;

static SUITE: OfxMemorySuiteV1 = OfxMemorySuiteV1 {
    memoryAlloc: Some(memory_alloc),
    memoryFree: Some(memory_free),
};

pub fn suite() -> *const c_void {
    &SUITE as *const OfxMemorySuiteV1 as *const c_void
}

/// Alignment of every block handed out.
const ALIGN: usize = 16;

/// Live `memoryAlloc` blocks: address -> size.
static BLOCKS: LazyLock<Mutex<HashMap<usize, usize>>> = LazyLock::new(Default::default);

/// The journal of an optional effect handle (NULL is allowed).
fn journal_for(handle: *const c_void, call: &str) -> Result<Arc<Journal>, OfxStatus> {
    if handle.is_null() {
        return Ok(current_journal());
    }
    match handles::lookup(handle) {
        Some(Object::Effect(e)) => Ok(e.journal.clone()),
        _ => {
            current_journal().violation(format!(
                "{call}: {handle:p} is neither NULL nor an image effect handle"
            ));
            Err(st::ERR_BAD_HANDLE)
        }
    }
}

fn allocate(bytes: usize) -> Option<*mut u8> {
    let layout = Layout::from_size_align(bytes.max(1), ALIGN).ok()?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(layout) };
    (!p.is_null()).then_some(p)
}

fn deallocate(p: *mut u8, bytes: usize) {
    let layout = Layout::from_size_align(bytes.max(1), ALIGN).expect("valid when allocated");
    // SAFETY: `p` came from `allocate(bytes)`.
    unsafe { std::alloc::dealloc(p, layout) }
}

unsafe extern "C" fn memory_alloc(
    handle: *mut c_void,
    bytes: usize,
    out: *mut *mut c_void,
) -> OfxStatus {
    status(|| {
        let journal = journal_for(handle, "memoryAlloc")?;
        let p = allocate(bytes).ok_or(st::ERR_MEMORY)?;
        BLOCKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(p as usize, bytes);
        put(&journal, "memoryAlloc", out, p.cast()).inspect_err(|_| deallocate(p, bytes))
    })
}

unsafe extern "C" fn memory_free(data: *mut c_void) -> OfxStatus {
    status(|| {
        let Some(bytes) = BLOCKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(data as usize))
        else {
            current_journal().violation(format!(
                "memoryFree({data:p}): not a block from memoryAlloc (double free?)"
            ));
            return Err(st::ERR_BAD_HANDLE);
        };
        deallocate(data.cast(), bytes);
        Ok(())
    })
}

/// A block from `imageMemoryAlloc`.
pub struct ImageMemory {
    data: *mut u8,
    bytes: usize,
    locks: AtomicI32,
    journal: Arc<Journal>,
}

// SAFETY: the block is only handed out as a raw pointer; the host never reads it.
unsafe impl Send for ImageMemory {}
unsafe impl Sync for ImageMemory {}

impl Drop for ImageMemory {
    fn drop(&mut self) {
        deallocate(self.data, self.bytes);
    }
}

/// Owner of the image-memory handles (they may outlive the action that made them).
static IMAGE_MEMORY: LazyLock<Scope> = LazyLock::new(Scope::default);

fn image_memory(call: &str, h: OfxImageMemoryHandle) -> Result<Arc<ImageMemory>, OfxStatus> {
    match handles::lookup(h) {
        Some(Object::Memory(m)) => Ok(m),
        _ => Err(super::bad_handle(call, h, "image memory")),
    }
}

pub unsafe extern "C" fn image_memory_alloc(
    h: OfxImageEffectHandle,
    bytes: usize,
    out: *mut OfxImageMemoryHandle,
) -> OfxStatus {
    status(|| {
        let journal = journal_for(h as *const c_void, "imageMemoryAlloc")?;
        if out.is_null() {
            journal.violation("imageMemoryAlloc: NULL return pointer");
            return Err(st::ERR_BAD_HANDLE);
        }
        let data = allocate(bytes).ok_or(st::ERR_MEMORY)?;
        let memory = Arc::new(ImageMemory {
            data,
            bytes,
            locks: AtomicI32::new(0),
            journal,
        });
        let key = IMAGE_MEMORY.add(Object::Memory(memory));
        out.write(key as OfxImageMemoryHandle);
        Ok(())
    })
}

pub unsafe extern "C" fn image_memory_free(h: OfxImageMemoryHandle) -> OfxStatus {
    status(|| {
        image_memory("imageMemoryFree", h)?;
        IMAGE_MEMORY.remove(h as usize);
        Ok(())
    })
}

pub unsafe extern "C" fn image_memory_lock(
    h: OfxImageMemoryHandle,
    out: *mut *mut c_void,
) -> OfxStatus {
    status(|| {
        let memory = image_memory("imageMemoryLock", h)?;
        memory.locks.fetch_add(1, Ordering::SeqCst);
        put(&memory.journal, "imageMemoryLock", out, memory.data.cast())
    })
}

pub unsafe extern "C" fn image_memory_unlock(h: OfxImageMemoryHandle) -> OfxStatus {
    status(|| {
        let memory = image_memory("imageMemoryUnlock", h)?;
        if memory.locks.fetch_sub(1, Ordering::SeqCst) <= 0 {
            memory.locks.fetch_add(1, Ordering::SeqCst);
            memory
                .journal
                .violation("imageMemoryUnlock on memory that is not locked");
        }
        Ok(())
    })
}
