/* test_ops.c - each reference op against an independent float64 computation of its contract,
 * and the dtype conversions against known bit patterns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "q35.h"
#include "testutil.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}
static void fill(float *x, int n, float scale) {
    for (int i = 0; i < n; i++) x[i] = frand() * scale;
}
static q35_tensor vec(const float *x, int n) {
    int64_t s[1] = { n };
    return q35_view_f32(x, 1, s);
}
static q35_tensor mat(const float *x, int r, int c) {
    int64_t s[2] = { r, c };
    return q35_view_f32(x, 2, s);
}
static void close_to(const float *got, const double *want, int n, double tol, const char *what) {
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol * (1.0 + fabs(want[i])), "%s[%d]: got %.9g want %.9g", what, i,
                      (double)got[i], want[i]);
}
static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

START_TEST(bf16_f16_conversions) {
    ck_assert_uint_eq(q35_f32_to_bf16(1.0f), 0x3f80);
    ck_assert_float_eq(q35_bf16_to_f32(0x3f80), 1.0f);
    ck_assert_uint_eq(q35_f32_to_bf16(1.00390625f), 0x3f80);      /* tie: to even */
    ck_assert_uint_eq(q35_f32_to_bf16(1.01171875f), 0x3f82);      /* tie: to even, upwards */
    ck_assert_uint_eq(q35_f32_to_bf16(-2.5f), 0xc020);
    ck_assert(isnan(q35_bf16_to_f32(q35_f32_to_bf16(NAN))));
    ck_assert_uint_eq(q35_f32_to_f16(1.0f), 0x3c00);
    ck_assert_uint_eq(q35_f32_to_f16(65504.0f), 0x7bff);
    ck_assert_uint_eq(q35_f32_to_f16(1e6f), 0x7c00);                /* overflow: inf */
    ck_assert_uint_eq(q35_f32_to_f16(5.9604645e-8f), 0x0001);       /* smallest subnormal */
    ck_assert_float_eq(q35_f16_to_f32(0x0001), 5.9604645e-8f);
    ck_assert_float_eq(q35_f16_to_f32(0xc000), -2.0f);
    ck_assert_float_eq(q35_f16_to_f32(0x3555), 0.333251953125f);
    for (uint32_t h = 0; h < 0x7c00; h++) /* every finite positive half round-trips */
        ck_assert_uint_eq(q35_f32_to_f16(q35_f16_to_f32((uint16_t)h)), h);
}
END_TEST

START_TEST(rmsnorm_zero_centred) {
    enum { R = 3, N = 37 };
    float x[R * N], w[N], y[R * N];
    double want[R * N];
    fill(x, R * N, 3.0f);
    fill(w, N, 0.5f);
    q35_tensor wt = vec(w, N);
    q35_ops_ref.rmsnorm(y, x, &wt, R, N, N, 1e-6f);
    for (int r = 0; r < R; r++) {
        double ss = 0;
        for (int i = 0; i < N; i++) ss += (double)x[r * N + i] * x[r * N + i];
        double inv = 1.0 / sqrt(ss / N + 1e-6);
        for (int i = 0; i < N; i++) want[r * N + i] = x[r * N + i] * inv * (1.0 + w[i]);
    }
    close_to(y, want, R * N, 1e-6, "rmsnorm");
    q35_ops_ref.rmsnorm(x, x, &wt, R, N, N, 1e-6f); /* in place */
    ck_assert_mem_eq(x, y, sizeof y);
}
END_TEST

START_TEST(linear_all_dtypes) {
    enum { T = 3, IN = 29, OUT = 11 };
    float x[T * IN], w[OUT * IN], y[T * OUT];
    uint16_t wb[OUT * IN], wh[OUT * IN];
    fill(x, T * IN, 1.0f);
    fill(w, OUT * IN, 1.0f);
    for (int i = 0; i < OUT * IN; i++) {
        wb[i] = q35_f32_to_bf16(w[i]);
        wh[i] = q35_f32_to_f16(w[i]);
    }
    q35_tensor t32 = mat(w, OUT, IN), tb = t32, th = t32;
    tb.dtype = Q35_BF16, tb.data = wb;
    th.dtype = Q35_F16, th.data = wh;
    q35_tensor *ws[3] = { &t32, &tb, &th };
    for (int d = 0; d < 3; d++) {
        double want[T * OUT];
        for (int t = 0; t < T; t++)
            for (int o = 0; o < OUT; o++) {
                double acc = 0;
                for (int i = 0; i < IN; i++) acc += (double)x[t * IN + i] * q35_get_f32(ws[d], (int64_t)o * IN + i);
                want[t * OUT + o] = acc;
            }
        q35_ops_ref.linear(y, x, ws[d], T, IN, OUT);
        close_to(y, want, T * OUT, 1e-5, q35_dtype_name(ws[d]->dtype));
    }
}
END_TEST

/* The conv window carries history: running T tokens at once equals running them in pieces. */
START_TEST(conv1d_window) {
    enum { T = 9, C = 5, K = 4 };
    float x[T * C], w[C * K], y[T * C], y2[T * C], win[C * K] = {0}, win2[C * K] = {0};
    double want[T * C];
    fill(x, T * C, 1.0f);
    fill(w, C * K, 1.0f);
    int64_t ws[3] = { C, 1, K };
    q35_tensor wt = q35_view_f32(w, 3, ws);
    q35_ops_ref.conv1d(y, win, x, &wt, T, C, K);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) {
            double acc = 0;
            for (int j = 0; j < K; j++) {
                int src = t - (K - 1) + j; /* cross-correlation, zeros before the first token */
                if (src >= 0) acc += (double)w[c * K + j] * x[src * C + c];
            }
            want[t * C + c] = acc;
        }
    close_to(y, want, T * C, 1e-6, "conv1d");
    for (int c = 0; c < C; c++)
        for (int j = 0; j < K; j++) ck_assert_float_eq(win[c * K + j], x[(T - K + j) * C + c]);
    q35_ops_ref.conv1d(y2, win2, x, &wt, 2, C, K);
    q35_ops_ref.conv1d(y2 + 2 * C, win2, x + 2 * C, &wt, 1, C, K);
    q35_ops_ref.conv1d(y2 + 3 * C, win2, x + 3 * C, &wt, T - 3, C, K);
    ck_assert_mem_eq(y, y2, sizeof y);
    ck_assert_mem_eq(win, win2, sizeof win);
}
END_TEST

START_TEST(l2norm_and_gates) {
    enum { R = 4, N = 24, T = 3, HV = 4 };
    float x[R * N];
    double want[R * N];
    fill(x, R * N, 2.0f);
    for (int r = 0; r < R; r++) {
        double ss = 0;
        for (int i = 0; i < N; i++) ss += (double)x[r * N + i] * x[r * N + i];
        for (int i = 0; i < N; i++) want[r * N + i] = x[r * N + i] / sqrt(ss + 1e-6) * 0.25;
    }
    q35_ops_ref.l2norm(x, R, 1, N, N, 1e-6f, 0.25f);
    close_to(x, want, R * N, 1e-6, "l2norm");

    float a[T * HV], b[T * HV], g[T * HV], beta[T * HV], alog[HV] = { -3.0f, 0.0f, 0.5f, -1.0f },
                                                          dtb[HV] = { 0.5f, -1.0f, 0.0f, 30.0f };
    fill(a, T * HV, 5.0f);
    fill(b, T * HV, 4.0f);
    a[3] = 25.0f; /* softplus above its threshold (20) is linear */
    q35_tensor at = vec(alog, HV), dt = vec(dtb, HV);
    q35_ops_ref.gdn_gates(g, beta, a, b, &at, &dt, T, HV);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < HV; h++) {
            double u = (double)a[t * HV + h] + dtb[h];
            double sp = u > 20 ? u : log1p(exp(u));
            double wg = -exp(alog[h]) * sp, wb = sig(b[t * HV + h]);
            ck_assert_msg(fabs(g[t * HV + h] - wg) <= 1e-5 * (1 + fabs(wg)), "g %g vs %g", (double)g[t * HV + h], wg);
            ck_assert_msg(fabs(beta[t * HV + h] - wb) <= 1e-6, "beta");
        }
}
END_TEST

/* Delta rule against the chunked (WY) form computed in float64: a different algorithm for the
 * same recurrence (spec 3.4), so agreement checks the update order, the repeat-interleave of key
 * heads and the use of the updated state for the output. */
START_TEST(delta_rule_vs_chunked) {
    enum { T = 11, HK = 2, HV = 4, DK = 5, DV = 3, C = 2 * HK * DK + HV * DV };
    float mix[T * C], g[T * HV], beta[T * HV], o[T * HV * DV], S[HV * DK * DV] = {0};
    fill(mix, T * C, 1.0f);
    for (int t = 0; t < T; t++) { /* normalise q, k per head like the model does */
        q35_ops_ref.l2norm(mix + t * C, 1, HK, DK, C, 1e-6f, 1.0f / sqrtf(DK));
        q35_ops_ref.l2norm(mix + t * C + HK * DK, 1, HK, DK, C, 1e-6f, 1.0f);
    }
    for (int i = 0; i < T * HV; i++) {
        g[i] = -fabsf(frand()) * 2.0f;
        beta[i] = 0.5f + 0.5f * frand();
    }
    q35_ops_ref.delta_rule(o, S, mix, mix + HK * DK, mix + 2 * HK * DK, C, C, g, beta, T, HK, HV, DK, DV, NULL);
    for (int h = 0; h < HV; h++) {
        int kh = h / (HV / HK); /* repeat-interleave */
        double G[T], A[T][T], Tm[T][T], U[T][DV], W[T][DK], Vp[T][DV], Sd[DK][DV] = {{0}};
        double q[T][DK], k[T][DK], v[T][DV];
        for (int t = 0; t < T; t++) {
            G[t] = (t ? G[t - 1] : 0) + g[t * HV + h];
            for (int i = 0; i < DK; i++) {
                q[t][i] = mix[t * C + kh * DK + i];
                k[t][i] = mix[t * C + HK * DK + kh * DK + i];
            }
            for (int e = 0; e < DV; e++) v[t][e] = mix[t * C + 2 * HK * DK + h * DV + e];
        }
        /* one chunk holding all T tokens: A[t][s] = beta_t (k_t.k_s) exp(G_t - G_s), s < t */
        for (int t = 0; t < T; t++)
            for (int s = 0; s < T; s++) {
                double kk = 0;
                for (int i = 0; i < DK; i++) kk += k[t][i] * k[s][i];
                A[t][s] = s < t ? beta[t * HV + h] * kk * exp(G[t] - G[s]) : 0;
            }
        for (int t = 0; t < T; t++) /* Tm = (I + A)^-1 by forward substitution */
            for (int s = 0; s < T; s++) {
                double acc = (t == s);
                for (int r = s; r < t; r++) acc -= A[t][r] * Tm[r][s];
                Tm[t][s] = s <= t ? acc : 0;
            }
        for (int t = 0; t < T; t++) {
            for (int e = 0; e < DV; e++) {
                U[t][e] = 0;
                for (int s = 0; s <= t; s++) U[t][e] += Tm[t][s] * beta[s * HV + h] * v[s][e];
            }
            for (int i = 0; i < DK; i++) {
                W[t][i] = 0;
                for (int s = 0; s <= t; s++) W[t][i] += Tm[t][s] * beta[s * HV + h] * exp(G[s]) * k[s][i];
            }
        }
        for (int t = 0; t < T; t++) /* incoming state is zero: V' = U */
            for (int e = 0; e < DV; e++) Vp[t][e] = U[t][e];
        for (int t = 0; t < T; t++)
            for (int e = 0; e < DV; e++) {
                double acc = 0;
                for (int s = 0; s <= t; s++) {
                    double qk = 0;
                    for (int i = 0; i < DK; i++) qk += q[t][i] * k[s][i];
                    acc += qk * exp(G[t] - G[s]) * Vp[s][e];
                }
                ck_assert_msg(fabs(o[(t * HV + h) * DV + e] - acc) <= 1e-5 * (1 + fabs(acc)),
                              "o[t=%d,h=%d,e=%d]: %g vs chunked %g", t, h, e, (double)o[(t * HV + h) * DV + e], acc);
            }
        for (int i = 0; i < DK; i++) /* final state: S = sum_s exp(G_T - G_s) k_s V'_s */
            for (int e = 0; e < DV; e++) {
                for (int s = 0; s < T; s++) Sd[i][e] += exp(G[T - 1] - G[s]) * k[s][i] * Vp[s][e];
                double got = S[(h * DK + i) * DV + e];
                ck_assert_msg(fabs(got - Sd[i][e]) <= 1e-5 * (1 + fabs(Sd[i][e])), "S mismatch");
            }
        (void)W;
    }
}
END_TEST

START_TEST(gated_rmsnorm_plain_weight) {
    enum { R = 5, N = 16 };
    float x[R * N], z[R * N], w[N], y[R * N];
    double want[R * N];
    fill(x, R * N, 1e-3f); /* tiny rows: the eps matters */
    fill(z, R * N, 3.0f);
    for (int i = 0; i < N; i++) w[i] = 1.0f + 0.5f * frand();
    q35_tensor wt = vec(w, N);
    q35_ops_ref.gated_rmsnorm(y, x, z, &wt, R, N, 1e-6f);
    for (int r = 0; r < R; r++) {
        double ss = 0;
        for (int i = 0; i < N; i++) ss += (double)x[r * N + i] * x[r * N + i];
        for (int i = 0; i < N; i++) {
            double zz = z[r * N + i];
            want[r * N + i] = x[r * N + i] / sqrt(ss / N + 1e-6) * w[i] * zz * sig(zz);
        }
    }
    close_to(y, want, R * N, 1e-5, "gated_rmsnorm");
}
END_TEST

START_TEST(rope_partial_neox) {
    enum { T = 2, NH = 3, D = 10, R = 4 };
    float x[T * NH * D], x0[T * NH * D], cs[T * R], sn[T * R];
    fill(x, T * NH * D, 1.0f);
    memcpy(x0, x, sizeof x);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < R / 2; i++) {
            double th = (t + 3) * pow(1e4, -2.0 * i / R);
            cs[t * R + i] = cs[t * R + i + R / 2] = (float)cos(th);
            sn[t * R + i] = sn[t * R + i + R / 2] = (float)sin(th);
        }
    q35_ops_ref.rope(x, cs, sn, T, NH, D, NH * D, R);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < NH; h++) {
            const float *a = x0 + (t * NH + h) * D;
            const float *b = x + (t * NH + h) * D;
            for (int i = 0; i < R / 2; i++) {
                double c = cs[t * R + i], s = sn[t * R + i];
                ck_assert(fabs(b[i] - (a[i] * c - a[i + R / 2] * s)) < 1e-6);
                ck_assert(fabs(b[i + R / 2] - (a[i + R / 2] * c + a[i] * s)) < 1e-6);
            }
            for (int i = R; i < D; i++) ck_assert_float_eq(b[i], a[i]); /* pass-through dims */
        }
}
END_TEST

START_TEST(attention_gqa_causal) {
    enum { NP = 3, T = 4, HQ = 6, HKV = 2, D = 8, CAP = 16 };
    float q[T * HQ * D], K[HKV * CAP * D], V[HKV * CAP * D], o[T * HQ * D], scratch[CAP];
    fill(q, T * HQ * D, 1.0f);
    fill(K, HKV * CAP * D, 1.0f);
    fill(V, HKV * CAP * D, 1.0f);
    float scale = 1.0f / sqrtf(D);
    q35_ops_ref.attention(o, q, HQ * D, K, V, CAP, NP, T, HQ, HKV, D, scale, scratch);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < HQ; h++) {
            int kv = h / (HQ / HKV), nk = NP + t + 1;
            double p[CAP], mx = -1e300, sum = 0;
            for (int j = 0; j < nk; j++) {
                double s = 0;
                for (int i = 0; i < D; i++) s += (double)q[(t * HQ + h) * D + i] * K[(kv * CAP + j) * D + i];
                p[j] = s * scale;
                mx = fmax(mx, p[j]);
            }
            for (int j = 0; j < nk; j++) sum += p[j] = exp(p[j] - mx);
            for (int i = 0; i < D; i++) {
                double acc = 0;
                for (int j = 0; j < nk; j++) acc += p[j] / sum * V[(kv * CAP + j) * D + i];
                ck_assert_msg(fabs(o[(t * HQ + h) * D + i] - acc) < 1e-5, "attention t=%d h=%d", t, h);
            }
        }
}
END_TEST

START_TEST(elementwise) {
    enum { N = 50 };
    float a[N], b[N], y[N];
    fill(a, N, 8.0f);
    fill(b, N, 8.0f);
    q35_ops_ref.swiglu(y, a, b, N);
    for (int i = 0; i < N; i++) ck_assert(fabs(y[i] - a[i] * sig(a[i]) * b[i]) < 1e-5 * (1 + fabs(y[i])));
    q35_ops_ref.sigmoid_mul(y, a, b, N);
    for (int i = 0; i < N; i++) ck_assert(fabs(y[i] - a[i] * sig(b[i])) < 1e-5 * (1 + fabs(y[i])));
    q35_ops_ref.silu(y, a, N);
    for (int i = 0; i < N; i++) ck_assert(fabs(y[i] - a[i] * sig(a[i])) < 1e-5 * (1 + fabs(y[i])));
    q35_ops_ref.add(y, a, b, N);
    for (int i = 0; i < N; i++) ck_assert_float_eq(y[i], a[i] + b[i]);
    int ids[2] = { 2, 0 };
    float E[3 * 4] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, e[8];
    q35_tensor Et = mat(E, 3, 4);
    q35_ops_ref.embed(e, &Et, ids, 2, 4);
    ck_assert_float_eq(e[0], 8.0f);
    ck_assert_float_eq(e[7], 3.0f);
}
END_TEST

START_TEST(text_rope_tables_interleaved) {
    q35_text_config c = {0};
    c.rotary_dim = 12;
    c.rope_theta = 1e7;
    c.mrope_section[0] = c.mrope_section[1] = c.mrope_section[2] = 2;
    int64_t pos[3 * 2] = { 5, 6, /* T */ 50, 60, /* H */ 500, 600 /* W */ };
    float cs[2 * 12], sn[2 * 12];
    q35_text_rope_tables(cs, sn, pos, 2, &c);
    int axis_of_slot[6] = { 0, 1, 2, 0, 1, 2 }; /* [2,2,2] interleaved: T,H,W,T,H,W */
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 6; i++) {
            double th = (double)pos[axis_of_slot[i] * 2 + t] * pow(1e7, -2.0 * i / 12);
            ck_assert_msg(fabs(cs[t * 12 + i] - cos(th)) < 2e-4, "cos slot %d", i);
            ck_assert_float_eq(cs[t * 12 + i], cs[t * 12 + i + 6]);
            ck_assert_float_eq(sn[t * 12 + i], sn[t * 12 + i + 6]);
        }
    /* [11,11,10] over 32 slots: H at 1,4,...,31; W at 2,5,...,29; T elsewhere */
    c.rotary_dim = 64;
    c.mrope_section[0] = 11, c.mrope_section[1] = 11, c.mrope_section[2] = 10;
    int64_t p2[3] = { 0, 1, 0 }; /* only H nonzero: sin is nonzero exactly on H slots */
    float c2[64], s2[64];
    q35_text_rope_tables(c2, s2, p2, 1, &c);
    for (int i = 0; i < 32; i++) {
        int is_h = i % 3 == 1 && i < 33;
        ck_assert_msg((s2[i] != 0.0f) == is_h, "slot %d", i);
    }
}
END_TEST

START_TEST(vision_ops) {
    enum { R = 3, N = 20, T = 5, H = 2, D = 4 };
    float x[R * N], w[N], b[N], y[R * N];
    double want[R * N];
    fill(x, R * N, 3.0f);
    fill(w, N, 1.0f);
    fill(b, N, 0.5f);
    q35_tensor wt = vec(w, N), bt = vec(b, N);
    q35_ops_ref.layernorm(y, x, &wt, &bt, R, N, 1e-6f);
    for (int r = 0; r < R; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < N; i++) mean += x[r * N + i];
        mean /= N;
        for (int i = 0; i < N; i++) var += (x[r * N + i] - mean) * (x[r * N + i] - mean);
        var /= N;
        for (int i = 0; i < N; i++) want[r * N + i] = (x[r * N + i] - mean) / sqrt(var + 1e-6) * w[i] + b[i];
    }
    close_to(y, want, R * N, 1e-5, "layernorm");
    memcpy(y, x, sizeof y);
    q35_ops_ref.bias_add(y, &bt, R, N);
    for (int i = 0; i < R * N; i++) ck_assert_float_eq(y[i], x[i] + b[i % N]);
    q35_ops_ref.gelu_tanh(y, x, R * N);
    for (int i = 0; i < R * N; i++) {
        double u = x[i];
        want[i] = 0.5 * u * (1 + tanh(sqrt(2 / M_PI) * (u + 0.044715 * u * u * u)));
    }
    close_to(y, want, R * N, 1e-6, "gelu_tanh");
    q35_ops_ref.gelu_erf(y, x, R * N);
    for (int i = 0; i < R * N; i++) want[i] = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0)));
    close_to(y, want, R * N, 1e-6, "gelu_erf");
    /* the two GELUs differ: a tower using the wrong one would show */
    float a1, a2, one = 1.5f;
    q35_ops_ref.gelu_tanh(&a1, &one, 1);
    q35_ops_ref.gelu_erf(&a2, &one, 1);
    ck_assert(fabsf(a1 - a2) > 1e-4f);

    float q[T * H * D], k[T * H * D], v[T * H * D], o[T * H * D], p[T];
    fill(q, T * H * D, 1.0f);
    fill(k, T * H * D, 1.0f);
    fill(v, T * H * D, 1.0f);
    q35_ops_ref.attention_full(o, q, k, v, T, H, D, 0.5f, p);
    for (int t = 0; t < T; t++) /* every row sees every row, the later ones too */
        for (int h = 0; h < H; h++) {
            double s[T], mx = -1e300, sum = 0;
            for (int j = 0; j < T; j++) {
                s[j] = 0;
                for (int i = 0; i < D; i++) s[j] += (double)q[(t * H + h) * D + i] * k[(j * H + h) * D + i];
                s[j] *= 0.5;
                mx = fmax(mx, s[j]);
            }
            for (int j = 0; j < T; j++) sum += s[j] = exp(s[j] - mx);
            for (int i = 0; i < D; i++) {
                double acc = 0;
                for (int j = 0; j < T; j++) acc += s[j] / sum * v[(j * H + h) * D + i];
                ck_assert(fabs(o[(t * H + h) * D + i] - acc) < 1e-5);
            }
        }
}
END_TEST

int main(void) {
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("ref");
    tcase_add_test(tc, bf16_f16_conversions);
    tcase_add_test(tc, rmsnorm_zero_centred);
    tcase_add_test(tc, linear_all_dtypes);
    tcase_add_test(tc, conv1d_window);
    tcase_add_test(tc, l2norm_and_gates);
    tcase_add_test(tc, delta_rule_vs_chunked);
    tcase_add_test(tc, gated_rmsnorm_plain_weight);
    tcase_add_test(tc, rope_partial_neox);
    tcase_add_test(tc, attention_gqa_causal);
    tcase_add_test(tc, elementwise);
    tcase_add_test(tc, text_rope_tables_interleaved);
    tcase_add_test(tc, vision_ops);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
