//! Tabular data from a CSV file (what a Keras course reads with pandas): numeric feature
//! columns and a label column, as an [`InMemory`] dataset.

use std::path::Path;

use super::dataset::{InMemory, Label};
use crate::error::{Result, TrainError};

/// How [`csv_dataset`] reads a file. `Default`: a header row, comma-separated, the label in a
/// column called `label`, read as classes.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    /// The label column's name (in the header row).
    pub label: String,
    /// Labels are classes: whole numbers 0.. as they are, or names (then numbered in sorted
    /// order, their names in [`CsvData::classes`]). Otherwise labels are f32 targets.
    pub classes: bool,
    /// The field separator.
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { label: "label".into(), classes: true, delimiter: b',' }
    }
}

/// A CSV file read as features and labels.
#[derive(Debug, Clone)]
pub struct CsvData {
    /// The rows: features `[features]` in column order, and a label each.
    pub data: InMemory,
    /// The feature columns' names, in order.
    pub features: Vec<String>,
    /// The class names by label, when the labels were names (empty otherwise).
    pub classes: Vec<String>,
}

fn bad(path: &Path, why: impl Into<String>) -> TrainError {
    TrainError::Data { file: path.display().to_string(), why: why.into() }
}

/// Reads `path`: a header row, then one row per example; every column but the label must hold
/// numbers. An empty or non-numeric field is an error naming its line and column.
pub fn csv_dataset(path: impl AsRef<Path>, o: &CsvOptions) -> Result<CsvData> {
    let path = path.as_ref();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(o.delimiter)
        .from_path(path)
        .map_err(|e| bad(path, format!("can't be read as CSV: {e}")))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(path, format!("no header row: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let Some(label_at) = header.iter().position(|h| *h == o.label) else {
        return Err(bad(path, format!("no column {:?}; the header has {header:?}", o.label)));
    };
    let features: Vec<String> =
        header.iter().enumerate().filter(|(i, _)| *i != label_at).map(|(_, h)| h.clone()).collect();
    let (mut x, mut raw_labels) = (Vec::new(), Vec::new());
    for (row, record) in reader.records().enumerate() {
        let line = row + 2; // 1-based, after the header
        let record = record.map_err(|e| bad(path, format!("line {line}: {e}")))?;
        if record.len() != header.len() {
            return Err(bad(path, format!("line {line} has {} fields, the header {}", record.len(), header.len())));
        }
        for (i, field) in record.iter().enumerate() {
            if i == label_at {
                raw_labels.push(field.trim().to_string());
                continue;
            }
            let v: f32 = field
                .trim()
                .parse()
                .map_err(|_| bad(path, format!("line {line}, column {:?}: {field:?} is not a number", header[i])))?;
            x.push(v);
        }
    }
    if raw_labels.is_empty() {
        return Err(bad(path, "has a header but no rows"));
    }
    let (labels, classes) = labels(path, &raw_labels, o.classes)?;
    let data = InMemory::new(x, &[features.len()], labels)?;
    Ok(CsvData { data, features, classes })
}

/// The labels as classes (numbers, or names numbered in sorted order) or as f32 values.
fn labels(path: &Path, raw: &[String], classes: bool) -> Result<(Vec<Label>, Vec<String>)> {
    if !classes {
        let values = raw
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let v: f32 =
                    r.parse().map_err(|_| bad(path, format!("line {}: label {r:?} is not a number", i + 2)))?;
                Ok(Label::Values(vec![v]))
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok((values, Vec::new()));
    }
    if let Ok(ids) = raw.iter().map(|r| r.parse::<u32>()).collect::<std::result::Result<Vec<_>, _>>() {
        return Ok((ids.into_iter().map(Label::Class).collect(), Vec::new()));
    }
    let mut names: Vec<String> = raw.to_vec();
    names.sort();
    names.dedup();
    let labels = raw.iter().map(|r| Label::Class(names.binary_search(r).unwrap_or(0) as u32)).collect();
    Ok((labels, names))
}
