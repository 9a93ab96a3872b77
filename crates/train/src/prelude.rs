//! Everything a training script usually needs: `use wgtrain::prelude::*;`.
//!
//! # Keras names, Keras meanings
//!
//! A name that Keras also uses means what it means in Keras, with Keras' default; where wgtrain
//! follows PyTorch instead, it uses PyTorch's name, so the two cannot be mistaken. Every case
//! where the two libraries differ:
//!
//! | here | meaning and default | Keras | PyTorch |
//! |---|---|---|---|
//! | `BatchNorm::momentum` | weight of the old running statistics, 0.99 | same | `momentum` is the weight of the batch's: 0.1 is Keras' 0.9 |
//! | `BatchNorm::eps` | added to the variance, 1e-3 | `epsilon` 1e-3 | `eps` 1e-5 |
//! | `LayerNorm::eps` | 1e-3 | `epsilon` 1e-3 | `eps` 1e-5 |
//! | `Adam::eps` (and `AdamW`) | added to the corrected root, 1e-7 | `epsilon` 1e-7 | `eps` 1e-8 |
//! | `Adam`, `Sgd`, `Rmsprop`, `Adagrad` `weight_decay` | L2 added to the gradient (PyTorch) | decoupled, as `AdamW` | L2 |
//! | `AdamW::new(lr, weight_decay)` | decoupled decay, no default | 0.004 | 0.01 |
//! | `Rmsprop` `alpha` | PyTorch's smoothing constant, 0.99; `eps` 1e-8 outside the root | `rho` 0.9, `epsilon` 1e-7 | same as here |
//! | `Adagrad` `initial_accumulator` | 0; `eps` 1e-10 | `initial_accumulator_value` 0.1 | same as here |
//! | `SparseCategoricalCrossEntropy::ignore_index` | a label to skip | `ignore_class` | same as here |
//! | `FitOptions::class_weight` | a weight per class index | a dict | (none) |
//! | `Dense`, `Conv2d` kernel initializer | Glorot uniform | same | Kaiming uniform |
//! | `Activation::LeakyRelu(slope)` | the slope, no default | `negative_slope` 0.3 (the layer; 0.2 the function) | 0.01 |
//! | `Dropout::new(rate)` | the drop probability | same | `p`, same |

pub use crate::callbacks::{
    BackupAndRestore, Callback, CallbackState, CsvLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
    ReduceLrOnPlateau, TensorBoard, TerminateOnNan,
};
pub use crate::constraints::Constraint;
pub use crate::data::{Cifar10, DataLoader, Dataset, InMemory};
pub use crate::distributed::Distributed;
pub use crate::init::Initializer;
pub use crate::layers::{
    Activation, ActivationLayer, AvgPool2d, BatchNorm, Conv1d, Conv2d, ConvTranspose2d, Dense, DepthwiseConv2d,
    Dropout, Embedding, Flatten, GlobalAvgPool2d, GlobalMaxPool1d, GlobalMaxPool2d, Gru, Layer, LayerNorm, Lstm,
    MaxPool2d, Normalization, PRelu, Padding, Reshape, SimpleRnn,
};
pub use crate::losses::{
    BinaryCrossEntropy, CategoricalCrossEntropy, FocalLoss, Hinge, Huber, KlDivergence, Loss, MeanAbsoluteError,
    MeanSquaredError, SparseCategoricalCrossEntropy,
};
pub use crate::metrics::{
    Auc, BinaryAccuracy, CategoricalAccuracy, ConfusionMatrix, F1Score, Metric, Precision, Recall,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy,
};
pub use crate::models::{FitOptions, Functional, Model, Network, Sequential};
pub use crate::optim::{
    Adagrad, Adam, AdamW, CosineAnnealing, ExponentialDecay, GradClip, LossScaleOptimizer, LrSchedule, OneCycle,
    Optimizer, Rmsprop, Sgd, StepDecay, Warmup,
};
pub use crate::plot::{Curve, plot_curves, plot_history};
pub use crate::policy::Policy;
pub use crate::regularizers::Regularizer;
pub use crate::{History, Logs, Param, Result, StopReason, TrainError};
pub use wgtrain_autograd::{Var, no_grad};
pub use wgtrain_tensor::{AugmentOptions, DType, Device, Tensor, UnaryOp};
