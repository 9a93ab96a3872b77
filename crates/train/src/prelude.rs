//! Everything a training script usually needs: `use wgtrain::prelude::*;`.

pub use crate::callbacks::{
    BackupAndRestore, Callback, CallbackState, CsvLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
    ReduceLrOnPlateau, TensorBoard, TerminateOnNan,
};
pub use crate::data::{Cifar10, DataLoader, Dataset, InMemory};
pub use crate::distributed::Distributed;
pub use crate::init::Initializer;
pub use crate::layers::{
    Activation, ActivationLayer, AvgPool2d, BatchNorm, Conv2d, ConvTranspose2d, Dense, DepthwiseConv2d, Dropout,
    Embedding, Flatten, GlobalAvgPool2d, Gru, Layer, LayerNorm, Lstm, MaxPool2d, Normalization, PRelu, Padding,
    Reshape, SimpleRnn,
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
pub use crate::{History, Logs, Param, Result, StopReason, TrainError};
pub use wgtrain_autograd::{Var, no_grad};
pub use wgtrain_tensor::{AugmentOptions, DType, Device, Tensor, UnaryOp};
