// The element type of an elementwise module's tensors: f16 (mixed precision). Loads widen to
// f32, the op computes in f32, and each result is rounded once to f16 as it is stored; past
// f16's range it becomes an infinity. Composed after enable_f16.wgsl.
alias elem = f16;
