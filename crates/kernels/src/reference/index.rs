//! Twins of `index.wgsl`, written from the definitions: out-of-range indices (which the tensor
//! layer reports as faults, see `reference::check_indices`) read as zero and add nothing;
//! gradients sum contributions in increasing index order, accumulating in f64.

use super::Float;
use crate::ops::index::IndexParams;

/// `out[r, d] = table[ids[r], d]` (zero row for an id >= vocab). Returns `rows * dim` values.
pub fn embedding<T: Float>(p: &IndexParams, ids: &[u32], table: &[T]) -> Vec<T> {
    let (vocab, dim) = (p.vocab as usize, p.dim as usize);
    let mut out = Vec::with_capacity(ids.len() * dim);
    for &id in &ids[..p.rows as usize] {
        for d in 0..dim {
            out.push(if (id as usize) < vocab { table[id as usize * dim + d] } else { T::default() });
        }
    }
    out
}

/// `dtable[v, d] = sum_{r: ids[r] = v} dy[r, d]`. Returns `vocab * dim` values.
pub fn embedding_grad<T: Float>(p: &IndexParams, ids: &[u32], dy: &[T]) -> Vec<T> {
    let (vocab, dim) = (p.vocab as usize, p.dim as usize);
    let mut acc = vec![0.0f64; vocab * dim];
    for (r, &id) in ids[..p.rows as usize].iter().enumerate() {
        if (id as usize) < vocab {
            for d in 0..dim {
                acc[id as usize * dim + d] += dy[r * dim + d].to_f64();
            }
        }
    }
    acc.into_iter().map(T::from_f64).collect()
}

/// `out[o, j, k] = x[o, idx[o, j, k], k]` (zero for an index >= axis_in).
pub fn gather<T: Float>(p: &IndexParams, idx: &[u32], x: &[T]) -> Vec<T> {
    let (outer, ain, aout, inner) = (p.outer as usize, p.axis_in as usize, p.axis_out as usize, p.inner as usize);
    let mut out = Vec::with_capacity(outer * aout * inner);
    for o in 0..outer {
        for j in 0..aout {
            for k in 0..inner {
                let a = idx[(o * aout + j) * inner + k] as usize;
                out.push(if a < ain { x[(o * ain + a) * inner + k] } else { T::default() });
            }
        }
    }
    out
}

/// Gradient of [`gather`]: `dx[o, idx[o, j, k], k] += dy[o, j, k]`.
pub fn gather_grad<T: Float>(p: &IndexParams, idx: &[u32], dy: &[T]) -> Vec<T> {
    let (outer, ain, aout, inner) = (p.outer as usize, p.axis_in as usize, p.axis_out as usize, p.inner as usize);
    let mut acc = vec![0.0f64; outer * ain * inner];
    for o in 0..outer {
        for j in 0..aout {
            for k in 0..inner {
                let at = (o * aout + j) * inner + k;
                let a = idx[at] as usize;
                if a < ain {
                    acc[(o * ain + a) * inner + k] += dy[at].to_f64();
                }
            }
        }
    }
    acc.into_iter().map(T::from_f64).collect()
}

/// `out[r, c] = 1` where `labels[r] == c`, else 0; the ignored label gives a zero row.
pub fn one_hot(p: &IndexParams, labels: &[u32]) -> Vec<f32> {
    let classes = p.dim as usize;
    let mut out = vec![0.0f32; p.rows as usize * classes];
    for (r, &l) in labels[..p.rows as usize].iter().enumerate() {
        let ignored = p.has_ignore != 0 && l == p.ignore;
        if (l as usize) < classes && !ignored {
            out[r * classes + l as usize] = 1.0;
        }
    }
    out
}
