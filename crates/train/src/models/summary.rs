//! The Keras-style summary table.

use wgtrain_tensor::DType;

use super::SummaryRow;
use crate::policy::Policy;

/// Formats rows as Keras prints them: layer (type), output shape, parameter count, then totals;
/// under a mixed-precision policy also the dtype each layer computes in.
pub(crate) fn format(title: &str, rows: &[SummaryRow], policy: Policy) -> String {
    let shape = |s: &[usize]| format!("(None, {})", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
    let compute = |r: &SummaryRow| match r.mixed_compute {
        Some(DType::F16) => "float16",
        Some(_) => "float32",
        None => "as its input",
    };
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let dtype = if policy.is_mixed() { compute(r) } else { "float32" };
            [
                format!("{} ({})", r.name, r.kind),
                shape(&r.output),
                (r.trainable + r.non_trainable).to_string(),
                dtype.into(),
            ]
        })
        .collect();
    let heads = ["Layer (type)", "Output Shape", "Param #", "Compute"];
    let width = |i: usize| cells.iter().map(|c| c[i].len()).chain([heads[i].len()]).max().unwrap_or(0) + 2;
    let (w0, w1, w2) = (width(0), width(1), width(2));
    // The compute column only under a mixed policy, where it says something.
    let w3 = if policy.is_mixed() { width(3) } else { 0 };
    let rule = |c: char| c.to_string().repeat(w0 + w1 + w2 + w3);
    let mut out = format!("Model: \"{title}\"\n{}\n", rule('-'));
    let fourth = |s: &str| if policy.is_mixed() { format!("  {s}") } else { String::new() };
    out += &format!("{:<w0$}{:<w1$}{:>w2$}{}\n{}\n", heads[0], heads[1], heads[2], fourth(heads[3]), rule('='));
    for c in &cells {
        out += &format!("{:<w0$}{:<w1$}{:>w2$}{}\n", c[0], c[1], c[2], fourth(&c[3]));
    }
    let trainable: usize = rows.iter().map(|r| r.trainable).sum();
    let frozen: usize = rows.iter().map(|r| r.non_trainable).sum();
    out += &format!(
        "{}\nTotal params: {}\nTrainable params: {}\nNon-trainable params: {}\n",
        rule('='),
        trainable + frozen,
        trainable,
        frozen,
    );
    if policy.is_mixed() {
        out += &format!("Policy: {} (variables float32)\n", policy.name());
    }
    out += &format!("{}\n", rule('-'));
    out
}
