// The element type of an elementwise module's tensors (unary, binary, ternary, pool,
// random and augment.wgsl): f32. The
// op reads `f32(x)` and stores `elem(v)`, so the same text serves f16 (elem_f16.wgsl).
alias elem = f32;
