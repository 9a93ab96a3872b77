//! Decisions every process must take alike, taken once: a process that decided otherwise would
//! leave a loop its peers stay in, and they would wait for it in a collective forever.

use super::collective::Collective;
use crate::error::{Result, TrainError};
use crate::logs::Logs;

/// Rank 0's `logs`, on every process (an epoch's logs, whose validation figures come from
/// per-process batch statistics). Values travel as their bits, so NaN and infinities arrive.
pub(crate) fn rank0_logs(comm: &dyn Collective, logs: &Logs) -> Result<Logs> {
    let entries: Vec<(String, u32)> = logs.iter().map(|(k, v)| (k.to_string(), v.to_bits())).collect();
    let mut bytes = serde_json::to_vec(&entries).map_err(|e| TrainError::config("fit", e.to_string()))?;
    comm.broadcast(0, &mut bytes);
    let entries: Vec<(String, u32)> =
        serde_json::from_slice(&bytes).map_err(|e| TrainError::config("fit", e.to_string()))?;
    let mut out = Logs::new();
    for (k, bits) in entries {
        out.set(k, f32::from_bits(bits));
    }
    Ok(out)
}

/// Whether `ok` holds on every process.
pub(crate) fn all(comm: &dyn Collective, ok: bool) -> bool {
    comm.min_u64(u64::from(ok)) == 1
}

/// Whether `yes` holds on rank 0 (what rank 0 alone can see: its files).
pub(crate) fn rank0_says(comm: &dyn Collective, yes: bool) -> bool {
    let mut b = vec![u8::from(yes)];
    comm.broadcast(0, &mut b);
    b.first() == Some(&1)
}
