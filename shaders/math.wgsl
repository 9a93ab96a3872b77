// Numerically careful scalar functions shared by the activation kernels.

// log(1 + y) accurate for small y (Goldberg's trick).
fn log1p_(v: f32) -> f32 {
    let u = 1.0 + v;
    if (u == 1.0) { return v; }
    return log(u) * v / (u - 1.0);
}

// erfc for z >= 0 with fractional error < 1.2e-7 (Chebyshev fit, Numerical Recipes `erfcc`).
fn erfc_pos(z: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277))))))));
    return t * exp(poly);
}

// Standard normal CDF Phi(x), without cancellation in either tail.
fn normal_cdf(v: f32) -> f32 {
    let z = abs(v) * 0.70710678118654752;
    let tail = 0.5 * erfc_pos(z);
    return select(1.0 - tail, tail, v < 0.0);
}

fn sigmoid_(v: f32) -> f32 {
    if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
    let e = exp(v);
    return e / (1.0 + e);
}

const SELU_ALPHA: f32 = 1.6732632423543772;
const SELU_SCALE: f32 = 1.0507009873554805;


// Unary op `op` with its scalar arguments. Codes and names (the comment on each `case`) are
// the rows of `for_each_unary_op!` in crates/kernels/src/ops/op_table.rs; a test checks them.
// A NaN input gives NaN, as in PyTorch, for every op but those in `own_nan_rule`: the
// comparisons (NaN compares false, and unequal to everything; `!=` is tested on the bits, as
// lavapipe folds it ordered) and pow (see `pow_`). The built-ins and selects below may drop it
// (max(NaN, 0) = 0, tanh of a clamped NaN = -1, lavapipe's pow(NaN, y) = 0), so the result is
// overridden.
fn unary_op(op: u32, v: f32, alpha: f32, beta: f32) -> f32 {
    let r = unary_value(op, v, alpha, beta);
    if (own_nan_rule(op)) { return r; }
    return keep_nan(r, v);
}

// The ops whose NaN rule is their own (`nan_out: false` in the op table): pow and the comparisons.
fn own_nan_rule(op: u32) -> bool {
    switch op {
        case 19u, 25u, 26u, 27u, 28u, 29u, 30u: { return true; } // pow_scalar, comparisons
        default: { return false; }
    }
}

// pow with PyTorch's NaN rules: pow(x, 0) = 1 and pow(1, y) = 1 whatever x and y; otherwise a
// NaN operand gives NaN.
fn pow_(u: f32, v: f32) -> f32 {
    if (v == 0.0 || u == 1.0) { return 1.0; }
    return keep_nan(keep_nan(pow(u, v), u), v);
}

fn unary_value(op: u32, v: f32, alpha: f32, beta: f32) -> f32 {
    switch op {
        case 0u: { return -v; } // neg
        case 1u: { return abs(v); } // abs
        case 2u: { return exp(v); } // exp
        case 3u: { return log(v); } // log
        case 4u: { return sqrt(v); } // sqrt
        case 5u: { return inverseSqrt(v); } // rsqrt
        case 6u: { return v * v; } // square
        case 7u: { return max(v, 0.0); } // relu
        case 8u: { return select(alpha * v, v, v > 0.0); } // leaky_relu
        case 9u: { return select(alpha * (exp(v) - 1.0), v, v > 0.0); } // elu
        case 10u: { return SELU_SCALE * select(SELU_ALPHA * (exp(v) - 1.0), v, v > 0.0); } // selu
        case 11u: { return v * normal_cdf(v); } // gelu
        case 12u: { return sigmoid_(v); } // sigmoid
        case 13u: { return tanh(clamp(v, -10.0, 10.0)); } // tanh
        case 14u: { return max(v, 0.0) + log1p_(exp(-abs(v))); } // softplus
        case 15u: { return v * sigmoid_(v); } // silu
        case 16u: { return clamp(v / 6.0 + 0.5, 0.0, 1.0); } // hard_sigmoid
        case 17u: { return v + alpha; } // add_scalar
        case 18u: { return v * alpha; } // mul_scalar
        case 19u: { return pow_(v, alpha); } // pow_scalar
        case 20u: { return clamp_nan(v, alpha, beta); } // clamp
        case 21u: { return 1.0 / v; } // recip
        case 22u: { return sign(v); } // sign
        case 23u: { return alpha - v; } // rsub_scalar
        case 24u: { return v; } // identity
        case 25u: { return select(0.0, 1.0, v > alpha); } // gt_scalar
        case 26u: { return select(0.0, 1.0, v >= alpha); } // ge_scalar
        case 27u: { return select(0.0, 1.0, v < alpha); } // lt_scalar
        case 28u: { return select(0.0, 1.0, v <= alpha); } // le_scalar
        case 29u: { return select(0.0, 1.0, v == alpha); } // eq_scalar
        case 30u: { return select(0.0, 1.0, v != alpha || is_nan(v) || is_nan(alpha)); } // ne_scalar
        case 31u: { return max_nan(v, alpha); } // maximum_scalar
        case 32u: { return min_nan(v, alpha); } // minimum_scalar
        case 33u: { return alpha / v; } // rdiv_scalar
        case 34u: { return v * clamp(v + 3.0, 0.0, 6.0) / 6.0; } // hard_swish
        default: { return v; }
    }
}


const INV_SQRT_2PI: f32 = 0.3989422804014327;

// f'(v) of unary op `k` (the rows with `df: fused(..)` in the op table); callers make f'(NaN) = NaN (see binary.wgsl).
fn unary_derivative(k: u32, v: f32, alpha: f32) -> f32 {
    switch k {
        case 0u: { return -1.0; } // neg
        case 1u: { return sign(v); } // abs
        case 2u: { return exp(v); } // exp
        case 3u: { return 1.0 / v; } // log
        case 4u: { return 0.5 * inverseSqrt(v); } // sqrt
        case 5u: { let r = inverseSqrt(v); return -0.5 * r * r * r; } // rsqrt
        case 6u: { return 2.0 * v; } // square
        case 7u: { return select(0.0, 1.0, v > 0.0); } // relu
        case 8u: { return select(alpha, 1.0, v > 0.0); } // leaky_relu
        case 9u: { return select(alpha * exp(v), 1.0, v > 0.0); } // elu
        case 10u: { return SELU_SCALE * select(SELU_ALPHA * exp(v), 1.0, v > 0.0); } // selu
        case 11u: { return normal_cdf(v) + v * INV_SQRT_2PI * exp(-0.5 * v * v); } // gelu
        case 12u: { let s = sigmoid_(v); return s * (1.0 - s); } // sigmoid
        case 13u: { let t = tanh(clamp(v, -10.0, 10.0)); return 1.0 - t * t; } // tanh
        case 14u: { return sigmoid_(v); } // softplus
        case 15u: { let s = sigmoid_(v); return s + v * s * (1.0 - s); } // silu
        case 16u: { return select(0.0, 1.0 / 6.0, v > -3.0 && v < 3.0); } // hard_sigmoid
        case 34u: { return select(select(1.0, v / 3.0 + 0.5, v <= 3.0), 0.0, v < -3.0); } // hard_swish
        default: { return 0.0; }
    }
}

