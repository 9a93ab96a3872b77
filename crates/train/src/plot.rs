//! PNG charts of training curves, so a person can look instead of reading numbers.
//!
//! Drawn with `plotters` into a bitmap; the labels use DejaVu Sans embedded in the binary (the
//! `dejavu` crate), because a fresh machine or a container may have no system fonts at all.
//! Files are written to a temporary name and renamed, so a chart is never half-written.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::error::{Result, TrainError};
use crate::logs::History;

/// One line of a chart: a label and one value per x step (epoch or step 1, 2, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The legend entry.
    pub label: String,
    /// The y values; non-finite ones (a diverged loss) are left out of the line.
    pub values: Vec<f32>,
}

impl Curve {
    /// A curve named `label` through `values`.
    pub fn new(label: impl Into<String>, values: Vec<f32>) -> Self {
        Curve { label: label.into(), values }
    }
}

/// One panel of a chart: a title, axis labels and its curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Shown above the panel.
    pub title: String,
    /// The x axis' label (`epoch`, `step`).
    pub x_label: String,
    /// The curves, each in its own colour.
    pub curves: Vec<Curve>,
}

const PANEL_SIZE: (u32, u32) = (560, 400);

/// Writes `history` as a PNG: one panel per logged quantity (`loss`, each metric), the training
/// value and its `val_` counterpart on the same axes, per epoch, as Keras users plot
/// `history.history`. The learning rate (`lr`), when logged, gets a panel of its own.
pub fn plot_history(history: &History, path: impl AsRef<Path>) -> Result<()> {
    let mut names: Vec<String> = Vec::new();
    for logs in &history.logs {
        for (name, _) in logs.iter() {
            let base = name.strip_prefix("val_").unwrap_or(name).to_string();
            if !names.contains(&base) {
                names.push(base);
            }
        }
    }
    let panels: Vec<Panel> = names
        .iter()
        .map(|name| {
            let mut curves = Vec::new();
            for (label, key) in [("training", name.clone()), ("validation", format!("val_{name}"))] {
                let values = history.get(&key);
                if !values.is_empty() {
                    curves.push(Curve::new(label, values));
                }
            }
            // A quantity with no validation counterpart (the learning rate) is labelled by name.
            if let [only] = curves.as_mut_slice() {
                only.label = name.clone();
            }
            Panel { title: name.clone(), x_label: "epoch".into(), curves }
        })
        .collect();
    plot_panels(&panels, path)
}

/// Writes a single-panel PNG of `curves` (one value per step each), e.g. the loss of several
/// optimizers on one task.
pub fn plot_curves(title: &str, x_label: &str, curves: &[Curve], path: impl AsRef<Path>) -> Result<()> {
    let panel = Panel { title: title.into(), x_label: x_label.into(), curves: curves.to_vec() };
    plot_panels(&[panel], path)
}

/// Writes `panels` side by side into one PNG at `path` (atomically: temporary file + rename).
pub fn plot_panels(panels: &[Panel], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let file = path.display().to_string();
    // A panel whose every value diverged (a NaN loss) is left out rather than failing the chart.
    let panels: Vec<&Panel> =
        panels.iter().filter(|p| p.curves.iter().any(|c| !finite(&c.values).is_empty())).collect();
    if panels.is_empty() {
        return Err(TrainError::config(&file, "nothing to plot: no curve has a finite value"));
    }
    register_fonts();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| TrainError::Io { file: file.clone(), source })?;
    }
    // The encoder picks the format from the extension, so the temporary name ends in .png too.
    let stem = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{stem}.partial.png"));
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let size = (PANEL_SIZE.0 * panels.len() as u32, PANEL_SIZE.1);
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE)?;
        for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(&panels) {
            draw_panel(area, panel)?;
        }
        root.present()?;
        Ok(())
    };
    if let Err(e) = draw() {
        let _ = std::fs::remove_file(&tmp);
        return Err(TrainError::config(&file, format!("cannot draw the chart: {e}")));
    }
    std::fs::rename(&tmp, path).map_err(|source| TrainError::Io { file, source })
}

/// The plottable points of `values` as (1-based step, value): finite and below 1e30, so the
/// axis range and its margins stay finite.
fn finite(values: &[f32]) -> Vec<(f32, f32)> {
    values.iter().enumerate().filter(|(_, v)| v.abs() < 1e30).map(|(i, &v)| ((i + 1) as f32, v)).collect()
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> std::result::Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let lines: Vec<(&str, Vec<(f32, f32)>)> =
        panel.curves.iter().map(|c| (c.label.as_str(), finite(&c.values))).collect();
    let points = lines.iter().flat_map(|(_, p)| p.iter());
    let (mut lo, mut hi, mut last) = (f32::INFINITY, f32::NEG_INFINITY, 1.0f32);
    for &(x, y) in points {
        (lo, hi, last) = (lo.min(y), hi.max(y), last.max(x));
    }
    let margin = ((hi - lo) * 0.05).max(1e-3);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(1f32..last.max(2.0), (lo - margin)..(hi + margin))?;
    // Steps are whole numbers: at most one tick per step, printed without decimals.
    chart
        .configure_mesh()
        .x_labels((last as usize).clamp(2, 10))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .light_line_style(WHITE.mix(0.0))
        .x_desc(panel.x_label.as_str())
        .label_style(("sans-serif", 13))
        .draw()?;
    for (k, (label, pts)) in lines.into_iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        chart
            // Markers too: a line through one point (a one-epoch run) draws nothing.
            .draw_series(LineSeries::new(pts, colour.stroke_width(2)).point_size(3))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()?;
    Ok(())
}

/// Registers the embedded font under the family name the charts ask for, once per process.
fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a valid TrueType file compiled into the binary; if registering it ever
        // failed (a broken `dejavu` build), drawing would report the missing font as an error.
        let _ = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Logs;

    fn history(epochs: usize) -> History {
        let mut h = History::default();
        for e in 0..epochs {
            let mut l = Logs::new();
            l.set("loss", 1.0 / (e + 1) as f32);
            l.set("accuracy", 0.5 + 0.1 * e as f32);
            l.set("val_loss", 1.2 / (e + 1) as f32);
            l.set("val_accuracy", 0.45 + 0.1 * e as f32);
            h.epochs.push(e);
            h.logs.push(l);
        }
        h
    }

    fn png_size(path: &Path) -> (u32, u32) {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        let be = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[test]
    fn a_history_becomes_one_panel_per_quantity() {
        let dir = std::env::temp_dir().join(format!("wgtrain-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("curves.png");
        plot_history(&history(4), &path).unwrap();
        // loss and accuracy: two panels side by side; no temporary file is left behind.
        assert_eq!(png_size(&path), (2 * PANEL_SIZE.0, PANEL_SIZE.1));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

        let curves = [Curve::new("sgd", vec![3.0, 2.0, f32::NAN, 1.0]), Curve::new("adam", vec![3.0, 1.0, 0.5, 0.2])];
        plot_curves("loss", "step", &curves, dir.join("cmp.png")).unwrap();
        assert_eq!(png_size(&dir.join("cmp.png")), PANEL_SIZE);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_to_plot_is_an_error_naming_the_file() {
        let e = plot_history(&History::default(), "/tmp/never.png").unwrap_err().to_string();
        assert!(e.contains("never.png") && e.contains("nothing to plot"), "{e}");
        let e = plot_curves("x", "step", &[Curve::new("nan", vec![f32::NAN])], "/tmp/never.png").unwrap_err();
        assert!(e.to_string().contains("nothing to plot"));
    }

    #[test]
    fn a_diverged_panel_is_left_out_and_one_epoch_still_draws() {
        let dir = std::env::temp_dir().join(format!("wgtrain-plot-nan-{}", std::process::id()));
        let mut h = history(1);
        h.logs[0].set("loss", f32::NAN);
        h.logs[0].set("val_loss", f32::INFINITY);
        // loss is all non-finite: only the accuracy panel is drawn.
        plot_history(&h, dir.join("one.png")).unwrap();
        assert_eq!(png_size(&dir.join("one.png")), PANEL_SIZE);
        let huge = [Curve::new("huge", vec![f32::MAX, 1.0, -f32::MAX, 2.0])];
        plot_curves("huge", "step", &huge, dir.join("huge.png")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
