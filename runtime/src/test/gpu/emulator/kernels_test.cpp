// Our CUDA kernels (kernels.cu, as shipped) run in the CPU emulator against plain C++ references
// of what each computes. Built and run by KernelEmulationTest; prints a line per check with its
// relative error ‖kernel − reference‖ / ‖reference‖ and exits non-zero when one is over its bound.
#define PCW_CPU_EMULATION
#include "cuda_emulator.h"
#include "kernels.cu"

#include <random>
#include <string>

static int failures = 0;
static std::mt19937 rng(7);

static std::vector<float> random_floats(size_t n, float scale = 1.f) {
    std::normal_distribution<float> d(0.f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

static void check(const std::string& what, const std::vector<float>& got, const std::vector<float>& want, double bound) {
    double diff = 0, norm = 0;
    for (size_t i = 0; i < want.size(); i++) {
        diff += (got[i] - want[i]) * (double) (got[i] - want[i]);
        norm += want[i] * (double) want[i];
    }
    double err = std::sqrt(diff / (norm > 0 ? norm : 1));
    bool ok = got.size() == want.size() && err <= bound && std::isfinite(err);
    std::printf("%-4s %-60s %.2e (bound %.0e)\n", ok ? "ok" : "FAIL", what.c_str(), err, bound);
    if (!ok) failures++;
}

static std::vector<u16> to_f16(const std::vector<float>& v) {
    std::vector<u16> h(v.size());
    for (size_t i = 0; i < v.size(); i++) h[i] = f32_to_f16(v[i]);
    return h;
}

// ---- references ------------------------------------------------------------------------------

static std::vector<float> ref_rms_norm(const std::vector<float>& x, const std::vector<float>& w, int rows, int n, float eps) {
    std::vector<float> out(x.size());
    for (int r = 0; r < rows; r++) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[r * n + i] * x[r * n + i];
        float scale = (float) (1.0 / std::sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[r * n + i] = x[r * n + i] * scale * w[i];
    }
    return out;
}

// Attention of n new tokens over c context keys (window ones flagged) and live keys 0 .. base + t.
struct AttentionCase {
    int n, heads, kv_heads, hd, c, base;
    bool ape;
    float t = 1.6f, ln_s = 0.3f;
    std::vector<float> q, ctx_k, ctx_v, live_k, live_v;
    std::vector<u8> window;
};

static AttentionCase attention_case(int n, int heads, int kv_heads, int hd, int c, int base, bool ape) {
    AttentionCase a{n, heads, kv_heads, hd, c, base, ape};
    int kv = kv_heads * hd;
    a.q = random_floats((size_t) n * heads * hd);
    a.ctx_k = random_floats((size_t) std::max(c, 1) * kv);
    a.ctx_v = random_floats((size_t) std::max(c, 1) * kv);
    a.live_k = random_floats((size_t) (base + n) * kv);
    a.live_v = random_floats((size_t) (base + n) * kv);
    a.window.resize(std::max(c, 1));
    for (int j = 0; j < c; j++) a.window[j] = j % 3 != 0;
    return a;
}

static std::vector<float> ref_attention(const AttentionCase& a) {
    int kv = a.kv_heads * a.hd, group = a.heads / a.kv_heads;
    float scale = 1.f / std::sqrt((float) a.hd);
    std::vector<float> out((size_t) a.n * a.heads * a.hd);
    for (int t = 0; t < a.n; t++) {
        for (int h = 0; h < a.heads; h++) {
            const float* q = &a.q[((size_t) t * a.heads + h) * a.hd];
            int off = (h / group) * a.hd, visible = a.c + a.base + t + 1;
            auto key = [&](int j) { return j < a.c ? &a.ctx_k[(size_t) j * kv + off] : &a.live_k[(size_t) (j - a.c) * kv + off]; };
            auto value = [&](int j) { return j < a.c ? &a.ctx_v[(size_t) j * kv + off] : &a.live_v[(size_t) (j - a.c) * kv + off]; };
            std::vector<double> s(visible);
            for (int j = 0; j < visible; j++) {
                double d = 0;
                for (int i = 0; i < a.hd; i++) d += (double) q[i] * key(j)[i];
                s[j] = d * scale;
            }
            if (a.ape) {
                double m = -INFINITY, l = 0;
                for (int j = 0; j < a.c; j++) if (a.window[j]) m = std::max(m, s[j] / a.t);
                for (int j = 0; j < a.c; j++) if (a.window[j]) l += std::exp(s[j] / a.t - m);
                double shift = a.ln_s + (a.t - 1) * (m + std::log(l));
                for (int j = 0; j < a.c; j++) if (a.window[j]) s[j] = s[j] / a.t + shift;
            }
            double m = -INFINITY, l = 0;
            for (double x : s) m = std::max(m, x);
            for (double& x : s) l += (x = std::exp(x - m));
            for (int i = 0; i < a.hd; i++) {
                double acc = 0;
                for (int j = 0; j < visible; j++) acc += s[j] * value(j)[i];
                out[((size_t) t * a.heads + h) * a.hd + i] = (float) (acc / l);
            }
        }
    }
    return out;
}

// ---- checks of the kernels the H200 ran (they check the emulator as much as the kernels; the flash
// kernel has since changed where its tiles come from, not its products) ------------------------

static void rms_norm_rows() {
    int rows = 3, n = 896;
    auto x = random_floats(rows * n), w = random_floats(n);
    std::vector<float> out(rows * n);
    emu::launch(rms_norm, rows, 256, x.data(), w.data(), 1e-6f, out.data(), n);
    check("rms_norm, 3 rows of 896", out, ref_rms_norm(x, w, rows, n, 1e-6f), 1e-6);
}

static void attention_kernels() {
    for (bool ape : {false, true}) {
        AttentionCase a = attention_case(3, 4, 2, 64, 70, 20, ape);
        std::vector<float> out(a.q.size());
        int base = a.base;
        float scale = 1.f / std::sqrt((float) a.hd);
        emu::launch(attention_rows, a.n * a.heads, 256, a.q.data(), a.n, a.heads, a.kv_heads, a.hd, scale, a.ctx_k.data(),
                    a.ctx_v.data(), a.window.data(), a.c, a.live_k.data(), a.live_v.data(), (const int*) &base, (int) ape, a.t,
                    a.ln_s, out.data());
        check(std::string("attention_rows, 3 tokens after 70 context and 20 live keys") + (ape ? ", APE" : ""), out,
              ref_attention(a), 1e-5);

        AttentionCase b = attention_case(40, 4, 2, 64, 50, 10, ape);
        std::vector<float> tiled(b.q.size());
        emu::launch(attention_tiled, dim3((b.n + TILE_Q - 1) / TILE_Q, b.heads), 128, b.q.data(), b.n, b.heads, b.kv_heads, b.hd,
                    scale, b.ctx_k.data(), b.ctx_v.data(), b.window.data(), b.c, b.live_k.data(), b.live_v.data(), b.base,
                    (int) ape, b.t, b.ln_s, tiled.data());
        check(std::string("attention_tiled, 40 tokens after 50 context and 10 live keys") + (ape ? ", APE" : ""), tiled,
              ref_attention(b), 1e-5);
    }
    for (int hd : {64, 128}) {
        AttentionCase a = attention_case(100, 8, 2, hd, 30, 40, false);
        int kv_dim = a.kv_heads * hd, keys = a.c + a.base + a.n, padded = (keys + FA_KEYS - 1) / FA_KEYS * FA_KEYS;
        std::vector<u16> k16((size_t) padded * kv_dim, 0xffff), vt16((size_t) kv_dim * padded, 0xffff);   // NaN until staged
        emu::launch(stage_kv_f16, dim3(padded / STAGE_TILE, kv_dim / STAGE_TILE), 256, a.ctx_k.data(), a.ctx_v.data(), a.c,
                    a.live_k.data(), a.live_v.data(), keys, padded, kv_dim, k16.data(), vt16.data());
        std::vector<float> staged_k, want_k, staged_v, want_v;
        for (int j = 0; j < padded; j++) {
            for (int i = 0; i < kv_dim; i++) {
                bool in = j < keys;
                const std::vector<float>& k = j < a.c ? a.ctx_k : a.live_k;
                const std::vector<float>& v = j < a.c ? a.ctx_v : a.live_v;
                size_t at = (size_t) (j < a.c ? j : j - a.c) * kv_dim + i;
                staged_k.push_back(f16_to_f32(k16[(size_t) j * kv_dim + i]));
                want_k.push_back(in ? f16_to_f32(f32_to_f16(k[at])) : 0.f);
                staged_v.push_back(f16_to_f32(vt16[(size_t) i * padded + j]));
                want_v.push_back(in ? f16_to_f32(f32_to_f16(v[at])) : 0.f);
            }
        }
        std::string staged = "stage_kv_f16, " + std::to_string(keys) + " keys padded to " + std::to_string(padded) + ", heads of " + std::to_string(hd);
        check(staged + ": keys", staged_k, want_k, 0);
        check(staged + ": values transposed", staged_v, want_v, 0);

        std::vector<float> out(a.q.size());
        float scale = 1.f / std::sqrt((float) hd);
        auto kernel = hd == 64 ? flash_attention_64 : flash_attention_128;
        emu::launch(kernel, dim3((a.n + FA_ROWS - 1) / FA_ROWS, a.heads), 128, a.q.data(), a.n, a.heads, a.kv_heads, scale,
                    (const u16*) k16.data(), (const u16*) vt16.data(), padded, a.c, a.base, out.data());
        check("flash_attention_" + std::to_string(hd) + ", 100 tokens after 30 context and 40 live keys (F16)", out,
              ref_attention(a), 2e-3);
    }
}

static void split_attention() {
    struct Case { int n, hd, c, base, splits; bool ape; };
    for (Case k : {Case{1, 64, 300, 200, 2, false}, Case{1, 64, 300, 200, 5, true}, Case{1, 128, 0, 90, 7, false},
                   Case{1, 30, 40, 3, 16, true}, Case{5, 64, 200, 10, 3, true}}) {
        AttentionCase a = attention_case(k.n, 4, 2, k.hd, k.c, k.base, k.ape);
        int stride = SPLIT_STATE(k.hd), rows = k.n * a.heads;
        std::vector<float> partial((size_t) rows * k.splits * stride), out(a.q.size());
        float scale = 1.f / std::sqrt((float) k.hd);
        emu::launch(attention_split, dim3(rows, k.splits), SPLIT_WARPS * 32, a.q.data(), a.heads, a.kv_heads, k.hd, scale,
                    a.ctx_k.data(), a.ctx_v.data(), a.window.data(), a.c, a.live_k.data(), a.live_v.data(), (const int*) &k.base,
                    (int) k.ape, a.t, partial.data());
        emu::launch(attention_merge, rows, 128, (const float*) partial.data(), k.hd, k.splits, (int) k.ape, a.t, a.ln_s, out.data());
        char what[160];
        std::snprintf(what, sizeof what, "attention_split + merge, %d token(s), heads of %d, %d context and %d live keys in %d splits%s",
                      k.n, k.hd, k.c, k.base + k.n, k.splits, k.ape ? ", APE" : "");
        check(what, out, ref_attention(a), 1e-5);
    }
}

// ---- the decode kernels ----------------------------------------------------------------------

// A matrix in one of the device types (0 F32, 1 F16, 2 BF16) and the floats it holds exactly.
struct Matrix {
    int type, rows, cols;
    std::vector<float> values;
    std::vector<float> f32;
    std::vector<u16> halves;
    const void* data() const { return type == 0 ? (const void*) f32.data() : (const void*) halves.data(); }
};

static Matrix matrix(int type, int rows, int cols) {
    Matrix m{type, rows, cols, random_floats((size_t) rows * cols, 0.1f)};
    if (type == 0) m.f32 = m.values;
    for (float& v : m.values) {
        if (type == 1) { u16 h = f32_to_f16(v); m.halves.push_back(h); v = f16_to_f32(h); }
        if (type == 2) { u16 h = f32_to_bf16(v); m.halves.push_back(h); v = bf16_to_f32(h); }
    }
    return m;
}

static std::vector<float> ref_matvec(const Matrix& m, const std::vector<float>& x, const float* bias) {
    std::vector<float> y(m.rows);
    for (int r = 0; r < m.rows; r++) {
        double s = 0;
        for (int c = 0; c < m.cols; c++) s += (double) m.values[(size_t) r * m.cols + c] * x[c];
        y[r] = (float) s + (bias ? bias[r] : 0.f);
    }
    return y;
}

static int matvec_blocks(std::initializer_list<int> rows) {
    int warps = 0;
    for (int r : rows) warps += (r + MV_ROWS - 1) / MV_ROWS;
    return (warps + MV_WARPS - 1) / MV_WARPS;
}

static void matvec_kernels() {
    const char* names[] = {"F32", "F16", "BF16"};
    for (int type = 0; type < 3; type++) {
        for (int cols : {640, 100}) {      // 16-byte loads (2.5 a lane), and the one-at-a-time path
            std::string shape = std::string(names[type]) + ", " + std::to_string(cols) + " columns";
            // q, k, v after RMSNorm, with biases; odd row counts leave a warp one row.
            Matrix wq = matrix(type, 37, cols), wk = matrix(type, 10, cols), wv = matrix(type, 9, cols);
            auto x = random_floats(cols), norm = random_floats(cols), bq = random_floats(37), bk = random_floats(10),
                 bv = random_floats(9);
            std::vector<float> q(37), k(10), v(9);
            emu::launch(matvec, matvec_blocks({37, 10, 9}), MV_WARPS * 32, type, cols, x.data(), norm.data(), 1e-5f, 0,
                        wq.data(), bq.data(), q.data(), 37, wk.data(), bk.data(), k.data(), 10, wv.data(), bv.data(), v.data(), 9);
            auto xn = ref_rms_norm(x, norm, 1, cols, 1e-5f);
            check("matvec, RMSNorm, q/k/v with biases, " + shape + ": q", q, ref_matvec(wq, xn, bq.data()), 1e-5);
            check("matvec, RMSNorm, q/k/v with biases, " + shape + ": k", k, ref_matvec(wk, xn, bk.data()), 1e-5);
            check("matvec, RMSNorm, q/k/v with biases, " + shape + ": v", v, ref_matvec(wv, xn, bv.data()), 1e-5);

            // One matrix added into the residual stream.
            Matrix wo = matrix(type, 300, cols);
            auto residual = random_floats(300), y = residual, want = ref_matvec(wo, x, nullptr);
            for (int r = 0; r < 300; r++) want[r] += residual[r];
            emu::launch(matvec, matvec_blocks({300}), MV_WARPS * 32, type, cols, x.data(), (const float*) nullptr, 0.f, 1,
                        wo.data(), (const float*) nullptr, y.data(), 300, (const void*) nullptr, (const float*) nullptr,
                        (float*) nullptr, 0, (const void*) nullptr, (const float*) nullptr, (float*) nullptr, 0);
            check("matvec, accumulated into the residual, " + shape, y, want, 1e-5);

            // The gated feed-forward half.
            Matrix gate = matrix(type, 75, cols), up = matrix(type, 75, cols);
            std::vector<float> h(75);
            emu::launch(matvec_gated, matvec_blocks({75}), MV_WARPS * 32, type, cols, x.data(), norm.data(), 1e-5f,
                        gate.data(), up.data(), h.data(), 75);
            auto g = ref_matvec(gate, xn, nullptr), u = ref_matvec(up, xn, nullptr);
            for (int r = 0; r < 75; r++) g[r] = (float) (g[r] / (1.0 + std::exp(-(double) g[r]))) * u[r];
            check("matvec_gated, RMSNorm, silu(gate) * up, " + shape, h, g, 1e-5);
        }
    }
}

// GGUF blocks of a quantized type (the kernels' codes 3..6), random, and their values as ggml's
// dequantize_row_* gives them.
struct QuantMatrix {
    int type, rows, cols;
    std::vector<u8> bytes;
    std::vector<float> values;
};

static float half_at(const u8* p) { return f16_to_f32((u16) (p[0] | (p[1] << 8))); }

static QuantMatrix quant_matrix(int type, int rows, int cols) {
    int block = type <= 4 ? 32 : 256, size = type == 3 ? 34 : type == 4 ? 18 : type == 5 ? 144 : 210;
    QuantMatrix m{type, rows, cols};
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(0.001f, 0.02f);
    long blocks = (long) rows * cols / block;
    m.bytes.resize(blocks * size);
    for (u8& b : m.bytes) b = (u8) byte(rng);
    for (long b = 0; b < blocks; b++) {
        u8* p = &m.bytes[b * size];
        auto put_half = [](u8* at, float v) { u16 h = f32_to_f16(v); at[0] = h & 0xff; at[1] = h >> 8; };
        if (type <= 5) put_half(p, scale(rng));
        if (type == 5) put_half(p + 2, scale(rng));
        if (type == 6) put_half(p + 208, scale(rng));
        float* out = nullptr;
        m.values.resize((b + 1) * block);
        out = &m.values[b * block];
        if (type == 3) {
            for (int j = 0; j < 32; j++) out[j] = half_at(p) * (float) (i8) p[2 + j];
        } else if (type == 4) {
            for (int j = 0; j < 16; j++) {
                out[j] = half_at(p) * (float) ((p[2 + j] & 0xf) - 8);
                out[j + 16] = half_at(p) * (float) ((p[2 + j] >> 4) - 8);
            }
        } else if (type == 5) {
            const u8* sc = p + 4;
            for (int j = 0; j < 4; j++) {
                for (int hi = 0; hi < 2; hi++) {
                    int is = 2 * j + hi, s, mn;
                    if (is < 4) { s = sc[is] & 63; mn = sc[is + 4] & 63; }
                    else { s = (sc[is + 4] & 0xf) | ((sc[is - 4] >> 6) << 4); mn = (sc[is + 4] >> 4) | ((sc[is] >> 6) << 4); }
                    for (int l = 0; l < 32; l++) {
                        u8 q = p[16 + 32 * j + l];
                        out[64 * j + 32 * hi + l] = half_at(p) * s * (float) (hi ? q >> 4 : q & 0xf) - half_at(p + 2) * mn;
                    }
                }
            }
        } else {
            for (int n = 0; n < 2; n++) {
                const u8* ql = p + 64 * n; const u8* qh = p + 128 + 32 * n; const i8* sc = (const i8*) (p + 192 + 8 * n);
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    out[128 * n + l] = half_at(p + 208) * sc[is] * (float) (((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32);
                    out[128 * n + l + 32] = half_at(p + 208) * sc[is + 2] * (float) (((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
                    out[128 * n + l + 64] = half_at(p + 208) * sc[is + 4] * (float) (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                    out[128 * n + l + 96] = half_at(p + 208) * sc[is + 6] * (float) (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                }
            }
        }
    }
    return m;
}

static std::vector<float> ref_matvec(const QuantMatrix& m, const std::vector<float>& x) {
    Matrix plain{0, m.rows, m.cols, m.values};
    return ref_matvec(plain, x, nullptr);
}

static void quantized_kernels() {
    const char* names[] = {"", "", "", "Q8_0", "Q4_0", "Q4_K", "Q6_K"};
    for (int type = 3; type <= 6; type++) {
        int cols = type <= 4 ? 1088 : 768;        // Q8_0/Q4_0: 34 blocks a row (a lane takes two, two lanes none)
        QuantMatrix w = quant_matrix(type, 21, cols);
        std::string name = names[type];

        // The reference's values against the dequant kernels the H200 checked against the host.
        std::vector<u16> halves(w.values.size());
        long blocks = (long) w.values.size() / (type <= 4 ? 32 : 256);
        auto dequant = type == 3 ? dequant_q8_0 : type == 4 ? dequant_q4_0 : type == 5 ? dequant_q4_k : dequant_q6_k;
        emu::launch(dequant, (int) ((blocks + 255) / 256), 256, (const u8*) w.bytes.data(), halves.data(), blocks);
        std::vector<float> dequantized(halves.size());
        for (size_t i = 0; i < halves.size(); i++) dequantized[i] = f16_to_f32(halves[i]);
        check("dequant_" + name + " against the test's reference values (F16 rounding)", dequantized, w.values, 1e-3);

        auto x = random_floats(cols), norm = random_floats(cols), bias = random_floats(21);
        std::vector<float> y(21);
        emu::launch(matvec, matvec_blocks({21}), MV_WARPS * 32, type, cols, x.data(), norm.data(), 1e-5f, 0,
                    (const void*) w.bytes.data(), bias.data(), y.data(), 21, (const void*) nullptr, (const float*) nullptr,
                    (float*) nullptr, 0, (const void*) nullptr, (const float*) nullptr, (float*) nullptr, 0);
        auto xn = ref_rms_norm(x, norm, 1, cols, 1e-5f);
        auto want = ref_matvec(w, xn);
        for (int r = 0; r < 21; r++) want[r] += bias[r];
        check("matvec, RMSNorm, bias, " + name + " blocks read as stored, " + std::to_string(cols) + " columns", y, want, 1e-5);

        QuantMatrix up = quant_matrix(type, 21, cols);
        std::vector<float> h(21);
        emu::launch(matvec_gated, matvec_blocks({21}), MV_WARPS * 32, type, cols, x.data(), norm.data(), 1e-5f,
                    (const void*) w.bytes.data(), (const void*) up.bytes.data(), h.data(), 21);
        auto g = ref_matvec(w, xn), u = ref_matvec(up, xn);
        for (int r = 0; r < 21; r++) g[r] = (float) (g[r] / (1.0 + std::exp(-(double) g[r]))) * u[r];
        check("matvec_gated, " + name, h, g, 1e-5);

        int tokens[] = {20, 0, 7};
        std::vector<float> rows(3 * cols), want_rows;
        emu::launch(embed_rows, 3, 256, (const void*) w.bytes.data(), type, (const int*) tokens, cols, rows.data());
        for (int t : tokens) want_rows.insert(want_rows.end(), w.values.begin() + (long) t * cols, w.values.begin() + (long) (t + 1) * cols);
        check("embed_rows, " + name, rows, want_rows, 1e-6);
    }
}

static void rope_store_kernel() {
    for (int neox : {0, 1}) {
        for (int dims : {16, 12}) {          // every dim rotated, and a partial rotation
            int heads = 4, kv_heads = 2, hd = 16, base = 5, half = dims / 2;
            auto q = random_floats(heads * hd), k = random_floats(kv_heads * hd), v = random_floats(kv_heads * hd);
            auto cos_t = random_floats(half), sin_t = random_floats(half);
            std::vector<float> cache_k((base + 2) * kv_heads * hd, 9.f), cache_v(cache_k);
            std::vector<float> want_q = q, want_k = cache_k, want_v = cache_v;
            auto rotate = [&](const float* src, float* dst) {
                for (int i = 0; i < hd; i++) dst[i] = src[i];
                for (int i = 0; i < half; i++) {
                    int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
                    dst[a] = src[a] * cos_t[i] - src[b] * sin_t[i];
                    dst[b] = src[a] * sin_t[i] + src[b] * cos_t[i];
                }
            };
            for (int h = 0; h < heads; h++) rotate(&q[h * hd], &want_q[h * hd]);
            for (int h = 0; h < kv_heads; h++) {
                rotate(&k[h * hd], &want_k[(base * kv_heads + h) * hd]);
                for (int i = 0; i < hd; i++) want_v[(base * kv_heads + h) * hd + i] = v[h * hd + i];
            }
            int pairs = (heads + kv_heads) * hd / 2;
            emu::launch(rope_store, (pairs + 63) / 64, 64, q.data(), (const float*) k.data(), (const float*) v.data(),
                        (const float*) cos_t.data(), (const float*) sin_t.data(), heads, kv_heads, hd, dims, neox,
                        cache_k.data(), cache_v.data(), (const int*) &base);
            std::string what = std::string("rope_store, ") + (neox ? "NeoX" : "normal") + ", " + std::to_string(dims) + " of 16 dims";
            check(what + ": queries", q, want_q, 1e-6);
            check(what + ": cached keys", cache_k, want_k, 1e-6);
            check(what + ": cached values", cache_v, want_v, 0);
        }
    }
}

// matvec_qkv_rope against matvec's q, k and v (checked above) followed by the reference rotation.
static void qkv_rope_kernel() {
    for (int type : {1, 3}) {
        for (int neox : {0, 1}) {
            for (int dims : {16, 12}) {
                int heads = 4, kv_heads = 2, hd = 16, cols = 256, base = 3, half = dims / 2;
                Matrix wq = matrix(1, heads * hd, cols), wk = matrix(1, kv_heads * hd, cols), wv = matrix(1, kv_heads * hd, cols);
                QuantMatrix qq = quant_matrix(3, heads * hd, cols), qk = quant_matrix(3, kv_heads * hd, cols),
                            qv = quant_matrix(3, kv_heads * hd, cols);
                if (type == 3) { wq.values = qq.values; wk.values = qk.values; wv.values = qv.values; }
                const void* pq = type == 3 ? (const void*) qq.bytes.data() : wq.data();
                const void* pk = type == 3 ? (const void*) qk.bytes.data() : wk.data();
                const void* pv = type == 3 ? (const void*) qv.bytes.data() : wv.data();
                auto x = random_floats(cols), norm = random_floats(cols), bq = random_floats(heads * hd), bk = random_floats(kv_heads * hd),
                     bv = random_floats(kv_heads * hd), cos_t = random_floats(half), sin_t = random_floats(half);
                auto xn = ref_rms_norm(x, norm, 1, cols, 1e-5f);
                auto q = ref_matvec(wq, xn, bq.data()), k = ref_matvec(wk, xn, bk.data()), v = ref_matvec(wv, xn, bv.data());
                auto rotate = [&](std::vector<float>& t, int count) {
                    for (int h = 0; h < count; h++) {
                        for (int i = 0; i < half; i++) {
                            int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
                            float x0 = t[h * hd + a], x1 = t[h * hd + b];
                            t[h * hd + a] = x0 * cos_t[i] - x1 * sin_t[i];
                            t[h * hd + b] = x0 * sin_t[i] + x1 * cos_t[i];
                        }
                    }
                };
                rotate(q, heads);
                rotate(k, kv_heads);
                std::vector<float> want_k((base + 1) * kv_heads * hd, 5.f), want_v(want_k);
                std::copy(k.begin(), k.end(), want_k.begin() + base * kv_heads * hd);
                std::copy(v.begin(), v.end(), want_v.begin() + base * kv_heads * hd);

                std::vector<float> got_q(heads * hd), cache_k((base + 1) * kv_heads * hd, 5.f), cache_v(cache_k);
                int warps = (heads + 2 * kv_heads) * hd / 2;
                emu::launch(matvec_qkv_rope, (warps + MV_WARPS - 1) / MV_WARPS, MV_WARPS * 32, type, cols, x.data(), norm.data(), 1e-5f,
                            pq, bq.data(), pk, bk.data(), pv, bv.data(), heads, kv_heads, hd, dims, neox, cos_t.data(), sin_t.data(),
                            got_q.data(), cache_k.data(), cache_v.data(), (const int*) &base);
                std::string what = std::string("matvec_qkv_rope, ") + (type == 1 ? "F16" : "Q8_0") + ", " + (neox ? "NeoX" : "normal") + ", "
                                 + std::to_string(dims) + " of 16 dims";
                check(what + ": queries", got_q, q, 1e-5);
                check(what + ": cached keys", cache_k, want_k, 1e-5);
                check(what + ": cached values", cache_v, want_v, 1e-5);
            }
        }
    }
}

int main() {
    rms_norm_rows();
    attention_kernels();
    split_attention();
    matvec_kernels();
    quantized_kernels();
    rope_store_kernel();
    qkv_rope_kernel();
    std::printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
