//! Per-kernel timing for finding where a workload's time goes on any adapter. While profiling
//! is on, every dispatch is submitted and waited for on its own, so the figures are each
//! kernel's wall time (host recording + device execution) without overlap, and the whole run
//! is slower than normal: use it to rank kernels, not to quote throughput.

use std::collections::HashMap;
use std::time::Duration;

/// Accumulated time of one kernel entry point.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelTime {
    /// The entry point's name (e.g. `gemm_uniform`, `conv_pack`).
    pub kernel: &'static str,
    /// Dispatches timed.
    pub calls: u64,
    /// Summed wall time of those dispatches.
    pub total: Duration,
}

/// The running totals, by entry point.
#[derive(Debug, Default)]
pub(crate) struct Profile {
    totals: HashMap<&'static str, (u64, Duration)>,
}

impl Profile {
    pub(crate) fn add(&mut self, kernel: &'static str, elapsed: Duration) {
        let e = self.totals.entry(kernel).or_default();
        e.0 += 1;
        e.1 += elapsed;
    }

    /// Kernels by total time, largest first.
    pub(crate) fn report(&self) -> Vec<KernelTime> {
        let mut v: Vec<KernelTime> =
            self.totals.iter().map(|(&kernel, &(calls, total))| KernelTime { kernel, calls, total }).collect();
        v.sort_by(|a, b| b.total.cmp(&a.total).then(a.kernel.cmp(b.kernel)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_accumulate_per_kernel_and_sort_by_time() {
        let mut p = Profile::default();
        p.add("a", Duration::from_millis(1));
        p.add("b", Duration::from_millis(5));
        p.add("a", Duration::from_millis(2));
        let r = p.report();
        assert_eq!(r[0], KernelTime { kernel: "b", calls: 1, total: Duration::from_millis(5) });
        assert_eq!(r[1], KernelTime { kernel: "a", calls: 2, total: Duration::from_millis(3) });
    }
}
