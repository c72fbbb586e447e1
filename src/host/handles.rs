//! The handles given to the plugin. Each one is the address of a host object and
//! is registered here while it is valid, so that every suite call can check it:
//! a stale or foreign handle is a violation, never a dereference.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use super::clips::Clip;
use super::effect::Effect;
use super::images::ImageHandle;
use super::overlay::{DrawContext, InteractObj};
use super::params::Param;
use super::properties::PropertySet;
use super::suites::memory::ImageMemory;
use super::suites::HostRecord;
use super::threads::OfxMutex;

/// A live object reachable through a handle.
#[derive(Clone)]
pub enum Object {
    Props(Arc<PropertySet>),
    Host(Arc<HostRecord>),
    Effect(Arc<Effect>),
    /// An effect's parameter set (the handle is the `ParamSet`'s address).
    ParamSet(Arc<Effect>),
    Param(Arc<Effect>, Arc<Param>),
    Clip(Arc<Effect>, Arc<Clip>),
    Image(Arc<ImageHandle>),
    Memory(Arc<ImageMemory>),
    Mutex(Arc<OfxMutex>),
    /// An overlay interact (descriptor or instance).
    Interact(Arc<InteractObj>),
    /// The Draw Suite context of one draw action.
    DrawContext(Arc<DrawContext>),
}

impl Object {
    fn key(&self) -> usize {
        match self {
            Object::Props(o) => Arc::as_ptr(o) as usize,
            // The host's handle is its property set.
            Object::Host(o) => Arc::as_ptr(&o.props) as usize,
            Object::Effect(o) => Arc::as_ptr(o) as usize,
            Object::ParamSet(e) => Arc::as_ptr(&e.params) as usize,
            Object::Param(_, p) => Arc::as_ptr(p) as usize,
            Object::Clip(_, c) => Arc::as_ptr(c) as usize,
            // An image is handed out as its property set.
            Object::Image(o) => Arc::as_ptr(&o.props) as usize,
            Object::Memory(o) => Arc::as_ptr(o) as usize,
            Object::Mutex(o) => Arc::as_ptr(o) as usize,
            Object::Interact(o) => Arc::as_ptr(o) as usize,
            Object::DrawContext(o) => Arc::as_ptr(o) as usize,
        }
    }

    /// The property set behind a property-set handle (a plain set, the host or an image).
    pub fn property_set(&self) -> Option<Arc<PropertySet>> {
        match self {
            Object::Props(p) => Some(p.clone()),
            Object::Host(h) => Some(h.props.clone()),
            Object::Image(i) => Some(i.props.clone()),
            _ => None,
        }
    }
}

static REGISTRY: LazyLock<RwLock<HashMap<usize, Object>>> = LazyLock::new(Default::default);

/// The object behind a handle, if the handle is live.
pub fn lookup<T>(handle: *const T) -> Option<Object> {
    let map = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    map.get(&(handle as usize)).cloned()
}

/// Registers an object and returns its handle value.
fn register(object: Object) -> usize {
    let key = object.key();
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, object);
    key
}

/// Removes a handle; returns the object if it was live.
fn unregister(key: usize) -> Option<Object> {
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&key)
}

/// Owns a group of handles and revokes them all when dropped (an instance's
/// objects, or the argument sets of one action call).
#[derive(Default)]
pub struct Scope {
    keys: Mutex<HashSet<usize>>,
}

impl Scope {
    /// Registers `object` until it is removed or the scope revoked; returns its handle.
    pub fn add(&self, object: Object) -> usize {
        let key = register(object);
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        key
    }

    /// Revokes one handle of this scope; returns its object if it was live.
    pub fn remove(&self, key: usize) -> Option<Object> {
        if self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key)
        {
            unregister(key)
        } else {
            None
        }
    }

    /// Revokes every handle of this scope.
    pub fn revoke(&self) {
        let keys = std::mem::take(&mut *self.keys.lock().unwrap_or_else(|e| e.into_inner()));
        // Objects are dropped after the lock is released: their own scopes
        // may need it.
        let removed: Vec<Object> = {
            let mut map = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
            keys.iter().filter_map(|k| map.remove(k)).collect()
        };
        drop(removed);
    }

    /// Convenience: registers a property set and returns it as a handle.
    pub fn add_props(&self, props: &Arc<PropertySet>) -> crate::ffi::OfxPropertySetHandle {
        self.add(Object::Props(props.clone())) as _
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        self.revoke();
    }
}
