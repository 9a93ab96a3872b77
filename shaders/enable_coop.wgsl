// `enable wgpu_cooperative_matrix;` as a part of its own, after enable_f16.wgsl: the directive
// of modules on cooperative matrices (tensor cores; wgpu's EXPERIMENTAL_COOPERATIVE_MATRIX).
enable wgpu_cooperative_matrix;
