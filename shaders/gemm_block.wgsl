// The register block shared by the CPU-adapter GEMMs (`gemm_uniform.wgsl`, `gemm_texture.wgsl`):
// an invocation accumulates an 8 x 16 block of C, one outer product per k step.

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
