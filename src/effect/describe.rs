//! describe and describeInContext: what the node is, its clips and its parameters.

use super::params::*;
use crate::ffi;
use crate::ofx::{
    c, entry_pointer, ChoiceDef, ClipDef, Context, Descriptor, DoubleKind, MainEntry, OfxResult,
    ParamInfo, ALL_COMPONENTS,
};

pub const SOURCE: &str = "Source";
pub const MASK: &str = "Mask";
pub const BACKGROUND: &str = "Background";
pub const OUTPUT_CLIP: &str = "Output";

const PAGE_COLLAPSE: &str = "collapsePage";
const PAGE_LOOK: &str = "lookPage";
const PAGE_MODEL: &str = "modelPage";

pub fn describe(desc: &Descriptor, overlay: MainEntry) -> OfxResult<()> {
    let p = &desc.props;
    // The region drawn and dragged on the viewer. The entry serves V2 hosts too:
    // it draws with the Draw Suite whenever the host hands a draw context.
    let entry = entry_pointer(overlay);
    p.set_optional(p.set_pointer(ffi::kOfxImageEffectPluginPropOverlayInteractV1, entry));
    p.set_optional(p.set_pointer(ffi::kOfxImageEffectPluginPropOverlayInteractV2, entry));
    p.set_string(ffi::kOfxPropLabel, 0, "Collapse")?;
    p.set_optional(p.set_string(ffi::kOfxPropShortLabel, 0, "Collapse"));
    p.set_optional(p.set_string(
        ffi::kOfxPropLongLabel,
        0,
        "Collapse (generative building collapse)",
    ));
    p.set_string(
        ffi::kOfxImageEffectPluginPropGrouping,
        0,
        "Filter/Generative",
    )?;
    p.set_optional(p.set_string(
        ffi::kOfxPropPluginDescription,
        0,
        "Fills the region around a building with a synthesized collapse: the facade breaks into falling chunks, \
         a dust plume rolls out and settles, and what stood behind is revealed. Runs an ONNX model through ONNX Runtime, \
         on the GPU when there is one.",
    ));
    p.set_strings(
        ffi::kOfxImageEffectPropSupportedContexts,
        &[
            ffi::kOfxImageEffectContextFilter,
            ffi::kOfxImageEffectContextGeneral,
        ],
    )?;
    p.set_strings(
        ffi::kOfxImageEffectPropSupportedPixelDepths,
        &[
            ffi::kOfxBitDepthFloat,
            ffi::kOfxBitDepthHalf,
            ffi::kOfxBitDepthShort,
            ffi::kOfxBitDepthByte,
        ],
    )?;
    p.set_int(ffi::kOfxImageEffectPluginPropSingleInstance, 0, 0)?;
    p.set_int(ffi::kOfxImageEffectPluginPropHostFrameThreading, 0, 0)?;
    p.set_int(ffi::kOfxImageEffectPropSupportsMultiResolution, 0, 1)?;
    p.set_int(ffi::kOfxImageEffectPropSupportsTiles, 0, 1)?;
    // (The Source is also read at the shot's reference frame: `frames_needed`.)
    p.set_int(ffi::kOfxImageEffectPropTemporalClipAccess, 0, 1)?;
    p.set_int(ffi::kOfxImageEffectPropSupportsMultipleClipDepths, 0, 0)?;
    p.set_int(ffi::kOfxImageEffectPropSupportsMultipleClipPARs, 0, 0)?;
    p.set_int(ffi::kOfxImageEffectPluginPropFieldRenderTwiceAlways, 0, 0)?;
    // Sessions are shared behind a lock and renders keep no per-frame state.
    p.set_cstr(
        ffi::kOfxImageEffectPluginRenderThreadSafety,
        0,
        c(ffi::kOfxImageEffectRenderFullySafe),
    )?;
    Ok(())
}

pub fn describe_in_context(desc: &Descriptor, _context: Context) -> OfxResult<()> {
    let clips = desc.clips();
    clips.define(&ClipDef {
        name: SOURCE,
        label: "Source",
        optional: false,
        is_mask: false,
        components: ALL_COMPONENTS,
        temporal: true,
    })?;
    clips.define(&ClipDef {
        name: MASK,
        label: "Mask",
        optional: true,
        is_mask: true,
        components: &[ffi::kOfxImageComponentAlpha, ffi::kOfxImageComponentRGBA],
        temporal: false,
    })?;
    clips.define(&ClipDef {
        name: BACKGROUND,
        label: "Background",
        optional: true,
        is_mask: false,
        components: ALL_COMPONENTS,
        temporal: false,
    })?;
    clips.define(&ClipDef {
        name: OUTPUT_CLIP,
        label: "Output",
        optional: false,
        is_mask: false,
        components: ALL_COMPONENTS,
        temporal: false,
    })?;
    define_params(desc)
}

fn info<'a>(name: &'a str, label: &'a str, hint: &'a str) -> ParamInfo<'a> {
    ParamInfo {
        name,
        label,
        hint,
        parent: None,
    }
}

fn define_params(desc: &Descriptor) -> OfxResult<()> {
    let d = desc.params()?;
    let corner = d.double2d(&info(BOTTOM_LEFT, "Bottom Left", "Lower-left corner of the building's region, where it meets the ground (canonical coordinates). Drag the region's corners, edges or centre on the viewer."), DoubleKind::XYAbsolute, (0.35, 0.12))?;
    // A host that draws its own handle for positions (Nuke) moves this corner;
    // the overlay then leaves that corner to it.
    if corner
        .get_int(ffi::kOfxParamPropHasHostOverlayHandle, 0)
        .is_ok_and(|v| v != 0)
    {
        corner.set_optional(corner.set_int(ffi::kOfxParamPropUseHostOverlayHandle, 0, 1));
    }
    d.double2d(
        &info(
            SIZE,
            "Size",
            "Width and height of the building's region (canonical coordinates).",
        ),
        DoubleKind::XY,
        (0.3, 0.7),
    )?;
    d.double(
        &info(
            START_FRAME,
            "Start Frame",
            "Frame at which the building starts to give way. Before it the output is the plate.",
        ),
        DoubleKind::AbsoluteTime,
        1.0,
        (-1.0e6, 1.0e6),
        (1.0, 250.0),
    )?;
    d.double(
        &info(
            DURATION,
            "Duration",
            "Frames from the first crack until the rubble settles.",
        ),
        DoubleKind::Time,
        72.0,
        (1.0, 1.0e5),
        (12.0, 240.0),
    )?;
    d.int(&info(SEED, "Seed", "Changes the pattern of fragments, dust and debris; the same seed always gives the same collapse."), 1, (0, 1 << 24), (0, 1000))?;
    d.choice(
        &info(OUTPUT, "Output", "Composite: the plate with the collapse. Collapse element only: the premultiplied element. Matte: the element's alpha. Clean plate: what stands behind the building (the Background input, or synthesized from the plate around it), at every frame."),
        &ChoiceDef { options: OUTPUT_OPTIONS, default: 0 },
    )?;
    d.double(
        &info(
            DIRECTION,
            "Direction",
            "Which way the mass leans as it falls: -1 left, 0 straight down, 1 right.",
        ),
        DoubleKind::Plain,
        0.0,
        (-1.0, 1.0),
        (-1.0, 1.0),
    )?;
    d.double(
        &info(
            FRAGMENT_SIZE,
            "Fragment Size",
            "Relative size of the chunks the facade breaks into.",
        ),
        DoubleKind::Plain,
        1.0,
        (0.25, 4.0),
        (0.25, 4.0),
    )?;
    d.double(
        &info(
            GRAVITY,
            "Gravity",
            "How fast the chunks fall (1 is natural for the region's size).",
        ),
        DoubleKind::Plain,
        1.0,
        (0.25, 4.0),
        (0.25, 4.0),
    )?;
    d.double(
        &info(DUST_AMOUNT, "Dust Amount", "Density of the dust plume."),
        DoubleKind::Plain,
        1.0,
        (0.0, 2.0),
        (0.0, 2.0),
    )?;
    d.rgb(
        &info(
            DUST_COLOR,
            "Dust Color",
            "Base colour of the dust before it takes light and tint from the plate.",
        ),
        [0.62, 0.58, 0.52],
    )?;
    d.double(
        &info(
            DUST_TINT,
            "Dust Tint",
            "How much the dust takes its colour and light from the plate (0 none, 1 fully).",
        ),
        DoubleKind::Plain,
        0.5,
        (0.0, 1.0),
        (0.0, 1.0),
    )?;
    d.double(
        &info(
            DUST_SPREAD,
            "Dust Spread",
            "How far the plume rolls outward from the base.",
        ),
        DoubleKind::Plain,
        1.0,
        (0.0, 2.0),
        (0.0, 2.0),
    )?;
    d.double(
        &info(
            DEBRIS,
            "Debris",
            "Amount of small debris scattered around the base.",
        ),
        DoubleKind::Plain,
        1.0,
        (0.0, 2.0),
        (0.0, 2.0),
    )?;
    d.file_path(
        &info(
            MODEL,
            "Model",
            "ONNX model file, or a model package folder (NAME.collapse). Empty: the bundled model chosen below.",
        ),
        "",
    )?;
    d.choice(
        &info(
            BUNDLED_MODEL,
            "Bundled Model",
            "The model shipped with the plugin, run while Model is empty. Learned (default): a generator trained on a \
             classic-VFX simulation (rigid-body fracture and smoke), run as a staged package. Procedural: the hand-written \
             generator that was the default before version 1.1.",
        ),
        &ChoiceDef { options: BUNDLED_MODEL_OPTIONS, default: BUNDLED_MODEL_DEFAULT as i32 },
    )?;
    d.choice(
        &info(DEVICE, "Device", "Auto: the GPU when ONNX Runtime can use one, else the CPU. GPU falls back to the CPU with a warning."),
        &ChoiceDef { options: DEVICE_OPTIONS, default: 0 },
    )?;
    d.boolean(
        &info(
            HALF_PRECISION,
            "Half Precision",
            "Run the model's 16-bit float variant when it has one: faster and lighter on the GPU.",
        ),
        false,
    )?;
    d.boolean(
        &info(
            USE_TENSORRT,
            "Use TensorRT",
            "On NVIDIA GPUs, build and cache a TensorRT engine (slow first frame, faster after).",
        ),
        false,
    )?;
    d.page(
        &info(PAGE_COLLAPSE, "Collapse", ""),
        &[BOTTOM_LEFT, SIZE, START_FRAME, DURATION, SEED, OUTPUT],
    )?;
    d.page(
        &info(PAGE_LOOK, "Look", ""),
        &[
            DIRECTION,
            FRAGMENT_SIZE,
            GRAVITY,
            DUST_AMOUNT,
            DUST_COLOR,
            DUST_TINT,
            DUST_SPREAD,
            DEBRIS,
        ],
    )?;
    d.page(
        &info(PAGE_MODEL, "Model", ""),
        &[MODEL, BUNDLED_MODEL, DEVICE, HALF_PRECISION, USE_TENSORRT],
    )?;
    Ok(())
}
