/* test_model.c - checkpoint binding (shapes, missing and unknown tensors, tied heads) and
 * random-weight checkpoints of the real sizes (q35 mkmodel). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "q35.h"
#include "testutil.h"

static char err[4096];

static void make_tiny(const char *dir, uint64_t seed, uint64_t shard_bytes) {
    q35_config c;
    ck_assert_msg(q35_preset_config(&c, "tiny", err, sizeof err) == 0, "%s", err);
    q35_mkmodel_opts o = { .out_dir = dir, .seed = seed, .max_shard_bytes = shard_bytes };
    ck_assert_msg(q35_mkmodel(&c, &o, err, sizeof err) == 0, "%s", err);
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    buf[len] = 0;
    *n = (size_t)len;
    return buf;
}

/* Copies dir's config.json and rewrites its weights into out, dropping the tensor named drop and
 * replacing the tensor named reshape (if any) with a [2,2] one, adding extra (if any). */
static void rewrite_checkpoint(const char *dir, const char *out, const char *drop, const char *reshape,
                               const char *extra) {
    char src[4200], dst[4200];
    q35_st st;
    ck_assert_msg(q35_st_open(&st, dir, err, sizeof err) == 0, "%s", err);
    const char **names = calloc((size_t)st.n + 1, sizeof *names);
    q35_tensor *ts = calloc((size_t)st.n + 1, sizeof *ts);
    static const float four[4] = { 1, 2, 3, 4 };
    int n = 0;
    for (int i = 0; i < st.n; i++) {
        if (drop && strcmp(st.entries[i].name, drop) == 0) continue;
        names[n] = st.entries[i].name;
        ts[n] = st.entries[i].t;
        if (reshape && strcmp(names[n], reshape) == 0) {
            int64_t s2[2] = { 2, 2 };
            ts[n] = q35_view_f32(four, 2, s2);
        }
        n++;
    }
    if (extra) {
        int64_t s1[1] = { 4 };
        names[n] = extra;
        ts[n++] = q35_view_f32(four, 1, s1);
    }
    mkdir(out, 0777);
    snprintf(dst, sizeof dst, "%s/model.safetensors", out);
    ck_assert_msg(q35_st_save(dst, names, ts, n, err, sizeof err) == 0, "%s", err);
    size_t len;
    snprintf(src, sizeof src, "%s/config.json", dir);
    char *cfg = slurp(src, &len);
    snprintf(dst, sizeof dst, "%s/config.json", out);
    tu_write_file(dst, cfg, len);
    free(cfg);
    free(names);
    free(ts);
    q35_st_close(&st);
}

START_TEST(binds_golden_checkpoints) {
    q35_model m;
    ck_assert_msg(q35_model_open(&m, "golden/data/small_text/checkpoint_bf16", err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(m.lm_head_tied, 0);
    ck_assert_int_eq(m.layers[0].in_proj_qkv.dtype, Q35_BF16);
    ck_assert_int_eq(m.layers[3].q_proj.shape[0], 576);
    ck_assert_ptr_null(m.warnings);
    /* weights are views into the mmap, not copies */
    const q35_st_entry *e = q35_st_find(&m.st, "model.language_model.embed_tokens.weight");
    ck_assert_ptr_eq(m.embed.data, e->t.data);
    q35_model_close(&m);
    ck_assert_msg(q35_model_open(&m, "golden/data/small_vl/checkpoint_f32", err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(m.lm_head_tied, 1);
    ck_assert_ptr_eq(m.lm_head.data, m.embed.data);
    ck_assert_int_gt(m.n_visual, 10); /* recognised, kept for the vision tower */
    ck_assert_ptr_null(m.warnings);
    q35_model_close(&m);
}
END_TEST

START_TEST(missing_wrong_unknown_tensors) {
    char base[4096], out[4200];
    snprintf(base, sizeof base, "%s", tu_mkdtemp());
    char tiny[4200];
    snprintf(tiny, sizeof tiny, "%s/tiny", base);
    make_tiny(tiny, 3, 0);
    q35_model m;
    ck_assert_msg(q35_model_open(&m, tiny, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(m.lm_head_tied, 1);
    ck_assert_int_gt(m.n_mtp, 0);
    q35_model_close(&m);

    snprintf(out, sizeof out, "%s/missing", base);
    rewrite_checkpoint(tiny, out, "model.language_model.layers.2.linear_attn.A_log", NULL, NULL);
    ck_assert_int_eq(q35_model_open(&m, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "missing") && strstr(err, "model.language_model.layers.2.linear_attn.A_log"), "%s", err);

    snprintf(out, sizeof out, "%s/wrongshape", base);
    rewrite_checkpoint(tiny, out, NULL, "model.language_model.layers.3.self_attn.q_proj.weight", NULL);
    ck_assert_int_eq(q35_model_open(&m, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "layers.3.self_attn.q_proj.weight") && strstr(err, "[2,2]") && strstr(err, "[128,32]"),
                  "%s", err);

    snprintf(out, sizeof out, "%s/unknown", base);
    rewrite_checkpoint(tiny, out, NULL, NULL, "model.language_model.some_new_thing");
    ck_assert_msg(q35_model_open(&m, out, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(m.warnings);
    ck_assert_msg(strstr(m.warnings, "model.language_model.some_new_thing"), "%s", m.warnings);
    q35_model_close(&m);
    tu_rm_rf(base);
}
END_TEST

/* An untied config without lm_head.weight is an error naming lm_head. */
START_TEST(untied_needs_lm_head) {
    char base[4096], out[4200];
    snprintf(base, sizeof base, "%s", tu_mkdtemp());
    snprintf(out, sizeof out, "%s/nohead", base);
    rewrite_checkpoint("golden/data/small_text/checkpoint_f32", out, "lm_head.weight", NULL, NULL);
    q35_model m;
    ck_assert_int_eq(q35_model_open(&m, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "lm_head.weight"), "%s", err);
    tu_rm_rf(base);
}
END_TEST

START_TEST(mkmodel_deterministic_and_sharded) {
    char base[4096], a[4200], b[4200], c[4200], d[4200], p1[4300], p2[4300];
    snprintf(base, sizeof base, "%s", tu_mkdtemp());
    snprintf(a, sizeof a, "%s/a", base);
    snprintf(b, sizeof b, "%s/b", base);
    snprintf(c, sizeof c, "%s/c", base);
    snprintf(d, sizeof d, "%s/d", base);
    make_tiny(a, 7, 0);
    make_tiny(b, 7, 0);
    make_tiny(c, 8, 0);
    make_tiny(d, 7, 100000); /* shards of at most 100 kB: an index and several files */
    size_t na, nb, nc;
    snprintf(p1, sizeof p1, "%s/model.safetensors", a);
    char *fa = slurp(p1, &na);
    snprintf(p1, sizeof p1, "%s/model.safetensors", b);
    char *fb = slurp(p1, &nb);
    snprintf(p1, sizeof p1, "%s/model.safetensors", c);
    char *fc = slurp(p1, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(fa, fb, na) == 0, "same seed, different bytes");
    ck_assert_msg(na != nc || memcmp(fa, fc, na) != 0, "different seeds, same bytes");
    ck_assert_uint_lt(na, 32u << 20); /* a few MB */
    free(fa);
    free(fb);
    free(fc);
    snprintf(p2, sizeof p2, "%s/model.safetensors.index.json", d);
    ck_assert_int_eq(access(p2, R_OK), 0);
    int nshards = 0;
    for (int i = 1; i <= 99; i++) {
        for (int n = 1; n <= 99; n++) {
            snprintf(p2, sizeof p2, "%s/model-%05d-of-%05d.safetensors", d, i, n);
            if (access(p2, R_OK) != 0) continue;
            nshards++;
            /* a shard holds at most 100 kB of data, unless it is one tensor larger than that */
            q35_st sh;
            ck_assert_msg(q35_st_open(&sh, p2, err, sizeof err) == 0, "%s", err);
            size_t bytes = 0;
            for (int k = 0; k < sh.n; k++) bytes += sh.entries[k].nbytes;
            ck_assert_msg(bytes <= 100000 || sh.n == 1, "%s: %zu bytes in %d tensors", p2, bytes, sh.n);
            q35_st_close(&sh);
        }
    }
    ck_assert_int_ge(nshards, 3);

    /* every text, vision and mtp tensor; released dtypes; the sharded copy gives the same logits */
    q35_model ma, md;
    ck_assert_msg(q35_model_open(&ma, a, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_model_open(&md, d, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(ma.st.n, md.st.n);
    ck_assert_int_eq(md.st.nfiles, nshards);
    ck_assert_int_eq(ma.layers[0].A_log.dtype, Q35_F32);
    ck_assert_int_eq(ma.layers[0].lin_norm.dtype, Q35_F32);
    ck_assert_int_eq(ma.layers[0].dt_bias.dtype, Q35_BF16);
    ck_assert_int_eq(ma.layers[0].in_proj_qkv.dtype, Q35_BF16);
    ck_assert_ptr_nonnull(q35_st_find(&ma.st, "model.visual.merger.linear_fc2.bias"));
    ck_assert_ptr_nonnull(q35_st_find(&ma.st, "mtp.layers.0.self_attn.q_norm.weight"));
    ck_assert_ptr_nonnull(q35_st_find(&ma.st, "mtp.fc.weight"));
    int V = ma.cfg.text.vocab_size;
    ck_assert_int_eq(V, 248320);
    float *la = malloc((size_t)V * sizeof(float)), *ld = malloc((size_t)V * sizeof(float));
    int ids[] = { 248045, 872, 198, 248046 };
    q35_text_state sa, sd;
    ck_assert_int_eq(q35_text_state_init(&sa, &ma, err, sizeof err), 0);
    ck_assert_int_eq(q35_text_state_init(&sd, &md, err, sizeof err), 0);
    ck_assert_int_eq(q35_text_forward(&sa, &q35_ops_ref, ids, 4, NULL, la, 1, NULL, err, sizeof err), 0);
    ck_assert_int_eq(q35_text_forward(&sd, &q35_ops_ref, ids, 4, NULL, ld, 1, NULL, err, sizeof err), 0);
    ck_assert_mem_eq(la, ld, (size_t)V * sizeof(float));
    for (int i = 0; i < V; i++) ck_assert(isfinite(la[i]));
    q35_text_state_free(&sa);
    q35_text_state_free(&sd);
    q35_model_close(&ma);
    q35_model_close(&md);
    free(la);
    free(ld);
    /* a second mkmodel into the same directory refuses to overwrite */
    q35_config cfg;
    q35_preset_config(&cfg, "tiny", err, sizeof err);
    q35_mkmodel_opts o = { .out_dir = a, .seed = 1 };
    ck_assert_int_eq(q35_mkmodel(&cfg, &o, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "exists"), "%s", err);
    ck_assert_int_eq(q35_preset_config(&cfg, "7b", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "7b"), "%s", err);
    tu_rm_rf(base);
}
END_TEST

/* The presets are the released configs (spec section 1) and survive config.json. */
START_TEST(presets_are_the_released_configs) {
    struct { const char *name; int H, I, L, Hq, Hkv, Hv, vdepth, vwidth; } want[] = {
        { "0.8b", 1024, 3584, 24, 8, 2, 16, 12, 768 },
        { "2b", 2048, 6144, 24, 8, 2, 16, 24, 1024 },
        { "4b", 2560, 9216, 32, 16, 4, 32, 24, 1024 },
    };
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(path, sizeof path, "%s/config.json", dir);
    for (int k = 0; k < 3; k++) {
        q35_config a, b;
        ck_assert_int_eq(q35_preset_config(&a, want[k].name, err, sizeof err), 0);
        const q35_text_config *t = &a.text;
        ck_assert_int_eq(t->hidden_size, want[k].H);
        ck_assert_int_eq(t->intermediate_size, want[k].I);
        ck_assert_int_eq(t->num_layers, want[k].L);
        ck_assert_int_eq(t->num_heads, want[k].Hq);
        ck_assert_int_eq(t->num_kv_heads, want[k].Hkv);
        ck_assert_int_eq(t->lin_num_v_heads, want[k].Hv);
        ck_assert_int_eq(t->lin_num_k_heads, 16);
        ck_assert_int_eq(t->head_dim, 256);
        ck_assert_int_eq(t->rotary_dim, 64);
        ck_assert_int_eq(t->mrope_section[2], 10);
        ck_assert_int_eq(t->vocab_size, 248320);
        ck_assert_int_eq(t->tie_word_embeddings, 1);
        ck_assert_double_eq(t->rope_theta, 1e7);
        for (int i = 0; i < t->num_layers; i++) ck_assert_int_eq(t->is_full[i], (i + 1) % 4 == 0);
        ck_assert_int_eq(a.vision.depth, want[k].vdepth);
        ck_assert_int_eq(a.vision.hidden_size, want[k].vwidth);
        ck_assert_int_eq(a.vision.out_hidden_size, want[k].H);
        ck_assert_msg(q35_config_save(&a, path, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(q35_config_load(&b, path, err, sizeof err) == 0, "%s", err);
        ck_assert_mem_eq(&a.text, &b.text, sizeof a.text);
        ck_assert_mem_eq(&a.vision, &b.vision, sizeof a.vision);
        ck_assert_int_eq(b.image_token_id, 248056);
        ck_assert_int_eq(b.mtp_num_hidden_layers, 1);
    }
    tu_rm_rf(dir);
}
END_TEST

/* Thousands of tokens through the tiny model stay finite (the generator's scales are sane). */
START_TEST(mkmodel_long_run_finite) {
    char base[4096], a[4200];
    snprintf(base, sizeof base, "%s", tu_mkdtemp());
    snprintf(a, sizeof a, "%s/a", base);
    make_tiny(a, 11, 0);
    q35_model m;
    ck_assert_msg(q35_model_open(&m, a, err, sizeof err) == 0, "%s", err);
    enum { N = 3000 };
    int *ids = malloc(N * sizeof *ids);
    for (int i = 0; i < N; i++) ids[i] = (int)((i * 104729u) % 248000u);
    int V = m.cfg.text.vocab_size;
    float *lg = malloc((size_t)V * sizeof(float));
    q35_text_state s;
    ck_assert_int_eq(q35_text_state_init(&s, &m, err, sizeof err), 0);
    ck_assert_msg(q35_text_forward(&s, &q35_ops_ref, ids, N, NULL, lg, 1, NULL, err, sizeof err) == 0, "%s", err);
    float mx = 0;
    for (int i = 0; i < V; i++) {
        ck_assert(isfinite(lg[i]));
        if (fabsf(lg[i]) > mx) mx = fabsf(lg[i]);
    }
    ck_assert_float_gt(mx, 0.01f); /* not collapsed to zero either */
    ck_assert_float_lt(mx, 1000.0f);
    q35_text_state_free(&s);
    q35_model_close(&m);
    free(ids);
    free(lg);
    tu_rm_rf(base);
}
END_TEST

/* Runs the q35 binary with args; returns its exit status and peak RSS in KiB. */
static int run_q35(char *const args[], long *maxrss_kb) {
    const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
    fflush(stdout);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execv(bin, args);
        _exit(127);
    }
    int status;
    struct rusage ru;
    ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
    *maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The real 0.8B size: generate, info, and a reference forward of 3 tokens whose peak memory stays
 * below the checkpoint's size plus 1 GB (weights read through the mmap, not copied). */
START_TEST(real_size_0_8b) {
    char base[4096], dir[4200];
    snprintf(base, sizeof base, "%s", tu_mkdtemp_big(2500000000ull)); /* 1.75 GB checkpoint + dump */
    snprintf(dir, sizeof dir, "%s/m08", base);
    const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
    long rss;
    char *mk[] = { (char *)bin, "mkmodel", "--preset", "0.8b", "--seed", "1", "--out", dir, NULL };
    ck_assert_int_eq(run_q35(mk, &rss), 0);
    q35_st st;
    ck_assert_msg(q35_st_open(&st, dir, err, sizeof err) == 0, "%s", err);
    size_t bytes = 0;
    for (int i = 0; i < st.n; i++) bytes += st.entries[i].nbytes;
    q35_st_close(&st);
    printf("0.8b checkpoint: %.1f MB\n", bytes / 1e6);
    ck_assert_uint_gt(bytes, 1500000000u);

    char *info[] = { (char *)bin, "info", dir, NULL };
    ck_assert_int_eq(run_q35(info, &rss), 0);
    printf("q35 info 0.8b: peak RSS %.1f MB\n", rss / 1024.0);
    ck_assert_int_lt(rss, 200 * 1024); /* no copy of the weights */

    char dump[4300];
    snprintf(dump, sizeof dump, "%s/out.safetensors", base);
    char *fw[] = { (char *)bin, "forward", dir, "--ids", "1,2,3", "--backend", "ref", "--dump", dump, "--only",
                   "logits", NULL };
    ck_assert_int_eq(run_q35(fw, &rss), 0);
    printf("q35 forward 0.8b (3 tokens): peak RSS %.1f MB\n", rss / 1024.0);
    ck_assert_int_lt((double)rss * 1024.0, (double)bytes + 1e9);
    ck_assert_msg(q35_st_open(&st, dump, err, sizeof err) == 0, "%s", err);
    const q35_st_entry *e = q35_st_find(&st, "prefill.logits");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->t.ndim, 3);
    ck_assert_int_eq(e->t.shape[1], 3);
    ck_assert_int_eq(e->t.shape[2], 248320);
    for (int64_t i = 0; i < q35_numel(&e->t); i++) ck_assert(isfinite(q35_get_f32(&e->t, i)));
    q35_st_close(&st);

    /* the fast backend: peak memory within the checkpoint's size + 10% (bf16 weights used in place) */
    char *ff[] = { (char *)bin, "forward", dir, "--ids", "1,2,3", "--backend", "fast", "--threads", "2", "--dump", dump,
                   "--only", "logits", NULL };
    ck_assert_int_eq(run_q35(ff, &rss), 0);
    printf("q35 forward --backend fast 0.8b (3 tokens): peak RSS %.1f MB\n", rss / 1024.0);
    ck_assert_int_lt((double)rss * 1024.0, (double)bytes * 1.10);

    /* and every intermediate of a prefill and a decode step, fast against ref, within compare's
     * default bars (the goldens' policy) */
    char dref[4300], dfast[4300];
    snprintf(dref, sizeof dref, "%s/ref.safetensors", base);
    snprintf(dfast, sizeof dfast, "%s/fast.safetensors", base);
    char *fr[] = { (char *)bin, "forward", dir, "--ids", "17,2000,3,99", "--decode-ids", "5", "--backend", "ref", "--dump",
                   dref, NULL };
    char *fa[] = { (char *)bin, "forward", dir, "--ids", "17,2000,3,99", "--decode-ids", "5", "--backend", "fast",
                   "--dump", dfast, NULL };
    ck_assert_int_eq(run_q35(fr, &rss), 0);
    ck_assert_int_eq(run_q35(fa, &rss), 0);
    char *cmp[] = { (char *)bin, "compare", dfast, dref, "--failures-only", NULL };
    ck_assert_int_eq(run_q35(cmp, &rss), 0);
    tu_rm_rf(base);
}
END_TEST

/* q35 forward with --image: one placeholder per image expands to the image's run; the logits are
 * the golden ones of small_vl (whose prompt holds the two images' full runs). */
START_TEST(forward_with_images) {
    const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
    q35_st g;
    ck_assert_msg(q35_st_open(&g, "golden/data/small_vl/golden.safetensors", err, sizeof err) == 0, "%s", err);
    const q35_st_entry *ids = q35_st_find(&g, "prefill.input_ids");
    char list[4096] = "";
    size_t len = 0;
    int64_t prev = -1;
    for (int64_t i = 0; i < ids->t.shape[1]; i++) {
        int64_t v;
        memcpy(&v, (const char *)ids->t.data + 8 * i, 8);
        if (v == 990 && prev == 990) continue; /* collapse each image run to one placeholder */
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%lld", len ? "," : "", (long long)v);
        prev = v;
    }
    char base[4096], dump[4200];
    snprintf(base, sizeof base, "%s", tu_mkdtemp());
    snprintf(dump, sizeof dump, "%s/vl.safetensors", base);
    long rss;
    char *args[] = { (char *)bin, "forward", "golden/data/small_vl/checkpoint_f32", "--ids", list, "--image",
                     "golden/data/small_vl/image_192x352.png", "--image", "golden/data/small_vl/image_70x90.png",
                     "--dump", dump, "--only", "logits|pixel_values", NULL };
    ck_assert_int_eq(run_q35(args, &rss), 0);
    q35_st d;
    ck_assert_msg(q35_st_open(&d, dump, err, sizeof err) == 0, "%s", err);
    const char *names[] = { "prefill.logits", "preproc.pixel_values" };
    for (int k = 0; k < 2; k++) {
        q35_cmp c;
        q35_compare(&c, &q35_st_find(&d, names[k])->t, &q35_st_find(&g, names[k])->t);
        ck_assert_msg(q35_cmp_pass(&c, k == 0 ? 1e-4 : 0.0, 0.99999), "%s: max_rel %g", names[k], c.max_rel);
    }
    q35_st_close(&d);
    /* an image too many, and a run of the wrong length, are refused */
    char *extra[] = { (char *)bin, "forward", "golden/data/small_vl/checkpoint_f32", "--ids", "1,990,2", "--image",
                      "golden/data/small_vl/image_70x90.png", "--image", "golden/data/small_vl/image_70x90.png", NULL };
    ck_assert_int_eq(run_q35(extra, &rss), 1);
    char *wrong[] = { (char *)bin, "forward", "golden/data/small_vl/checkpoint_f32", "--ids", "1,990,990,2", "--image",
                      "golden/data/small_vl/image_70x90.png", NULL };
    ck_assert_int_eq(run_q35(wrong, &rss), 1);
    q35_st_close(&g);
    tu_rm_rf(base);
}
END_TEST

int main(void) {
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("binding");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, binds_golden_checkpoints);
    tcase_add_test(tc, missing_wrong_unknown_tensors);
    tcase_add_test(tc, untied_needs_lm_head);
    tcase_add_test(tc, mkmodel_deterministic_and_sharded);
    tcase_add_test(tc, mkmodel_long_run_finite);
    tcase_add_test(tc, presets_are_the_released_configs);
    tcase_add_test(tc, real_size_0_8b);
    tcase_add_test(tc, forward_with_images);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
