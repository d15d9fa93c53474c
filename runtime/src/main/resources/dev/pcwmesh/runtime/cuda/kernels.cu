// PCW Mesh CUDA kernels, compiled at start-up by NVRTC (see CudaDevice.java).
// Plain CUDA C with no includes, so that any NVRTC finds everything it needs: halves are
// converted with PTX instructions, bfloat16 by bit shifts. Activations are float throughout;
// a batch's matrix products go to cuBLAS, a single token's to the matvec kernels below.
// The tests run these kernels on the CPU too (runtime/src/test/gpu/emulator).

typedef unsigned char u8;
typedef signed char i8;
typedef unsigned short u16;
typedef unsigned int u32;

#define NEG_INF __int_as_float(0xff800000)

// Under PCW_CPU_EMULATION (the tests' emulator, runtime/src/test/gpu/emulator) the emulator
// supplies these two and mma_16816; the one other piece of PTX, await_previous_kernel's, has
// nothing to do there.
#ifndef PCW_CPU_EMULATION
__device__ __forceinline__ float f16_to_f32(u16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ u16 f32_to_f16(float f) {
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
#endif

__device__ __forceinline__ float bf16_to_f32(u16 b) {
    return __uint_as_float(((u32) b) << 16);
}

// Round to nearest even, NaN kept quiet: ggml's GGML_FP32_TO_BF16.
__device__ __forceinline__ u16 f32_to_bf16(float f) {
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffff) > 0x7f800000) return (u16) ((u >> 16) | 64);
    return (u16) ((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

__device__ __forceinline__ float load_f16(const u8* p) {
    return f16_to_f32((u16) (p[0] | (p[1] << 8)));
}

// Programmatic dependent launch (compute capability 9.0; CudaDevice.withProgrammaticLaunches): a kernel
// launched so may start while the kernel before it on the stream finishes. Every kernel calls this
// first: it waits until the previous kernel has finished and its writes are visible, then lets
// the next kernel start launching at once. A kernel launched the ordinary way passes straight through.
__device__ __forceinline__ void await_previous_kernel() {
#if __CUDA_ARCH__ >= 900 && !defined(PCW_CPU_EMULATION)
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;");
#endif
}

// ---- type conversions --------------------------------------------------------------------

extern "C" __global__ void convert_f32_f16(const float* x, u16* y, long n) {
    await_previous_kernel();
    long i = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = f32_to_f16(x[i]);
}

extern "C" __global__ void convert_f32_bf16(const float* x, u16* y, long n) {
    await_previous_kernel();
    long i = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = f32_to_bf16(x[i]);
}

// ---- dequantisation to F16, one thread per block ----------------------------------------

// Q8_0: f16 scale, 32 int8.
extern "C" __global__ void dequant_q8_0(const u8* blocks, u16* y, long nblocks) {
    await_previous_kernel();
    long b = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= nblocks) return;
    const u8* p = blocks + b * 34;
    float d = load_f16(p);
    const i8* q = (const i8*) (p + 2);
    u16* out = y + b * 32;
    for (int j = 0; j < 32; j++) out[j] = f32_to_f16(d * q[j]);
}

// Q4_0: f16 scale, 16 bytes of nibbles; low nibbles are values 0..15, high nibbles 16..31, offset 8.
extern "C" __global__ void dequant_q4_0(const u8* blocks, u16* y, long nblocks) {
    await_previous_kernel();
    long b = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= nblocks) return;
    const u8* p = blocks + b * 18;
    float d = load_f16(p);
    const u8* qs = p + 2;
    u16* out = y + b * 32;
    for (int j = 0; j < 16; j++) {
        out[j] = f32_to_f16(d * ((int) (qs[j] & 0xF) - 8));
        out[j + 16] = f32_to_f16(d * ((int) (qs[j] >> 4) - 8));
    }
}

// Bytes of a row of cols values of quantized type 3..6 (cols a whole number of blocks).
__device__ __forceinline__ long quant_row_bytes(int type, int cols) {
    switch (type) {
        case 3: return (long) cols / 32 * 34;
        case 4: return (long) cols / 32 * 18;
        case 5: return (long) cols / 256 * 144;
        default: return (long) cols / 256 * 210;
    }
}

// ggml's get_scale_min_k4: 6-bit scale and min j of a K-quant super-block.
__device__ __forceinline__ void scale_min_k4(int j, const u8* q, int* sc, int* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q4_K: f16 d, f16 dmin, 12 bytes of scales and mins, 128 bytes of nibbles; 256 values.
extern "C" __global__ void dequant_q4_k(const u8* blocks, u16* y, long nblocks) {
    await_previous_kernel();
    long b = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= nblocks) return;
    const u8* p = blocks + b * 144;
    float d = load_f16(p);
    float dmin = load_f16(p + 2);
    const u8* scales = p + 4;
    const u8* q = p + 16;
    u16* out = y + b * 256;
    int is = 0;
    for (int j = 0; j < 256; j += 64) {
        int sc, m;
        scale_min_k4(is, scales, &sc, &m);
        float d1 = d * sc, m1 = dmin * m;
        scale_min_k4(is + 1, scales, &sc, &m);
        float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) out[j + l] = f32_to_f16(d1 * (q[l] & 0xF) - m1);
        for (int l = 0; l < 32; l++) out[j + 32 + l] = f32_to_f16(d2 * (q[l] >> 4) - m2);
        q += 32;
        is += 2;
    }
}

// Q6_K: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, f16 d; 256 values.
extern "C" __global__ void dequant_q6_k(const u8* blocks, u16* y, long nblocks) {
    await_previous_kernel();
    long b = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= nblocks) return;
    const u8* p = blocks + b * 210;
    const u8* ql = p;
    const u8* qh = p + 128;
    const i8* sc = (const i8*) (p + 192);
    float d = load_f16(p + 208);
    u16* out = y + b * 256;
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = (int) ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int q2 = (int) ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = (int) ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = (int) ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            out[n + l] = f32_to_f16(d * sc[is] * q1);
            out[n + l + 32] = f32_to_f16(d * sc[is + 2] * q2);
            out[n + l + 64] = f32_to_f16(d * sc[is + 4] * q3);
            out[n + l + 96] = f32_to_f16(d * sc[is + 6] * q4);
        }
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

// ---- per-token operations ------------------------------------------------------------------

// Value i of a row of GGUF blocks of quantized type 3..6 (the matvec kernels' codes), as the
// dequant kernels above compute it but in float.
__device__ float quant_at(const u8* row, int type, int i) {
    if (type == 3) {
        const u8* p = row + (long) (i / 32) * 34;
        return load_f16(p) * (float) ((const i8*) p)[2 + i % 32];
    }
    if (type == 4) {
        const u8* p = row + (long) (i / 32) * 18;
        int j = i % 32;
        u8 byte = p[2 + j % 16];
        return load_f16(p) * (float) ((int) (j < 16 ? byte & 0xf : byte >> 4) - 8);
    }
    const u8* p = row + (long) (i / 256) * (type == 5 ? 144 : 210);
    int k = i % 256;
    if (type == 5) {
        int j = k / 64, high = (k % 64) / 32, l = k % 32, sc, m;
        scale_min_k4(2 * j + high, p + 4, &sc, &m);
        u8 byte = p[16 + j * 32 + l];
        return load_f16(p) * sc * (float) (high ? byte >> 4 : byte & 0xf) - load_f16(p + 2) * m;
    }
    int nh = k / 128, quarter = (k % 128) / 32, l = k % 32;
    const u8* ql = p + nh * 64;
    u8 h = (p + 128 + nh * 32)[l];
    const i8* sc = (const i8*) (p + 192 + nh * 8);
    u8 low = quarter % 2 ? ql[l + 32] : ql[l];
    int q = (quarter < 2 ? low & 0xf : low >> 4) | (((h >> (2 * quarter)) & 3) << 4);
    return load_f16(p + 208) * sc[l / 16 + 2 * quarter] * (float) (q - 32);
}

// Embedding lookup: row tokens[t] of a table stored as F32 (type 0), F16 (1), BF16 (2) or GGUF
// blocks of type 3..6 (see the matvec kernels).
extern "C" __global__ void embed_rows(const void* table, int type, const int* tokens, int dim, float* x) {
    await_previous_kernel();
    int t = blockIdx.x;
    long row = (long) tokens[t] * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v;
        if (type == 0) v = ((const float*) table)[row + i];
        else if (type == 1) v = f16_to_f32(((const u16*) table)[row + i]);
        else if (type == 2) v = bf16_to_f32(((const u16*) table)[row + i]);
        else v = quant_at((const u8*) table + tokens[t] * quant_row_bytes(type, dim), type, i);
        x[(long) t * dim + i] = v;
    }
}

// out = x / sqrt(mean(x^2) + eps) * w over rows of n values; one block of 256 threads per row.
extern "C" __global__ void rms_norm(const float* x, const float* w, float eps, float* out, int n) {
    await_previous_kernel();
    long off = (long) blockIdx.x * n;
    __shared__ double partial[256];
    double sum = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        double v = x[off + i];
        sum += v * v;
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    float scale = (float) (1.0 / sqrt(partial[0] / n + eps));
    for (int i = threadIdx.x; i < n; i += blockDim.x) out[off + i] = x[off + i] * scale * w[i];
}

// x[r*n + i] += b[i] for rows r.
extern "C" __global__ void add_bias(float* x, const float* b, int n, long total) {
    await_previous_kernel();
    long i = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < total) x[i] += b[i % n];
}

// The batch's keys (blockIdx.y 0) and values (1), count = n * kv_dim floats each, into the cache
// from row *base_ptr.
extern "C" __global__ void store_rows(const float* k, const float* v, float* cache_k, float* cache_v, const int* base_ptr,
                                      int kv_dim, long count) {
    await_previous_kernel();
    long i = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    long at = (long) *base_ptr * kv_dim + i;
    if (blockIdx.y == 0) cache_k[at] = k[i];
    else cache_v[at] = v[i];
}

// gate = silu(gate) * up
extern "C" __global__ void silu_mul(float* gate, const float* up, long n) {
    await_previous_kernel();
    long i = (long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float g = gate[i];
        gate[i] = (float) (g / (1.0 + exp((double) -g))) * up[i];
    }
}

// Rotates the first `dims` values of every head of every token by the token's angles, given as
// cos/sin tables of dims/2 pairs per token (computed on the host with the CPU's arithmetic, so
// every rescaling is exactly the CPU's). neox: pairs (i, i + dims/2), else (2i, 2i + 1).
extern "C" __global__ void rope(float* x, const float* cos_t, const float* sin_t, int heads, int head_dim,
                                int dims, int neox, int tokens) {
    await_previous_kernel();
    int half = dims / 2;
    long id = (long) blockIdx.x * blockDim.x + threadIdx.x;
    long total = (long) tokens * heads * half;
    if (id >= total) return;
    int i = id % half;
    long th = id / half;
    int t = th / heads;
    float* h = x + th * head_dim;
    int a = neox ? i : 2 * i;
    int b = neox ? i + half : 2 * i + 1;
    float c = cos_t[(long) t * half + i], s = sin_t[(long) t * half + i];
    float x0 = h[a], x1 = h[b];
    h[a] = x0 * c - x1 * s;
    h[b] = x0 * s + x1 * c;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    return v;
}

// ---- decode: one token's products at the speed of reading the weights -------------------------
//
// A decode step multiplies every weight once by one vector, so its time is the time to read the
// weights, plus a few microseconds a kernel however small. These kernels read each row once, 16
// bytes a lane, against the vector held in shared memory as float, and fold in what cuBLAS would
// leave to kernels of their own: the RMSNorm before a product (each block computes the norm's
// scale itself), the biases, the residual add, the SiLU gate; q, k and v, with RoPE and the cache
// store, are one launch.
// A warp takes MV_ROWS rows, MV_WARPS warps a block. Weights are F32 (type 0), F16 (1) or
// BF16 (2), or GGUF's blocks of Q8_0 (3), Q4_0 (4), Q4_K (5) or Q6_K (6), as CudaWeights uploads
// them: a quantized matrix is read as stored, so decode reads its bytes and no more. The vector
// is cols floats of dynamic shared memory.

#define MV_WARPS 8
#define MV_ROWS 2

#ifndef PCW_CPU_EMULATION
extern __shared__ float dynamic_shared[];
#endif

struct alignas(16) u32x4 { u32 x, y, z, w; };

// 16-byte loads and stores, which fault on a GPU unless the address is a multiple of 16 (the
// emulator checks that it is, since its CPU would not fault).
__device__ __forceinline__ u32x4 load16(const void* p) {
#ifdef PCW_CPU_EMULATION
    emu::check_aligned(p, 16);
#endif
    return *(const u32x4*) p;
}

__device__ __forceinline__ void store16(void* p, u32x4 v) {
#ifdef PCW_CPU_EMULATION
    emu::check_aligned(p, 16);
#endif
    *(u32x4*) p = v;
}

__device__ __forceinline__ void unpack_halves(u32 word, int type, float* out) {
    if (type == 1) {
        out[0] = f16_to_f32((u16) (word & 0xffff));
        out[1] = f16_to_f32((u16) (word >> 16));
    } else {
        out[0] = bf16_to_f32((u16) (word & 0xffff));
        out[1] = bf16_to_f32((u16) (word >> 16));
    }
}

// Weights i .. i + 7 of matrix w (i a multiple of 8, so the load is aligned) as floats.
template <int TYPE>
__device__ __forceinline__ void load8(const void* w, long i, float* out) {
    if (TYPE == 0) {
        const float* p = (const float*) w + i;
        u32x4 a = load16(p), b = load16(p + 4);
        out[0] = __uint_as_float(a.x); out[1] = __uint_as_float(a.y); out[2] = __uint_as_float(a.z); out[3] = __uint_as_float(a.w);
        out[4] = __uint_as_float(b.x); out[5] = __uint_as_float(b.y); out[6] = __uint_as_float(b.z); out[7] = __uint_as_float(b.w);
    } else {
        u32x4 a = load16((const u16*) w + i);
        unpack_halves(a.x, TYPE, out);
        unpack_halves(a.y, TYPE, out + 2);
        unpack_halves(a.z, TYPE, out + 4);
        unpack_halves(a.w, TYPE, out + 6);
    }
}

__device__ __forceinline__ float load1(const void* w, int type, long i) {
    if (type == 0) return ((const float*) w)[i];
    u16 h = ((const u16*) w)[i];
    return type == 1 ? f16_to_f32(h) : bf16_to_f32(h);
}

// This lane's share of rows row, row + step, .. (count of them) of w times xs: 8 columns at a
// time where cols is a multiple of 8 (every row then starts 16-byte aligned), else one at a time.
template <int TYPE>
__device__ __forceinline__ void dot_rows(const void* w, long row, long step, int count, int cols, const float* xs, float* acc) {
    int lane = threadIdx.x % 32;
    if (cols % 8 == 0) {
#pragma unroll 2
        for (int c = lane * 8; c < cols; c += 256) {
            float xv[8];
#pragma unroll
            for (int e = 0; e < 8; e++) xv[e] = xs[c + e];
#pragma unroll
            for (int r = 0; r < MV_ROWS; r++) {
                if (r >= count) break;
                float wv[8];
                load8<TYPE>(w, (row + r * step) * cols + c, wv);
#pragma unroll
                for (int e = 0; e < 8; e++) acc[r] += wv[e] * xv[e];
            }
        }
    } else {
        for (int c = lane; c < cols; c += 32) {
#pragma unroll
            for (int r = 0; r < MV_ROWS; r++) if (r < count) acc[r] += load1(w, TYPE, (row + r * step) * cols + c) * xs[c];
        }
    }
}

// A lane's share of one quantized row times xs. Blocks start at even bytes (34, 18, 144 and 210
// are even), so values are read as 16-bit words; Q4_K's 144-byte blocks are whole 16-byte words.
// Q8_0 and Q4_0: a lane takes whole blocks of 32. Q4_K: a lane takes a 64-value group's low or
// high 16 bytes of nibbles (8 lanes a super-block). Q6_K: a lane takes 16 of a 128-value half's
// 32 positions, 4 values each (4 lanes a super-block).
template <int TYPE>
__device__ __forceinline__ float dot_quant_row(const u8* row, int cols, const float* xs) {
    int lane = threadIdx.x % 32;
    float acc = 0.f;
    if (TYPE == 3) {
        for (int b = lane; b < cols / 32; b += 32) {
            const u16* h = (const u16*) (row + (long) b * 34);
            const float* x = xs + b * 32;
            float s = 0.f;
#pragma unroll
            for (int i = 0; i < 16; i++) {
                u16 two = h[1 + i];
                s += (float) (i8) (two & 0xff) * x[2 * i] + (float) (i8) (two >> 8) * x[2 * i + 1];
            }
            acc += f16_to_f32(h[0]) * s;
        }
    } else if (TYPE == 4) {
        for (int b = lane; b < cols / 32; b += 32) {
            const u16* h = (const u16*) (row + (long) b * 18);
            const float* x = xs + b * 32;
            float s = 0.f;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                u16 two = h[1 + i];                              // bytes 2i and 2i + 1 of the nibbles
                s += (float) ((int) (two & 0xf) - 8) * x[2 * i] + (float) ((int) ((two >> 4) & 0xf) - 8) * x[2 * i + 16]
                   + (float) ((int) ((two >> 8) & 0xf) - 8) * x[2 * i + 1] + (float) ((int) (two >> 12) - 8) * x[2 * i + 17];
            }
            acc += f16_to_f32(h[0]) * s;
        }
    } else if (TYPE == 5) {
        for (int u = lane; u < cols / 256 * 8; u += 32) {
            int sb = u / 8, j = (u % 8) / 2, half = u % 2;
            const u8* p = row + (long) sb * 144;
            float d = f16_to_f32(*(const u16*) p), dmin = f16_to_f32(*(const u16*) (p + 2));
            int sc, m;
            scale_min_k4(2 * j, p + 4, &sc, &m);
            float d_lo = d * sc, m_lo = dmin * m;
            scale_min_k4(2 * j + 1, p + 4, &sc, &m);
            float d_hi = d * sc, m_hi = dmin * m;
            u32x4 q = load16(p + 16 + j * 32 + half * 16);
            u32 words[4] = {q.x, q.y, q.z, q.w};
            const float* x_lo = xs + sb * 256 + j * 64 + half * 16;
            const float* x_hi = x_lo + 32;
            float s_lo = 0.f, s_hi = 0.f, sum_lo = 0.f, sum_hi = 0.f;
#pragma unroll
            for (int i = 0; i < 16; i++) {
                u32 byte = (words[i / 4] >> (8 * (i % 4))) & 0xff;
                s_lo += (float) (byte & 0xf) * x_lo[i];
                s_hi += (float) (byte >> 4) * x_hi[i];
                sum_lo += x_lo[i];
                sum_hi += x_hi[i];
            }
            acc += d_lo * s_lo - m_lo * sum_lo + d_hi * s_hi - m_hi * sum_hi;
        }
    } else {
        for (int u = lane; u < cols / 256 * 4; u += 32) {
            int sb = u / 4, nh = (u % 4) / 2, g = u % 2;
            const u8* p = row + (long) sb * 210;
            const u8* ql = p + nh * 64;
            const u8* qh = p + 128 + nh * 32;
            const i8* sc = (const i8*) (p + 192 + nh * 8);
            float d = f16_to_f32(*(const u16*) (p + 208));
            const float* x = xs + sb * 256 + nh * 128 + g * 16;
            float s1 = 0.f, s2 = 0.f, s3 = 0.f, s4 = 0.f;
#pragma unroll
            for (int i = 0; i < 16; i += 2) {
                int l = g * 16 + i;
                u16 a = *(const u16*) (ql + l), b = *(const u16*) (ql + l + 32), h = *(const u16*) (qh + l);
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    int qa = (a >> (8 * e)) & 0xff, qb = (b >> (8 * e)) & 0xff, qhi = (h >> (8 * e)) & 0xff;
                    s1 += (float) ((int) ((qa & 0xf) | ((qhi & 3) << 4)) - 32) * x[i + e];
                    s2 += (float) ((int) ((qb & 0xf) | (((qhi >> 2) & 3) << 4)) - 32) * x[i + e + 32];
                    s3 += (float) ((int) ((qa >> 4) | (((qhi >> 4) & 3) << 4)) - 32) * x[i + e + 64];
                    s4 += (float) ((int) ((qb >> 4) | (((qhi >> 6) & 3) << 4)) - 32) * x[i + e + 96];
                }
            }
            acc += d * (sc[g] * s1 + sc[g + 2] * s2 + sc[g + 4] * s3 + sc[g + 6] * s4);
        }
    }
    return acc;
}

template <int TYPE>
__device__ __forceinline__ void dot_quant_rows(const void* w, long row, long step, int count, int cols, const float* xs, float* acc) {
    long bytes = quant_row_bytes(TYPE, cols);
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) {
        if (r < count) acc[r] += dot_quant_row<TYPE>((const u8*) w + (row + r * step) * bytes, cols, xs);
    }
}

__device__ __forceinline__ void dot_rows_of(int type, const void* w, long row, long step, int count, int cols, const float* xs,
                                            float* acc) {
    switch (type) {
        case 0: dot_rows<0>(w, row, step, count, cols, xs, acc); break;
        case 1: dot_rows<1>(w, row, step, count, cols, xs, acc); break;
        case 2: dot_rows<2>(w, row, step, count, cols, xs, acc); break;
        case 3: dot_quant_rows<3>(w, row, step, count, cols, xs, acc); break;
        case 4: dot_quant_rows<4>(w, row, step, count, cols, xs, acc); break;
        case 5: dot_quant_rows<5>(w, row, step, count, cols, xs, acc); break;
        default: dot_quant_rows<6>(w, row, step, count, cols, xs, acc); break;
    }
}

// The block's copy of the vector in shared memory: x, or x · norm scaled by RMSNorm's factor
// when norm is given (the factor is returned, to apply after the dot products: the same sums).
__device__ float stage_vector(const float* x, const float* norm, float eps, int cols, float* xs) {
    __shared__ double partial[MV_WARPS];
    float scale = 1.f;
    if (norm) {
        double sum = 0;
        for (int i = threadIdx.x; i < cols; i += blockDim.x) sum += (double) x[i] * x[i];
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffff, sum, o);
        if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = sum;
        __syncthreads();
        double total = 0;
        for (int w = 0; w < MV_WARPS; w++) total += partial[w];
        scale = (float) (1.0 / sqrt(total / cols + eps));
    }
    for (int i = threadIdx.x; i < cols; i += blockDim.x) xs[i] = norm ? x[i] * norm[i] : x[i];
    __syncthreads();
    return scale;
}

// y = W·x (+ bias) for up to three matrices of cols columns and one type that multiply the same
// vector (q, k and v; or one matrix, with rows1 = rows2 = 0), RMSNorm of x first when norm is
// not null; y += instead of = when accumulate (the residual stream). Launch with MV_WARPS·32
// threads, enough blocks for ceil(rows_i / MV_ROWS) warps of each matrix, 4·cols bytes of
// shared memory.
extern "C" __global__ void matvec(int type, int cols, const float* x, const float* norm, float eps, int accumulate,
                                  const void* w0, const float* b0, float* y0, int rows0,
                                  const void* w1, const float* b1, float* y1, int rows1,
                                  const void* w2, const float* b2, float* y2, int rows2) {
    await_previous_kernel();
    float* xs = dynamic_shared;
    float scale = stage_vector(x, norm, eps, cols, xs);
    int warp = blockIdx.x * MV_WARPS + threadIdx.x / 32;
    int warps0 = (rows0 + MV_ROWS - 1) / MV_ROWS, warps1 = (rows1 + MV_ROWS - 1) / MV_ROWS;
    const void* w = w0; const float* b = b0; float* y = y0; int rows = rows0;
    if (warp >= warps0) {
        warp -= warps0;
        w = w1; b = b1; y = y1; rows = rows1;
        if (warp >= warps1) {
            warp -= warps1;
            w = w2; b = b2; y = y2; rows = rows2;
        }
    }
    long row = (long) warp * MV_ROWS;
    if (row >= rows) return;
    int count = min(MV_ROWS, rows - (int) row);
    float acc[MV_ROWS];
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) acc[r] = 0.f;
    dot_rows_of(type, w, row, 1, count, cols, xs, acc);
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) acc[r] = warp_sum(acc[r]);
    if (threadIdx.x % 32 == 0) {
        for (int r = 0; r < count; r++) {
            float v = acc[r] * scale + (b ? b[row + r] : 0.f);
            y[row + r] = accumulate ? y[row + r] + v : v;
        }
    }
}

// y = silu(gate·x̂) · (up·x̂), x̂ the RMSNorm of x: the feed-forward's first half in one launch.
// Launch as matvec, with ceil(rows / MV_ROWS) warps.
extern "C" __global__ void matvec_gated(int type, int cols, const float* x, const float* norm, float eps,
                                        const void* gate, const void* up, float* y, int rows) {
    await_previous_kernel();
    float* xs = dynamic_shared;
    float scale = stage_vector(x, norm, eps, cols, xs);
    long row = (long) (blockIdx.x * MV_WARPS + threadIdx.x / 32) * MV_ROWS;
    if (row >= rows) return;
    int count = min(MV_ROWS, rows - (int) row);
    float g[MV_ROWS], u[MV_ROWS];
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) g[r] = u[r] = 0.f;
    dot_rows_of(type, gate, row, 1, count, cols, xs, g);
    dot_rows_of(type, up, row, 1, count, cols, xs, u);
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) {
        g[r] = warp_sum(g[r]) * scale;
        u[r] = warp_sum(u[r]) * scale;
    }
    if (threadIdx.x % 32 == 0) {
        for (int r = 0; r < count; r++) y[row + r] = (float) (g[r] / (1.0 + exp((double) -g[r]))) * u[r];
    }
}

// Pair i (< head_dim / 2) of a head's dims for one token's RoPE: for i < dims/2 the two dims
// rotated together, (i, i + dims/2) for NeoX or (2i, 2i + 1), and true; past the rotated dims,
// (dims + 2(i - dims/2), + 1) to be copied as they are, and false.
__device__ __forceinline__ bool rope_pair(int i, int dims, int neox, int* a, int* b) {
    int half = dims / 2;
    if (i < half) {
        *a = neox ? i : 2 * i;
        *b = neox ? i + half : 2 * i + 1;
        return true;
    }
    *a = dims + 2 * (i - half);
    *b = *a + 1;
    return false;
}

// (x0, x1) rotated by the angle whose cosine and sine are c and s.
__device__ __forceinline__ void rotate(float* x0, float* x1, float c, float s) {
    float r0 = *x0 * c - *x1 * s, r1 = *x0 * s + *x1 * c;
    *x0 = r0;
    *x1 = r1;
}

// matvec and rope_store in one launch, for a token's q, k and v of one type (no q/k norms between
// them): a warp computes the two rows of a rotation pair, (i, i + dims/2) for NeoX or (2i, 2i + 1),
// rotates them, and writes the query into q and the key and value into the cache row *base_ptr.
// Pairs past the rotated dims, and all of v's, are (2i, 2i + 1) as they are. Warps take the query
// heads' pairs, then the key heads', then the value heads'.
extern "C" __global__ void matvec_qkv_rope(int type, int cols, const float* x, const float* norm, float eps,
                                           const void* wq, const float* bq, const void* wk, const float* bk,
                                           const void* wv, const float* bv, int heads, int kv_heads, int head_dim, int dims,
                                           int neox, const float* cos_t, const float* sin_t, float* q,
                                           float* cache_k, float* cache_v, const int* base_ptr) {
    await_previous_kernel();
    float* xs = dynamic_shared;
    float scale = stage_vector(x, norm, eps, cols, xs);
    int pairs = head_dim / 2;
    int pair = blockIdx.x * MV_WARPS + threadIdx.x / 32;
    int head = pair / pairs, i = pair % pairs;
    if (head >= heads + 2 * kv_heads) return;
    int kind = head < heads ? 0 : head < heads + kv_heads ? 1 : 2;       // q, k, v
    int h = kind == 0 ? head : kind == 1 ? head - heads : head - heads - kv_heads;
    const void* w = kind == 0 ? wq : kind == 1 ? wk : wv;
    const float* bias = kind == 0 ? bq : kind == 1 ? bk : bv;
    int a = 2 * i, b = 2 * i + 1;                                        // a value pair
    bool rotated = kind < 2 && rope_pair(i, dims, neox, &a, &b);
    float acc[MV_ROWS] = {0.f, 0.f};
    dot_rows_of(type, w, (long) h * head_dim + a, b - a, 2, cols, xs, acc);
    acc[0] = warp_sum(acc[0]);
    acc[1] = warp_sum(acc[1]);
    if (threadIdx.x % 32 != 0) return;
    long at = (long) h * head_dim;
    float x0 = acc[0] * scale + (bias ? bias[at + a] : 0.f), x1 = acc[1] * scale + (bias ? bias[at + b] : 0.f);
    if (rotated) rotate(&x0, &x1, cos_t[i], sin_t[i]);
    float* dst = kind == 0 ? q + at : (kind == 1 ? cache_k : cache_v) + (long) *base_ptr * kv_heads * head_dim + at;
    dst[a] = x0;
    dst[b] = x1;
}

// One token's RoPE and cache store: its query heads rotated in place, its key heads rotated
// into the cache row *base_ptr, its values copied there. A thread per (head, pair of dims),
// the query heads first: pair i < dims/2 is rotated as the rope kernel does, the pairs past
// the rotated dims are copied as they are.
extern "C" __global__ void rope_store(float* q, const float* k, const float* v, const float* cos_t, const float* sin_t,
                                      int heads, int kv_heads, int head_dim, int dims, int neox,
                                      float* cache_k, float* cache_v, const int* base_ptr) {
    await_previous_kernel();
    int pairs = head_dim / 2;
    int id = blockIdx.x * blockDim.x + threadIdx.x;
    if (id >= (heads + kv_heads) * pairs) return;
    int head = id / pairs, i = id % pairs;
    bool query = head < heads;
    long cache_row = (long) *base_ptr * kv_heads * head_dim + (long) (head - heads) * head_dim;
    const float* src = query ? q + (long) head * head_dim : k + (long) (head - heads) * head_dim;
    float* dst = query ? q + (long) head * head_dim : cache_k + cache_row;
    int a, b;
    bool rotated = rope_pair(i, dims, neox, &a, &b);
    float x0 = src[a], x1 = src[b];
    if (rotated) rotate(&x0, &x1, cos_t[i], sin_t[i]);
    dst[a] = x0;
    dst[b] = x1;
    if (!query) {
        const float* vs = v + (long) (head - heads) * head_dim;
        cache_v[cache_row + 2 * i] = vs[2 * i];
        cache_v[cache_row + 2 * i + 1] = vs[2 * i + 1];
    }
}

// ---- attention -------------------------------------------------------------------------------
//
// New token t (of n, the batch) attends to C context keys (a plan's placed segments, all
// visible) and, causally, to the live keys 0 .. base + t. Query head h reads key/value head
// h / group. When ape != 0, context keys flagged as window keys get APE's score
// s/T + ln S + (T - 1)·LSE_window(s/T). Softmax is online (running max and sum), in float.

#define MAX_DIMS_PER_LANE 8      // head_dim <= 256 in the row kernel
#define ROW_WARPS 8

struct Keys {
    const float* ctx_k; const float* ctx_v; const u8* window; int c;
    const float* live_k; const float* live_v;
    int kv_dim;
    __device__ __forceinline__ const float* k(int j) const {
        return j < c ? ctx_k + (long) j * kv_dim : live_k + (long) (j - c) * kv_dim;
    }
    __device__ __forceinline__ const float* v(int j) const {
        return j < c ? ctx_v + (long) j * kv_dim : live_v + (long) (j - c) * kv_dim;
    }
    __device__ __forceinline__ bool is_window(int j) const { return j < c && window[j]; }
};

// Merges running softmax states (m, l) of two parts; returns the factors for each part's sums.
__device__ __forceinline__ void merge(float m_a, float m_b, float* m, float* fa, float* fb) {
    *m = fmaxf(m_a, m_b);
    *fa = m_a == NEG_INF ? 0.f : expf(m_a - *m);
    *fb = m_b == NEG_INF ? 0.f : expf(m_b - *m);
}

// One block of ROW_WARPS warps per (token, query head); lanes own dims lane + 32i; each warp
// walks every ROW_WARPS-th key with its own softmax state, then the warps are merged. The live
// rows before the batch are read from device memory (*base_ptr), so a captured decode step
// (a CUDA graph) stays valid as the cache grows.
extern "C" __global__ void attention_rows(const float* q, int n, int heads, int kv_heads, int head_dim, float scale,
                                          const float* ctx_k, const float* ctx_v, const u8* window, int c,
                                          const float* live_k, const float* live_v, const int* base_ptr,
                                          int ape, float ape_t, float ape_ln_s, float* out) {
    await_previous_kernel();
    int base = *base_ptr;
    int t = blockIdx.x / heads, h = blockIdx.x % heads;
    int group = heads / kv_heads;
    int kv_off = (h / group) * head_dim;
    Keys keys = {ctx_k, ctx_v, window, c, live_k, live_v, kv_heads * head_dim};
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const float* qh = q + ((long) t * heads + h) * head_dim;
    float qr[MAX_DIMS_PER_LANE];
#pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) {
        int d = lane + 32 * i;
        qr[i] = d < head_dim ? qh[d] : 0.f;
    }
    int visible = c + base + t + 1;
    __shared__ float sm_m[ROW_WARPS], sm_l[ROW_WARPS];
    __shared__ float sm_acc[ROW_WARPS][32 * MAX_DIMS_PER_LANE];

    // APE: the log-sum-exp of the window keys' scores / T, over all warps.
    float shift = 0.f;
    if (ape) {
        float m = NEG_INF, l = 0.f;
        for (int j = warp; j < c; j += ROW_WARPS) {
            if (!keys.is_window(j)) continue;
            const float* k = keys.k(j) + kv_off;
            float s = 0.f;
        #pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) { int d = lane + 32 * i; if (d < head_dim) s += qr[i] * k[d]; }
            s = warp_sum(s) * scale / ape_t;
            float mn, fa, fb;
            merge(m, s, &mn, &fa, &fb);
            l = l * fa + fb;
            m = mn;
        }
        if (lane == 0) { sm_m[warp] = m; sm_l[warp] = l; }
        __syncthreads();
        float M = NEG_INF, L = 0.f;
        for (int w = 0; w < ROW_WARPS; w++) {
            float mn, fa, fb;
            merge(M, sm_m[w], &mn, &fa, &fb);
            L = L * fa + sm_l[w] * fb;
            M = mn;
        }
        if (M != NEG_INF) shift = ape_ln_s + (ape_t - 1.f) * (M + logf(L));
        __syncthreads();
    }

    float m = NEG_INF, l = 0.f;
    float acc[MAX_DIMS_PER_LANE];
#pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) acc[i] = 0.f;
    for (int j = warp; j < visible; j += ROW_WARPS) {
        const float* k = keys.k(j) + kv_off;
        float s = 0.f;
    #pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) { int d = lane + 32 * i; if (d < head_dim) s += qr[i] * k[d]; }
        s = warp_sum(s) * scale;
        if (ape && keys.is_window(j)) s = s / ape_t + shift;
        float mn, fa, fb;
        merge(m, s, &mn, &fa, &fb);
        l = l * fa + fb;
        const float* v = keys.v(j) + kv_off;
    #pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) { int d = lane + 32 * i; acc[i] = acc[i] * fa + (d < head_dim ? fb * v[d] : 0.f); }
        m = mn;
    }
    if (lane == 0) { sm_m[warp] = m; sm_l[warp] = l; }
#pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) sm_acc[warp][lane + 32 * i] = acc[i];
    __syncthreads();
    if (warp == 0) {
        float M = NEG_INF;
        for (int w = 0; w < ROW_WARPS; w++) M = fmaxf(M, sm_m[w]);
        float L = 0.f;
        float f[ROW_WARPS];
        for (int w = 0; w < ROW_WARPS; w++) { f[w] = sm_m[w] == NEG_INF ? 0.f : expf(sm_m[w] - M); L += sm_l[w] * f[w]; }
        float* o = out + ((long) t * heads + h) * head_dim;
    #pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d >= head_dim) continue;
            float a = 0.f;
            for (int w = 0; w < ROW_WARPS; w++) a += sm_acc[w][d] * f[w];
            o[d] = a / L;
        }
    }
}

// Split-K attention of a few tokens over a long context (a decode step, or a question after its
// windows): each token's visible keys are cut into gridDim.y splits, a block of SPLIT_WARPS
// warps per (token, query head, split), blockIdx.x = token · heads + head; attention_merge
// combines the splits' softmax states. In a warp each lane scores a key of its own over the
// whole head, so a warp scores 32 keys where attention_rows' warps score one; the values are
// then summed with the lanes owning dims, each key's weight passed round by a shuffle. With APE,
// window keys (score s/T) and the others are kept as two states: the window's shift,
// ln S + (T - 1)·LSE, needs every window key's score, and the merge has them all.
#define SPLIT_WARPS 4
#define MAX_HEAD_DIM 256
#define SPLIT_STATE(head_dim) (4 + 2 * (head_dim))   // floats per (head, split): m, l of both kinds, then their sums

extern "C" __global__ void attention_split(const float* q, int heads, int kv_heads, int head_dim, float scale,
                                           const float* ctx_k, const float* ctx_v, const u8* window, int c,
                                           const float* live_k, const float* live_v, const int* base_ptr,
                                           int ape, float ape_t, float* partial) {
    await_previous_kernel();
    int row = blockIdx.x, t = row / heads, h = row % heads, split = blockIdx.y, splits = gridDim.y;
    int kv_off = (h / (heads / kv_heads)) * head_dim;
    Keys keys = {ctx_k, ctx_v, window, c, live_k, live_v, kv_heads * head_dim};
    int visible = c + *base_ptr + t + 1;
    int chunk = (visible + splits - 1) / splits;
    int from = split * chunk, to = min(visible, from + chunk);
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __shared__ float qs[MAX_HEAD_DIM];
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) qs[d] = q[(long) row * head_dim + d];
    __syncthreads();

    float m[2] = {NEG_INF, NEG_INF}, l[2] = {0.f, 0.f};     // kind 0: other keys, 1: window keys under APE
    float acc[2][MAX_DIMS_PER_LANE];
#pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) acc[0][i] = acc[1][i] = 0.f;
    for (int j0 = from + warp * 32; j0 < to; j0 += SPLIT_WARPS * 32) {
        int j = j0 + lane, kind = 0;
        float s = NEG_INF;
        if (j < to) {
            const float* k = keys.k(j) + kv_off;
            float dot = 0.f;
            if (head_dim % 4 == 0) {                            // rows then start 16-byte aligned
                for (int d = 0; d < head_dim; d += 4) {
                    u32x4 kv = load16(k + d);
                    dot += qs[d] * __uint_as_float(kv.x) + qs[d + 1] * __uint_as_float(kv.y)
                         + qs[d + 2] * __uint_as_float(kv.z) + qs[d + 3] * __uint_as_float(kv.w);
                }
            } else {
                for (int d = 0; d < head_dim; d++) dot += qs[d] * k[d];
            }
            s = dot * scale;
            if (ape && keys.is_window(j)) {
                s /= ape_t;
                kind = 1;
            }
        }
        for (int kd = 0; kd < (ape ? 2 : 1); kd++) {
            float mine = kind == kd ? s : NEG_INF;
            float tile_max = mine;
            for (int o = 16; o > 0; o >>= 1) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffff, tile_max, o));
            if (tile_max == NEG_INF) continue;                  // the same in every lane
            float m_new = fmaxf(m[kd], tile_max);
            float alpha = m[kd] == NEG_INF ? 0.f : expf(m[kd] - m_new);
            float p = mine == NEG_INF ? 0.f : expf(mine - m_new);
            l[kd] = l[kd] * alpha + warp_sum(p);
#pragma unroll
            for (int i = 0; i < MAX_DIMS_PER_LANE; i++) acc[kd][i] *= alpha;
            int count = min(32, to - j0);
            for (int jj = 0; jj < count; jj++) {
                float pj = __shfl_sync(0xffffffff, p, jj);
                if (pj == 0.f) continue;                        // the same in every lane
                const float* v = keys.v(j0 + jj) + kv_off;
#pragma unroll
                for (int i = 0; i < MAX_DIMS_PER_LANE; i++) {
                    int d = lane + 32 * i;
                    if (d < head_dim) acc[kd][i] += pj * v[d];
                }
            }
            m[kd] = m_new;
        }
    }

    // The block's warps merged into the split's state.
    __shared__ float sm_ml[SPLIT_WARPS][4];
    __shared__ float sm_acc[SPLIT_WARPS][2][MAX_HEAD_DIM];
    if (lane == 0) {
        sm_ml[warp][0] = m[0]; sm_ml[warp][1] = l[0]; sm_ml[warp][2] = m[1]; sm_ml[warp][3] = l[1];
    }
#pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; i++) {
        int d = lane + 32 * i;
        if (d < head_dim) { sm_acc[warp][0][d] = acc[0][i]; sm_acc[warp][1][d] = acc[1][i]; }
    }
    __syncthreads();
    float* state = partial + ((long) row * splits + split) * SPLIT_STATE(head_dim);
    for (int kd = 0; kd < 2; kd++) {
        float M = NEG_INF, L = 0.f;
        for (int w = 0; w < SPLIT_WARPS; w++) M = fmaxf(M, sm_ml[w][2 * kd]);
        float f[SPLIT_WARPS];
        for (int w = 0; w < SPLIT_WARPS; w++) {
            f[w] = sm_ml[w][2 * kd] == NEG_INF ? 0.f : expf(sm_ml[w][2 * kd] - M);
            L += sm_ml[w][2 * kd + 1] * f[w];
        }
        if (threadIdx.x == 0) { state[2 * kd] = M; state[2 * kd + 1] = L; }
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
            float a = 0.f;
            for (int w = 0; w < SPLIT_WARPS; w++) a += sm_acc[w][kd][d] * f[w];
            state[4 + kd * head_dim + d] = a;
        }
    }
}

// The splits' states of each (token, query head) combined, one block each (blockIdx.x = token ·
// heads + head): each kind's state over all splits, then APE's shift from the window keys'
// combined state, then one softmax of both.
extern "C" __global__ void attention_merge(const float* partial, int head_dim, int splits, int ape, float ape_t,
                                           float ape_ln_s, float* out) {
    await_previous_kernel();
    int row = blockIdx.x;
    const float* states = partial + (long) row * splits * SPLIT_STATE(head_dim);
    float M[2], L[2];
    for (int kd = 0; kd < 2; kd++) {
        M[kd] = NEG_INF;
        L[kd] = 0.f;
        for (int sp = 0; sp < splits; sp++) M[kd] = fmaxf(M[kd], states[sp * SPLIT_STATE(head_dim) + 2 * kd]);
        for (int sp = 0; sp < splits; sp++) {
            const float* st = states + sp * SPLIT_STATE(head_dim);
            if (st[2 * kd] != NEG_INF) L[kd] += st[2 * kd + 1] * expf(st[2 * kd] - M[kd]);
        }
    }
    float shift = ape && M[1] != NEG_INF ? ape_ln_s + (ape_t - 1.f) * (M[1] + logf(L[1])) : 0.f;
    float window_max = M[1] == NEG_INF ? NEG_INF : M[1] + shift;
    float top = fmaxf(M[0], window_max);
    float f0 = M[0] == NEG_INF ? 0.f : expf(M[0] - top), f1 = window_max == NEG_INF ? 0.f : expf(window_max - top);
    float total = L[0] * f0 + L[1] * f1;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float a = 0.f;
        for (int sp = 0; sp < splits; sp++) {
            const float* st = states + sp * SPLIT_STATE(head_dim);
            if (st[0] != NEG_INF) a += st[4 + d] * expf(st[0] - M[0]) * f0;
            if (st[2] != NEG_INF) a += st[4 + head_dim + d] * expf(st[2] - M[1]) * f1;
        }
        out[(long) row * head_dim + d] = a / total;
    }
}

// Tiled attention for a batch (prefill): a block of 128 threads serves TILE_Q = 32 consecutive
// tokens of one query head, four threads per token, each owning dims sub + 4i; keys and values
// pass through shared memory TILE_K at a time, so each is read once per 32 tokens.
#define TILE_Q 32
#define TILE_K 32
#define MAX_TILED_DIM 128

extern "C" __global__ void attention_tiled(const float* q, int n, int heads, int kv_heads, int head_dim, float scale,
                                           const float* ctx_k, const float* ctx_v, const u8* window, int c,
                                           const float* live_k, const float* live_v, int base,
                                           int ape, float ape_t, float ape_ln_s, float* out) {
    await_previous_kernel();
    int h = blockIdx.y;
    int t0 = blockIdx.x * TILE_Q;
    int group = heads / kv_heads;
    int kv_off = (h / group) * head_dim;
    Keys keys = {ctx_k, ctx_v, window, c, live_k, live_v, kv_heads * head_dim};
    int tq = threadIdx.x / 4, sub = threadIdx.x % 4;
    int t = t0 + tq;
    bool active = t < n;
    int per = head_dim / 4;                     // dims per thread, head_dim % 4 == 0
    float qr[MAX_TILED_DIM / 4], acc[MAX_TILED_DIM / 4];
    const float* qh = q + ((long) (active ? t : 0) * heads + h) * head_dim;
#pragma unroll
    for (int i = 0; i < MAX_TILED_DIM / 4; i++) {
        qr[i] = i < per && active ? qh[sub + 4 * i] : 0.f;
        acc[i] = 0.f;
    }
    int visible = active ? c + base + t + 1 : 0;
    int last = min(n - 1, t0 + TILE_Q - 1);
    int block_keys = c + base + last + 1;       // the most any token of this block sees

    __shared__ float ks[TILE_K][MAX_TILED_DIM];
    __shared__ float vs[TILE_K][MAX_TILED_DIM];

    float shift = 0.f;
    if (ape) {
        float m = NEG_INF, l = 0.f;
        for (int j0 = 0; j0 < c; j0 += TILE_K) {
            __syncthreads();
            for (int e = threadIdx.x; e < TILE_K * head_dim; e += blockDim.x) {
                int r = e / head_dim, d = e % head_dim;
                ks[r][d] = j0 + r < c ? keys.k(j0 + r)[kv_off + d] : 0.f;
            }
            __syncthreads();
            for (int r = 0; r < TILE_K && j0 + r < c; r++) {
                float s = 0.f;
                #pragma unroll
                for (int i = 0; i < MAX_TILED_DIM / 4; i++) if (i < per) s += qr[i] * ks[r][sub + 4 * i];
                s += __shfl_xor_sync(0xffffffff, s, 1);
                s += __shfl_xor_sync(0xffffffff, s, 2);
                if (!keys.is_window(j0 + r)) continue;
                s = s * scale / ape_t;
                float mn, fa, fb;
                merge(m, s, &mn, &fa, &fb);
                l = l * fa + fb;
                m = mn;
            }
        }
        if (m != NEG_INF) shift = ape_ln_s + (ape_t - 1.f) * (m + logf(l));
    }

    float m = NEG_INF, l = 0.f;
    for (int j0 = 0; j0 < block_keys; j0 += TILE_K) {
        __syncthreads();
        for (int e = threadIdx.x; e < TILE_K * head_dim; e += blockDim.x) {
            int r = e / head_dim, d = e % head_dim;
            bool in = j0 + r < block_keys;
            ks[r][d] = in ? keys.k(j0 + r)[kv_off + d] : 0.f;
            vs[r][d] = in ? keys.v(j0 + r)[kv_off + d] : 0.f;
        }
        __syncthreads();
        int rows = min(TILE_K, block_keys - j0);
        for (int r = 0; r < rows; r++) {
            float s = 0.f;
            #pragma unroll
                for (int i = 0; i < MAX_TILED_DIM / 4; i++) if (i < per) s += qr[i] * ks[r][sub + 4 * i];
            s += __shfl_xor_sync(0xffffffff, s, 1);
            s += __shfl_xor_sync(0xffffffff, s, 2);
            int j = j0 + r;
            if (j >= visible) continue;
            s *= scale;
            if (ape && keys.is_window(j)) s = s / ape_t + shift;
            float mn, fa, fb;
            merge(m, s, &mn, &fa, &fb);
            l = l * fa + fb;
            #pragma unroll
            for (int i = 0; i < MAX_TILED_DIM / 4; i++) if (i < per) acc[i] = acc[i] * fa + fb * vs[r][sub + 4 * i];
            m = mn;
        }
    }
    if (active) {
        float* o = out + ((long) t * heads + h) * head_dim;
        #pragma unroll
        for (int i = 0; i < MAX_TILED_DIM / 4; i++) if (i < per) o[sub + 4 * i] = acc[i] / l;
    }
}

// Softmax of attention scores computed by cuBLAS (the batched path for long batches): rows of
// `keys` scores, one matrix of `rows` rows per query head (head h at s + h*rows*keys); row t
// (token first + t of the batch) sees the c context keys and live keys 0 .. base + first + t.
// Scores are scaled, APE applied to window keys, softmaxed in place; invisible keys get 0 so
// the value product that follows ignores them. One block of 256 threads per (head, row).
__device__ float block_reduce(float v, bool is_max, float* shared) {
    for (int o = 16; o > 0; o >>= 1) {
        float other = __shfl_xor_sync(0xffffffff, v, o);
        v = is_max ? fmaxf(v, other) : v + other;
    }
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float r = is_max ? NEG_INF : 0.f;
    for (int w = 0; w < blockDim.x / 32; w++) r = is_max ? fmaxf(r, shared[w]) : r + shared[w];
    return r;
}

extern "C" __global__ void softmax_scores(float* s, int rows, int keys, int c, int base, int first, float scale,
                                          const u8* window, int ape, float ape_t, float ape_ln_s) {
    await_previous_kernel();
    int h = blockIdx.x / rows, t = blockIdx.x % rows;
    float* row = s + ((long) h * rows + t) * keys;
    int visible = c + base + first + t + 1;
    __shared__ float shared[32];
    float shift = 0.f;
    if (ape) {
        float m = NEG_INF;
        for (int j = threadIdx.x; j < c; j += blockDim.x) if (window[j]) m = fmaxf(m, row[j] * scale / ape_t);
        m = block_reduce(m, true, shared);
        if (m != NEG_INF) {
            float l = 0.f;
            for (int j = threadIdx.x; j < c; j += blockDim.x) if (window[j]) l += expf(row[j] * scale / ape_t - m);
            l = block_reduce(l, false, shared);
            shift = ape_ln_s + (ape_t - 1.f) * (m + logf(l));
        }
    }
    // One pass for the maximum and the sum (each thread's running pair, merged across the
    // block), one to write: the scores are read twice and written once.
    float m = NEG_INF, l = 0.f;
    for (int j = threadIdx.x; j < visible; j += blockDim.x) {
        float x = row[j] * scale;
        if (ape && j < c && window[j]) x = x / ape_t + shift;
        float mn, fa, fb;
        merge(m, x, &mn, &fa, &fb);
        l = l * fa + fb;
        m = mn;
    }
    float block_max = block_reduce(m, true, shared);
    l = block_reduce(m == NEG_INF ? 0.f : l * expf(m - block_max), false, shared);
    float inv = 1.f / l;
    for (int j = threadIdx.x; j < keys; j += blockDim.x) {
        float p = 0.f;
        if (j < visible) {
            float x = row[j] * scale;
            if (ape && j < c && window[j]) x = x / ape_t + shift;
            p = expf(x - block_max) * inv;
        }
        row[j] = p;
    }
}

// ---- flash attention on the tensor cores (long batches, no APE) -------------------------------
//
// FlashAttention-2's forward pass with mma.sync m16n8k16 (F16 operands, F32 accumulation): a
// block of 4 warps serves 64 consecutive tokens of one query head, 16 rows per warp. Key and
// value tiles of 64 rows pass through shared memory as F16 (values transposed, so both products
// read 32-bit pairs); scores stay in registers, the softmax is online, and the score fragments
// become the A operand of the value product directly. Same visibility as the other attention
// kernels: c context keys, then live keys 0 .. base + t.
//
// The keys and values are staged once a layer by stage_kv_f16: the context's and the live ones
// in one F16 array of keys and one of values transposed, padded with zeros to whole tiles. A
// tile is then 16-byte copies into shared memory; converting and transposing the float cache
// inside the tile loop (one value a thread) made the first version slower than cuBLAS.

#define FA_ROWS 64
#define FA_KEYS 64
#define STAGE_TILE 32

// k16[j][i] = keys[j][i] and vt16[i][j] = values[j][i] as F16 for the `keys` keys (the c context
// keys, then the live ones), zero for j up to `padded`; i < kv_dim. Blocks of 32 × 8 threads
// take 32 keys × 32 dims, transposing through shared memory so that both writes are coalesced.
extern "C" __global__ void stage_kv_f16(const float* ctx_k, const float* ctx_v, int c, const float* live_k, const float* live_v,
                                        int keys, int padded, int kv_dim, u16* k16, u16* vt16) {
    await_previous_kernel();
    __shared__ float tile[STAGE_TILE][STAGE_TILE + 1];
    Keys kv = {ctx_k, ctx_v, 0, c, live_k, live_v, kv_dim};
    int j0 = blockIdx.x * STAGE_TILE, i0 = blockIdx.y * STAGE_TILE;
    int tx = threadIdx.x % STAGE_TILE, ty = threadIdx.x / STAGE_TILE;
    for (int r = ty; r < STAGE_TILE; r += blockDim.x / STAGE_TILE) {
        int j = j0 + r, i = i0 + tx;
        bool in = j < keys;
        k16[(long) j * kv_dim + i] = f32_to_f16(in ? kv.k(j)[i] : 0.f);
        tile[r][tx] = in ? kv.v(j)[i] : 0.f;
    }
    __syncthreads();
    for (int r = ty; r < STAGE_TILE; r += blockDim.x / STAGE_TILE) {
        vt16[(long) (i0 + r) * padded + j0 + tx] = f32_to_f16(tile[tx][r]);
    }
}

__device__ __forceinline__ u32 pack_half2(float lo, float hi) {
    return (u32) f32_to_f16(lo) | ((u32) f32_to_f16(hi) << 16);
}

// m16n8k16 exists from compute capability 8.0 (the backend uses these kernels only there); older
// targets compile a stub so that the module still loads.
#ifndef PCW_CPU_EMULATION
__device__ __forceinline__ void mma_16816(float* d, const u32* a, u32 b0, u32 b1) {
#if __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
    __trap();
#endif
}
#endif

template <int D>
__device__ void flash_attention(const float* q, int n, int heads, int kv_heads, float scale,
                                const u16* k16, const u16* vt16, int padded, int c, int base, float* out) {
    const int KS = D + 8;           // padded row of the key tile, in halves: conflict-free pair reads
    const int VS = FA_KEYS + 8;     // padded row of the transposed value tile
    alignas(16) __shared__ u16 ks[FA_KEYS * (D + 8)];
    alignas(16) __shared__ u16 vt[D * (FA_KEYS + 8)];

    int h = blockIdx.y, group = heads / kv_heads, kv_off = (h / group) * D, kv_dim = kv_heads * D;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;
    int row0 = blockIdx.x * FA_ROWS + warp * 16;       // this warp's first token
    int rows[2] = {row0 + g, row0 + g + 8};
    int visible[2];
    for (int i = 0; i < 2; i++) visible[i] = rows[i] < n ? c + base + rows[i] + 1 : 0;
    int last = min(n - 1, (int) blockIdx.x * FA_ROWS + FA_ROWS - 1);
    int block_keys = c + base + last + 1;

    // This warp's queries as A fragments, one per 16 dimensions.
    u32 qa[D / 16][4];
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
#pragma unroll
        for (int r = 0; r < 4; r++) {
            int row = rows[r & 1];
            int col = kk * 16 + (r >> 1) * 8 + tq * 2;
            const float* src = q + ((long) row * heads + h) * D + col;
            qa[kk][r] = row < n ? pack_half2(src[0], src[1]) : 0u;
        }
    }

    float o[D / 8][4];
#pragma unroll
    for (int i = 0; i < D / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
    float m[2] = {NEG_INF, NEG_INF}, l[2] = {0.f, 0.f};

    for (int j0 = 0; j0 < block_keys; j0 += FA_KEYS) {
        __syncthreads();
        // 8 halves a copy: key rows j0.. of this head's dims, value rows (dims) of keys j0..
        for (int e = threadIdx.x; e < FA_KEYS * D / 8; e += blockDim.x) {
            int r = e / (D / 8), d = e % (D / 8) * 8;
            store16(ks + r * KS + d, load16(k16 + (long) (j0 + r) * kv_dim + kv_off + d));
        }
        for (int e = threadIdx.x; e < D * FA_KEYS / 8; e += blockDim.x) {
            int d = e / (FA_KEYS / 8), r = e % (FA_KEYS / 8) * 8;
            store16(vt + d * VS + r, load16(vt16 + (long) (kv_off + d) * padded + j0 + r));
        }
        __syncthreads();

        float s[FA_KEYS / 8][4];
#pragma unroll
        for (int nt = 0; nt < FA_KEYS / 8; nt++) {
            s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++) {
                const u16* kr = ks + (nt * 8 + g) * KS + kk * 16 + tq * 2;
                mma_16816(s[nt], qa[kk], *(const u32*) kr, *(const u32*) (kr + 8));
            }
        }
        // Scale, mask, and the online softmax of rows g (i = 0) and g + 8 (i = 1).
        float tile_max[2] = {NEG_INF, NEG_INF};
#pragma unroll
        for (int nt = 0; nt < FA_KEYS / 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int i = e >> 1, key = j0 + nt * 8 + tq * 2 + (e & 1);
                float x = key < visible[i] ? s[nt][e] * scale : NEG_INF;
                s[nt][e] = x;
                tile_max[i] = fmaxf(tile_max[i], x);
            }
        }
        float alpha[2];
#pragma unroll
        for (int i = 0; i < 2; i++) {
            tile_max[i] = fmaxf(tile_max[i], __shfl_xor_sync(0xffffffff, tile_max[i], 1));
            tile_max[i] = fmaxf(tile_max[i], __shfl_xor_sync(0xffffffff, tile_max[i], 2));
            float m_new = fmaxf(m[i], tile_max[i]);
            float m_use = m_new == NEG_INF ? 0.f : m_new;
            alpha[i] = expf(m[i] - m_use);
            m[i] = m_new;
            tile_max[i] = m_use;                      // from here on: the exponent's offset
        }
        float row_sum[2] = {0.f, 0.f};
        u32 pa[FA_KEYS / 16][4];
#pragma unroll
        for (int nt = 0; nt < FA_KEYS / 8; nt++) {
            float p0 = expf(s[nt][0] - tile_max[0]), p1 = expf(s[nt][1] - tile_max[0]);
            float p2 = expf(s[nt][2] - tile_max[1]), p3 = expf(s[nt][3] - tile_max[1]);
            row_sum[0] += p0 + p1;
            row_sum[1] += p2 + p3;
            pa[nt / 2][(nt & 1) * 2 + 0] = pack_half2(p0, p1);
            pa[nt / 2][(nt & 1) * 2 + 1] = pack_half2(p2, p3);
        }
#pragma unroll
        for (int i = 0; i < 2; i++) {
            row_sum[i] += __shfl_xor_sync(0xffffffff, row_sum[i], 1);
            row_sum[i] += __shfl_xor_sync(0xffffffff, row_sum[i], 2);
            l[i] = l[i] * alpha[i] + row_sum[i];
        }
#pragma unroll
        for (int nt = 0; nt < D / 8; nt++) {
            o[nt][0] *= alpha[0]; o[nt][1] *= alpha[0];
            o[nt][2] *= alpha[1]; o[nt][3] *= alpha[1];
#pragma unroll
            for (int kk = 0; kk < FA_KEYS / 16; kk++) {
                const u16* vr = vt + (nt * 8 + g) * VS + kk * 16 + tq * 2;
                mma_16816(o[nt], pa[kk], *(const u32*) vr, *(const u32*) (vr + 8));
            }
        }
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (rows[i] >= n) continue;
        float inv = 1.f / l[i];
        float* dst = out + ((long) rows[i] * heads + h) * D;
#pragma unroll
        for (int nt = 0; nt < D / 8; nt++) {
            dst[nt * 8 + tq * 2] = o[nt][i * 2] * inv;
            dst[nt * 8 + tq * 2 + 1] = o[nt][i * 2 + 1] * inv;
        }
    }
}

extern "C" __global__ void flash_attention_64(const float* q, int n, int heads, int kv_heads, float scale,
                                              const u16* k16, const u16* vt16, int padded, int c, int base, float* out) {
    await_previous_kernel();
    flash_attention<64>(q, n, heads, kv_heads, scale, k16, vt16, padded, c, base, out);
}

extern "C" __global__ void flash_attention_128(const float* q, int n, int heads, int kv_heads, float scale,
                                               const u16* k16, const u16* vt16, int padded, int c, int base, float* out) {
    await_previous_kernel();
    flash_attention<128>(q, n, heads, kv_heads, scale, k16, vt16, padded, c, base, out);
}
