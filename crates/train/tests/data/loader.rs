//! DataLoader: seeded order, threading does not change batches, drop_last, errors.

use wgtrain::data::{DataLoader, Dataset, Example, InMemory, Label};
use wgtrain::{Result, TrainError};

fn numbers(n: usize) -> InMemory {
    InMemory::classes((0..n).map(|i| i as f32).collect(), &[1], &(0..n as u32).collect::<Vec<_>>()).unwrap()
}

fn epoch(loader: &DataLoader, e: usize) -> Vec<Vec<u32>> {
    loader.iter(e).map(|b| b.unwrap().classes.unwrap()).collect()
}

#[test]
fn batches_follow_a_seeded_order_independent_of_threads() {
    let one = DataLoader::new(numbers(103), 10).unwrap().shuffle(7);
    let three = DataLoader::new(numbers(103), 10).unwrap().shuffle(7).workers(3).prefetch(1);
    let (a, b) = (epoch(&one, 0), epoch(&three, 0));
    assert_eq!(a, b);
    assert_eq!(a.len(), 11);
    assert_eq!(a.last().unwrap().len(), 3);
    let mut all: Vec<u32> = a.concat();
    all.sort();
    assert_eq!(all, (0..103).collect::<Vec<_>>(), "every example exactly once");
    assert_ne!(epoch(&one, 0), epoch(&one, 1), "each epoch reshuffles");
    assert_eq!(epoch(&one, 1), epoch(&three, 1));
    // Features travel with their labels.
    let batch = one.iter(2).next().unwrap().unwrap();
    assert_eq!(batch.x, batch.classes.unwrap().iter().map(|&c| c as f32).collect::<Vec<_>>());
    assert_eq!(batch.shape, [10, 1]);
    // In order without shuffling; drop_last drops the short batch.
    let plain = DataLoader::new(numbers(25), 10).unwrap().drop_last(true);
    assert_eq!(plain.len(), 2);
    assert_eq!(epoch(&plain, 0), vec![(0..10).collect::<Vec<_>>(), (10..20).collect()]);
}

struct Broken;

impl Dataset for Broken {
    fn len(&self) -> usize {
        8
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![2]
    }
    fn get(&self, i: usize) -> Result<Example> {
        if i == 5 {
            return Err(TrainError::config("Broken", "example 5 is unreadable"));
        }
        Ok(Example { x: vec![0.0; 2], y: Label::Class(0) })
    }
}

#[test]
fn a_failing_example_surfaces_as_an_error_and_dropping_midway_stops_workers() {
    let loader = DataLoader::new(Broken, 3).unwrap().workers(2);
    let results: Vec<_> = loader.iter(0).collect();
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("example 5"), "{err}");
    // Dropping an iterator after one batch must not hang.
    let big = DataLoader::new(numbers(1000), 1).unwrap().workers(2).prefetch(1);
    let mut it = big.iter(0);
    it.next();
    drop(it);
}

#[test]
fn a_batch_size_of_zero_is_refused_not_made_one() {
    let err = DataLoader::new(numbers(10), 0).err().expect("batch size 0 refused");
    assert!(err.to_string().contains("batch size 0"), "{err}");
}
