/* test_compare.c - the golden tools: YAML, tolerance policy, alias maps, logits metrics, reports. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alias.h"
#include "logits.h"
#include "npy.h"
#include "policy.h"
#include "q35.h"
#include "testutil.h"
#include "util.h"
#include "yamljson.h"

static char err[2048];
static char dir[1024];

static const char *write_tmp(const char *name, const char *text) {
    static char path[4][1200];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 1200, "%s/%s", dir, name);
    tu_write_file(p, text, strlen(text));
    return p;
}

static void setup(void) { snprintf(dir, sizeof dir, "%s", tu_mkdtemp()); }
static void teardown(void) { tu_rm_rf(dir); }

/* ---- YAML ---- */

START_TEST(yaml_types_and_errors) {
    cJSON *j = q35_yaml_load(write_tmp("a.yaml", "a: 1e-4\nb: [1, -2, x]\nc: {d: true, e: ~, f: '12'}\ng: \"0x10\"\n"), err,
                             sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "a")) && cJSON_GetObjectItem(j, "a")->valuedouble == 1e-4);
    const cJSON *b = cJSON_GetObjectItem(j, "b");
    ck_assert_int_eq(cJSON_GetArraySize(b), 3);
    ck_assert(cJSON_GetArrayItem(b, 1)->valuedouble == -2);
    ck_assert(cJSON_IsString(cJSON_GetArrayItem(b, 2)));
    const cJSON *c = cJSON_GetObjectItem(j, "c");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "d")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(c, "e")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(c, "f"))); /* quoted stays a string */
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(j, "g")));
    cJSON_Delete(j);

    ck_assert_ptr_null(q35_yaml_load(write_tmp("b.yaml", "a: [1, 2\nb: 3\n"), err, sizeof err));
    ck_assert_msg(strstr(err, "b.yaml:") != NULL, "%s", err);
    ck_assert_ptr_null(q35_yaml_load(write_tmp("c.yaml", "a: &x 1\nb: *x\n"), err, sizeof err));
    ck_assert_msg(strstr(err, "anchors") || strstr(err, "aliases"), "%s", err);
    ck_assert_ptr_null(q35_yaml_load(write_tmp("d.yaml", "a: 1\na: 2\n"), err, sizeof err));
    ck_assert_msg(strstr(err, "twice") != NULL, "%s", err);
    ck_assert_ptr_null(q35_yaml_load("/nonexistent/x.yaml", err, sizeof err));
    j = q35_yaml_load(write_tmp("e.yaml", ""), err, sizeof err);
    ck_assert(cJSON_IsObject(j));
    cJSON_Delete(j);
}
END_TEST

/* ---- tolerance policy ---- */

START_TEST(policy_defaults_and_yaml) {
    q35_policy p;
    ck_assert_int_eq(q35_policy_default(&p, 2e-4, 1e-4, 0.99999, err, sizeof err), 0);
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.input_ids", Q35_I64, Q35_I64)->name, "integer (exact)");
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.logits", Q35_F32, Q35_F32)->name, "logits, float32");
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.logits", Q35_BF16, Q35_F32)->name, "bf16/f16 side");
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.text.layers.0.output", Q35_F32, Q35_F16)->name, "bf16/f16 side");
    const q35_tol_rule *f = q35_policy_rule(&p, "prefill.text.layers.0.output", Q35_F32, Q35_F32);
    ck_assert_str_eq(f->name, "float32");
    ck_assert(f->max_rel == 2e-4 && f->cosine == 0.99999);
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.logits.topk", Q35_F32, Q35_F32)->name, "logits, top-k form");

    const char *yaml = "format: q35-tolerances/1\n"
                       "rules:\n"
                       "  - name: loose layer 3\n"
                       "    match: \"\\\\.layers\\\\.3\\\\.\"\n"
                       "    max_rel: 1e-2\n"
                       "  - match: \"output$\"\n"
                       "    dtype: f32\n"
                       "    atol: 1e-3\n"
                       "    rtol: 1e-2\n";
    ck_assert_msg(q35_policy_load(&p, write_tmp("p.yaml", yaml), err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.text.layers.3.output", Q35_F32, Q35_F32)->name, "loose layer 3");
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.text.layers.4.output", Q35_F32, Q35_F32)->name, "p.yaml rule 2");
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.text.layers.4.output", Q35_BF16, Q35_F32)->name, "bf16/f16 side");
    ck_assert_str_eq(q35_policy_rule(&p, "prefill.text.layers.4.input", Q35_F32, Q35_F32)->name, "float32");
    char d[160];
    q35_rule_describe(d, sizeof d, q35_policy_rule(&p, "prefill.text.layers.4.output", Q35_F32, Q35_F32));
    ck_assert_msg(strstr(d, "1.0e-03") && strstr(d, "1.0e-02"), "%s", d);

    /* allclose: one element at 2e-3 from a golden of 0.05 breaks atol 1e-3 + rtol 1e-2 */
    float a[4] = { 1, 2, 3, 0.052f }, g[4] = { 1, 2, 3, 0.05f };
    int64_t shape[1] = { 4 };
    q35_tensor ta = q35_view_f32(a, 1, shape), tg = q35_view_f32(g, 1, shape);
    ck_assert_int_eq(q35_allclose_bad(&ta, &tg, 1e-3, 1e-2), 1);
    ck_assert_int_eq(q35_allclose_bad(&ta, &tg, 3e-3, 0), 0);
    q35_cmp c;
    q35_compare(&c, &ta, &tg);
    const q35_tol_rule *r2 = q35_policy_rule(&p, "x.output", Q35_F32, Q35_F32);
    ck_assert_int_eq(q35_rule_pass(r2, &c, NULL, 1), 0);
    ck_assert_int_eq(q35_rule_pass(r2, &c, NULL, 0), 1);
    q35_policy_free(&p);

    static const struct { const char *yaml, *want; } bad[] = {
        { "rules:\n  - match: x\n", "sets no bar" },
        { "rules:\n  - max_rel: -1\n", "max_rel must be a finite number >= 0" },
        { "rules:\n  - max_rel: abc\n", "max_rel must be a finite number" },
        { "rules:\n  - match: \"(\"\n    max_rel: 1\n", "bad regex" },
        { "rules:\n  - dtype: f8\n    max_rel: 1\n", "dtype 'f8'" },
        { "rules:\n  - maxrel: 1\n", "bad key 'maxrel'" },
        { "format: q35-tolerances/2\nrules:\n  - max_rel: 1\n", "q35-tolerances/1" },
        { "rules: []\n", "non-empty list" },
        { "rule:\n  - max_rel: 1\n", "unknown key 'rule'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(q35_policy_default(&p, 2e-4, 1e-4, 0.99999, err, sizeof err), 0);
        ck_assert_int_eq(q35_policy_load(&p, write_tmp("bad.yaml", bad[i].yaml), err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].want) && strstr(err, "bad.yaml"), "case %zu: %s", i, err);
        ck_assert_int_eq(p.n, 5); /* the defaults stay as they were */
        q35_policy_free(&p);
    }
}
END_TEST

/* ---- alias maps ---- */

static const char *map_yaml =
    "format: q35-aliases/1\n"
    "implementation: a test\n"
    "params:\n"
    "  key_heads: linear_num_key_heads\n"
    "  two: 2\n"
    "aliases:\n"
    "  - theirs: \"conv-{L}\"\n"
    "    ours: \"text.layers.{L}.linear_attn.conv\"\n"
    "    transform: [ {transpose: [1, 0]} ]\n"
    "  - theirs: \"v-{L}#1\"\n"
    "    ours: \"text.layers.{L}.v\"\n"
    "    transform:\n"
    "      - view: [-1, 2]\n"
    "      - untile_heads: {axis: 0, groups: key_heads}\n"
    "      - view: ours\n"
    "    note: value heads, tiled\n"
    "  - theirs: \"result_output\"\n"
    "    ours: \"logits\"\n";

START_TEST(alias_match_and_transforms) {
    q35_alias_map m;
    ck_assert_msg(q35_alias_load(&m, write_tmp("m.yaml", map_yaml), err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(m.n, 3);
    char ours[256];
    ck_assert_int_eq(q35_alias_match(&m, 0, "conv-12", ours, sizeof ours), 0);
    ck_assert_str_eq(ours, "text.layers.12.linear_attn.conv");
    ck_assert_int_eq(q35_alias_match(&m, 0, "v-3#1", ours, sizeof ours), 1);
    ck_assert_str_eq(ours, "text.layers.3.v");
    ck_assert_int_eq(q35_alias_match(&m, 0, "v-3", ours, sizeof ours), -1);   /* first occurrence: not mapped */
    ck_assert_int_eq(q35_alias_match(&m, 0, "conv-", ours, sizeof ours), -1); /* {L} needs digits */
    ck_assert_int_eq(q35_alias_match(&m, 0, "conv-3x", ours, sizeof ours), -1);
    ck_assert_int_eq(q35_alias_match(&m, 0, "result_output", ours, sizeof ours), 2);
    ck_assert_str_eq(ours, "logits");

    /* transpose [L=3][C=2] -> [C][L] */
    float in[6] = { 0, 1, 2, 3, 4, 5 }, want_t[6] = { 0, 2, 4, 1, 3, 5 };
    int64_t s_in[2] = { 3, 2 }, s_ours[2] = { 2, 3 };
    q35_tensor tin = q35_view_f32(in, 2, s_in), tours = q35_view_f32(in, 2, s_ours), out;
    void *buf;
    ck_assert_msg(q35_alias_apply(&m, 0, &tin, &tours, &buf, &out, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(out.ndim, 2);
    ck_assert_int_eq(out.shape[0], 2);
    ck_assert_mem_eq(out.data, want_t, sizeof want_t);
    free(buf);

    /* untile: 6 heads of 2, 3 key heads (r = 2): their head j = i*3 + k is our head k*2 + i */
    ck_assert_int_eq(q35_alias_apply(&m, 1, &tin, &tours, &buf, &out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "key_heads") && strstr(err, "--param"), "%s", err);
    const char *cfg = write_tmp("config.json", "{\"text_config\": {\"linear_num_key_heads\": 3}, \"linear_num_key_heads\": 7}");
    ck_assert_msg(q35_alias_resolve(&m, cfg, NULL, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(m.param_val[0], 3); /* text_config first */
    ck_assert_int_eq(m.param_val[1], 2);
    float heads[12];
    for (int i = 0; i < 12; i++) heads[i] = (float)i; /* their head j holds 2j, 2j+1 */
    int64_t s_h[1] = { 12 }, s_o[3] = { 1, 6, 2 };
    q35_tensor th = q35_view_f32(heads, 1, s_h), to = q35_view_f32(heads, 3, s_o);
    ck_assert_msg(q35_alias_apply(&m, 1, &th, &to, &buf, &out, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(out.ndim, 3);
    ck_assert_int_eq(out.shape[1], 6);
    for (int h = 0; h < 6; h++) {
        int k = h / 2, i = h % 2, j = i * 3 + k;
        ck_assert_float_eq(((const float *)out.data)[2 * h], (float)(2 * j));
        ck_assert_float_eq(((const float *)out.data)[2 * h + 1], (float)(2 * j + 1));
    }
    free(buf);
    /* a head count the groups do not divide */
    const char *const ov[] = { "key_heads=4" };
    ck_assert_int_eq(q35_alias_resolve(&m, NULL, ov, 1, err, sizeof err), 0);
    ck_assert_int_eq(q35_alias_apply(&m, 1, &th, &to, &buf, &out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "groups"), "%s", err);
    const char *const ov2[] = { "nope=4" };
    ck_assert_int_eq(q35_alias_resolve(&m, NULL, ov2, 1, err, sizeof err), -1);
    /* a view whose element count differs */
    int64_t s_bad[2] = { 4, 2 };
    q35_tensor tbad = q35_view_f32(heads, 2, s_bad);
    ck_assert_int_eq(q35_alias_apply(&m, 1, &tin, &tbad, &buf, &out, err, sizeof err), -1);
    q35_alias_free(&m);

    static const struct { const char *yaml, *want; } bad[] = {
        { "aliases:\n  - theirs: a\n    ours: b\n", "format: q35-aliases/1" },
        { "format: q35-aliases/1\naliases: []\n", "non-empty list" },
        { "format: q35-aliases/1\naliases:\n  - theirs: a\n", "aliases[0]" },
        { "format: q35-aliases/1\naliases:\n  - theirs: a-{L}\n    ours: b.{M}\n", "{M}" },
        { "format: q35-aliases/1\naliases:\n  - theirs: a-{L\n    ours: b\n", "placeholder" },
        { "format: q35-aliases/1\naliases:\n  - theirs: a\n    ours: b\n    transform: [ {flip: 1} ]\n", "unknown transform 'flip'" },
        { "format: q35-aliases/1\naliases:\n  - theirs: a\n    ours: b\n    transform: [ {transpose: [0, 0]} ]\n", "permutation" },
        { "format: q35-aliases/1\naliases:\n  - theirs: a\n    ours: b\n    transform: [ {view: [-1, -1]} ]\n", "one -1" },
        { "format: q35-aliases/1\naliases:\n  - theirs: a\n    ours: b\n    transform: [ {untile_heads: {axis: 0, groups: g}} ]\n", "declared under params" },
        { "format: q35-aliases/1\naliases:\n  - theirs: a\n    ours: b\n    extra: 1\n", "unknown key 'extra'" },
        { "format: q35-aliases/1\nalias: []\n", "unknown key 'alias'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(q35_alias_load(&m, write_tmp("bad.yaml", bad[i].yaml), err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].want) && strstr(err, "bad.yaml"), "case %zu: %s", i, err);
    }
}
END_TEST

/* ---- logits ---- */

/* KL(p || q) of two logit rows, written out independently of logits.c. */
static double kl_rows(const float *lp, const float *lq, int V) {
    double mp = -INFINITY, mq = -INFINITY, sp = 0, sq = 0, kl = 0;
    for (int i = 0; i < V; i++) mp = fmax(mp, lp[i]), mq = fmax(mq, lq[i]);
    for (int i = 0; i < V; i++) sp += exp(lp[i] - mp), sq += exp(lq[i] - mq);
    for (int i = 0; i < V; i++) {
        double a = lp[i] - mp - log(sp), b = lq[i] - mq - log(sq);
        kl += exp(a) * (a - b);
    }
    return kl;
}

START_TEST(logits_metrics) {
    enum { P = 3, V = 40 };
    float g[P * V], o[P * V];
    for (int p = 0; p < P; p++)
        for (int i = 0; i < V; i++) {
            g[p * V + i] = (float)sin(0.7 * i + p) * 4 + (i == 5 + p ? 12.0f : 0.0f); /* a clear argmax */
            o[p * V + i] = g[p * V + i] + (float)(0.05 * cos(1.3 * i * (p + 1)));
        }
    o[2 * V + 20] = 100; /* position 2: another argmax */
    int64_t shape[3] = { 1, P, V };
    q35_tensor tg = q35_view_f32(g, 3, shape), to = q35_view_f32(o, 3, shape);
    q35_logit_src sg = { .full = &tg }, so = { .full = &to };
    q35_logit_cmp r;
    ck_assert_int_eq(q35_compare_logits(&r, &sg, &sg, err, sizeof err), 0);
    ck_assert(r.top1 == 1 && r.top5 == 1 && r.top10 == 1 && r.kl_go_max < 1e-15 && r.first_argmax_diff == -1);
    ck_assert_int_eq(q35_compare_logits(&r, &so, &sg, err, sizeof err), 0);
    ck_assert_int_eq(r.positions, P);
    ck_assert_int_eq(r.first_argmax_diff, 2);
    ck_assert_double_eq_tol(r.top1, 2.0 / 3, 1e-12);
    double k[P];
    for (int p = 0; p < P; p++) k[p] = kl_rows(g + p * V, o + p * V, V);
    ck_assert_double_eq_tol(r.kl_go_max, fmax(k[0], fmax(k[1], k[2])), 1e-9);
    ck_assert_double_eq_tol(r.kl_go_mean, (k[0] + k[1] + k[2]) / 3, 1e-9);
    ck_assert_double_eq_tol(r.kl_og_max, fmax(kl_rows(o, g, V), fmax(kl_rows(o + V, g + V, V), kl_rows(o + 2 * V, g + 2 * V, V))), 1e-9);
    ck_assert_double_ge(r.kl_go_max, r.kl_go_p99); /* p99 of 3 values: the largest */

    /* compact form: top-k of every row, with k = V the buckets are the ids themselves: exact KL */
    int64_t ids[P * V];
    float lp[P * V], lse[P];
    q35_logits_topk(ids, lp, lse, g, P, V, V > 64 ? 64 : V);
    int64_t cs[3] = { 1, P, V }, es[2] = { 1, P };
    q35_tensor ti = { .dtype = Q35_I64, .ndim = 3, .shape = { 1, P, V }, .data = ids }, tl = q35_view_f32(lp, 3, cs);
    (void)es;
    for (int p = 0; p < P; p++) { /* decreasing, and lp + lse gives back the logit */
        for (int j = 1; j < V; j++) ck_assert(lp[p * V + j] <= lp[p * V + j - 1]);
        ck_assert_float_eq_tol(lp[p * V] + lse[p], g[p * V + ids[p * V]], 1e-5);
    }
    q35_logit_src cg = { .ids = &ti, .lp = &tl };
    q35_logit_cmp rc;
    ck_assert_int_eq(q35_compare_logits(&rc, &so, &cg, err, sizeof err), 0);
    ck_assert(rc.compact);
    ck_assert_double_eq_tol(rc.top1, r.top1, 1e-12);
    ck_assert_double_eq_tol(rc.kl_go_max, r.kl_go_max, 1e-6);
    /* k = 8: a lower bound on the exact KL, top-5 overlap computed from the kept ids */
    int64_t ids8[P * 8];
    float lp8[P * 8];
    q35_logits_topk(ids8, lp8, lse, g, P, V, 8);
    q35_tensor ti8 = { .dtype = Q35_I64, .ndim = 3, .shape = { 1, P, 8 }, .data = ids8 };
    int64_t s8[3] = { 1, P, 8 };
    q35_tensor tl8 = q35_view_f32(lp8, 3, s8);
    q35_logit_src cg8 = { .ids = &ti8, .lp = &tl8 };
    ck_assert_int_eq(q35_compare_logits(&rc, &so, &cg8, err, sizeof err), 0);
    ck_assert_int_eq(rc.k, 8);
    ck_assert_double_le(rc.kl_go_max, r.kl_go_max + 1e-9);
    ck_assert_double_gt(rc.kl_go_max, 0);
    ck_assert_double_eq_tol(rc.top5, r.top5, 1e-12);
    ck_assert_int_eq(rc.first_argmax_diff, 2);
    /* mismatched positions */
    int64_t s2[3] = { 1, 2, V };
    q35_tensor t2 = q35_view_f32(g, 3, s2);
    q35_logit_src s2s = { .full = &t2 };
    ck_assert_int_eq(q35_compare_logits(&rc, &s2s, &sg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "positions"), "%s", err);
}
END_TEST

/* ---- reports ---- */

/* Runs `q35 ARGS`, returning its exit status. */
static int q35(const char *args) {
    const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s > %s/out.txt 2>&1", bin, args, dir);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The file name in the test directory, whole. */
static char *slurp(const char *name) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *s = q35_read_file(p, 64u << 20, NULL);
    ck_assert_msg(s != NULL, "%s missing", p);
    return s;
}

static const char *const row_keys[] = { "name", "theirs", "status", "shape", "shape_theirs", "dtype_ours", "dtype_theirs",
                                        "rule", "metrics", "logits", "note" };
static const char *const metric_keys[] = { "max_abs", "max_rel", "mean_abs", "rmse", "nmse", "cosine", "atol_needed",
                                           "rtol_needed", "mismatches", "nan_ours", "nan_theirs", "first_nan_ours",
                                           "first_nan_theirs", "allclose_bad" };
static const char *const logit_keys[] = { "positions", "compact", "k", "top1", "top5", "top10", "kl_theirs_ours",
                                          "kl_ours_theirs", "first_argmax_diff", "max_abs_logprob" };

/* Every key of schema q35-report/1 (report.h, README) with the right JSON type. */
static void check_schema(const cJSON *j) {
    ck_assert_str_eq(cJSON_GetObjectItem(j, "schema")->valuestring, "q35-report/1");
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(j, "kind")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(j, "verdict")));
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(j, "provenance")));
    const cJSON *s = cJSON_GetObjectItem(j, "summary");
    const char *const skeys[] = { "compared", "passed", "failed", "missing", "unsupported", "only_ours", "only_theirs" };
    for (size_t i = 0; i < 7; i++) ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItem(s, skeys[i])), "summary.%s", skeys[i]);
    ck_assert(cJSON_HasObjectItem(s, "worst"));
    ck_assert(cJSON_HasObjectItem(j, "first_divergence"));
    const cJSON *ts = cJSON_GetObjectItem(j, "tensors");
    ck_assert(cJSON_IsArray(ts) && cJSON_GetArraySize(ts) > 0);
    for (const cJSON *t = ts->child; t; t = t->next) {
        for (size_t i = 0; i < sizeof row_keys / sizeof *row_keys; i++)
            ck_assert_msg(cJSON_HasObjectItem(t, row_keys[i]), "tensor key %s", row_keys[i]);
        const cJSON *m = cJSON_GetObjectItem(t, "metrics"), *l = cJSON_GetObjectItem(t, "logits");
        if (cJSON_IsObject(m))
            for (size_t i = 0; i < sizeof metric_keys / sizeof *metric_keys; i++)
                ck_assert_msg(cJSON_HasObjectItem(m, metric_keys[i]), "metrics key %s", metric_keys[i]);
        if (cJSON_IsObject(l))
            for (size_t i = 0; i < sizeof logit_keys / sizeof *logit_keys; i++)
                ck_assert_msg(cJSON_HasObjectItem(l, logit_keys[i]), "logits key %s", logit_keys[i]);
    }
}

/* ---- integer tensors ---- */

/* The row of image_grid_thw that q35_report_compare makes of the dumps ours and theirs of
 * tests/data/compare_hostile/ (make_fixtures.py) under the default policy: its status, and its
 * rule and max_abs into rule and *max_abs. */
static q35_row_status grid_row(const char *ours, const char *theirs, char rule[96], double *max_abs) {
    char pa[256], pb[256];
    snprintf(pa, sizeof pa, "tests/data/compare_hostile/%s.st", ours);
    snprintf(pb, sizeof pb, "tests/data/compare_hostile/%s.st", theirs);
    q35_st a, b;
    ck_assert_msg(q35_dump_open(&a, pa, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_dump_open(&b, pb, err, sizeof err) == 0, "%s", err);
    const q35_st_entry *ea = q35_st_find(&a, "image_grid_thw"), *eb = q35_st_find(&b, "image_grid_thw");
    ck_assert(ea && eb);
    q35_policy p;
    ck_assert_int_eq(q35_policy_default(&p, 2e-4, 1e-4, 0.99999, err, sizeof err), 0);
    q35_report r;
    q35_report_init(&r, "compare");
    const q35_row *w = q35_report_compare(&r, &p, "image_grid_thw", NULL, &ea->t, &eb->t);
    ck_assert_ptr_nonnull(w);
    q35_row_status st = w->status;
    snprintf(rule, 96, "%s", w->rule);
    *max_abs = w->c.max_abs;
    q35_report_free(&r);
    q35_policy_free(&p);
    q35_st_close(&a);
    q35_st_close(&b);
    return st;
}

/* When either side is an integer dtype the tensor is judged by the integer rule, in both orders,
 * and compared exactly as integers: a float side passes only when each float is exactly the
 * integer; two int64s differing beyond 2^53 still differ. */
START_TEST(integer_tensors_exact) {
    static const struct { const char *a, *b; int ok; double max_abs; } pairs[] = {
        { "ii", "ii", 1, 0 },
        { "ii", "fi", 0, -1 },          /* 1 vs 1.00001: was a pass under the float32 rule */
        { "ii", "fexact", 1, 0 },       /* the same integers held in float32 */
        { "ii", "i32", 1, 0 },          /* and in int32 */
        { "i64c", "i64d", 0, 1 },       /* 2^53 + 1 vs 2^53: equal through double */
        { "big_i64", "big_f32", 0, 1 }, /* 2^24 + 1 rounded by float32 to 2^24 */
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        for (int order = 0; order < 2; order++) {
            const char *a = order ? pairs[i].b : pairs[i].a, *b = order ? pairs[i].a : pairs[i].b;
            char rule[96];
            double max_abs;
            q35_row_status st = grid_row(a, b, rule, &max_abs);
            ck_assert_msg(strcmp(rule, "integer (exact)") == 0, "%s vs %s: rule %s", a, b, rule);
            ck_assert_msg((st == Q35_ROW_OK) == pairs[i].ok, "%s vs %s: %s", a, b, st == Q35_ROW_OK ? "passed" : "failed");
            if (pairs[i].max_abs >= 0)
                ck_assert_msg(max_abs == pairs[i].max_abs, "%s vs %s: max_abs %g, want %g", a, b, max_abs, pairs[i].max_abs);
        }

    q35_policy p;
    ck_assert_int_eq(q35_policy_default(&p, 2e-4, 1e-4, 0.99999, err, sizeof err), 0);
    const q35_dtype dts[2][2] = { { Q35_I32, Q35_BF16 }, { Q35_F16, Q35_I64 } };
    for (int k = 0; k < 2; k++) {
        ck_assert_str_eq(q35_policy_rule(&p, "x", dts[k][0], dts[k][1])->name, "integer (exact)");
        ck_assert_str_eq(q35_policy_rule(&p, "x", dts[k][1], dts[k][0])->name, "integer (exact)");
    }
    const q35_tol_rule *ir = q35_policy_rule(&p, "x", Q35_I64, Q35_I64);
    int64_t shape[1] = { 1 }, lo[1] = { INT64_MIN }, hi[1] = { INT64_MAX }, zero[1] = { 0 };
    float nan[1] = { NAN }, negzero[1] = { -0.0f }, two63[1] = { 9223372036854775808.0f };
    q35_tensor tlo = { .dtype = Q35_I64, .ndim = 1, .shape = { 1 }, .data = lo };
    q35_tensor thi = tlo, tzero = tlo;
    thi.data = hi, tzero.data = zero;
    q35_tensor tnan = q35_view_f32(nan, 1, shape), tneg = q35_view_f32(negzero, 1, shape),
               t63 = q35_view_f32(two63, 1, shape);
    q35_cmp c;
    q35_compare(&c, &tlo, &thi); /* the distance 2^64 - 1 overflows no int64 */
    ck_assert(c.is_int && c.mismatches == 1 && c.max_abs > 1.8e19 && !q35_rule_pass(ir, &c, NULL, 0));
    q35_compare(&c, &tneg, &tzero); /* -0.0 is the integer 0 */
    ck_assert(c.is_int && c.mismatches == 0 && q35_rule_pass(ir, &c, NULL, 0));
    q35_compare(&c, &tnan, &tzero);
    ck_assert(c.is_int && c.mismatches == 1 && c.nonfinite && !q35_rule_pass(ir, &c, NULL, 0));
    q35_compare(&c, &thi, &t63); /* 2^63 is no int64, though (double)INT64_MAX == 2^63 */
    ck_assert(c.mismatches == 1 && !q35_rule_pass(ir, &c, NULL, 0));
    q35_policy_free(&p);
}
END_TEST

/* A golden set's prompt ids as "A,B,C" for --ids. */
static void prompt_ids(char *ids, size_t n, const char *set) {
    char path[1024];
    snprintf(path, sizeof path, "%s/golden.safetensors", set);
    q35_st g;
    ck_assert_msg(q35_st_open(&g, path, err, sizeof err) == 0, "%s", err);
    const q35_st_entry *e = q35_st_find(&g, "prefill.input_ids");
    ck_assert_ptr_nonnull(e);
    ids[0] = 0;
    for (int64_t i = 0; i < q35_numel(&e->t); i++)
        snprintf(ids + strlen(ids), n - strlen(ids), "%s%lld", i ? "," : "", (long long)q35_get_f64(&e->t, i));
    q35_st_close(&g);
}

/* forward --dump, --logits topk:K, compare against the golden, JSON and Markdown reports. */
START_TEST(reports_through_the_cli) {
    char args[8192], ids[2048];
    prompt_ids(ids, sizeof ids, "golden/data/small_text");

    snprintf(args, sizeof args, "forward golden/data/small_text/checkpoint_f32 --ids %s --dump %s/full.safetensors", ids, dir);
    ck_assert_int_eq(q35(args), 0);
    snprintf(args, sizeof args, "forward golden/data/small_text/checkpoint_f32 --ids %s --dump %s/topk.safetensors --logits topk:16",
             ids, dir);
    ck_assert_int_eq(q35(args), 0);
    ck_assert_int_eq(q35("forward golden/data/small_text/checkpoint_f32 --ids 1 --logits topk:65"), 2);

    /* ours (full) against the golden: pass, JSON per the schema, Markdown with the verdict */
    snprintf(args, sizeof args, "compare %s/full.safetensors golden/data/small_text/golden.safetensors --json %s/r.json --markdown %s/r.md",
             dir, dir, dir);
    ck_assert_int_eq(q35(args), 0);
    char *text = slurp("r.json");
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    check_schema(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "verdict")->valuestring, "pass");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "first_divergence")));
    int logits_rows = 0;
    for (const cJSON *t = cJSON_GetObjectItem(j, "tensors")->child; t; t = t->next) {
        const cJSON *l = cJSON_GetObjectItem(t, "logits");
        if (!cJSON_IsObject(l)) continue;
        logits_rows++;
        ck_assert_double_eq(cJSON_GetObjectItem(l, "top1")->valuedouble, 1.0);
        ck_assert_double_lt(cJSON_GetObjectItem(cJSON_GetObjectItem(l, "kl_theirs_ours"), "max")->valuedouble, 1e-8);
    }
    ck_assert_int_eq(logits_rows, 1);
    cJSON_Delete(j);
    free(text);
    text = slurp("r.md");
    ck_assert_msg(strstr(text, "# q35 compare report: PASS") && strstr(text, "## Provenance") &&
                      strstr(text, "prefill.text.layers.7.output") && strstr(text, "## Logits"),
                  "%s", text);
    free(text);

    /* ours in top-k form against the golden's full logits */
    snprintf(args, sizeof args, "compare %s/topk.safetensors golden/data/small_text/golden.safetensors --json %s/k.json", dir, dir);
    ck_assert_int_eq(q35(args), 0);
    text = slurp("k.json");
    j = cJSON_Parse(text);
    check_schema(j);
    const cJSON *row = NULL;
    for (const cJSON *t = cJSON_GetObjectItem(j, "tensors")->child; t; t = t->next)
        if (!strcmp(cJSON_GetObjectItem(t, "name")->valuestring, "prefill.logits.topk")) row = t;
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(cJSON_GetObjectItem(row, "status")->valuestring, "ok");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(row, "rule"), "name")->valuestring, "logits, top-k form");
    const cJSON *l = cJSON_GetObjectItem(row, "logits");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(l, "compact")));
    ck_assert_int_eq(cJSON_GetObjectItem(l, "k")->valueint, 16);
    ck_assert_double_eq(cJSON_GetObjectItem(l, "top1")->valuedouble, 1.0);
    cJSON_Delete(j);
    free(text);

    /* full against top-k in either order: the logits row takes all three compact tensors */
    for (int order = 0; order < 2; order++) {
        snprintf(args, sizeof args, "compare %s/%s.safetensors %s/%s.safetensors --json %s/ft.json", dir, order ? "topk" : "full",
                 dir, order ? "full" : "topk", dir);
        ck_assert_int_eq(q35(args), 0);
        text = slurp("ft.json");
        j = cJSON_Parse(text);
        const cJSON *sm = cJSON_GetObjectItem(j, "summary");
        ck_assert_int_eq(cJSON_GetObjectItem(sm, "only_ours")->valueint, 0);
        ck_assert_int_eq(cJSON_GetObjectItem(sm, "only_theirs")->valueint, 0);
        cJSON_Delete(j);
        free(text);
    }

    /* a policy that fails everything: exit 1, the first divergence named at the top */
    write_tmp("strict.yaml", "format: q35-tolerances/1\nrules:\n  - match: \"layers\\\\.2\\\\.\"\n    max_rel: 0\n    name: zero\n");
    snprintf(args, sizeof args, "compare %s/full.safetensors golden/data/small_text/golden.safetensors --policy %s/strict.yaml "
                                "--json %s/s.json --markdown %s/s.md", dir, dir, dir, dir);
    ck_assert_int_eq(q35(args), 1);
    text = slurp("s.json");
    j = cJSON_Parse(text);
    check_schema(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "verdict")->valuestring, "fail");
    const cJSON *fd = cJSON_GetObjectItem(j, "first_divergence");
    ck_assert_str_eq(cJSON_GetObjectItem(fd, "name")->valuestring, "prefill.text.layers.2.input");
    ck_assert_str_eq(cJSON_GetObjectItem(fd, "layer")->valuestring, "text layer 2");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fd, "before")), 3);
    cJSON_Delete(j);
    free(text);
    text = slurp("s.md");
    ck_assert_msg(strstr(text, "FAIL") && strstr(text, "**First divergence:** `prefill.text.layers.2.input` (text layer 2)") &&
                      strstr(text, "| FAIL |") && strstr(text, "zero"),
                  "%s", text);
    free(text);
    text = slurp("out.txt");
    ck_assert_msg(strstr(text, "first divergence: prefill.text.layers.2.input (text layer 2)"), "%s", text);
    ck_assert_msg(strstr(text, "verdict: FAIL") < strstr(text, "status name"), "the verdict comes first: %s", text);
    free(text);

    /* usage and input errors: exit 2 */
    snprintf(args, sizeof args, "compare %s/full.safetensors %s/nope.safetensors", dir, dir);
    ck_assert_int_eq(q35(args), 2);
    snprintf(args, sizeof args, "compare %s/full.safetensors %s/full.safetensors --policy %s/nope.yaml", dir, dir, dir);
    ck_assert_int_eq(q35(args), 2);
    snprintf(args, sizeof args, "compare %s/full.safetensors %s/full.safetensors --bogus 1", dir, dir);
    ck_assert_int_eq(q35(args), 2);
}
END_TEST

/* verify --report: a conformance report with provenance (hashes, backend, teacher forcing). */
START_TEST(verify_report) {
    char args[4096];
    snprintf(args, sizeof args, "verify golden/data/small_text --teacher-force --report %s/c.md --json %s/c.json", dir, dir);
    ck_assert_int_eq(q35(args), 0);
    char *text = slurp("c.md");
    ck_assert_msg(strstr(text, "# q35 verify report: PASS") && strstr(text, "manifest sha256") && strstr(text, "model sha256") &&
                      strstr(text, "teacher forcing") && strstr(text, "on: each layer fed its golden input") &&
                      strstr(text, "transformers 5.3.0.dev0"),
                  "%s", text);
    free(text);
    text = slurp("c.json");
    cJSON *j = cJSON_Parse(text);
    check_schema(j);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "passed")->valueint, 495);
    const char *h = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "provenance"), "manifest sha256")->valuestring;
    ck_assert_int_eq(strlen(h), 64);
    cJSON_Delete(j);
    free(text);
}
END_TEST

/* Another implementation's dump: llama.cpp's names and layouts (tests/data/aliases/llama_kv_equal,
 * written from the kv_equal goldens by make_llama_layout.py) through golden/aliases/llama.cpp.yaml
 * against q35's own forward; then one of their tensors perturbed is named as the first divergence;
 * Hugging Face module paths through hf.yaml; bad inputs exit 2. */
START_TEST(alias_maps_end_to_end) {
    char args[8192], ids[2048];
    prompt_ids(ids, sizeof ids, "golden/data/kv_equal");
    snprintf(args, sizeof args, "forward golden/data/kv_equal/checkpoint_f32 --ids %s --dump %s/ours.safetensors", ids, dir);
    ck_assert_int_eq(q35(args), 0);

    snprintf(args, sizeof args, "compare %s/ours.safetensors tests/data/aliases/llama_kv_equal --names golden/aliases/llama.cpp.yaml "
                                "--model golden/data/kv_equal/checkpoint_f32 --json %s/l.json", dir, dir);
    ck_assert_int_eq(q35(args), 0);
    char *text = slurp("l.json");
    cJSON *j = cJSON_Parse(text);
    check_schema(j);
    const cJSON *sum = cJSON_GetObjectItem(j, "summary");
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "compared")->valueint, 62); /* every file of theirs */
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "only_theirs")->valueint, 0);
    int renamed = 0, untiled = 0;
    for (const cJSON *t = cJSON_GetObjectItem(j, "tensors")->child; t; t = t->next) {
        const cJSON *th = cJSON_GetObjectItem(t, "theirs");
        renamed += cJSON_IsString(th);
        if (cJSON_IsString(th) && !strcmp(th->valuestring, "final_output-1")) {
            untiled = 1;
            ck_assert_str_eq(cJSON_GetObjectItem(t, "name")->valuestring, "prefill.text.layers.1.linear_attn.gated_norm_out");
        }
        if (cJSON_IsString(th) && !strcmp(th->valuestring, "attn_output-3")) /* one name, two of ours: the one we have */
            ck_assert_str_eq(cJSON_GetObjectItem(t, "name")->valuestring, "prefill.text.layers.3.attn_out");
    }
    ck_assert_int_eq(renamed, 62);
    ck_assert(untiled);
    cJSON_Delete(j);
    free(text);

    /* their gated norm output of layer 1 off by 0.05 in one element: that tensor is the first divergence */
    char tdir[1200], src[1400], dst[1400];
    snprintf(tdir, sizeof tdir, "%s/theirs", dir);
    snprintf(args, sizeof args, "cp -r tests/data/aliases/llama_kv_equal %s", tdir);
    ck_assert_int_eq(system(args), 0);
    q35_st t;
    ck_assert_msg(q35_npy_dir_open(&t, tdir, err, sizeof err) == 0, "%s", err);
    const q35_st_entry *fo = q35_st_find(&t, "final_output-1");
    ck_assert_ptr_nonnull(fo);
    int64_t n = q35_numel(&fo->t);
    float *x = malloc((size_t)n * sizeof *x);
    q35_read_f32(x, &fo->t, 0, n);
    x[5] += 0.05f;
    q35_tensor pt = fo->t;
    pt.data = x;
    snprintf(dst, sizeof dst, "%s/final_output-1.npy", tdir);
    ck_assert_msg(q35_npy_write(dst, &pt, err, sizeof err) == 0, "%s", err);
    free(x);
    q35_st_close(&t);
    snprintf(args, sizeof args, "compare %s/ours.safetensors %s --names golden/aliases/llama.cpp.yaml "
                                "--model golden/data/kv_equal/checkpoint_f32 --json %s/p.json", dir, tdir, dir);
    ck_assert_int_eq(q35(args), 1);
    text = slurp("p.json");
    j = cJSON_Parse(text);
    const cJSON *fd = cJSON_GetObjectItem(j, "first_divergence");
    ck_assert_str_eq(cJSON_GetObjectItem(fd, "name")->valuestring, "prefill.text.layers.1.linear_attn.gated_norm_out");
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "failed")->valueint, 1);
    cJSON_Delete(j);
    free(text);

    /* the map needs the key-head count: without --model or --param the tensors that need it fail
     * saying so; --param works */
    snprintf(args, sizeof args, "compare %s/ours.safetensors tests/data/aliases/llama_kv_equal --names golden/aliases/llama.cpp.yaml",
             dir);
    ck_assert_int_eq(q35(args), 1);
    text = slurp("out.txt");
    ck_assert_msg(strstr(text, "--param"), "%s", text);
    free(text);
    snprintf(args, sizeof args, "compare %s/ours.safetensors tests/data/aliases/llama_kv_equal --names golden/aliases/llama.cpp.yaml "
                                "--param key_heads=2 --param value_heads=4 --param value_head_dim=16", dir);
    ck_assert_int_eq(q35(args), 0);
    /* a wrong key-head count moves heads to the wrong places: caught */
    snprintf(args, sizeof args, "compare %s/ours.safetensors tests/data/aliases/llama_kv_equal --names golden/aliases/llama.cpp.yaml "
                                "--model golden/data/kv_equal/checkpoint_f32 --param key_heads=1", dir);
    ck_assert_int_eq(q35(args), 1);

    /* Hugging Face module paths */
    snprintf(args, sizeof args, "compare %s/ours.safetensors tests/data/aliases/hf_kv_equal --names golden/aliases/hf.yaml --json %s/h.json",
             dir, dir);
    ck_assert_int_eq(q35(args), 0);
    text = slurp("h.json");
    j = cJSON_Parse(text);
    ck_assert_int_ge(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "compared")->valueint, 45);
    cJSON_Delete(j);
    free(text);

    /* a map whose view does not fit one tensor, and a tensor of another shape: failing rows that say
     * why, the rest still compared */
    write_tmp("shape_map.yaml", "format: q35-aliases/1\naliases:\n"
                                "  - theirs: \"model.layers.{L}.input_layernorm\"\n    ours: \"text.layers.{L}.input_norm\"\n"
                                "    transform: [ {view: [7, -1]} ]\n"
                                "  - theirs: \"model.layers.{L}.post_attention_layernorm\"\n    ours: \"text.layers.{L}.input\"\n"
                                "  - theirs: \"model.layers.{L}.mlp\"\n    ours: \"text.layers.{L}.mlp_out\"\n"
                                "  - theirs: \"lm_head\"\n    ours: \"text.final_norm\"\n");
    snprintf(args, sizeof args, "compare %s/ours.safetensors tests/data/aliases/hf_kv_equal --names %s/shape_map.yaml --json %s/sh.json",
             dir, dir, dir);
    ck_assert_int_eq(q35(args), 1);
    text = slurp("sh.json");
    j = cJSON_Parse(text);
    check_schema(j);
    int view_fail = 0, shape_fail = 0, ok = 0;
    for (const cJSON *t = cJSON_GetObjectItem(j, "tensors")->child; t; t = t->next) {
        const char *st = cJSON_GetObjectItem(t, "status")->valuestring;
        const cJSON *note = cJSON_GetObjectItem(t, "note");
        if (!strcmp(st, "ok")) ok++;
        if (!strcmp(st, "FAIL") && cJSON_IsString(note) && strstr(note->valuestring, "element counts differ")) view_fail++;
        if (!strcmp(st, "FAIL") && cJSON_IsString(note) && strstr(note->valuestring, "shape [1,16,64] in ours, [1,16,500] in theirs"))
            shape_fail++;
    }
    ck_assert_int_eq(view_fail, 4);  /* every layer's input_norm */
    ck_assert_int_eq(ok, 4);         /* every layer's mlp_out */
    ck_assert_int_eq(shape_fail, 1); /* the final norm against the head's logits */
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "failed")->valueint, 4 + 4 + 1);
    cJSON_Delete(j);
    free(text);

    /* malformed inputs: a truncated .npy, a bad map */
    snprintf(src, sizeof src, "%s/l_out-0.npy", tdir);
    FILE *f = fopen(src, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), 200), 0);
    fclose(f);
    snprintf(args, sizeof args, "compare %s/ours.safetensors %s --names golden/aliases/llama.cpp.yaml --model golden/data/kv_equal/checkpoint_f32",
             dir, tdir);
    ck_assert_int_eq(q35(args), 2);
    text = slurp("out.txt");
    ck_assert_msg(strstr(text, "l_out-0.npy") && strstr(text, "truncated"), "%s", text);
    free(text);
    write_tmp("bad_map.yaml", "format: q35-aliases/1\naliases:\n  - theirs: x\n    ours: y\n    transform: [ {rotate: 1} ]\n");
    snprintf(args, sizeof args, "compare %s/ours.safetensors tests/data/aliases/hf_kv_equal --names %s/bad_map.yaml", dir, dir);
    ck_assert_int_eq(q35(args), 2);
    text = slurp("out.txt");
    ck_assert_msg(strstr(text, "unknown transform 'rotate'"), "%s", text);
    free(text);
}
END_TEST

int main(void) {
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("tools");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, yaml_types_and_errors);
    tcase_add_test(tc, policy_defaults_and_yaml);
    tcase_add_test(tc, integer_tensors_exact);
    tcase_add_test(tc, alias_match_and_transforms);
    tcase_add_test(tc, logits_metrics);
    tcase_add_test(tc, reports_through_the_cli);
    tcase_add_test(tc, verify_report);
    tcase_add_test(tc, alias_maps_end_to_end);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
