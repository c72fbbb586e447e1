//! Load, describe, create, render, destroy, unload: 100 times over, memory stays flat.
//! (One-time allocations happen in the first cycles, which the measurement skips: the
//! ONNX Runtime library's own, and the allocator's per-thread arenas as the threads of
//! the learned package's four sessions come and go, which settle within some 40 cycles
//! in one or two steps of tens of MB. The last 50 cycles are judged.)

mod plugin_util;

use collapse_ofx::host::{Bundle, Context};
use plugin_util::*;

fn resident_mb() -> f64 {
    status_kb("VmRSS:") / 1024.0
}

/// Cycles to run; `tools/leakcheck.sh` runs fewer under valgrind.
fn cycles() -> usize {
    std::env::var("COLLAPSE_LOAD_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// Cycles before the measurement starts.
const WARM_UP: usize = 50;

#[test]
fn a_hundred_load_render_unload_cycles_do_not_grow_memory() {
    let bundle = Bundle::open(bundle_dir()).unwrap();
    let cycles = cycles();
    if cycles < 100 {
        eprintln!("COLLAPSE_LOAD_CYCLES={cycles}: a leak-check run; memory growth is not judged");
    }
    let mut after_warm_up = 0.0;
    for cycle in 0..cycles {
        {
            let plugin = bundle.load_plugin(PLUGIN_ID, config()).unwrap();
            plugin.describe_in_context(Context::General).unwrap();
            let inst = instance(&plugin, Context::General, plate());
            let img = frame(&inst, 12.0);
            assert!(
                changed(&img, &plate()).len() > 1000,
                "cycle {cycle}: nothing rendered"
            );
            assert_clean(&inst);
        } // instance destroyed, plugin unloaded (its sessions purged)
        if cycle == WARM_UP - 1 {
            after_warm_up = resident_mb();
        }
    }
    if cycles < 100 {
        return;
    }
    let end = resident_mb();
    eprintln!("resident memory after {WARM_UP} cycles: {after_warm_up:.1} MB, after {cycles}: {end:.1} MB");
    assert!(
        end - after_warm_up < 5.0,
        "memory grew by {:.1} MB over the last {} load/render/unload cycles",
        end - after_warm_up,
        cycles - WARM_UP
    );
}
