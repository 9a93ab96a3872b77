//! Pooling over NCHW images.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::Pool2dOptions;

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer, shape_error};
use crate::error::{Result, TrainError};

/// Window geometry shared by the two pooling layers.
#[derive(Debug, Clone, Copy)]
struct Window {
    pool: [usize; 2],
    strides: Option<[usize; 2]>,
    padding: [usize; 2],
}

impl Window {
    fn options(&self) -> Pool2dOptions {
        Pool2dOptions { kernel: self.pool, stride: self.strides.unwrap_or(self.pool), padding: self.padding }
    }
    fn out_shape(&self, name: &str, input: &[usize]) -> Result<Vec<usize>> {
        let &[c, h, w] = input else {
            return Err(shape_error(name, "an image [channels, height, width]", input));
        };
        let o = self.options();
        let mut out = vec![c];
        for (a, e) in [h, w].into_iter().enumerate() {
            if o.kernel[a] == 0 || o.stride[a] == 0 || 2 * o.padding[a] > o.kernel[a] {
                return Err(TrainError::config(name, "pool size and strides >= 1, padding <= pool size / 2"));
            }
            let Some(span) = (e + 2 * o.padding[a]).checked_sub(o.kernel[a]) else {
                return Err(shape_error(name, format!("an image of at least the pool size {:?}", o.kernel), input));
            };
            out.push(span / o.stride[a] + 1);
        }
        Ok(out)
    }
    fn config(&self) -> serde_json::Value {
        let o = self.options();
        json!({ "pool_size": o.kernel, "strides": o.stride, "padding": o.padding })
    }
}

macro_rules! pool_layer {
    ($t:ident, $kind:literal, $doc:literal, $op:ident) => {
        #[doc = $doc]
        pub struct $t {
            name: String,
            window: Window,
        }
        impl $t {
            /// Strides default to the pool size (Keras and PyTorch).
            pub fn new(pool: [usize; 2]) -> Self {
                $t { name: String::new(), window: Window { pool, strides: None, padding: [0, 0] } }
            }
            /// Step `[h, w]` between windows (default: the pool size).
            pub fn strides(mut self, s: [usize; 2]) -> Self {
                self.window.strides = Some(s);
                self
            }
            /// Symmetric zero-padding (at most half the pool size).
            pub fn padding(mut self, p: [usize; 2]) -> Self {
                self.window.padding = p;
                self
            }
            /// The layer [`config`](Layer::config) wrote (strides as it resolved them).
            pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
                let pool: [usize; 2] = c.get("pool_size")?;
                Ok(Self::new(pool).strides(c.get_or("strides", pool)?).padding(c.get_or("padding", [0, 0])?))
            }
        }
        impl Layer for $t {
            fn kind(&self) -> &'static str {
                $kind
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn set_name(&mut self, name: String) {
                self.name = name;
            }
            fn build(&mut self, input: &[usize], _: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
                self.window.out_shape(&self.name, input)
            }
            fn forward(&self, x: &Var, _: &mut Ctx) -> Result<Var> {
                Ok(x.$op(&self.window.options())?)
            }
            fn config(&self) -> serde_json::Value {
                self.window.config()
            }
        }
    };
}

pool_layer!(MaxPool2d, "MaxPooling2D", "Max pooling; the gradient of a window goes to its first maximum.", max_pool2d);
pool_layer!(AvgPool2d, "AveragePooling2D", "Average pooling (padding counts toward the window).", avg_pool2d);

/// A global pooling layer `$t` (Keras' `$kind`): a per-sample shape `$input` with one
/// non-empty reduced extent (`$nonempty`) to `$out`, through `$forward` on the batch `$x`.
macro_rules! global_pool {
    ($doc:literal, $t:ident, $kind:literal, $expected:literal, |$input:pat_param| $out:expr, $nonempty:expr, |$x:ident| $forward:expr) => {
        #[doc = $doc]
        #[derive(Debug, Default)]
        pub struct $t {
            name: String,
        }

        impl $t {
            /// The layer.
            pub fn new() -> Self {
                Self::default()
            }
            /// The layer [`config`](Layer::config) wrote (it has no settings).
            pub(crate) fn from_config(_: &LayerConfig<'_>) -> Result<Self> {
                Ok(Self::new())
            }
        }

        impl Layer for $t {
            fn kind(&self) -> &'static str {
                $kind
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn set_name(&mut self, name: String) {
                self.name = name;
            }
            fn build(&mut self, input: &[usize], _: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
                match input {
                    $input if $nonempty => Ok($out),
                    _ => Err(shape_error(&self.name, $expected, input)),
                }
            }
            fn forward(&self, $x: &Var, _: &mut Ctx) -> Result<Var> {
                Ok($forward?)
            }
            fn config(&self) -> serde_json::Value {
                json!({})
            }
        }
    };
}

global_pool!(
    "The mean of each channel plane: `[c, h, w]` to `[c]`.",
    GlobalAvgPool2d,
    "GlobalAveragePooling2D",
    "a non-empty image [channels, height, width]",
    |&[c, h, w]| vec![c],
    h * w > 0,
    |x| x.global_avg_pool2d()
);
global_pool!(
    "The maximum over every position of each channel: images `[c, h, w]` to `[c]` (Keras' \
     `GlobalMaxPooling2D`, channels first as the images here).",
    GlobalMaxPool2d,
    "GlobalMaxPooling2D",
    "a non-empty image [channels, height, width]",
    |&[c, h, w]| vec![c],
    h * w > 0,
    // The gradient goes to each channel's first maximum (NaN wins, as in every max here).
    |x| x.max(&[2, 3], false)
);
global_pool!(
    "The maximum over every step of each feature: sequences `[steps, features]` to \
     `[features]` (Keras' `GlobalMaxPooling1D`, channels last as the sequences here).",
    GlobalMaxPool1d,
    "GlobalMaxPooling1D",
    "a non-empty sequence [steps, features]",
    |&[steps, f]| vec![f],
    steps > 0,
    |x| x.max(&[1], false)
);
