//! The Keras-style summary table.

use super::SummaryRow;

/// Formats rows as Keras prints them: layer (type), output shape, parameter count, then totals.
pub(crate) fn format(title: &str, rows: &[SummaryRow]) -> String {
    let shape = |s: &[usize]| format!("(None, {})", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
    let cells: Vec<[String; 3]> = rows
        .iter()
        .map(|r| [format!("{} ({})", r.name, r.kind), shape(&r.output), (r.trainable + r.non_trainable).to_string()])
        .collect();
    let heads = ["Layer (type)", "Output Shape", "Param #"];
    let width = |i: usize| cells.iter().map(|c| c[i].len()).chain([heads[i].len()]).max().unwrap_or(0) + 2;
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let rule = |c: char| c.to_string().repeat(w0 + w1 + w2);
    let mut out = format!("Model: \"{title}\"\n{}\n", rule('-'));
    out += &format!("{:<w0$}{:<w1$}{:>w2$}\n{}\n", heads[0], heads[1], heads[2], rule('='));
    for c in &cells {
        out += &format!("{:<w0$}{:<w1$}{:>w2$}\n", c[0], c[1], c[2]);
    }
    let trainable: usize = rows.iter().map(|r| r.trainable).sum();
    let frozen: usize = rows.iter().map(|r| r.non_trainable).sum();
    out += &format!(
        "{}\nTotal params: {}\nTrainable params: {}\nNon-trainable params: {}\n{}\n",
        rule('='),
        trainable + frozen,
        trainable,
        frozen,
        rule('-')
    );
    out
}
