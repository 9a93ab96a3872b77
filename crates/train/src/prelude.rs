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
//! | `Adam::eps` (and `AdamW`) | added to the bias-corrected root (PyTorch's place), 1e-7 | `epsilon` 1e-7, added to the uncorrected root: worth `eps / sqrt(1 - beta2^t)` here | `eps` 1e-8 |
//! | `BatchNorm` running variance | the unbiased batch variance (PyTorch) | the biased one | same as here |
//! | `Adam`, `Sgd`, `Rmsprop`, `Adagrad` `weight_decay` | L2 added to the gradient (PyTorch) | decoupled, as `AdamW` | L2 |
//! | `AdamW::new(lr, weight_decay)` | decoupled decay, no default | 0.004 | 0.01 |
//! | `Rmsprop` `alpha` | PyTorch's smoothing constant, 0.99; `eps` 1e-8 outside the root | `rho` 0.9, `epsilon` 1e-7 | same as here |
//! | `Adagrad` `initial_accumulator` | 0; `eps` 1e-10 | `initial_accumulator_value` 0.1 | same as here |
//! | `SparseCategoricalCrossEntropy::ignore_index` | a label to skip | `ignore_class` | same as here |
//! | `SparseCategoricalCrossEntropy` class weights | the mean weighted by each sample's class weight (divided by their sum) | (none: `class_weight` in `fit`) | same as here |
//! | `CategoricalCrossEntropy::class_weights` | `-sum w_c t_c log p_c`, divided by the batch size | (none) | `weight` with probability targets, same as here |
//! | activity regularizer | the batch's penalty, undivided | same (Keras 3; tf.keras 2 divided by the batch size) | (none) |
//! | `Constraint` norms | per unit: a Dense or recurrent kernel's column, a conv filter, an embedding's row | `axis=0` by default (an embedding's column) | (none) |
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
    Activation, ActivationLayer, AvgPool2d, BatchNorm, Bidirectional, Conv1d, Conv2d, ConvTranspose2d, Dense,
    DepthwiseConv2d, Dropout, Embedding, Flatten, GlobalAvgPool2d, GlobalMaxPool1d, GlobalMaxPool2d, Gru, Layer,
    LayerNorm, Lstm, Masking, MaxPool2d, MultiHeadAttention, Named, Normalization, PRelu, Padding, Reshape, SimpleRnn,
};
pub use crate::losses::{
    BinaryCrossEntropy, CategoricalCrossEntropy, FocalLoss, Hinge, Huber, KlDivergence, Loss, MeanAbsoluteError,
    MeanSquaredError, SparseCategoricalCrossEntropy,
};
pub use crate::metrics::{
    Auc, BinaryAccuracy, CategoricalAccuracy, ConfusionMatrix, F1Score, Metric, Precision, Recall,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy,
};
pub use crate::models::{FitOptions, Functional, Model, Nested, Network, OutputLoss, Sequential};
pub use crate::optim::{
    Adagrad, Adam, AdamW, CosineAnnealing, CyclicLr, CyclicMode, ExponentialDecay, GradClip, LossScaleOptimizer,
    LrSchedule, OneCycle, Optimizer, Rmsprop, Sgd, StepDecay, Warmup,
};
pub use crate::plot::{Curve, plot_curves, plot_history};
pub use crate::policy::Policy;
pub use crate::regularizers::Regularizer;
pub use crate::{History, Logs, Param, Result, StopReason, TrainError};
pub use wgtrain_autograd::{Var, no_grad};
pub use wgtrain_tensor::{AugmentOptions, DType, Device, Tensor, UnaryOp};
