//! The one declaration of every elementwise unary and binary op. Each row gives the op's Rust
//! name and shader code (the `case` in `math.wgsl` / `binary.wgsl`), the method that exposes it
//! (whose name is also the op's name in the WGSL comments, errors and graph labels), and a
//! body: `activation` (the layer `Activation` variant and Keras name of the ops a model can use
//! as an activation, and which the GEMM and convolution epilogues therefore fuse; `none` for
//! the rest), `nan_out` (whether NaN in gives NaN out), the CPU twin `f` (f64), and the
//! derivative `df` that the fused gradient kernel computes (`fused(..)`), or `composed` where
//! autograd builds the gradient from other ops (a rule in its `unary_rule`).
//!
//! Why a macro: the table is expanded by callbacks, one per consumer, so each crate generates
//! its part where its names live: [`UnaryOp`] and its properties here, the twin dispatch in
//! `reference::map`, the `Tensor` methods in `wgtrain-tensor`, the `Var` methods in
//! `wgtrain-autograd`, the `Activation` enum in `wgtrain`. Adding a row (and its WGSL `case`s)
//! adds the op everywhere; the shaders stay hand-written WGSL, and a test
//! (`op_table/wgsl_codes.rs`) checks their `case` codes and names against the table.
//!
//! A callback receives any tokens given after its name, then, per unary row,
//! `$(#[doc])* Name = code, fn method(args) { activation: .., nan_out: bool, f: .., df: .. }`
//! (0, 1 or 2 `args`, each an `f32` passed as the op's alpha, then beta: see [`scalar_args`]),
//! and per binary row `$(#[doc])* Name = code, fn method { f: |u, v| .. }`. The twin
//! expressions name helpers of `reference::map` (`max_nan`, `sigmoid`, `phi`, `b2f`, ...): only
//! that module expands them.

/// Calls `$callback! { rows }` with every unary op row, in code order (see the module docs).
#[macro_export]
macro_rules! for_each_unary_op {
    ($callback:ident $(, $($prefix:tt)*)?) => {
        $callback! {
            $($($prefix)*)?
            /// -x.
            Neg = 0, fn neg() {
                activation: none, nan_out: true, f: |x, _, _| -x, df: fused(|_, _| -1.0),
            }
            /// |x|; the gradient at 0 is 0.
            Abs = 1, fn abs() {
                activation: none, nan_out: true, f: |x, _, _| x.abs(), df: fused(|x, _| sign(x)),
            }
            /// e^x.
            Exp = 2, fn exp() {
                activation: none, nan_out: true, f: |x, _, _| x.exp(), df: fused(|x, _| x.exp()),
            }
            /// Natural logarithm.
            Log = 3, fn log() {
                activation: none, nan_out: true, f: |x, _, _| x.ln(), df: fused(|x, _| 1.0 / x),
            }
            /// Square root (NaN below 0).
            Sqrt = 4, fn sqrt() {
                activation: none, nan_out: true, f: |x, _, _| x.sqrt(), df: fused(|x, _| 0.5 / x.sqrt()),
            }
            /// 1 / sqrt(x).
            Rsqrt = 5, fn rsqrt() {
                activation: none, nan_out: true, f: |x, _, _| 1.0 / x.sqrt(),
                // -1/2 x^(-3/2), NaN for x < 0 (powf(-Inf, -1.5) would give 0).
                df: fused(|x, _| -0.5 / (x.sqrt() * x)),
            }
            /// x^2.
            Square = 6, fn square() {
                activation: none, nan_out: true, f: |x, _, _| x * x, df: fused(|x, _| 2.0 * x),
            }
            /// max(x, 0); the gradient at 0 is 0.
            Relu = 7, fn relu() {
                activation: Relu "relu", nan_out: true, f: |x, _, _| max_nan(x, 0.0), df: fused(|x, _| b2f(x > 0.0)),
            }
            /// x for x > 0, else s x (Keras' default slope is 0.3, PyTorch's 0.01).
            LeakyRelu = 8, fn leaky_relu(s) {
                activation: LeakyRelu "leaky_relu", nan_out: true,
                f: |x, a, _| if x > 0.0 { x } else { a * x },
                df: fused(|x, a| if x > 0.0 { 1.0 } else { a }),
            }
            /// x for x > 0, else s (e^x - 1) (Keras' and PyTorch's default s is 1.0).
            Elu = 9, fn elu(s) {
                activation: Elu "elu", nan_out: true,
                f: |x, a, _| if x > 0.0 { x } else { a * x.exp_m1() },
                df: fused(|x, a| if x > 0.0 { 1.0 } else { a * x.exp() }),
            }
            /// SELU with the fixed alpha 1.6733 and scale 1.0507 (self-normalizing networks).
            Selu = 10, fn selu() {
                activation: Selu "selu", nan_out: true,
                f: |x, _, _| SELU_SCALE * if x > 0.0 { x } else { SELU_ALPHA * x.exp_m1() },
                df: fused(|x, _| SELU_SCALE * if x > 0.0 { 1.0 } else { SELU_ALPHA * x.exp() }),
            }
            /// Exact GELU, x Phi(x) (Keras `approximate=False`, PyTorch's default).
            Gelu = 11, fn gelu() {
                activation: Gelu "gelu", nan_out: true, f: |x, _, _| x * phi(x),
                // d/dx x Phi(x) = Phi(x) + x phi(x)
                df: fused(|x, _| phi(x) + x * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()),
            }
            /// 1 / (1 + e^-x).
            Sigmoid = 12, fn sigmoid() {
                activation: Sigmoid "sigmoid", nan_out: true, f: |x, _, _| sigmoid(x),
                // d/dx sigmoid = s (1 - s)
                df: fused(|x, _| sigmoid(x) * (1.0 - sigmoid(x))),
            }
            /// Hyperbolic tangent.
            Tanh = 13, fn tanh() {
                activation: Tanh "tanh", nan_out: true, f: |x, _, _| x.tanh(),
                // d/dx tanh = 1 - tanh^2
                df: fused(|x, _| 1.0 - x.tanh() * x.tanh()),
            }
            /// ln(1 + e^x), computed without overflow for large x.
            Softplus = 14, fn softplus() {
                activation: Softplus "softplus", nan_out: true,
                f: |x, _, _| x.max(0.0) + (-x.abs()).exp().ln_1p(),
                df: fused(|x, _| sigmoid(x)),
            }
            /// x sigmoid(x), also called swish.
            Silu = 15, fn silu() {
                activation: Swish "swish", nan_out: true, f: |x, _, _| x * sigmoid(x),
                df: fused(|x, _| sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x)))),
            }
            /// clamp(x / 6 + 1/2, 0, 1), as PyTorch and Keras 3.
            HardSigmoid = 16, fn hard_sigmoid() {
                activation: HardSigmoid "hard_sigmoid", nan_out: true,
                f: |x, _, _| (x / 6.0 + 0.5).clamp(0.0, 1.0),
                df: fused(|x, _| if x > -3.0 && x < 3.0 { 1.0 / 6.0 } else { 0.0 }),
            }
            /// x + s.
            AddScalar = 17, fn add_scalar(s) {
                activation: none, nan_out: true, f: |x, a, _| x + a, df: composed,
            }
            /// x * s.
            MulScalar = 18, fn mul_scalar(s) {
                activation: none, nan_out: true, f: |x, a, _| x * a, df: composed,
            }
            /// x^s (pow(NaN, 0) = 1, as PyTorch).
            PowScalar = 19, fn pow_scalar(s) {
                activation: none, nan_out: false, f: |x, a, _| x.powf(a), df: composed,
            }
            /// clamp(x, low, high); the gradient passes where `low <= x <= high`.
            Clamp = 20, fn clamp(low, high) {
                activation: none, nan_out: true, f: |x, a, b| min_nan(max_nan(x, a), b), df: composed,
            }
            /// 1 / x.
            Recip = 21, fn recip() {
                activation: none, nan_out: true, f: |x, _, _| 1.0 / x, df: composed,
            }
            /// -1, 0 or 1 by the sign of x (no gradient).
            Sign = 22, fn sign() {
                activation: none, nan_out: true, f: |x, _, _| sign(x), df: composed,
            }
            /// s - x.
            RsubScalar = 23, fn rsub_scalar(s) {
                activation: none, nan_out: true, f: |x, a, _| a - x, df: composed,
            }
            /// x, copied (the no-op epilogue of the GEMMs).
            Identity = 24, fn identity() {
                activation: Linear "linear", nan_out: true, f: |x, _, _| x, df: composed,
            }
            /// 1.0 where x > s, else 0.0 (no gradient), as every comparison.
            GtScalar = 25, fn gt_scalar(s) {
                activation: none, nan_out: false, f: |x, a, _| b2f(x > a), df: composed,
            }
            /// 1.0 where x >= s, else 0.0.
            GeScalar = 26, fn ge_scalar(s) {
                activation: none, nan_out: false, f: |x, a, _| b2f(x >= a), df: composed,
            }
            /// 1.0 where x < s, else 0.0.
            LtScalar = 27, fn lt_scalar(s) {
                activation: none, nan_out: false, f: |x, a, _| b2f(x < a), df: composed,
            }
            /// 1.0 where x <= s, else 0.0.
            LeScalar = 28, fn le_scalar(s) {
                activation: none, nan_out: false, f: |x, a, _| b2f(x <= a), df: composed,
            }
            /// 1.0 where x == s, else 0.0.
            EqScalar = 29, fn eq_scalar(s) {
                activation: none, nan_out: false, f: |x, a, _| b2f(x == a), df: composed,
            }
            /// 1.0 where x != s, else 0.0 (NaN is unequal to everything).
            NeScalar = 30, fn ne_scalar(s) {
                activation: none, nan_out: false, f: |x, a, _| b2f(x != a), df: composed,
            }
            /// max(x, s); the gradient passes where x >= s.
            MaxScalar = 31, fn maximum_scalar(s) {
                activation: none, nan_out: true, f: |x, a, _| max_nan(x, a), df: composed,
            }
            /// min(x, s); the gradient passes where x <= s.
            MinScalar = 32, fn minimum_scalar(s) {
                activation: none, nan_out: true, f: |x, a, _| min_nan(x, a), df: composed,
            }
            /// s / x.
            RdivScalar = 33, fn rdiv_scalar(s) {
                activation: none, nan_out: true, f: |x, a, _| a / x, df: composed,
            }
            /// x relu6(x + 3) / 6 (PyTorch's `hardswish`, Keras 3's `hard_swish`); the gradient is
            /// x / 3 + 1/2 on [-3, 3] (PyTorch's, ends included), 0 below and 1 above.
            HardSwish = 34, fn hard_swish() {
                activation: HardSwish "hard_swish", nan_out: true,
                f: |x, _, _| x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
                df: fused(|x, _| if x < -3.0 { 0.0 } else if x <= 3.0 { x / 3.0 + 0.5 } else { 1.0 }),
            }
        }
    };
}

/// Calls `$callback! { rows }` with every binary op row, in code order (see the module docs).
/// Comparisons give 1.0 or 0.0.
#[macro_export]
macro_rules! for_each_binary_op {
    ($callback:ident) => {
        $callback! {
            /// self + rhs.
            Add = 0, fn add { f: |u, v| u + v }
            /// self - rhs.
            Sub = 1, fn sub { f: |u, v| u - v }
            /// self * rhs, elementwise.
            Mul = 2, fn mul { f: |u, v| u * v }
            /// self / rhs.
            Div = 3, fn div { f: |u, v| u / v }
            /// self^rhs.
            Pow = 4, fn pow { f: |u, v| u.powf(v) }
            /// Elementwise max(self, rhs); on ties each operand gets half the gradient (PyTorch).
            Maximum = 5, fn maximum { f: |u, v| max_nan(u, v) }
            /// Elementwise min(self, rhs); on ties each operand gets half the gradient.
            Minimum = 6, fn minimum { f: |u, v| min_nan(u, v) }
            /// 1.0 where equal, else 0.0 (no gradient), as every comparison.
            Eq = 7, fn eq { f: |u, v| b2f(u == v) }
            /// 1.0 where self != rhs, else 0.0.
            Ne = 8, fn ne { f: |u, v| b2f(u != v) }
            /// 1.0 where self < rhs, else 0.0.
            Lt = 9, fn lt { f: |u, v| b2f(u < v) }
            /// 1.0 where self <= rhs, else 0.0.
            Le = 10, fn le { f: |u, v| b2f(u <= v) }
            /// 1.0 where self > rhs, else 0.0.
            Gt = 11, fn gt { f: |u, v| b2f(u > v) }
            /// 1.0 where self >= rhs, else 0.0.
            Ge = 12, fn ge { f: |u, v| b2f(u >= v) }
            /// PReLU: self where self > 0, else rhs * self; the slope `rhs` broadcasts against x.
            Prelu = 13, fn prelu { f: |u, v| if u > 0.0 { u } else { v * u } }
        }
    };
}

/// The (alpha, beta) of a generated method's scalar arguments: missing ones are 0.
pub fn scalar_args(args: &[f32]) -> (f32, f32) {
    (args.first().copied().unwrap_or(0.0), args.get(1).copied().unwrap_or(0.0))
}

macro_rules! unary_enum {
    (@fused fused) => { true };
    (@fused composed) => { false };
    (@activation none) => { false };
    (@activation $variant:ident $keras:literal) => { true };
    ($($(#[$doc:meta])* $name:ident = $code:literal, fn $method:ident($($arg:ident),*) {
        activation: $activation:ident $($keras:literal)?, nan_out: $nan_out:literal, f: $f:expr, df: $df_kind:ident $(($df:expr))? $(,)?
    })*) => {
        /// Unary op codes (the `switch` in `math.wgsl`'s `unary_op`), declared in
        /// [`for_each_unary_op!`](crate::for_each_unary_op). Scalar arguments: `alpha`, `beta`.
        #[repr(u32)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum UnaryOp {
            $($(#[$doc])* $name = $code,)*
        }

        impl UnaryOp {
            /// Every unary op, in code order.
            pub const ALL: [UnaryOp; [$(UnaryOp::$name),*].len()] = [$(UnaryOp::$name),*];

            /// The op's name: its method's, and the comment on its WGSL `case`.
            pub fn name(self) -> &'static str {
                match self { $(UnaryOp::$name => stringify!($method),)* }
            }

            /// How many scalar arguments (alpha, then beta) the op reads.
            pub fn scalar_count(self) -> usize {
                match self { $(UnaryOp::$name => <[&str]>::len(&[$(stringify!($arg)),*]),)* }
            }

            /// Whether the GEMM and convolution epilogues may apply the op (they pass alpha
            /// only): the activations.
            pub fn fuses_into_epilogue(self) -> bool {
                match self { $(UnaryOp::$name => unary_enum!(@activation $activation $($keras)?),)* }
            }

            /// Whether a NaN input gives NaN (all but pow and the comparisons, as PyTorch).
            pub fn nan_in_nan_out(self) -> bool {
                match self { $(UnaryOp::$name => $nan_out,)* }
            }

            /// Ops whose derivative `binary.wgsl` fuses as `dy * f'(x)` (code 100 + op).
            pub fn has_fused_grad(self) -> bool {
                match self { $(UnaryOp::$name => unary_enum!(@fused $df_kind),)* }
            }
        }
    };
}

macro_rules! binary_enum {
    ($($(#[$doc:meta])* $name:ident = $code:literal, fn $method:ident { f: $f:expr })*) => {
        /// Binary op codes (`binary.wgsl`), declared in
        /// [`for_each_binary_op!`](crate::for_each_binary_op). Comparisons give 1.0 or 0.0.
        #[repr(u32)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum BinaryOp {
            $($(#[$doc])* $name = $code,)*
        }

        impl BinaryOp {
            /// Every binary op, in code order.
            pub const ALL: [BinaryOp; [$(BinaryOp::$name),*].len()] = [$(BinaryOp::$name),*];

            /// The op's name: its method's, and the comment on its WGSL `case`.
            pub fn name(self) -> &'static str {
                match self { $(BinaryOp::$name => stringify!($method),)* }
            }
        }
    };
}

crate::for_each_unary_op!(unary_enum);
crate::for_each_binary_op!(binary_enum);

impl UnaryOp {
    /// The op with this shader code.
    pub fn from_code(code: u32) -> Option<UnaryOp> {
        UnaryOp::ALL.get(code as usize).copied()
    }
}

impl BinaryOp {
    /// The op with this shader code.
    pub fn from_code(code: u32) -> Option<BinaryOp> {
        BinaryOp::ALL.get(code as usize).copied()
    }
}

#[cfg(test)]
mod wgsl_codes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_in_table_order() {
        // `from_code` indexes `ALL`: a row out of order or a gap would map codes to the wrong op.
        for (i, op) in UnaryOp::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
            assert_eq!(UnaryOp::from_code(i as u32), Some(*op));
        }
        for (i, op) in BinaryOp::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
            assert_eq!(BinaryOp::from_code(i as u32), Some(*op));
        }
        assert_eq!(UnaryOp::from_code(UnaryOp::ALL.len() as u32), None);
    }

    #[test]
    fn scalar_args_fill_alpha_then_beta() {
        assert_eq!(scalar_args(&[]), (0.0, 0.0));
        assert_eq!(scalar_args(&[0.5]), (0.5, 0.0));
        assert_eq!(scalar_args(&[0.5, 2.0]), (0.5, 2.0));
        assert_eq!(UnaryOp::Clamp.scalar_count(), 2);
        assert_eq!(UnaryOp::Relu.scalar_count(), 0);
    }

    #[test]
    fn an_activation_added_after_hard_sigmoid_keeps_its_fused_gradient() {
        // The old `has_fused_grad` was `code <= HardSigmoid`: HardSwish (34) would have been
        // silently composed, and autograd has no composed rule for it. Now its row decides.
        assert!(UnaryOp::HardSwish as u32 > UnaryOp::HardSigmoid as u32);
        assert!(UnaryOp::HardSwish.has_fused_grad() && UnaryOp::HardSwish.fuses_into_epilogue());
        assert!(!UnaryOp::Clamp.has_fused_grad() && !UnaryOp::Clamp.fuses_into_epilogue());
        assert!(UnaryOp::Identity.fuses_into_epilogue() && !UnaryOp::Identity.has_fused_grad());
    }
}
