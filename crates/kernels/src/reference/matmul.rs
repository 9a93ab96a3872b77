//! Twin of `matmul_tiled`: the textbook triple loop, accumulated in f64.

use super::float::Float;
use super::map::unary_scalar;
use crate::ops::map::UnaryOp;
use crate::ops::matmul::MatmulParams;

/// `C[b, i, j] = act(sum_k A[b, i, k] B[b, k, j] + bias[j])`, contiguous `[batch, m, n]`.
pub fn matmul<T: Float>(p: &MatmulParams, a: &[T], b: &[T], bias: Option<&[T]>) -> Vec<T> {
    let (m, n, k) = (p.m as usize, p.n as usize, p.k as usize);
    let act = UnaryOp::from_code(p.act).filter(|o| o.fuses_into_epilogue()).expect("fusable activation");
    let mut c = vec![T::default(); p.batch as usize * m * n];
    for bt in 0..p.batch as usize {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for kk in 0..k {
                    let ai = p.a_off as usize + bt * p.a_bs as usize + i * p.a_rs as usize + kk * p.a_cs as usize;
                    let bi = p.b_off as usize + bt * p.b_bs as usize + kk * p.b_rs as usize + j * p.b_cs as usize;
                    s += a[ai].to_f64() * b[bi].to_f64();
                }
                if let (Some(bias), true) = (bias, p.has_bias != 0) {
                    s += bias[p.bias_off as usize + j].to_f64();
                }
                c[(bt * m + i) * n + j] = T::from_f64(unary_scalar(act, s, p.alpha as f64, 0.0));
            }
        }
    }
    c
}
