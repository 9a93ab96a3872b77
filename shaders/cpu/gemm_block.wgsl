// The register block shared by the CPU-adapter GEMMs (`gemm_uniform.wgsl`, `gemm_texture.wgsl`):
// an invocation accumulates an 8 x 16 block of C, one outer product per k step (`outer`) or four
// at once (`outer_quad`: the texture GEMM; the uniform windows' gathers gained nothing from it).

// An invocation's 8 x 16 block of C: row i is acc[4 i .. 4 i + 3], indexed only by constants.
alias Block = array<vec4<f32>, 32>;

// acc[4 i + j] += A[row i] * B[columns 4 j .. 4 j + 3] for an 8 x 16 block at one k.
fn outer(acc: ptr<function, Block>, a0: vec4<f32>, a1: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    let s0 = vec4<f32>(a0.x);
    (*acc)[0] = fma(s0, b0, (*acc)[0]);
    (*acc)[1] = fma(s0, b1, (*acc)[1]);
    (*acc)[2] = fma(s0, b2, (*acc)[2]);
    (*acc)[3] = fma(s0, b3, (*acc)[3]);
    let s1 = vec4<f32>(a0.y);
    (*acc)[4] = fma(s1, b0, (*acc)[4]);
    (*acc)[5] = fma(s1, b1, (*acc)[5]);
    (*acc)[6] = fma(s1, b2, (*acc)[6]);
    (*acc)[7] = fma(s1, b3, (*acc)[7]);
    let s2 = vec4<f32>(a0.z);
    (*acc)[8] = fma(s2, b0, (*acc)[8]);
    (*acc)[9] = fma(s2, b1, (*acc)[9]);
    (*acc)[10] = fma(s2, b2, (*acc)[10]);
    (*acc)[11] = fma(s2, b3, (*acc)[11]);
    let s3 = vec4<f32>(a0.w);
    (*acc)[12] = fma(s3, b0, (*acc)[12]);
    (*acc)[13] = fma(s3, b1, (*acc)[13]);
    (*acc)[14] = fma(s3, b2, (*acc)[14]);
    (*acc)[15] = fma(s3, b3, (*acc)[15]);
    let s4 = vec4<f32>(a1.x);
    (*acc)[16] = fma(s4, b0, (*acc)[16]);
    (*acc)[17] = fma(s4, b1, (*acc)[17]);
    (*acc)[18] = fma(s4, b2, (*acc)[18]);
    (*acc)[19] = fma(s4, b3, (*acc)[19]);
    let s5 = vec4<f32>(a1.y);
    (*acc)[20] = fma(s5, b0, (*acc)[20]);
    (*acc)[21] = fma(s5, b1, (*acc)[21]);
    (*acc)[22] = fma(s5, b2, (*acc)[22]);
    (*acc)[23] = fma(s5, b3, (*acc)[23]);
    let s6 = vec4<f32>(a1.z);
    (*acc)[24] = fma(s6, b0, (*acc)[24]);
    (*acc)[25] = fma(s6, b1, (*acc)[25]);
    (*acc)[26] = fma(s6, b2, (*acc)[26]);
    (*acc)[27] = fma(s6, b3, (*acc)[27]);
    let s7 = vec4<f32>(a1.w);
    (*acc)[28] = fma(s7, b0, (*acc)[28]);
    (*acc)[29] = fma(s7, b1, (*acc)[29]);
    (*acc)[30] = fma(s7, b2, (*acc)[30]);
    (*acc)[31] = fma(s7, b3, (*acc)[31]);
}

// The four outer products of a quad, each accumulator updated by all four k steps at once: A's
// 8 rows at step s are a[2 s] (rows 0-3) and a[2 s + 1] (rows 4-7), B's 16 columns b[4 s .. 4 s + 3].
// llvmpipe holds one component of every lane in a register, so the 128 accumulators live on
// the stack: loading and storing each once per quad instead of once per k step (with the
// operands loaded into arrays declared outside the k loop) took a 2048-square
// matmul from 14 to 26-34 GFLOP/s; it was bound by the stores. Two quads at once (an octet)
// spilled the operands instead and ran slower.
fn outer_quad(acc: ptr<function, Block>, a: ptr<function, array<vec4<f32>, 8>>, b: ptr<function, array<vec4<f32>, 16>>) {
    let r00 = vec4<f32>((*a)[0].x);
    let r01 = vec4<f32>((*a)[2].x);
    let r02 = vec4<f32>((*a)[4].x);
    let r03 = vec4<f32>((*a)[6].x);
    (*acc)[0] = fma(r03, (*b)[12], fma(r02, (*b)[8], fma(r01, (*b)[4], fma(r00, (*b)[0], (*acc)[0]))));
    (*acc)[1] = fma(r03, (*b)[13], fma(r02, (*b)[9], fma(r01, (*b)[5], fma(r00, (*b)[1], (*acc)[1]))));
    (*acc)[2] = fma(r03, (*b)[14], fma(r02, (*b)[10], fma(r01, (*b)[6], fma(r00, (*b)[2], (*acc)[2]))));
    (*acc)[3] = fma(r03, (*b)[15], fma(r02, (*b)[11], fma(r01, (*b)[7], fma(r00, (*b)[3], (*acc)[3]))));
    let r10 = vec4<f32>((*a)[0].y);
    let r11 = vec4<f32>((*a)[2].y);
    let r12 = vec4<f32>((*a)[4].y);
    let r13 = vec4<f32>((*a)[6].y);
    (*acc)[4] = fma(r13, (*b)[12], fma(r12, (*b)[8], fma(r11, (*b)[4], fma(r10, (*b)[0], (*acc)[4]))));
    (*acc)[5] = fma(r13, (*b)[13], fma(r12, (*b)[9], fma(r11, (*b)[5], fma(r10, (*b)[1], (*acc)[5]))));
    (*acc)[6] = fma(r13, (*b)[14], fma(r12, (*b)[10], fma(r11, (*b)[6], fma(r10, (*b)[2], (*acc)[6]))));
    (*acc)[7] = fma(r13, (*b)[15], fma(r12, (*b)[11], fma(r11, (*b)[7], fma(r10, (*b)[3], (*acc)[7]))));
    let r20 = vec4<f32>((*a)[0].z);
    let r21 = vec4<f32>((*a)[2].z);
    let r22 = vec4<f32>((*a)[4].z);
    let r23 = vec4<f32>((*a)[6].z);
    (*acc)[8] = fma(r23, (*b)[12], fma(r22, (*b)[8], fma(r21, (*b)[4], fma(r20, (*b)[0], (*acc)[8]))));
    (*acc)[9] = fma(r23, (*b)[13], fma(r22, (*b)[9], fma(r21, (*b)[5], fma(r20, (*b)[1], (*acc)[9]))));
    (*acc)[10] = fma(r23, (*b)[14], fma(r22, (*b)[10], fma(r21, (*b)[6], fma(r20, (*b)[2], (*acc)[10]))));
    (*acc)[11] = fma(r23, (*b)[15], fma(r22, (*b)[11], fma(r21, (*b)[7], fma(r20, (*b)[3], (*acc)[11]))));
    let r30 = vec4<f32>((*a)[0].w);
    let r31 = vec4<f32>((*a)[2].w);
    let r32 = vec4<f32>((*a)[4].w);
    let r33 = vec4<f32>((*a)[6].w);
    (*acc)[12] = fma(r33, (*b)[12], fma(r32, (*b)[8], fma(r31, (*b)[4], fma(r30, (*b)[0], (*acc)[12]))));
    (*acc)[13] = fma(r33, (*b)[13], fma(r32, (*b)[9], fma(r31, (*b)[5], fma(r30, (*b)[1], (*acc)[13]))));
    (*acc)[14] = fma(r33, (*b)[14], fma(r32, (*b)[10], fma(r31, (*b)[6], fma(r30, (*b)[2], (*acc)[14]))));
    (*acc)[15] = fma(r33, (*b)[15], fma(r32, (*b)[11], fma(r31, (*b)[7], fma(r30, (*b)[3], (*acc)[15]))));
    let r40 = vec4<f32>((*a)[1].x);
    let r41 = vec4<f32>((*a)[3].x);
    let r42 = vec4<f32>((*a)[5].x);
    let r43 = vec4<f32>((*a)[7].x);
    (*acc)[16] = fma(r43, (*b)[12], fma(r42, (*b)[8], fma(r41, (*b)[4], fma(r40, (*b)[0], (*acc)[16]))));
    (*acc)[17] = fma(r43, (*b)[13], fma(r42, (*b)[9], fma(r41, (*b)[5], fma(r40, (*b)[1], (*acc)[17]))));
    (*acc)[18] = fma(r43, (*b)[14], fma(r42, (*b)[10], fma(r41, (*b)[6], fma(r40, (*b)[2], (*acc)[18]))));
    (*acc)[19] = fma(r43, (*b)[15], fma(r42, (*b)[11], fma(r41, (*b)[7], fma(r40, (*b)[3], (*acc)[19]))));
    let r50 = vec4<f32>((*a)[1].y);
    let r51 = vec4<f32>((*a)[3].y);
    let r52 = vec4<f32>((*a)[5].y);
    let r53 = vec4<f32>((*a)[7].y);
    (*acc)[20] = fma(r53, (*b)[12], fma(r52, (*b)[8], fma(r51, (*b)[4], fma(r50, (*b)[0], (*acc)[20]))));
    (*acc)[21] = fma(r53, (*b)[13], fma(r52, (*b)[9], fma(r51, (*b)[5], fma(r50, (*b)[1], (*acc)[21]))));
    (*acc)[22] = fma(r53, (*b)[14], fma(r52, (*b)[10], fma(r51, (*b)[6], fma(r50, (*b)[2], (*acc)[22]))));
    (*acc)[23] = fma(r53, (*b)[15], fma(r52, (*b)[11], fma(r51, (*b)[7], fma(r50, (*b)[3], (*acc)[23]))));
    let r60 = vec4<f32>((*a)[1].z);
    let r61 = vec4<f32>((*a)[3].z);
    let r62 = vec4<f32>((*a)[5].z);
    let r63 = vec4<f32>((*a)[7].z);
    (*acc)[24] = fma(r63, (*b)[12], fma(r62, (*b)[8], fma(r61, (*b)[4], fma(r60, (*b)[0], (*acc)[24]))));
    (*acc)[25] = fma(r63, (*b)[13], fma(r62, (*b)[9], fma(r61, (*b)[5], fma(r60, (*b)[1], (*acc)[25]))));
    (*acc)[26] = fma(r63, (*b)[14], fma(r62, (*b)[10], fma(r61, (*b)[6], fma(r60, (*b)[2], (*acc)[26]))));
    (*acc)[27] = fma(r63, (*b)[15], fma(r62, (*b)[11], fma(r61, (*b)[7], fma(r60, (*b)[3], (*acc)[27]))));
    let r70 = vec4<f32>((*a)[1].w);
    let r71 = vec4<f32>((*a)[3].w);
    let r72 = vec4<f32>((*a)[5].w);
    let r73 = vec4<f32>((*a)[7].w);
    (*acc)[28] = fma(r73, (*b)[12], fma(r72, (*b)[8], fma(r71, (*b)[4], fma(r70, (*b)[0], (*acc)[28]))));
    (*acc)[29] = fma(r73, (*b)[13], fma(r72, (*b)[9], fma(r71, (*b)[5], fma(r70, (*b)[1], (*acc)[29]))));
    (*acc)[30] = fma(r73, (*b)[14], fma(r72, (*b)[10], fma(r71, (*b)[6], fma(r70, (*b)[2], (*acc)[30]))));
    (*acc)[31] = fma(r73, (*b)[15], fma(r72, (*b)[11], fma(r71, (*b)[7], fma(r70, (*b)[3], (*acc)[31]))));
}
