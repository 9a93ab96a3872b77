//! Metrics read back from the compile settings `load_model` finds in a checkpoint (what
//! [`Metric::config`] wrote): the same constructors with the same settings, so each is logged
//! under the same name as before the save.

use serde_json::Value;
use wgtrain_tensor::Device;

use super::{
    Auc, BinaryAccuracy, CategoricalAccuracy, ConfusionMatrix, F1Score, MeanAbsoluteErrorMetric,
    MeanSquaredErrorMetric, Metric, Precision, Recall, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
};
use crate::error::Result;
use crate::losses::Settings;

/// The built-in metric of class `class_name` with settings `config` (what its
/// [`Metric::config`] wrote). `None` when no built-in has that class name (a metric of your
/// own, to look up among the registered ones); an error when a field is wrong. No built-in
/// metric needs `device` (each uploads what it needs on its first update); it is taken as
/// losses take it, for one that would.
pub(crate) fn metric_from_config(
    class_name: &str,
    config: &Value,
    _device: &Device,
) -> Option<Result<Box<dyn Metric>>> {
    built_in(class_name, config).transpose()
}

/// Every built-in metric, by the class name its `config` writes. Absent fields take the
/// constructors' usual values (Keras' defaults); the class counts have none.
fn built_in(class_name: &str, config: &Value) -> Result<Option<Box<dyn Metric>>> {
    let s = Settings::new("metric", class_name, config);
    let metric: Box<dyn Metric> = match class_name {
        "SparseCategoricalAccuracy" => Box::new(SparseCategoricalAccuracy::new()),
        "CategoricalAccuracy" => Box::new(CategoricalAccuracy::new()),
        "BinaryAccuracy" => Box::new(BinaryAccuracy::new(s.get_or("threshold", 0.5)?)),
        "TopKCategoricalAccuracy" => Box::new(TopKCategoricalAccuracy::new(s.get_or("k", 5)?)),
        "Precision" => Box::new(Precision::new(s.get_or("threshold", 0.5)?)),
        "Recall" => Box::new(Recall::new(s.get_or("threshold", 0.5)?)),
        "ConfusionMatrix" => Box::new(ConfusionMatrix::new(s.get("num_classes")?)),
        "F1Score" => {
            let f1 = match s.get::<String>("average")?.as_str() {
                "binary" => F1Score::binary(s.get_or("threshold", 0.5)?),
                "macro" => F1Score::macro_average(s.get("num_classes")?),
                "micro" => F1Score::micro_average(s.get("num_classes")?),
                other => return Err(s.error(format!("field \"average\" is {other:?}, not binary, macro or micro"))),
            };
            Box::new(f1)
        }
        "AUC" => Box::new(Auc::new(s.get_or("num_thresholds", 200)?)),
        "MeanSquaredError" => Box::new(MeanSquaredErrorMetric::new()),
        "MeanAbsoluteError" => Box::new(MeanAbsoluteErrorMetric::new()),
        _ => return Ok(None),
    };
    s.finish(metric).map(Some)
}
