//! Twins of `fault.wgsl`: they update a fault record exactly as the kernels do (the first
//! index fault is kept; a later check never overwrites it; the smallest non-finite tag wins).

use crate::ops::fault::{
    CheckParams, FiniteParams, RECORD_LIMIT, RECORD_NONFINITE, RECORD_OP, RECORD_POSITION, RECORD_SIGNED, RECORD_VALUE,
    RECORD_WORDS,
};

/// Twin of `check_indices`: records the first index `>= limit` that is not the ignored value,
/// unless the record already holds an index fault.
pub fn check_indices(p: &CheckParams, ids: &[u32], record: &mut [u32; RECORD_WORDS]) {
    if record[RECORD_OP] != 0 {
        return;
    }
    let bad = |v: u32| v >= p.limit && !(p.has_ignore != 0 && v == p.ignore);
    if let Some((at, &v)) = ids[..p.n as usize].iter().enumerate().find(|&(_, &v)| bad(v)) {
        record[RECORD_OP] = p.op;
        record[RECORD_POSITION] = at as u32;
        record[RECORD_VALUE] = v;
        record[RECORD_LIMIT] = p.limit;
        record[RECORD_SIGNED] = p.signed;
    }
}

/// Twin of `check_finite`: keeps `!tag` of the smallest tag whose tensor holds a NaN or an
/// infinity.
pub fn check_finite(p: &FiniteParams, values: &[f32], record: &mut [u32; RECORD_WORDS]) {
    if values[..p.n as usize].iter().any(|v| !v.is_finite()) {
        record[RECORD_NONFINITE] = record[RECORD_NONFINITE].max(!p.tag);
    }
}
