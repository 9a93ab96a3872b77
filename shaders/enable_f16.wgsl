// `enable f16;` as a part of its own: WGSL wants directives before every declaration, so a
// module that reads or writes f16 puts this part first and the shared parts after it.
enable f16;
