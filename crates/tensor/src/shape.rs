//! Shape arithmetic: contiguous strides and NumPy broadcasting.

use crate::error::{Result, TensorError};

/// Highest rank a tensor may have (the kernels pack extents in two `vec4<u32>`).
pub const MAX_RANK: usize = wgtrain_kernels::MAX_RANK;

/// Row-major strides of a contiguous tensor of this shape.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// The broadcast shape of two shapes (NumPy rules: align trailing dims; 1 stretches).
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() { 1 } else { a[i - (rank - a.len())] };
        let db = if i < rank - b.len() { 1 } else { b[i - (rank - b.len())] };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(TensorError::Incompatible {
                    op,
                    lhs: a.to_vec(),
                    rhs: b.to_vec(),
                    why: format!("dimension {i} of the broadcast shape: {da} vs {db}"),
                });
            }
        };
    }
    Ok(out)
}

/// Checks a rank against [`MAX_RANK`].
pub fn check_rank(op: &'static str, shape: &[usize]) -> Result<()> {
    if shape.len() > MAX_RANK {
        return Err(TensorError::Shape { op, expected: format!("rank <= {MAX_RANK}"), got: shape.to_vec() });
    }
    numel(op, shape).map(|_| ())
}

/// The element count of `shape`, refusing one that overflows `usize` (which no device could
/// hold, and whose wrapped product would make every later size computation wrong).
pub fn numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(|| TensorError::Shape {
        op,
        expected: "a shape whose element count fits in usize".into(),
        got: shape.to_vec(),
    })
}

/// Resolves a possibly negative axis.
pub fn axis(op: &'static str, axis: isize, rank: usize) -> Result<usize> {
    let a = if axis < 0 { axis + rank as isize } else { axis };
    if a < 0 || a as usize >= rank {
        return Err(TensorError::Argument { op, why: format!("axis {axis} is out of range for rank {rank}") });
    }
    Ok(a as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes("t", &[8, 1, 6, 1], &[7, 1, 5]).unwrap(), vec![8, 7, 6, 5]);
        assert_eq!(broadcast_shapes("t", &[], &[3]).unwrap(), vec![3]);
        let e = broadcast_shapes("add", &[2, 3], &[4, 3]).unwrap_err().to_string();
        assert!(e.contains("add") && e.contains("[2, 3]") && e.contains("[4, 3]"), "{e}");
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(contiguous_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(contiguous_strides(&[]), Vec::<usize>::new());
    }
}
