//! The kernel ranking the report examples print under `WGTRAIN_PROFILE=1`.

use wgtrain::prelude::*;

/// The kernels of one step (or call) by time, each dispatch run alone: slower than the
/// unprofiled figure, but the ranking is what counts.
pub fn print_profile(dev: &Device, steps: usize) {
    let all = dev.profile();
    let total: f64 = all.iter().map(|k| k.total.as_secs_f64()).sum();
    println!("  per step, profiled: {:.1} ms in {} kernels", total * 1e3 / steps as f64, all.len());
    for k in all.iter().take(12) {
        let ms = k.total.as_secs_f64() * 1e3 / steps as f64;
        println!(
            "  {:<28} {:>4} calls {ms:>9.2} ms {:>5.1} %",
            k.kernel,
            k.calls / steps as u64,
            100.0 * ms / (total * 1e3 / steps as f64)
        );
    }
}
