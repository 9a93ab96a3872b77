//! Gradient checking: the GPU backward pass against central finite differences of a reference
//! forward computed in f64 on the host.
//!
//! For built-in ops the reference is the kernels' CPU twins (`wgtrain_kernels::reference`,
//! generic over f32/f64); for a custom op, a closure the user supplies. With the reference in
//! f64, `eps = 1e-6` leaves a finite-difference error near 1e-10, so what the check measures
//! is the f32 GPU gradient itself: `|gpu - fd| <= atol + rtol * |fd|` per element.
//!
//! The check differentiates `L = sum(v * f(x))` for a fixed random upstream `v`, which tests
//! the whole vector-Jacobian product rather than one row of it.

use wgtrain_tensor::{Device, Tensor};

use crate::error::{AutogradError, Result};
use crate::var::Var;

/// Step and tolerances of [`gradcheck`].
#[derive(Debug, Clone, Copy)]
pub struct GradcheckOptions {
    /// Central-difference step, applied to the f64 reference; default 1e-6.
    pub eps: f64,
    /// Absolute tolerance per element; default 1e-4.
    pub atol: f64,
    /// Relative tolerance per element, times |fd|; default 1e-3.
    pub rtol: f64,
    /// Seed of the random upstream gradient.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions { eps: 1e-6, atol: 1e-4, rtol: 1e-3, seed: 0x5eed }
    }
}

/// What a passing check measured.
#[derive(Debug, Clone)]
pub struct GradcheckReport {
    /// Per input: the largest |gpu - fd| over its elements.
    pub max_abs_err: Vec<f64>,
    /// The largest |gpu forward - reference forward|.
    pub forward_max_err: f64,
}

/// An input of a gradient check: host values and shape.
#[derive(Debug, Clone)]
pub struct CheckInput {
    /// Values, row-major.
    pub data: Vec<f32>,
    /// Shape.
    pub shape: Vec<usize>,
}

impl CheckInput {
    /// An input of `shape` holding `data` (row-major).
    pub fn new(data: Vec<f32>, shape: &[usize]) -> Self {
        CheckInput { data, shape: shape.to_vec() }
    }
}

/// Checks the gradients of `gpu` (a function of `inputs` as parameters) against central
/// differences of `reference` (the same function on the host in f64, row-major in and out).
/// Fails with the first mismatching element, or if the forward values disagree.
pub fn gradcheck(
    device: &Device,
    inputs: &[CheckInput],
    gpu: impl Fn(&[Var]) -> Result<Var>,
    reference: impl Fn(&[Vec<f64>]) -> Vec<f64>,
    o: &GradcheckOptions,
) -> Result<GradcheckReport> {
    let vars = inputs
        .iter()
        .map(|i| Ok(Var::parameter(Tensor::from_slice(device, &i.data, &i.shape)?)))
        .collect::<Result<Vec<_>>>()?;
    let out = gpu(&vars)?;
    let got = out.to_vec()?;
    let host: Vec<Vec<f64>> = inputs.iter().map(|i| i.data.iter().map(|&x| x as f64).collect()).collect();
    let want = reference(&host);
    let forward_max_err = compare(&got, &want, o).map_err(|(failures, first)| AutogradError::GradcheckFailed {
        input: usize::MAX,
        failures,
        total: want.len(),
        first: format!("forward {first}"),
    })?;

    let mut rng = SplitMix(o.seed);
    let v: Vec<f64> = (0..want.len()).map(|_| rng.uniform() * 2.0 - 1.0).collect();
    let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    out.backward_with(&Tensor::from_slice(device, &v32, out.shape())?)?;
    // The loss the GPU differentiated, with v as rounded to f32.
    let v: Vec<f64> = v32.iter().map(|&x| x as f64).collect();
    let loss = |x: &[Vec<f64>]| -> f64 { reference(x).iter().zip(&v).map(|(y, v)| y * v).sum() };

    let mut max_abs_err = Vec::with_capacity(inputs.len());
    for (k, var) in vars.iter().enumerate() {
        let gpu_grad = match var.grad() {
            Some(g) => g.to_vec::<f32>()?,
            None => vec![0.0; var.len()],
        };
        let mut x = host.clone();
        let mut fd = Vec::with_capacity(x[k].len());
        for i in 0..x[k].len() {
            let x0 = x[k][i];
            x[k][i] = x0 + o.eps;
            let plus = loss(&x);
            x[k][i] = x0 - o.eps;
            let minus = loss(&x);
            x[k][i] = x0;
            fd.push((plus - minus) / (2.0 * o.eps));
        }
        let err = compare(&gpu_grad, &fd, o).map_err(|(failures, first)| AutogradError::GradcheckFailed {
            input: k,
            failures,
            total: fd.len(),
            first,
        })?;
        max_abs_err.push(err);
    }
    Ok(GradcheckReport { max_abs_err, forward_max_err })
}

/// The largest |got - want|, or the failure count and the first failure.
fn compare(got: &[f32], want: &[f64], o: &GradcheckOptions) -> std::result::Result<f64, (usize, String)> {
    if got.len() != want.len() {
        return Err((want.len(), format!("{} values, the reference has {}", got.len(), want.len())));
    }
    let mut worst = 0.0f64;
    let mut failures = 0;
    let mut first = String::new();
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        let ok = err <= o.atol + o.rtol * w.abs() || (g.is_nan() && w.is_nan());
        if !ok {
            if failures == 0 {
                first = format!("element {i}: gpu {g}, reference {w}");
            }
            failures += 1;
        }
        if err.is_finite() {
            worst = worst.max(err);
        }
    }
    if failures > 0 { Err((failures, first)) } else { Ok(worst) }
}

/// The SplitMix64 generator: a fixed, dependency-free upstream gradient per seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
