//! Learning-rate schedules: pure functions of a step (or epoch) counter `t`, formulas as Keras'
//! `keras.optimizers.schedules` and PyTorch's `lr_scheduler` (cited per schedule).

use std::f32::consts::PI;

use super::LrSchedule;

/// The same rate at every step.
#[derive(Debug, Clone, Copy)]
pub struct Constant(pub f32);

impl LrSchedule for Constant {
    fn lr(&self, _: u64) -> f32 {
        self.0
    }
}

/// `initial * factor^floor(t / every)` (PyTorch's StepLR).
#[derive(Debug, Clone, Copy)]
pub struct StepDecay {
    /// Rate at `t = 0`.
    pub initial: f32,
    /// Counter steps between decays.
    pub every: u64,
    /// Multiplier applied at each decay.
    pub factor: f32,
}

impl LrSchedule for StepDecay {
    fn lr(&self, t: u64) -> f32 {
        let decays = (t / self.every.max(1)).min(i32::MAX as u64) as i32;
        self.initial * self.factor.powi(decays)
    }
}

/// `initial * rate^(t / decay_steps)`, the exponent floored when `staircase` (Keras'
/// ExponentialDecay).
#[derive(Debug, Clone, Copy)]
pub struct ExponentialDecay {
    /// Rate at `t = 0`.
    pub initial: f32,
    /// Counter steps over which the rate is multiplied by `rate` once.
    pub decay_steps: u64,
    /// Decay base.
    pub rate: f32,
    /// Decay in whole steps of `decay_steps` instead of continuously.
    pub staircase: bool,
}

impl LrSchedule for ExponentialDecay {
    fn lr(&self, t: u64) -> f32 {
        let p = t as f32 / self.decay_steps.max(1) as f32;
        self.initial * self.rate.powf(if self.staircase { p.floor() } else { p })
    }
}

/// `initial / (1 + rate * t / decay_steps)`, floored when `staircase` (Keras'
/// InverseTimeDecay).
#[derive(Debug, Clone, Copy)]
pub struct InverseTimeDecay {
    /// Rate at `t = 0`.
    pub initial: f32,
    /// Counter steps per unit of `t` in the formula.
    pub decay_steps: u64,
    /// Decay rate.
    pub rate: f32,
    /// Floor `t / decay_steps`, so the rate changes every `decay_steps`.
    pub staircase: bool,
}

impl LrSchedule for InverseTimeDecay {
    fn lr(&self, t: u64) -> f32 {
        let p = t as f32 / self.decay_steps.max(1) as f32;
        self.initial / (1.0 + self.rate * if self.staircase { p.floor() } else { p })
    }
}

/// `values[i]` for `boundaries[i - 1] < t <= boundaries[i]` (Keras' PiecewiseConstantDecay:
/// one more value than boundaries).
#[derive(Debug, Clone)]
pub struct PiecewiseConstant {
    /// Increasing counter values at which the rate changes.
    pub boundaries: Vec<u64>,
    /// Rate before the first boundary, between each pair, and after the last.
    pub values: Vec<f32>,
}

impl LrSchedule for PiecewiseConstant {
    fn lr(&self, t: u64) -> f32 {
        let i = self.boundaries.iter().take_while(|&&b| t > b).count();
        self.values.get(i).or(self.values.last()).copied().unwrap_or(0.0)
    }
}

/// Cosine annealing from `max` to `min` over `period` steps, restarting (SGDR, PyTorch's
/// CosineAnnealingWarmRestarts) with each period `t_mult` times longer; `t_mult = 1` and one
/// period long enough is plain CosineAnnealingLR.
#[derive(Debug, Clone, Copy)]
pub struct CosineAnnealing {
    /// Rate at the start of each period.
    pub max: f32,
    /// Rate at the end of each period.
    pub min: f32,
    /// Length of the first period, in counter steps.
    pub period: u64,
    /// Growth factor of each following period (1 = equal periods).
    pub t_mult: u64,
}

impl LrSchedule for CosineAnnealing {
    fn lr(&self, t: u64) -> f32 {
        let (mut start, mut len) = (0u64, self.period.max(1));
        // Saturating: a huge t_mult or t must not wrap the period to 0 (an endless loop).
        loop {
            let end = start.saturating_add(len);
            if t < end || end == u64::MAX {
                break;
            }
            start = end;
            len = len.saturating_mul(self.t_mult.max(1));
        }
        let frac = (t - start) as f32 / len as f32;
        self.min + 0.5 * (self.max - self.min) * (1.0 + (PI * frac).cos())
    }
}

/// How a [`CyclicLr`] scales each cycle's amplitude (PyTorch's CyclicLR modes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CyclicMode {
    /// Every cycle the same.
    Triangular,
    /// Each cycle half the amplitude of the one before.
    Triangular2,
    /// The amplitude times `gamma^t`.
    ExpRange(f32),
}

/// Cyclic learning rates (Smith 2017, PyTorch's CyclicLR): up from `base` to `max` over
/// `step_size` counter steps and back down over as many, the amplitude scaled by `mode`.
#[derive(Debug, Clone, Copy)]
pub struct CyclicLr {
    /// The lowest rate (each cycle's start and end).
    pub base: f32,
    /// The highest rate of the first cycle.
    pub max: f32,
    /// Counter steps of each half cycle.
    pub step_size: u64,
    /// How the amplitude changes from cycle to cycle.
    pub mode: CyclicMode,
}

impl LrSchedule for CyclicLr {
    fn lr(&self, t: u64) -> f32 {
        let half = self.step_size.max(1) as f64;
        let cycle = (1.0 + t as f64 / (2.0 * half)).floor();
        let x = (t as f64 / half - 2.0 * cycle + 1.0).abs();
        let scale = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 0.5f64.powf(cycle - 1.0),
            CyclicMode::ExpRange(gamma) => (gamma as f64).powf(t as f64),
        };
        (self.base as f64 + (self.max - self.base) as f64 * (1.0 - x).max(0.0) * scale) as f32
    }
}

/// One-cycle (PyTorch's OneCycleLR, cosine): from `max / div` up to `max` over the first
/// `pct_start` of `total` steps, then down to `max / (div * final_div)`.
#[derive(Debug, Clone, Copy)]
pub struct OneCycle {
    /// Peak rate.
    pub max: f32,
    /// Total counter steps of the cycle (usually epochs x steps per epoch).
    pub total: u64,
    /// Fraction of `total` spent rising to `max`.
    pub pct_start: f32,
    /// The starting rate is `max / div`.
    pub div: f32,
    /// The final rate is `max / (div * final_div)`.
    pub final_div: f32,
}

impl OneCycle {
    /// PyTorch's defaults: 30 % warm-up, div 25, final div 1e4.
    pub fn new(max: f32, total: u64) -> Self {
        OneCycle { max, total, pct_start: 0.3, div: 25.0, final_div: 1e4 }
    }
}

impl LrSchedule for OneCycle {
    fn lr(&self, t: u64) -> f32 {
        let cos = |from: f32, to: f32, frac: f32| to + 0.5 * (from - to) * (1.0 + (PI * frac.clamp(0.0, 1.0)).cos());
        let (start, end) = (self.max / self.div, self.max / (self.div * self.final_div));
        let up = ((self.pct_start * self.total as f32) - 1.0).max(1.0);
        let down = (self.total as f32 - 1.0 - up).max(1.0);
        let t = t as f32;
        if t <= up { cos(start, self.max, t / up) } else { cos(self.max, end, (t - up) / down) }
    }
}

/// A linear warm-up over `steps` (from `inner.lr(0) / steps` up to `inner.lr(0)`), then
/// `inner` with its counter starting at 0.
pub struct Warmup {
    steps: u64,
    inner: Box<dyn LrSchedule>,
}

impl Warmup {
    /// A linear warm-up of `steps` counter steps in front of `inner`.
    pub fn linear(steps: u64, inner: impl LrSchedule + 'static) -> Self {
        Warmup { steps, inner: Box::new(inner) }
    }
}

impl LrSchedule for Warmup {
    fn lr(&self, t: u64) -> f32 {
        if t < self.steps {
            self.inner.lr(0) * (t + 1) as f32 / self.steps as f32
        } else {
            self.inner.lr(t - self.steps)
        }
    }
}
