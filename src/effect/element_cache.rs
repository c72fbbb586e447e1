//! What a frame's tiles share, kept per instance: the model's element over a
//! whole frame while a host renders that frame in tiles (every model run redoes
//! the per-frame work over the source window, so without it each host tile would
//! pay for most of the frame again), and the per-shot stages (matte estimate,
//! clean plate), which depend on the plate and the region only, so they serve
//! every frame and tile of a shot.
//!
//! The key is a fingerprint of everything the element depends on: the model,
//! the frame's work rectangle, the scene and control vectors and every input
//! pixel the model reads. A hit therefore gives the bits a fresh run would give,
//! and a tile equals the same part of the frame rendered whole.

use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Frames whose element would exceed this many pixels (256 MB of float RGBA)
/// are not kept: their tiles run the model for themselves. With `KEPT_FRAMES`
/// this bounds what one instance keeps.
pub const MAX_PIXELS: i64 = 16 << 20;

/// Frames kept per instance, most recent last: a host rendering a few frames
/// in tiles at once (one per thread) does not make them evict each other.
const KEPT_FRAMES: usize = 4;

/// What is kept; each kind has its own slots, so elements never evict clean plates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The model's element over a frame's whole affected area.
    Element,
    /// The per-shot stages over the source window: matte, hole, clean plate.
    Stages,
}

impl Kind {
    fn kept(self) -> usize {
        match self {
            Kind::Element => KEPT_FRAMES,
            // A shot's plate (a still, or the frame being rendered) and one more.
            Kind::Stages => 2,
        }
    }
}

type Slot = Arc<Mutex<Vec<(u64, Arc<Vec<f32>>)>>>;

/// One slot per instance handle and kind: the last values it computed.
static SLOTS: Lazy<Mutex<HashMap<(usize, Kind), Slot>>> = Lazy::new(Mutex::default);

fn slot(instance: usize, kind: Kind) -> Slot {
    let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    slots.entry((instance, kind)).or_default().clone()
}

/// The value for `key`: a kept one when the key matches, else `compute`'s,
/// which is kept in place of the least recently used. Tiles rendering at once
/// wait for the first to compute it.
pub fn get_or_compute<E>(
    instance: usize,
    kind: Kind,
    key: u64,
    compute: impl FnOnce() -> Result<Vec<f32>, E>,
) -> Result<Arc<Vec<f32>>, E> {
    let slot = slot(instance, kind);
    let mut kept = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(at) = kept.iter().position(|(k, _)| *k == key) {
        let hit = kept.remove(at);
        let element = hit.1.clone();
        kept.push(hit);
        return Ok(element);
    }
    if kept.len() >= kind.kept() {
        kept.remove(0); // before the new one is computed
    }
    let element = Arc::new(compute()?);
    kept.push((key, element.clone()));
    Ok(element)
}

/// Drops what an instance kept (the instance is destroyed).
pub fn forget(instance: usize) {
    SLOTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(id, _), _| *id != instance);
}

/// Drops everything kept (purgeCaches, unload).
pub fn clear() {
    SLOTS.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_computes_once_per_key_and_forgets() {
        let calls = std::cell::Cell::new(0);
        let compute = || -> Result<Vec<f32>, ()> {
            calls.set(calls.get() + 1);
            Ok(vec![1.0])
        };
        let id = 0x5eed;
        get_or_compute(id, Kind::Element, 1, compute).unwrap();
        get_or_compute(id, Kind::Element, 1, compute).unwrap();
        assert_eq!(calls.get(), 1);
        get_or_compute(id, Kind::Element, 2, compute).unwrap();
        assert_eq!(calls.get(), 2);
        assert!(get_or_compute(id, Kind::Element, 3, || Err::<Vec<f32>, ()>(())).is_err());
        get_or_compute(id, Kind::Element, 2, compute).unwrap(); // a failure keeps nothing
        assert_eq!(calls.get(), 2);
        // Up to KEPT_FRAMES frames stay; the least recently used goes first.
        for key in 10..10 + KEPT_FRAMES as u64 - 2 {
            get_or_compute(id, Kind::Element, key, compute).unwrap();
        }
        get_or_compute(id, Kind::Element, 1, compute).unwrap(); // 1 becomes the most recent
        get_or_compute(id, Kind::Element, 99, compute).unwrap(); // evicts 2
        let before = calls.get();
        get_or_compute(id, Kind::Element, 1, compute).unwrap();
        assert_eq!(calls.get(), before);
        get_or_compute(id, Kind::Element, 2, compute).unwrap();
        assert_eq!(calls.get(), before + 1);
        // The other kind has its own slots: no eviction of elements.
        get_or_compute(id, Kind::Stages, 2, compute).unwrap();
        assert_eq!(calls.get(), before + 2);
        get_or_compute(id, Kind::Element, 1, compute).unwrap();
        assert_eq!(calls.get(), before + 2);
        forget(id);
        get_or_compute(id, Kind::Element, 2, compute).unwrap();
        get_or_compute(id, Kind::Stages, 2, compute).unwrap();
        assert_eq!(calls.get(), before + 4);
        forget(id);
    }
}
