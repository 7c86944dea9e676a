/* test_evalstats.c - comparing runs: McNemar's exact p against exact integer sums and a long
 * double oracle (no overflow, no NaN at a million), Newcombe's paired interval against his
 * published values, `q35 eval diff` on hand-made run directories (pairing, items of one run,
 * different prompts, the JSON keys, malformed, torn and duplicate lines; the command's exit
 * statuses), and the SVG chart's escaping and well-formedness. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "chart.h"
#include "stats.h"
#include "testutil.h"
#include "util.h"

static char err[4096];

/* ---- McNemar ---- */

/* 2 P(X <= min(b, c)) by exact integer sums (b + c <= 62), capped at 1. */
static double mcnemar_exact_int(int b, int c) {
    int N = b + c, m = b < c ? b : c;
    uint64_t row[64] = { 1 }, sum = 0;
    for (int r = 1; r <= N; r++)
        for (int k = r; k >= 1; k--) row[k] += row[k - 1];
    for (int k = 0; k <= m; k++) sum += row[k];
    double p = ldexp((double)sum, 1 - N);
    return N == 0 || p > 1 ? 1 : p;
}

/* The same by long double log-gamma terms: an independent oracle for large N. */
static double mcnemar_lgammal(int b, int c) {
    long double N = (long double)b + c, s = 0, top = lgammal(N + 1) - N * logl(2.0L);
    for (int k = b < c ? b : c; k >= 0; k--) {
        long double t = expl(top - lgammal(k + 1.0L) - lgammal(N - k + 1));
        s += t;
        if (t < s * 1e-22L) break;
    }
    return 2 * s > 1 ? 1 : (double)(2 * s);
}

START_TEST(mcnemar_known_tables) {
    ck_assert_double_eq(q35_mcnemar_exact_p(0, 0), 1);
    ck_assert_double_eq_tol(q35_mcnemar_exact_p(1, 5), 0.21875, 1e-15);
    ck_assert_double_eq_tol(q35_mcnemar_exact_p(5, 1), 0.21875, 1e-15);
    ck_assert_double_eq_tol(q35_mcnemar_exact_p(10, 2), 0.03857421875, 1e-15);
    ck_assert_double_eq_tol(q35_mcnemar_exact_p(0, 5), 0.0625, 1e-16);
    ck_assert_double_eq(q35_mcnemar_exact_p(0, 1), 1);
    ck_assert_double_eq(q35_mcnemar_exact_p(7, 7), 1);
    ck_assert(isnan(q35_mcnemar_exact_p(-1, 3)));
    for (int N = 0; N <= 62; N++)
        for (int b = 0; b <= N; b++) {
            double want = mcnemar_exact_int(b, N - b), got = q35_mcnemar_exact_p(b, N - b);
            ck_assert_msg(got == want, "b=%d c=%d: %.17g, exact %.17g", b, N - b, got, want);
        }
    for (int N = 63; N <= 400; N += 7) /* past the integer path */
        for (int b = 0; b <= N; b += 3) {
            double want = mcnemar_lgammal(b, N - b), got = q35_mcnemar_exact_p(b, N - b);
            ck_assert_msg(fabs(got - want) <= 1e-12 * want, "b=%d c=%d: %.17g, oracle %.17g", b, N - b, got, want);
        }
    /* large: symmetric is 1, asymmetric matches the oracle, the far tail is 0 and never NaN */
    ck_assert_double_eq(q35_mcnemar_exact_p(500000, 500000), 1);
    int big[][2] = { { 499000, 501000 }, { 501000, 499000 }, { 499500, 500500 }, { 100, 150 }, { 3000, 3200 }, { 20, 2000 } };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        double got = q35_mcnemar_exact_p(big[i][0], big[i][1]), want = mcnemar_lgammal(big[i][0], big[i][1]);
        ck_assert_msg(isfinite(got) && fabs(got - want) <= 1e-9 * want, "b=%d c=%d: %.17g, oracle %.17g", big[i][0],
                      big[i][1], got, want);
    }
    double p = q35_mcnemar_exact_p(499000, 501000); /* z = 2: about 0.0455 */
    ck_assert(p > 0.044 && p < 0.047);
    ck_assert_double_eq(q35_mcnemar_exact_p(0, 1000000), 0);
    p = q35_mcnemar_exact_p(400000, 600000);
    ck_assert(p >= 0 && p < 1e-300);
    p = q35_mcnemar_exact_p(1000000000, 1000000000);
    ck_assert_double_eq(p, 1);
}
END_TEST

/* ---- Newcombe's paired interval ---- */

START_TEST(paired_interval_published_values) {
    /* Newcombe 1998 (Stat Med 17:2635), Table II, method 10: (e, f, g, h), difference (f - g)/n;
     * here e = both right, f = B only, g = A only, h = both wrong. */
    struct {
        int e, f, g, h;
        double lo, hi;
    } t[] = {
        { 36, 12, 2, 0, 0.0569, 0.3404 },
        { 18, 12, 2, 18, 0.0562, 0.3290 },
        { 53, 0, 0, 1, -0.0729, 0.0729 },
        { 0, 30, 0, 0, 0.8395, 1.0 },
        /* Fagerland, Lydersen, Laake, Statistical Analysis of Contingency Tables (2017), ch. 8:
         * Cavo et al. 2012, (59, 6, 16, 80): -0.0621 (-0.1186 to -0.0046) */
        { 59, 6, 16, 80, -0.1186, -0.0046 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        double d, lo, hi;
        q35_paired_diff95(t[i].e, t[i].g, t[i].f, t[i].h, &d, &lo, &hi);
        double n = t[i].e + t[i].f + t[i].g + t[i].h;
        ck_assert_double_eq_tol(d, (t[i].f - t[i].g) / n, 1e-15);
        ck_assert_msg(fabs(lo - t[i].lo) <= 5.01e-5 && fabs(hi - t[i].hi) <= 5.01e-5, "table %zu: %.5f to %.5f, published %.4f to %.4f",
                      i, lo, hi, t[i].lo, t[i].hi);
        /* the mirror table: the interval mirrors */
        double d2, lo2, hi2;
        q35_paired_diff95(t[i].e, t[i].f, t[i].g, t[i].h, &d2, &lo2, &hi2);
        ck_assert_double_eq_tol(d2, -d, 1e-15);
        ck_assert_double_eq_tol(lo2, -hi, 1e-12);
        ck_assert_double_eq_tol(hi2, -lo, 1e-12);
    }
    double d, lo, hi;
    q35_paired_diff95(0, 0, 0, 0, &d, &lo, &hi);
    ck_assert(d == 0 && lo == 0 && hi == 0);
    q35_paired_diff95(1, -1, 0, 0, &d, &lo, &hi);
    ck_assert(isnan(d) && isnan(lo) && isnan(hi));
    q35_paired_diff95(1000000000, 300000000, 400000000, 300000000, &d, &lo, &hi); /* no int overflow */
    ck_assert(isfinite(lo) && isfinite(hi) && lo < d && d < hi && hi - lo < 1e-3);
}
END_TEST

/* ---- q35 eval diff ---- */

static void write_at(const char *dir, const char *name, const char *text) {
    char p[4300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    tu_write_file(p, text, strlen(text));
}

/* One record as q35 eval writes it; hashes NULL: left out. */
static void rec(FILE *f, const char *subject, int doc, int gold, int pred, const char *psha,
                const char *isha) {
    fprintf(f, "{\"subject\":\"%s\",\"doc_id\":%d", subject, doc);
    if (psha) fprintf(f, ",\"prompt_sha256\":\"%s\"", psha);
    if (isha) fprintf(f, ",\"ids_sha256\":\"%s\"", isha);
    fprintf(f, ",\"prompt_tokens\":10,\"loglik\":[-1,-2,-3,-4],\"is_greedy\":[0,0,0,0],\"pred\":%d,\"gold\":%d,"
               "\"correct\":%s,\"seconds\":0.01}\n",
            pred, gold, pred == gold ? "true" : "false");
}

static const char *results_json(const char *config, const char *backend) {
    static char b[1024];
    snprintf(b, sizeof b,
             "{\"schema\":\"q35-eval-results/1\",\"task\":\"mmlu\",\"config_sha256\":\"%s\","
             "\"model_fingerprint\":\"35ebf9c184d1469a3fc3c6b25efe668468fc2528e4ededc0d369d09e2d9f4876\","
             "\"backend\":\"%s\",\"overall\":{\"n\":9,\"correct\":4,\"acc_micro\":0.44},\"subjects\":{}}\n",
             config, backend);
    return b;
}

/* Two runs: 8 paired items (both right 2, A only 2, B only 3, both wrong 1; 6 predictions
 * differ, 2 fed different prompts), one item only in each run, and a torn last line in B. */
static void make_runs(const char *a, const char *b) {
    mkdir(a, 0777), mkdir(b, 0777);
    char *txt;
    size_t n;
    FILE *f = open_memstream(&txt, &n);
    rec(f, "math", 0, 0, 0, "p0", "i0");
    rec(f, "math", 1, 1, 1, "p1", "i1");
    rec(f, "math", 2, 2, 0, "p2", "i2");
    rec(f, "math", 3, 3, 0, "p3", "i3");
    rec(f, "math", 4, 0, -1, "p4", "i4");
    rec(f, "math", 9, 0, 0, "p9", "i9");
    rec(f, "bio & <chem>", 0, 1, 1, "q0", "j0");
    rec(f, "bio & <chem>", 1, 2, 3, "q1", "j1");
    rec(f, "bio & <chem>", 2, 0, 0, "q2", "j2");
    fclose(f);
    write_at(a, "samples.jsonl", txt);
    free(txt);
    f = open_memstream(&txt, &n); /* another order */
    rec(f, "bio & <chem>", 2, 0, -1, "q2", "j2");
    rec(f, "math", 4, 0, 0, NULL, NULL);
    rec(f, "math", 3, 3, 1, "p3-other", "i3");
    rec(f, "bio & <chem>", 7, 0, 0, "q7", "j7");
    rec(f, "math", 2, 2, 2, "p2", "i2");
    rec(f, "bio & <chem>", 0, 1, 1, "q0", "j0");
    rec(f, "math", 1, 1, 2, "p1", "i1");
    rec(f, "bio & <chem>", 1, 2, 2, "q1", "j1-other");
    rec(f, "math", 0, 0, 0, "p0", "i0");
    fputs("{\"subject\":\"math\",\"doc_id\":5,\"pr", f);
    fclose(f);
    write_at(b, "samples.jsonl", txt);
    free(txt);
    write_at(a, "results.json", results_json("aaaa1111", "fast"));
    write_at(b, "results.json", results_json("bbbb2222", "fast"));
    write_at(a, "config.yaml", "task: mmlu\nmodel: /m\nprompt.num_fewshot: 0\nlimit: 0\n");
    write_at(b, "config.yaml", "task: mmlu\nmodel: /m\nprompt.num_fewshot: 5\nseed: 7\n");
}

/* q35_eval_diff's output in a new string (free it); NULL on failure, with err. */
static char *diff(const char *a, const char *b, int json, int list) {
    char *txt = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&txt, &n);
    ck_assert_ptr_nonnull(f);
    int rc = q35_eval_diff(a, b, f, json, list, err, sizeof err);
    fclose(f);
    if (rc != 0) {
        ck_assert_uint_eq(n, 0); /* nothing written on an error */
        free(txt);
        return NULL;
    }
    return txt;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(j), "no number %s", key);
    return j->valuedouble;
}

START_TEST(diff_two_runs) {
    char dir[4096], a[4200], b[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(a, sizeof a, "%s/runA", dir);
    snprintf(b, sizeof b, "%s/runB", dir);
    make_runs(a, b);
    char *out = diff(a, b, 1, 2);
    ck_assert_msg(out != NULL, "%s", err);
    cJSON *j = cJSON_Parse(out);
    ck_assert_msg(j != NULL, "not JSON: %s", out);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "schema")->valuestring, "q35-eval-diff/1");
    ck_assert_int_eq(num(j, "paired"), 8);
    ck_assert_int_eq(num(j, "only_in_a"), 1);
    ck_assert_int_eq(num(j, "only_in_b"), 1);
    const cJSON *oa = cJSON_GetObjectItem(j, "only_in_a_items");
    ck_assert_int_eq(cJSON_GetArraySize(oa), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(oa, 0), "subject")->valuestring, "math");
    ck_assert_int_eq(num(cJSON_GetArrayItem(oa, 0), "doc_id"), 9);
    ck_assert_int_eq(num(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "only_in_b_items"), 0), "doc_id"), 7);
    ck_assert_int_eq(num(j, "different_prompts"), 2);
    ck_assert_int_eq(num(j, "different_gold"), 0);
    const cJSON *t = cJSON_GetObjectItem(j, "table");
    ck_assert_int_eq(num(t, "both_right"), 2);
    ck_assert_int_eq(num(t, "a_only"), 2);
    ck_assert_int_eq(num(t, "b_only"), 3);
    ck_assert_int_eq(num(t, "both_wrong"), 1);
    ck_assert_double_eq_tol(num(j, "acc_a"), 4.0 / 8, 1e-15);
    ck_assert_double_eq_tol(num(j, "acc_b"), 5.0 / 8, 1e-15);
    double d, lo, hi;
    q35_paired_diff95(2, 2, 3, 1, &d, &lo, &hi);
    ck_assert_double_eq_tol(num(j, "diff"), 0.125, 1e-15);
    ck_assert_double_eq_tol(num(j, "diff_ci95_lo"), lo, 1e-12);
    ck_assert_double_eq_tol(num(j, "diff_ci95_hi"), hi, 1e-12);
    ck_assert_double_eq_tol(num(j, "mcnemar_p"), q35_mcnemar_exact_p(2, 3), 1e-15);
    ck_assert_int_eq(num(j, "pred_changed"), 6);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "same_config")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "same_model")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "same_backend")));
    const cJSON *cd = cJSON_GetObjectItem(j, "config_differences");
    ck_assert_int_eq(cJSON_GetArraySize(cd), 3); /* num_fewshot 0 -> 5, limit 0 -> absent, seed absent -> 7 */
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cd, 0), "key")->valuestring, "prompt.num_fewshot");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cd, 0), "b")->valuestring, "5");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cd, 1), "b")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cd, 2), "a")));
    const cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "subjects"), "math");
    ck_assert_int_eq(num(s, "n"), 5);
    ck_assert_int_eq(num(s, "correct_a"), 2);
    ck_assert_int_eq(num(s, "correct_b"), 3);
    ck_assert_int_eq(num(s, "a_only"), 1);
    ck_assert_int_eq(num(s, "b_only"), 2);
    ck_assert_int_eq(num(s, "pred_changed"), 4);
    s = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "subjects"), "bio & <chem>");
    ck_assert_int_eq(num(s, "n"), 3);
    ck_assert_int_eq(num(s, "pred_changed"), 2);
    const cJSON *ch = cJSON_GetObjectItem(j, "changed");
    ck_assert_int_eq(cJSON_GetArraySize(ch), 2); /* --list 2, in (subject, doc_id) order */
    ck_assert_int_eq(num(cJSON_GetArrayItem(ch, 0), "doc_id"), 1);
    ck_assert_int_eq(num(cJSON_GetArrayItem(ch, 0), "pred_a"), 3);
    ck_assert_int_eq(num(cJSON_GetArrayItem(ch, 0), "pred_b"), 2);
    ck_assert_int_eq(num(cJSON_GetArrayItem(ch, 1), "pred_b"), -1);
    const cJSON *b_ = cJSON_GetObjectItem(j, "b");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(b_, "torn_last_line")));
    ck_assert_int_eq(num(b_, "items"), 9);
    ck_assert_str_eq(cJSON_GetObjectItem(b_, "config_sha256")->valuestring, "bbbb2222");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "notes")), 1);
    ck_assert(strstr(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "notes"), 0)->valuestring, "samples.jsonl:10: a torn"));
    cJSON_Delete(j);
    free(out);
    /* the text */
    out = diff(a, b, 0, 20);
    ck_assert_msg(out != NULL, "%s", err);
    ck_assert_msg(strstr(out, "config   DIFFER: A aaaa1111, B bbbb2222\n"), "%s", out);
    ck_assert(strstr(out, "prompt.num_fewshot: 0 -> 5\n"));
    ck_assert(strstr(out, "seed: (absent) -> 7\n"));
    ck_assert(strstr(out, "model    same: 35ebf9c184d1469a\n"));
    ck_assert(strstr(out, "backend  same: fast\n"));
    ck_assert(strstr(out, "items: 8 paired; 1 only in A, 1 only in B (left out of the paired statistics)\n"));
    ck_assert(strstr(out, "only in A: math 9\n"));
    ck_assert(strstr(out, "fed different prompts: 2 of 8 paired items"));
    ck_assert(strstr(out, "torn last line"));
    ck_assert(strstr(out, "accuracy A   50.00%  (4/8)\n"));
    ck_assert(strstr(out, "B - A       +12.50 points, 95% interval"));
    ck_assert(strstr(out, "McNemar exact p = 1.0000 (2 right in A only, 3 right in B only)\n"));
    ck_assert(strstr(out, "changed items (prediction differs): 6\n"));
    ck_assert_msg(strstr(out, "  math               4    A    -    A  B\n"), "%s", out); /* gold A, A gave none */
    ck_assert(strstr(out, "  bio & <chem>       2    A    A    -  A\n"));
    ck_assert(!strstr(out, "math               0")); /* unchanged items are not listed */
    free(out);
    /* a run against itself: nothing differs */
    out = diff(a, a, 0, 20);
    ck_assert_msg(out != NULL, "%s", err);
    ck_assert(strstr(out, "config   same: aaaa1111\n"));
    ck_assert(strstr(out, "McNemar exact p = 1.0000"));
    ck_assert(strstr(out, "no paired item's prediction differs"));
    free(out);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(diff_errors) {
    char dir[4096], a[4200], b[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(a, sizeof a, "%s/runA", dir);
    snprintf(b, sizeof b, "%s/runB", dir);
    make_runs(a, b);
    const char *good = "{\"subject\":\"x\",\"doc_id\":0,\"pred\":1,\"gold\":1,\"correct\":true}\n";
    struct {
        const char *text, *want;
    } bad[] = {
        { "not json\n", "samples.jsonl:2: not JSON" },
        { "\n", "samples.jsonl:2: not JSON" },
        { "[1,2]\n", "samples.jsonl:2: not a JSON object" },
        { "{\"subject\":\"x\",\"doc_id\":1,\"pred\":1,\"gold\":1,\"correct\":true} x\n", ":2: bytes after" },
        { "{\"subject\":\"x\",\"doc_id\":-1,\"pred\":1,\"gold\":1,\"correct\":true}\n", ":2: \"doc_id\"" },
        { "{\"subject\":\"x\",\"doc_id\":1.5,\"pred\":1,\"gold\":1,\"correct\":true}\n", ":2: \"doc_id\"" },
        { "{\"subject\":\"x\",\"doc_id\":1e300,\"pred\":1,\"gold\":1,\"correct\":true}\n", ":2: \"doc_id\"" },
        { "{\"subject\":\"x\",\"doc_id\":1,\"pred\":-2,\"gold\":1,\"correct\":true}\n", ":2: \"pred\"" },
        { "{\"subject\":\"x\",\"doc_id\":1,\"pred\":1,\"correct\":true}\n", ":2: \"gold\"" },
        { "{\"subject\":\"x\",\"doc_id\":1,\"pred\":1,\"gold\":1,\"correct\":1}\n", ":2: \"correct\"" },
        { "{\"subject\":\"\",\"doc_id\":1,\"pred\":1,\"gold\":1,\"correct\":true}\n", ":2: no \"subject\"" },
        { "{\"subject\":\"a\\u0001b\",\"doc_id\":1,\"pred\":1,\"gold\":1,\"correct\":true}\n", ":2: no \"subject\"" },
        { "{\"subject\":\"x\",\"doc_id\":1,\"pred\":1,\"gold\":1,\"correct\":true,\"ids_sha256\":5}\n", ":2: \"ids_sha256\"" },
        { "{\"subject\":\"x\",\"doc_id\":0,\"pred\":2,\"gold\":1,\"correct\":false}\n", ":2: duplicate item (x, doc_id 0), first at line 1" },
    };
    char p[4300], text[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s%s%s", good, bad[i].text, good);
        if (strstr(bad[i].want, "duplicate")) snprintf(text, sizeof text, "%s%s", good, bad[i].text);
        write_at(b, "samples.jsonl", text);
        ck_assert_ptr_null(diff(a, b, 1, 20));
        ck_assert_msg(strstr(err, bad[i].want) && strstr(err, "runB/samples.jsonl:"), "case %zu: %s", i, err);
    }
    /* a NUL byte inside a line */
    char nul[200];
    int k = snprintf(nul, sizeof nul, "%s", good);
    memcpy(nul + k, "{\"subject\":\"x\",\"doc_id\":1}\0\n", 28);
    snprintf(p, sizeof p, "%s/samples.jsonl", b);
    tu_write_file(p, nul, (size_t)k + 28);
    ck_assert_ptr_null(diff(a, b, 1, 20));
    ck_assert_msg(strstr(err, "samples.jsonl:2: "), "%s", err);
    /* a malformed last line with its newline is an error; without it, a torn line left out */
    snprintf(text, sizeof text, "%s{\"subject\":\"x\",\"doc", good);
    write_at(b, "samples.jsonl", text);
    char *out = diff(a, b, 1, 20);
    ck_assert_msg(out != NULL, "%s", err);
    ck_assert(strstr(out, "\"torn_last_line\":\ttrue"));
    free(out);
    snprintf(text, sizeof text, "%s{\"subject\":\"x\",\"doc\n", good);
    write_at(b, "samples.jsonl", text);
    ck_assert_ptr_null(diff(a, b, 1, 20));
    ck_assert(strstr(err, "samples.jsonl:2: not JSON"));
    /* an empty log: nothing paired */
    write_at(b, "samples.jsonl", "");
    out = diff(a, b, 0, 20);
    ck_assert_msg(out != NULL, "%s", err);
    ck_assert(strstr(out, "items: 0 paired; 9 only in A, 0 only in B"));
    ck_assert(strstr(out, "no paired items"));
    free(out);
    out = diff(a, b, 1, 20);
    ck_assert(strstr(out, "\"acc_a\":\tnull") && strstr(out, "\"mcnemar_p\":\t1"));
    free(out);
    /* no run there; a results.json that is not JSON */
    snprintf(p, sizeof p, "%s/nothing", dir);
    ck_assert_ptr_null(diff(a, p, 0, 20));
    ck_assert_msg(strstr(err, "nothing: no samples.jsonl"), "%s", err);
    write_at(b, "results.json", "{ not json");
    ck_assert_ptr_null(diff(a, b, 0, 20));
    ck_assert_msg(strstr(err, "results.json"), "%s", err);
    /* no results.json: the header comes from run.json and config.yaml */
    snprintf(p, sizeof p, "%s/results.json", b);
    unlink(p);
    write_at(b, "run.json", "{\"config_sha256\":\"cccc\",\"model_fingerprint\":\"ffff\"}");
    write_at(b, "config.yaml", "task: mmlu\nbackend: ref\n");
    out = diff(a, b, 0, 20);
    ck_assert_msg(out != NULL, "%s", err);
    ck_assert_msg(strstr(out, "config   DIFFER: A aaaa1111, B cccc\n"), "%s", out);
    ck_assert(strstr(out, "backend  DIFFER: A fast, B ref\n"));
    free(out);
    tu_rm_rf(dir);
}
END_TEST

/* The command line: q35 eval diff's exit statuses (0 done, 1 failed, 2 bad usage) and messages. */
static int sh(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(diff_command_line) {
    const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "diff_command_line: no %s (set Q35_BIN): skipped\n", bin);
        return;
    }
    char dir[1024], a[1100], b[1100], cmd[8192];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(a, sizeof a, "%s/runA", dir);
    snprintf(b, sizeof b, "%s/runB", dir);
    make_runs(a, b);
    snprintf(cmd, sizeof cmd, "'%s' eval diff '%s' '%s' --list 1 >'%s/out' 2>'%s/err'", bin, a, b, dir, dir);
    ck_assert_int_eq(sh(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/out", dir);
    char *out = q35_read_file(cmd, 1 << 20, NULL);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strstr(out, "changed items (prediction differs): 6; the first 1\n"), "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' eval diff '%s' '%s' --json >'%s/out' 2>&1", bin, a, b, dir);
    ck_assert_int_eq(sh(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/out", dir);
    cJSON *j = q35_read_json_object(cmd, 1 << 20, 0, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "changed")), 6);
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "'%s' eval diff '%s' '%s/none' >/dev/null 2>'%s/err'", bin, a, dir, dir);
    ck_assert_int_eq(sh(cmd), 1);
    snprintf(cmd, sizeof cmd, "%s/err", dir);
    char *e = q35_read_file(cmd, 1 << 20, NULL);
    ck_assert_msg(e && strncmp(e, "q35 eval diff: ", 15) == 0 && strstr(e, "no samples.jsonl"), "%s", e ? e : "");
    free(e);
    const char *usage[] = { "'%s' eval diff '%s' 2>/dev/null", "'%s' eval diff '%s' x y 2>/dev/null",
                            "'%s' eval diff '%s' x --list -3 2>/dev/null", "'%s' eval diff '%s' x --what 2>/dev/null" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, usage[i], bin, a);
        ck_assert_msg(sh(cmd) == 2, "%s", cmd);
    }
    snprintf(cmd, sizeof cmd, "'%s' eval diff --help >/dev/null", bin);
    ck_assert_int_eq(sh(cmd), 0);
    tu_rm_rf(dir);
}
END_TEST

/* ---- the chart ---- */

/* A small well-formedness check of the XML we write: declaration, nested tags, quoted
 * attributes, only the five entities, no raw < or > in text. */
static int well_formed(const char *s, int *elements) {
    const char *stack[64];
    size_t lens[64];
    int depth = 0, roots = 0;
    *elements = 0;
    if (strncmp(s, "<?xml ", 6) != 0) return 0;
    while (*s) {
        if (*s == '<' && s[1] == '?') {
            if (!(s = strstr(s, "?>"))) return 0;
            s += 2;
        } else if (*s == '<' && s[1] == '/') {
            size_t n = strcspn(s + 2, ">");
            if (!depth || s[2 + n] != '>' || n != lens[depth - 1] || strncmp(s + 2, stack[depth - 1], n)) return 0;
            depth--;
            s += n + 3;
        } else if (*s == '<') {
            const char *name = s + 1, *e = name;
            size_t n = strcspn(name, " />");
            if (n == 0) return 0;
            int quotes = 0;
            for (e = name + n; *e && (*e != '>' || quotes % 2); e++) {
                if (*e == '"') quotes++;
                if (*e == '<' || (*e == '&' && quotes % 2 == 0)) return 0;
            }
            if (*e != '>') return 0;
            (*elements)++;
            if (depth == 0) roots++;
            if (e[-1] != '/') {
                if (depth == 64) return 0;
                stack[depth] = name, lens[depth++] = n;
            }
            s = e + 1;
        } else if (*s == '&') {
            const char *ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
            size_t i = 0;
            while (i < 5 && strncmp(s, ents[i], strlen(ents[i]))) i++;
            if (i == 5) return 0;
            s += strlen(ents[i]);
        } else if (*s == '>' || ((unsigned char)*s < 0x20 && *s != '\n')) {
            return 0;
        } else {
            s++;
        }
    }
    return depth == 0 && roots == 1;
}

static int count(const char *s, const char *sub) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p++) n++;
    return n;
}

START_TEST(chart_escaping_and_bars) {
    char dir[4096], p[4300];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(p, sizeof p, "%s/chart.svg", dir);
    q35_chart_bar bars[] = {
        { "Q&A <\"tricky\"> 'subject'", 0.412, 0.35, 0.47, 57 },
        { "ctrl\x01" "char and bad utf8 \xff\xfe", 1.5, -0.2, 1.3, 3 },
        { "a very long label, longer than forty-eight characters in all, to be cut", 0.25, 0.2, 0.3, 100 },
        { NULL, 0, 0, 0, 0 },
        { "no value", NAN, NAN, NAN, 0 },
        { "caf\xc3\xa9 \xe2\x80\x94 utf-8", 0.9, 0.95, 0.85, 14042 }, /* lo > hi: no whisker */
    };
    int n = sizeof bars / sizeof bars[0];
    ck_assert_msg(q35_chart_svg(p, "MMLU <0-shot> & \"friends\"", bars, n, 0.623, "Qwen's <published>", err, sizeof err) == 0,
                  "%s", err);
    char *svg = q35_read_file(p, 1 << 20, NULL);
    ck_assert_ptr_nonnull(svg);
    int elements;
    ck_assert_msg(well_formed(svg, &elements), "not well-formed:\n%s", svg);
    ck_assert(q35_valid_utf8(svg));
    ck_assert_int_eq(count(svg, "class=\"bar\""), n - 1);
    ck_assert_int_eq(count(svg, "class=\"whisker\""), n - 2);
    ck_assert_int_eq(count(svg, "class=\"reference\""), 1);
    ck_assert(strstr(svg, "Q&amp;A &lt;&quot;tricky&quot;&gt; &apos;subject&apos;"));
    ck_assert(strstr(svg, "MMLU &lt;0-shot&gt; &amp; &quot;friends&quot;"));
    ck_assert(strstr(svg, "Qwen&apos;s &lt;published&gt; 62.3%"));
    ck_assert(strstr(svg, "ctrl?char and bad utf8 ??"));
    ck_assert(strstr(svg, "caf\xc3\xa9 \xe2\x80\x94 utf-8"));
    ck_assert(strstr(svg, "a very long label, longer than forty-eight chara...<"));
    ck_assert(strstr(svg, ">41.2%  n=57<") && strstr(svg, ">100.0%  n=3<") && strstr(svg, ">-  n=0<"));
    ck_assert(strstr(svg, ">25%<") && strstr(svg, ">50%<") && strstr(svg, ">75%<") && strstr(svg, ">100%<"));
    ck_assert(!strstr(svg, "<script") && !strstr(svg, "href") && !strstr(svg, "@import"));
    snprintf(p, sizeof p, "%s/chart.svg.tmp", dir);
    ck_assert_int_ne(access(p, F_OK), 0);
    /* height grows with n; no reference; no bars */
    int h6 = atoi(strstr(svg, "height=\"") + 8);
    free(svg);
    snprintf(p, sizeof p, "%s/two.svg", dir);
    ck_assert(q35_chart_svg(p, NULL, bars, 2, -1, NULL, err, sizeof err) == 0);
    svg = q35_read_file(p, 1 << 20, NULL);
    ck_assert(well_formed(svg, &elements));
    ck_assert_int_lt(atoi(strstr(svg, "height=\"") + 8), h6);
    ck_assert_int_eq(count(svg, "class=\"reference\""), 0);
    free(svg);
    ck_assert(q35_chart_svg(p, "empty", NULL, 0, 0.5, NULL, err, sizeof err) == 0);
    svg = q35_read_file(p, 1 << 20, NULL);
    ck_assert(well_formed(svg, &elements) && strstr(svg, "no data") && strstr(svg, "reference 50.0%"));
    free(svg);
    ck_assert_int_eq(q35_chart_svg(p, "x", NULL, 3, -1, NULL, err, sizeof err), -1);
    ck_assert_int_eq(q35_chart_svg(p, "x", bars, -1, -1, NULL, err, sizeof err), -1);
    snprintf(p, sizeof p, "%s/no/such/dir/x.svg", dir);
    ck_assert_int_eq(q35_chart_svg(p, "x", bars, 1, -1, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "x.svg") && strstr(err, "No such file"), "%s", err);
    tu_rm_rf(dir);
}
END_TEST

int main(void) {
    Suite *s = suite_create("evalstats");
    TCase *tc = tcase_create("evalstats");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, mcnemar_known_tables);
    tcase_add_test(tc, paired_interval_published_values);
    tcase_add_test(tc, diff_two_runs);
    tcase_add_test(tc, diff_errors);
    tcase_add_test(tc, diff_command_line);
    tcase_add_test(tc, chart_escaping_and_bars);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
