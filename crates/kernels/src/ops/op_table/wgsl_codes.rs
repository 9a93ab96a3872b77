//! The WGSL `switch`es against the op table: every `case` code names its op in a trailing
//! comment (`case 7u: { ... } // relu`), and the codes, names and the sets of cases must be
//! exactly the table's. This is what keeps the shader codes equal to the Rust ones.

use std::collections::BTreeMap;

use super::{BinaryOp, UnaryOp};
use crate::source;

/// The `case` lines of WGSL function `func` in `src`: each with its codes and trailing comment.
fn cases(src: &str, func: &str) -> Vec<(Vec<u32>, String)> {
    let start = src.find(&format!("fn {func}(")).unwrap_or_else(|| panic!("no fn {func} in the shader"));
    let body = &src[start..];
    let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
    body.lines()
        .filter_map(|line| line.trim().strip_prefix("case "))
        .map(|case| {
            let (codes, rest) = case.split_once(':').unwrap_or_else(|| panic!("case without ':' in {func}: {case}"));
            let codes = codes
                .split(',')
                .map(|c| c.trim().trim_end_matches('u').parse().unwrap_or_else(|_| panic!("bad code in {func}: {c}")))
                .collect();
            let name = rest.rsplit_once("//").map(|(_, n)| n.trim().to_string()).unwrap_or_default();
            (codes, name)
        })
        .collect()
}

/// `code -> name` of single-code cases; fails on a repeated code or a case of several codes.
fn named_cases(src: &str, func: &str) -> BTreeMap<u32, String> {
    let mut out = BTreeMap::new();
    for (codes, name) in cases(src, func) {
        assert_eq!(codes.len(), 1, "{func}: one op per case, so each can carry its name ({codes:?})");
        assert!(out.insert(codes[0], name).is_none(), "{func}: case {} appears twice", codes[0]);
    }
    out
}

fn table(ops: impl Iterator<Item = (u32, &'static str)>) -> BTreeMap<u32, String> {
    ops.map(|(c, n)| (c, n.to_string())).collect()
}

#[test]
fn unary_value_cases_match_the_table() {
    let want = table(UnaryOp::ALL.iter().map(|o| (*o as u32, o.name())));
    assert_eq!(named_cases(source::MATH, "unary_value"), want, "math.wgsl unary_value vs for_each_unary_op!");
}

#[test]
fn unary_derivative_cases_are_the_fused_gradients() {
    let fused = UnaryOp::ALL.iter().filter(|o| o.has_fused_grad());
    let want = table(fused.map(|o| (*o as u32, o.name())));
    let got = named_cases(source::MATH, "unary_derivative");
    assert_eq!(got, want, "math.wgsl unary_derivative vs the rows with df: fused(..)");
}

#[test]
fn own_nan_rule_lists_the_ops_that_do_not_propagate_nan() {
    let got: Vec<u32> = cases(source::MATH, "own_nan_rule").into_iter().flat_map(|(codes, _)| codes).collect();
    let want: Vec<u32> = UnaryOp::ALL.iter().filter(|o| !o.nan_in_nan_out()).map(|o| *o as u32).collect();
    assert_eq!(got, want, "math.wgsl own_nan_rule vs the rows with nan_out: false");
}

#[test]
fn binary_cases_match_the_table() {
    let want = table(BinaryOp::ALL.iter().map(|o| (*o as u32, o.name())));
    assert_eq!(named_cases(source::BINARY, "apply"), want, "binary.wgsl apply vs for_each_binary_op!");
}

#[test]
fn the_parser_sees_a_renamed_or_missing_case() {
    // The checks above must be able to fail: a wrong name, a wrong code and a missing case.
    let math = source::MATH.replace("} // relu", "} // rectifier");
    assert_ne!(named_cases(&math, "unary_value")[&7], "relu");
    let math = source::MATH.replace("case 7u: { return max(v, 0.0); }", "case 99u: { return max(v, 0.0); }");
    assert!(!named_cases(&math, "unary_value").contains_key(&7));
    let want = table(UnaryOp::ALL.iter().map(|o| (*o as u32, o.name())));
    assert_ne!(named_cases(&math, "unary_value"), want);
}
