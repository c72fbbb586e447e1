//! Overlay interacts, host side: a viewer for one effect instance. It describes
//! and creates the plugin's overlay, sends it draw, pen, key and focus actions
//! with a view's canonical-to-screen mapping, and draws through the Draw Suite
//! (rasterised here), through OpenGL (an offscreen context, see `gl`), or with
//! neither (a host that has no way to draw).

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::actions::{self, MainEntry};
use super::effect::{arg, Args, Effect};
use super::error::HostError;
use super::gl::GlCanvas;
use super::handles::{Object, Scope};
use super::journal::Journal;
use super::properties::{PropValue, PropertySet, Value};
use super::queries::check;
use super::specs;
use super::status::{self, Status};
use super::strings::name;
use crate::ffi::{self as f, OfxPropertySetHandle};

/// What a viewer shows: `width` x `height` screen pixels whose bottom-left
/// corner is canonical `origin`, one screen pixel being `pixel_scale` canonical
/// units (a pixel aspect of 2 shown unsqueezed doubles x; a half proxy shown
/// pixel for pixel doubles both).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub width: u32,
    pub height: u32,
    pub origin: (f64, f64),
    pub pixel_scale: (f64, f64),
    pub render_scale: (f64, f64),
    pub time: f64,
}

impl View {
    /// Screen position (pixels from the bottom-left corner, y up) of a canonical point.
    pub fn to_screen(&self, p: (f64, f64)) -> (f64, f64) {
        (
            (p.0 - self.origin.0) / self.pixel_scale.0,
            (p.1 - self.origin.1) / self.pixel_scale.1,
        )
    }

    /// Canonical position of a screen point.
    pub fn to_canonical(&self, s: (f64, f64)) -> (f64, f64) {
        (
            self.origin.0 + s.0 * self.pixel_scale.0,
            self.origin.1 + s.1 * self.pixel_scale.1,
        )
    }
}

/// An RGBA8 picture of the viewer, rows top first.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Canvas {
    pub fn filled(width: u32, height: u32, rgba: [u8; 4]) -> Canvas {
        Canvas {
            width,
            height,
            rgba: rgba.repeat((width * height) as usize),
        }
    }

    /// The pixel at screen column `x`, row `y` counted from the bottom (GL's way).
    pub fn at(&self, x: u32, y_from_bottom: u32) -> [u8; 4] {
        let row = self.height - 1 - y_from_bottom;
        let i = ((row * self.width + x) * 4) as usize;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// Blends a straight-alpha colour over pixel (x, y from the bottom).
    fn blend(&mut self, x: i64, y: i64, c: [f32; 4]) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        let row = self.height as i64 - 1 - y;
        let i = ((row * self.width as i64 + x) * 4) as usize;
        let a = c[3].clamp(0.0, 1.0);
        for k in 0..3 {
            let old = self.rgba[i + k] as f32 / 255.0;
            let new = c[k].clamp(0.0, 1.0) * a + old * (1.0 - a);
            self.rgba[i + k] = (new * 255.0).round() as u8;
        }
        let old_a = self.rgba[i + 3] as f32 / 255.0;
        self.rgba[i + 3] = ((a + old_a * (1.0 - a)) * 255.0).round() as u8;
    }
}

/// How the viewer draws an overlay.
pub enum Backend<'a> {
    /// The Draw Suite, rasterised by this host (needs `offer_draw_suite`).
    DrawSuite,
    /// Legacy OpenGL into an offscreen context.
    OpenGl(&'a mut GlCanvas),
    /// No Draw Suite context and no current OpenGL context.
    Nothing,
}

/// The result of one draw action.
pub struct Drawn {
    pub status: Status,
    /// The viewer after the draw (the background where nothing could draw).
    pub canvas: Canvas,
    /// Draw Suite primitives the plugin drew.
    pub primitives: usize,
}

/// The interact object behind an `OfxInteractHandle`.
pub struct InteractObj {
    pub props: Arc<PropertySet>,
    pub props_handle: OfxPropertySetHandle,
    pub effect: Arc<Effect>,
    pub redraws: AtomicUsize,
    pub swaps: AtomicUsize,
}

// SAFETY: the property-set handle is an address used only as a key.
unsafe impl Send for InteractObj {}
unsafe impl Sync for InteractObj {}

/// What the software Draw Suite draws with during one draw action.
pub struct DrawState {
    pub view: View,
    pub canvas: Canvas,
    pub colour: [f32; 4],
    pub line_width: f32,
    pub primitives: usize,
    pub texts: Vec<String>,
}

impl DrawState {
    /// A segment between screen points, `line_width` pixels wide.
    pub fn segment(&mut self, a: (f64, f64), b: (f64, f64)) {
        let half = (self.line_width as f64 * 0.5).max(0.5);
        let (x0, x1) = (a.0.min(b.0) - half - 1.0, a.0.max(b.0) + half + 1.0);
        let (y0, y1) = (a.1.min(b.1) - half - 1.0, a.1.max(b.1) + half + 1.0);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        let colour = self.colour;
        for y in y0.floor() as i64..=y1.ceil() as i64 {
            for x in x0.floor() as i64..=x1.ceil() as i64 {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                let t = if len2 > 0.0 {
                    (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (qx, qy) = (a.0 + t * dx - px, a.1 + t * dy - py);
                if qx * qx + qy * qy <= half * half {
                    self.canvas.blend(x, y, colour);
                }
            }
        }
    }

    /// A filled polygon (screen points): pixels whose centre is inside.
    pub fn polygon(&mut self, pts: &[(f64, f64)]) {
        let (mut y0, mut y1) = (f64::MAX, f64::MIN);
        let (mut x0, mut x1) = (f64::MAX, f64::MIN);
        for p in pts {
            (x0, x1, y0, y1) = (x0.min(p.0), x1.max(p.0), y0.min(p.1), y1.max(p.1));
        }
        let colour = self.colour;
        for y in y0.floor() as i64..=y1.ceil() as i64 {
            for x in x0.floor() as i64..=x1.ceil() as i64 {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                let mut inside = false;
                for i in 0..pts.len() {
                    let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
                    if (a.1 > py) != (b.1 > py) && px < a.0 + (py - a.1) / (b.1 - a.1) * (b.0 - a.0)
                    {
                        inside = !inside;
                    }
                }
                if inside {
                    self.canvas.blend(x, y, colour);
                }
            }
        }
    }
}

/// The object behind an `OfxDrawContextHandle`, alive for one draw action.
pub struct DrawContext {
    pub journal: Arc<Journal>,
    state: Mutex<DrawState>,
}

impl DrawContext {
    pub fn state(&self) -> MutexGuard<'_, DrawState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The plugin's overlay on one viewer of an instance. Dropping it destroys it.
pub struct Overlay {
    effect: Arc<Effect>,
    entry: MainEntry,
    interact: Arc<InteractObj>,
    handle: usize,
    scope: Scope,
}

fn entry_of(pointer: usize) -> MainEntry {
    // SAFETY: the plugin stored its overlay's main entry, an OfxPluginEntryPoint, in this property.
    unsafe { std::mem::transmute::<usize, MainEntry>(pointer) }
}

impl Overlay {
    /// Describes and creates the overlay the plugin declares, or `None` when it declares none.
    pub(crate) fn open(effect: &Arc<Effect>) -> Result<Option<Overlay>, HostError> {
        if effect.config.is_background {
            return Err(HostError::Invalid(
                "a background host has no viewer: set is_background to false".into(),
            ));
        }
        let declared = effect.props.snapshot();
        let pointer = |key: &'static [u8]| match declared.get(name(key)) {
            Some(PropValue::Pointer(v)) => v.first().copied().unwrap_or(0),
            _ => 0,
        };
        // A Draw Suite host takes a V2 overlay, and a V1 one where there is no V2.
        let v2 = if effect.config.offer_draw_suite {
            pointer(f::kOfxImageEffectPluginPropOverlayInteractV2)
        } else {
            0
        };
        let pointer = match v2 {
            0 => pointer(f::kOfxImageEffectPluginPropOverlayInteractV1),
            p => p,
        };
        if pointer == 0 {
            return Ok(None);
        }
        let entry = entry_of(pointer);
        let scope = Scope::default();
        let make = |label: &str, spec: &[specs::Spec]| {
            let props = PropertySet::from_specs(label, &effect.journal, &[spec]);
            let props_handle = scope.add_props(&props);
            let obj = Arc::new(InteractObj {
                props,
                props_handle,
                effect: effect.clone(),
                redraws: AtomicUsize::new(0),
                swaps: AtomicUsize::new(0),
            });
            let handle = scope.add(Object::Interact(obj.clone()));
            (obj, handle)
        };
        let (_, descriptor) = make("overlay descriptor", specs::INTERACT_DESCRIPTOR);
        let described = call(entry, f::kOfxActionDescribe, descriptor, effect, None);
        if described != status::OK && described != status::REPLY_DEFAULT {
            return Err(HostError::Action {
                action: name(f::kOfxActionDescribe),
                status: described,
            });
        }
        let (interact, handle) = make("overlay instance", specs::INTERACT_INSTANCE);
        interact.props.set(
            name(f::kOfxPropEffectInstance),
            Value::Pointer(vec![effect.handle()]),
        );
        let created = call(entry, f::kOfxActionCreateInstance, handle, effect, None);
        if created != status::OK && created != status::REPLY_DEFAULT {
            return Err(HostError::Action {
                action: name(f::kOfxActionCreateInstance),
                status: created,
            });
        }
        Ok(Some(Overlay {
            effect: effect.clone(),
            entry,
            interact,
            handle,
            scope,
        }))
    }

    fn common(&self, view: &View) -> Vec<(&'static str, Value)> {
        let p = &self.interact.props;
        p.set(
            name(f::kOfxInteractPropPixelScale),
            Value::Double(vec![view.pixel_scale.0, view.pixel_scale.1]),
        );
        p.set(
            name(f::kOfxInteractPropViewportSize),
            Value::Int(vec![view.width as i32, view.height as i32]),
        );
        vec![
            (
                name(f::kOfxPropEffectInstance),
                Value::Pointer(vec![self.effect.handle()]),
            ),
            arg::doubles(
                f::kOfxInteractPropPixelScale,
                &[view.pixel_scale.0, view.pixel_scale.1],
            ),
            arg::doubles(f::kOfxInteractPropBackgroundColour, &[0.0, 0.0, 0.0]),
            arg::ints(
                f::kOfxInteractPropViewportSize,
                &[view.width as i32, view.height as i32],
            ),
            arg::doubles(f::kOfxPropTime, &[view.time]),
            arg::doubles(
                f::kOfxImageEffectPropRenderScale,
                &[view.render_scale.0, view.render_scale.1],
            ),
        ]
    }

    fn send(&self, action: &'static [u8], entries: &[(&'static str, Value)]) -> Status {
        let owned: Vec<(&str, Value)> = entries.iter().map(|(k, v)| (*k, v.clone())).collect();
        let args = Args::input(&self.effect.journal, "interact inArgs", &owned);
        call(
            self.entry,
            action,
            self.handle,
            &self.effect,
            Some(args.handle),
        )
    }

    /// Sends a draw action over `background` (the viewer's picture).
    pub fn draw(
        &self,
        view: &View,
        background: &Canvas,
        backend: Backend,
    ) -> Result<Drawn, HostError> {
        if (background.width, background.height) != (view.width, view.height) {
            return Err(HostError::Invalid(
                "background and view differ in size".into(),
            ));
        }
        let mut entries = self.common(view);
        match backend {
            Backend::DrawSuite => {
                if !self.effect.config.offer_draw_suite {
                    return Err(HostError::Invalid(
                        "this host does not offer the Draw Suite (offer_draw_suite)".into(),
                    ));
                }
                let ctx = Arc::new(DrawContext {
                    journal: self.effect.journal.clone(),
                    state: Mutex::new(DrawState {
                        view: *view,
                        canvas: background.clone(),
                        colour: [1.0, 1.0, 1.0, 1.0],
                        line_width: 1.0,
                        primitives: 0,
                        texts: Vec::new(),
                    }),
                });
                let key = self.scope.add(Object::DrawContext(ctx.clone()));
                entries.push((
                    name(f::kOfxInteractPropDrawContext),
                    Value::Pointer(vec![key]),
                ));
                let status = self.send(f::kOfxInteractActionDraw, &entries);
                self.scope.remove(key);
                let state = ctx.state();
                Ok(Drawn {
                    status,
                    canvas: state.canvas.clone(),
                    primitives: state.primitives,
                })
            }
            Backend::OpenGl(gl) => {
                gl.begin(view, background)?;
                let status = self.send(f::kOfxInteractActionDraw, &entries);
                let canvas = gl.end()?;
                Ok(Drawn {
                    status,
                    canvas,
                    primitives: 0,
                })
            }
            Backend::Nothing => {
                if self.effect.config.offer_draw_suite {
                    entries.push((
                        name(f::kOfxInteractPropDrawContext),
                        Value::Pointer(vec![0]),
                    ));
                }
                let status = self.send(f::kOfxInteractActionDraw, &entries);
                Ok(Drawn {
                    status,
                    canvas: background.clone(),
                    primitives: 0,
                })
            }
        }
    }

    fn pen(
        &self,
        action: &'static [u8],
        view: &View,
        screen: (f64, f64),
    ) -> Result<bool, HostError> {
        let mut entries = self.common(view);
        let at = view.to_canonical(screen);
        entries.push(arg::doubles(f::kOfxInteractPropPenPosition, &[at.0, at.1]));
        entries.push(arg::ints(
            f::kOfxInteractPropPenViewportPosition,
            &[
                screen.0.round() as i32,
                (view.height as f64 - screen.1).round() as i32,
            ],
        ));
        entries.push(arg::doubles(f::kOfxInteractPropPenPressure, &[1.0]));
        check(action, self.send(action, &entries))
    }

    /// The pen goes down at a screen position (pixels from the bottom-left, y up).
    /// `Ok(true)`: the overlay took the event.
    pub fn pen_down(&self, view: &View, screen: (f64, f64)) -> Result<bool, HostError> {
        self.pen(f::kOfxInteractActionPenDown, view, screen)
    }
    pub fn pen_motion(&self, view: &View, screen: (f64, f64)) -> Result<bool, HostError> {
        self.pen(f::kOfxInteractActionPenMotion, view, screen)
    }
    pub fn pen_up(&self, view: &View, screen: (f64, f64)) -> Result<bool, HostError> {
        self.pen(f::kOfxInteractActionPenUp, view, screen)
    }

    fn key(
        &self,
        action: &'static [u8],
        view: &View,
        sym: i32,
        text: &str,
    ) -> Result<bool, HostError> {
        let mut entries = self.common(view);
        entries.push(arg::ints(f::kOfxPropKeySym, &[sym]));
        entries.push(arg::string(f::kOfxPropKeyString, text));
        check(action, self.send(action, &entries))
    }

    /// A key goes down (`sym` a `kOfxKey_*` symbol); `Ok(true)`: the overlay took it.
    pub fn key_down(&self, view: &View, sym: i32, text: &str) -> Result<bool, HostError> {
        self.key(f::kOfxInteractActionKeyDown, view, sym, text)
    }
    pub fn key_up(&self, view: &View, sym: i32, text: &str) -> Result<bool, HostError> {
        self.key(f::kOfxInteractActionKeyUp, view, sym, text)
    }

    pub fn gain_focus(&self, view: &View) -> Result<bool, HostError> {
        let entries = self.common(view);
        check(
            f::kOfxInteractActionGainFocus,
            self.send(f::kOfxInteractActionGainFocus, &entries),
        )
    }
    pub fn lose_focus(&self, view: &View) -> Result<bool, HostError> {
        let entries = self.common(view);
        check(
            f::kOfxInteractActionLoseFocus,
            self.send(f::kOfxInteractActionLoseFocus, &entries),
        )
    }

    /// How many times the overlay asked for a redraw.
    pub fn redraws(&self) -> usize {
        self.interact.redraws.load(Ordering::Relaxed)
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let s = call(
            self.entry,
            f::kOfxActionDestroyInstance,
            self.handle,
            &self.effect,
            None,
        );
        self.effect.expect_ok(f::kOfxActionDestroyInstance, s);
    }
}

/// Calls the overlay's entry; the action counts as running on `effect`.
fn call(
    entry: MainEntry,
    action: &'static [u8],
    handle: usize,
    effect: &Effect,
    in_args: Option<OfxPropertySetHandle>,
) -> Status {
    actions::call_for(
        entry,
        action,
        handle as *const c_void,
        effect.handle(),
        in_args.unwrap_or(std::ptr::null_mut()),
        std::ptr::null_mut(),
    )
}
