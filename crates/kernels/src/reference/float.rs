//! The float trait the twins are generic over, and special functions the std library lacks.

/// f16, f32 or f64, for the twins.
pub trait Float: Copy + PartialOrd + std::fmt::Debug + Default + Send + Sync + 'static {
    /// Rounds an f64 to this type.
    fn from_f64(v: f64) -> Self;
    /// Widens to f64 (exact).
    fn to_f64(self) -> f64;
}

impl Float for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// f16 twins round once, where the kernel stores f16 (their sums are f64).
impl Float for half::f16 {
    fn from_f64(v: f64) -> Self {
        half::f16::from_f64(v)
    }
    fn to_f64(self) -> f64 {
        self.to_f64()
    }
}

impl Float for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// max(a, b) that propagates NaN (PyTorch's `maximum`; `f64::max` returns the other operand).
pub fn max_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

/// min(a, b) that propagates NaN.
pub fn min_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}

/// erf(x) in f64: the Maclaurin series for |x| < 3, the continued fraction of erfc beyond
/// (both converge to full double precision there).
pub fn erf(x: f64) -> f64 {
    if x < 0.0 {
        return -erf(-x);
    }
    if x < 3.0 {
        // erf x = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -x * x / n;
            sum += term / (2.0 * n + 1.0);
        }
        return sum * 2.0 / std::f64::consts::PI.sqrt();
    }
    1.0 - erfc_cf(x)
}

/// erfc(x) for x >= 3 by its continued fraction, evaluated bottom-up.
fn erfc_cf(x: f64) -> f64 {
    let mut f = x;
    for k in (1..60).rev() {
        f = x + (k as f64 / 2.0) / f;
    }
    (-x * x).exp() / (std::f64::consts::PI.sqrt() * f)
}

/// erfc(x) without cancellation for large x.
pub(crate) fn erfc(x: f64) -> f64 {
    if x >= 3.0 { erfc_cf(x) } else { 1.0 - erf(x) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // Values from Abramowitz & Stegun table 7.1.
        for (x, e) in [(0.5, 0.520_499_877_813_046_5), (1.0, 0.842_700_792_949_714_9), (2.0, 0.995_322_265_018_952_7)] {
            assert!((erf(x) - e).abs() < 1e-15, "erf({x}) = {}", erf(x));
        }
        assert!((erfc(4.0) - 1.541_725_790_028_002e-8).abs() < 1e-20);
        assert!((erf(3.0) + erfc(3.0) - 1.0).abs() < 1e-15);
    }
}
