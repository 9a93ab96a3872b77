//! DataLoader: batches of a dataset in a seeded order, assembled on worker threads.
//!
//! Batch `b` of an epoch is built by worker `b % workers`; workers run ahead by at most
//! `prefetch` batches (bounded channels), and the iterator hands batches out in order, so the
//! sequence of batches depends only on the seed and the epoch, never on thread timing.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use wgtrain_tensor::{Device, Tensor};

use super::{Dataset, Label};
use crate::error::{Result, TrainError};

/// A batch on the host: features `[n, ...sample_shape]` and targets (class indices, or
/// values `[n, ...]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The features of every example, concatenated.
    pub x: Vec<f32>,
    /// The shape of `x`: `[batch, ...sample shape]`.
    pub shape: Vec<usize>,
    /// Class labels, when the dataset's labels are classes.
    pub classes: Option<Vec<u32>>,
    /// Value targets and their shape `[batch, ...]`, when the labels are values.
    pub values: Option<(Vec<f32>, Vec<usize>)>,
}

impl Batch {
    /// Examples in the batch.
    pub fn len(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }
    /// Whether the batch has no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Uploads the batch: features f32, targets u32 classes or f32 values.
    pub fn to_device(&self, dev: &Device) -> Result<(Tensor, Tensor)> {
        let x = Tensor::from_slice(dev, &self.x, &self.shape)?;
        let y = match (&self.classes, &self.values) {
            (Some(c), _) => Tensor::from_slice(dev, c, &[c.len()])?,
            (None, Some((v, shape))) => Tensor::from_slice(dev, v, shape)?,
            (None, None) => return Err(TrainError::config("Batch", "no targets")),
        };
        Ok((x, y))
    }
}

/// Batches a dataset: shuffled from a seed (reshuffled each epoch), optionally dropping the
/// last short batch, assembled by `workers` threads up to `prefetch` batches ahead.
#[derive(Clone)]
pub struct DataLoader {
    dataset: Arc<dyn Dataset>,
    batch_size: usize,
    shuffle: Option<u64>,
    drop_last: bool,
    workers: usize,
    prefetch: usize,
}

impl DataLoader {
    /// In order, no shuffling, one worker, two batches ahead. A batch size of 0 is refused (as
    /// Keras and PyTorch do) rather than quietly made 1.
    pub fn new(dataset: impl Dataset + 'static, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(TrainError::config("DataLoader", "batch size 0: a batch needs at least one example"));
        }
        Ok(DataLoader {
            dataset: Arc::new(dataset),
            batch_size,
            shuffle: None,
            drop_last: false,
            workers: 1,
            prefetch: 2,
        })
    }
    /// Reshuffles every epoch from `seed` and the epoch number.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle = Some(seed);
        self
    }
    /// Leave out the last, smaller batch of an epoch (default false).
    pub fn drop_last(mut self, on: bool) -> Self {
        self.drop_last = on;
        self
    }
    /// Worker threads (at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }
    /// Batches each worker may build ahead of the consumer (at least 1).
    pub fn prefetch(mut self, n: usize) -> Self {
        self.prefetch = n.max(1);
        self
    }
    /// The dataset the batches come from.
    pub fn dataset(&self) -> &Arc<dyn Dataset> {
        &self.dataset
    }
    /// Examples per batch (the last may have fewer unless `drop_last`).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// Batches per epoch.
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last { n / self.batch_size } else { n.div_ceil(self.batch_size) }
    }
    /// Whether an epoch has no batches.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The example order of `epoch`.
    fn order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.shuffle {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            order.shuffle(&mut rng);
        }
        order
    }

    /// The batches of `epoch`, assembled in the background.
    pub fn iter(&self, epoch: usize) -> BatchIter {
        let order = Arc::new(self.order(epoch));
        let batches = self.len();
        // More workers or slots than batches would only idle (and an absurd count would fail
        // to allocate): at most one worker, and one slot per worker, per batch.
        let workers = self.workers.min(batches.max(1));
        let prefetch = self.prefetch.min(batches.max(1));
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = sync_channel(prefetch);
            let (dataset, order, bs) = (self.dataset.clone(), order.clone(), self.batch_size);
            let spawned = std::thread::Builder::new()
                .name(format!("wgtrain-loader-{w}"))
                .spawn(move || worker(dataset, order, bs, batches, w, workers, tx));
            // A worker that cannot start drops its sender: its first batch reports the failure.
            if let Ok(h) = spawned {
                handles.push(h);
            }
            receivers.push(rx);
        }
        BatchIter { receivers, handles, next: 0, batches }
    }
}

/// Builds batches `w, w + workers, ...` and sends them until done or the consumer is gone.
fn worker(
    dataset: Arc<dyn Dataset>,
    order: Arc<Vec<usize>>,
    bs: usize,
    batches: usize,
    w: usize,
    workers: usize,
    tx: SyncSender<(usize, Result<Batch>)>,
) {
    for b in (w..batches).step_by(workers) {
        let end = ((b + 1) * bs).min(order.len());
        let batch = assemble(dataset.as_ref(), &order[b * bs..end]);
        if tx.send((b, batch)).is_err() {
            return;
        }
    }
}

/// Stacks the examples `indices` into one batch.
fn assemble(dataset: &dyn Dataset, indices: &[usize]) -> Result<Batch> {
    let sample = dataset.sample_shape();
    let per: usize = sample.iter().product();
    let mut x = Vec::with_capacity(per * indices.len());
    let (mut classes, mut values, mut value_len) = (Vec::new(), Vec::new(), None);
    for &i in indices {
        let e = dataset.get(i)?;
        if e.x.len() != per {
            let why = format!("example {i} has {} values, the sample shape {sample:?} needs {per}", e.x.len());
            return Err(TrainError::config("DataLoader", why));
        }
        x.extend(e.x);
        match e.y {
            Label::Class(c) if values.is_empty() => classes.push(c),
            Label::Values(v) if classes.is_empty() && value_len.is_none_or(|l| l == v.len()) => {
                value_len = Some(v.len());
                values.extend(v);
            }
            _ => {
                return Err(TrainError::config(
                    "DataLoader",
                    format!("example {i}: targets of mixed kinds or lengths"),
                ));
            }
        }
    }
    let mut shape = vec![indices.len()];
    shape.extend(sample);
    let n = indices.len();
    Ok(match value_len {
        Some(l) => Batch { x, shape, classes: None, values: Some((values, vec![n, l])) },
        None => Batch { x, shape, classes: Some(classes), values: None },
    })
}

/// The batches of one epoch, in order.
pub struct BatchIter {
    receivers: Vec<Receiver<(usize, Result<Batch>)>>,
    handles: Vec<JoinHandle<()>>,
    next: usize,
    batches: usize,
}

impl Iterator for BatchIter {
    type Item = Result<Batch>;
    fn next(&mut self) -> Option<Result<Batch>> {
        if self.next >= self.batches {
            return None;
        }
        let b = self.next;
        self.next += 1;
        // Batch b comes from worker b % workers, which sends its batches in order.
        match self.receivers[b % self.receivers.len()].recv() {
            Ok((got, batch)) => {
                debug_assert_eq!(got, b);
                Some(batch)
            }
            Err(_) => Some(Err(TrainError::config(
                "DataLoader",
                format!("a worker stopped before batch {b} (it panicked or could not start)"),
            ))),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.batches - self.next;
        (left, Some(left))
    }
}

impl Drop for BatchIter {
    fn drop(&mut self) {
        // Closing the channels makes blocked workers return.
        self.receivers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
