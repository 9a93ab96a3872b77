//! Training on the GPU: optimizers against hand-computed steps, schedules, losses and metrics
//! against their formulas, models that must learn held-out data, callbacks and resuming.

#[path = "models/harness.rs"]
mod harness;

mod training {
    mod bad_input;
    mod callbacks;
    mod checkpoint_bad_input;
    mod device_loss;
    mod faults;
    mod keras_options;
    mod large_data;
    mod learning;
    mod loss_scale;
    mod losses_metrics;
    mod lr_schedules;
    mod mixed_precision;
    mod nan;
    mod optimizers;
    mod regularizers;
    mod resume;
    mod sample_weights;
    mod several_outputs;
}
