/* test_eval.c - the benchmark runner: MMLU's CSV forms, lm-eval's prompt text byte for byte
 * (hand-written expectations, whitespace edge cases), the request split, strict CSV and config
 * errors naming file and line, Wilson intervals, and a run killed at several moments then resumed
 * giving the uninterrupted run's results. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "config.h"
#include "csv.h"
#include "mmlu.h"
#include "vlmtsv.h"
#include "pope.h"
#include "vqa.h"
#include "extract.h"
#include "prompt.h"
#include "chat.h"
#include "run.h"
#include "q35.h"
#include "testutil.h"
#include "util.h"

static char err[2048];

/* lm-eval's mmlu prompt through the prompt module. */
static char *mmlu_context(const q35_mc_subject *s, const q35_mc_item *it, int k) {
    q35_mc_prompt p = { .strip_question = -1, .thinking = -1 };
    ck_assert_int_eq(q35_mc_prompt_style(&p, "lm-eval-mmlu"), 0);
    return q35_mc_context(&p, s, it, k, err, sizeof err);
}

static void write_at(const char *dir, const char *name, const char *text) {
    char p[17000];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    tu_write_file(p, text, strlen(text));
}

/* A dataset directory: dev/ and test/ of one subject, the Hendrycks form (no header, letters). */
static void make_subject(const char *dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/dev", dir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/test", dir);
    mkdir(p, 0777);
    write_at(dir, "dev/high_school_physics_dev.csv",
             "What is 1+1?,1,2,3,4,B\n"
             "\"  Leading spaces and a \"\"quote\"\"  \",a  b,\" c\",d,e,D\r\n");
    write_at(dir, "test/high_school_physics_test.csv",
             "\"Two\nlines?\",yes,no,\"x,y\",z,A\n"
             "\"Last, no line end\",1,2,3,4,C");
}

START_TEST(prompt_byte_for_byte) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    make_subject(dir);
    q35_mc_set d;
    ck_assert_msg(q35_mmlu_load(&d, dir, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 1);
    q35_mc_subject *s = &d.s[0];
    ck_assert_str_eq(s->name, "high_school_physics");
    ck_assert_int_eq(s->n_dev, 2);
    ck_assert_int_eq(s->n_test, 2);
    ck_assert_int_eq(s->test[1].doc_id, 1);
    ck_assert_int_eq(s->test[1].answer, 2);
    ck_assert_int_eq(s->test[1].line, 3); /* the first row spans lines 1-2 */
    char *c0 = mmlu_context(s, &s->test[0], 0);
    ck_assert_str_eq(c0, "The following are multiple choice questions (with answers) about high school physics.\n\n"
                         "Two\nlines?\nA. yes\nB. no\nC. x,y\nD. z\nAnswer:");
    char *c2 = mmlu_context(s, &s->test[1], 2);
    ck_assert_str_eq(c2, "The following are multiple choice questions (with answers) about high school physics.\n\n"
                         "What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: B\n\n"
                         "Leading spaces and a \"quote\"\nA. a  b\nB.  c\nC. d\nD. e\nAnswer: D\n\n"
                         "Last, no line end\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:");
    ck_assert_ptr_null(mmlu_context(s, &s->test[0], 3)); /* more shots than the dev split */
    free(c0), free(c2);
    /* the request split: trailing whitespace of the context goes to the continuation */
    char *ctx, *cont;
    ck_assert_int_eq(q35_split_request("Answer: \n", " A", &ctx, &cont), 0);
    ck_assert_str_eq(ctx, "Answer:");
    ck_assert_str_eq(cont, " \n A");
    free(ctx), free(cont);
    ck_assert_int_eq(q35_split_request("Answer:", " A", &ctx, &cont), 0);
    ck_assert_str_eq(ctx, "Answer:");
    ck_assert_str_eq(cont, " A");
    free(ctx), free(cont);
    q35_mc_set_free(&d);
    tu_rm_rf(dir);
}
END_TEST

/* The header + 0-based index form reads to the same items; the shipped sample loads whole. */
START_TEST(both_csv_forms_and_the_shipped_sample) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    make_subject(dir);
    write_at(dir, "test/high_school_physics_test.csv",
             "question,choice0,choice1,choice2,choice3,answer\n\"Two\nlines?\",yes,no,\"x,y\",z,0\n");
    q35_mc_set d;
    ck_assert_msg(q35_mmlu_load(&d, dir, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.s[0].n_test, 1);
    ck_assert_int_eq(d.s[0].test[0].answer, 0);
    ck_assert_str_eq(d.s[0].test[0].choices[2], "x,y");
    q35_mc_set_free(&d);
    tu_rm_rf(dir);
    ck_assert_msg(q35_mmlu_load(&d, "datasets/mmlu", err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 57);
    int nt = 0, nd = 0;
    for (int i = 0; i < d.n; i++) nt += d.s[i].n_test, nd += d.s[i].n_dev;
    ck_assert_int_eq(nt, 285);
    ck_assert_int_eq(nd, 285);
    q35_mc_set_free(&d);
}
END_TEST

/* Broken files: the error names the file and the line. */
START_TEST(bad_rows_name_file_and_line) {
    struct {
        const char *test;
        const char *says;
    } cases[] = {
        { "q,a,b,c,d,A\n\"open,a,b,c,d,A\n", "_test.csv:2: a quoted field is never closed" },
        { "q,a,b,c,d,A\nq\"x,a,b,c,d,A\n", "_test.csv:2: a quote inside an unquoted field" },
        { "q,a,b,c,d,A\n\"q\"x,a,b,c,d,A\n", "_test.csv:2: text after a closing quote" },
        { "q,a,b,c,d,A\nq,a,b,c,A\n", "_test.csv:2: 5 fields" },
        { "q,a,b,c,d,A\nq,a,b,c,d,E\n", "_test.csv:2: answer 'E'" },
        { "question,choice0,choice1,choice2,choice3,answer\nq,a,b,c,d,A\n", "_test.csv:2: answer 'A': expected a 0-based" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
        make_subject(dir);
        write_at(dir, "test/high_school_physics_test.csv", cases[i].test);
        q35_mc_set d;
        err[0] = 0;
        ck_assert_int_eq(q35_mmlu_load(&d, dir, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].says), "case %zu: '%s' lacks '%s'", i, err, cases[i].says);
        tu_rm_rf(dir);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    make_subject(dir);
    char p[4200];
    snprintf(p, sizeof p, "%s/dev/high_school_physics_dev.csv", dir);
    unlink(p);
    q35_mc_set d;
    ck_assert_int_eq(q35_mmlu_load(&d, dir, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "high_school_physics_dev.csv"), "%s", err);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(config_errors_name_file_and_line) {
    struct {
        const char *yaml;
        const char *says;
    } cases[] = {
        { "task: mmlu\nprompt:\n  num_fewshots: 5\n", "cfg.yaml:3: unknown key 'prompt.num_fewshots'" },
        { "task: mmlu\nlimit: many\n", "cfg.yaml:2: limit 'many': expected a whole number" },
        { "task: mmlu\nbackend: gpu\n", "cfg.yaml:2: backend 'gpu': expected one of" },
        { "task: mmlu\nthreads: [1, 2]\n", "cfg.yaml:2: threads must be a single value" },
        { "task: mmlu\n  bad indent: 1\n", "cfg.yaml:2:" },
        { "- a\n- b\n", "expected a mapping" },
        { "type: ranking\n", "type 'ranking'" },
        { "prompt:\n  chat_template: yes\n", "cfg.yaml:2: prompt.chat_template 'yes': expected true or false" },
        { "sampling:\n  top_p: 1.5\n", "cfg.yaml:2: sampling.top_p '1.5': expected a number in [0, 1]" },
    };
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(p, sizeof p, "%s/cfg.yaml", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write_file(p, cases[i].yaml, strlen(cases[i].yaml));
        q35_eval_config c;
        err[0] = 0;
        ck_assert_int_eq(q35_eval_config_load(&c, p, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].says), "case %zu: '%s' lacks '%s'", i, err, cases[i].says);
    }
    /* a good one, --set over it, and the hash that follows the effective values */
    const char *good = "task: mmlu\ndataset:\n  path: datasets/mmlu\nprompt:\n  num_fewshot: 5\n";
    tu_write_file(p, good, strlen(good));
    q35_eval_config c;
    ck_assert_msg(q35_eval_config_load(&c, p, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(c.num_fewshot, 5);
    ck_assert_str_eq(c.data, "datasets/mmlu");
    char *t1 = q35_eval_config_text(&c), h1[65];
    memcpy(h1, c.hash, 65);
    ck_assert_int_eq(q35_eval_config_set(&c, "prompt.num_fewshot=0", err, sizeof err), 0);
    char *t2 = q35_eval_config_text(&c);
    ck_assert_int_eq(c.num_fewshot, 0);
    ck_assert_str_ne(h1, c.hash);
    ck_assert_int_eq(q35_eval_config_set(&c, "prompt.shots=0", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "unknown key 'prompt.shots'"), "%s", err);
    ck_assert_int_eq(q35_eval_config_set(&c, "limit=-1", err, sizeof err), -1);
    /* the canonical text is itself a configuration with the same hash (paths and threads are
     * outside it: shards on machines with other mounts share it) */
    ck_assert_int_eq(q35_eval_config_set(&c, "prompt.system=say \"hi\"\nthen: go", err, sizeof err), 0);
    ck_assert_int_eq(q35_eval_config_finish(&c, err, sizeof err), 0);
    char *t3 = q35_eval_config_text(&c), h3[65];
    memcpy(h3, c.hash, 65);
    tu_write_file(p, t3, strlen(t3));
    q35_eval_config c2;
    ck_assert_msg(q35_eval_config_load(&c2, p, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(c2.system, "say \"hi\"\nthen: go");
    char *t4 = q35_eval_config_text(&c2);
    ck_assert_str_eq(t3, t4);
    ck_assert_int_eq(q35_eval_config_set(&c2, "dataset.path=/elsewhere", err, sizeof err), 0);
    ck_assert_int_eq(q35_eval_config_set(&c2, "threads=7", err, sizeof err), 0);
    free(q35_eval_config_text(&c2));
    ck_assert_str_eq(c2.hash, h3);
    /* what keys mean together */
    static const struct {
        const char *set[3];
        const char *says;
    } combos[] = {
        { { "scoring=generate", "sampling.preset=instruct" }, "needs max_new_tokens" },
        { { "scoring=generate", "max_new_tokens=64", "sampling.temperature=0.7" }, "refuses an unstated setting: give sampling.preset or sampling.top_p" },
        { { "scoring=generate", "max_new_tokens=64", "sampling.preset=warm" }, "sampling.preset 'warm': unknown" },
        { { "sampling.preset=instruct" }, "for scoring: generate" },
        { { "prompt.fewshot_as_multiturn=true" }, "needs prompt.chat_template: true" },
        { { "dataset.format=jsonl" }, "needs dataset.columns.question" },
        { { "dataset.keep=ok" }, "for dataset.format mmlu-redux" },
    };
    for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++) {
        q35_eval_config k;
        ck_assert_int_eq(q35_eval_config_load(&k, p, err, sizeof err), 0);
        for (int j = 0; j < 3 && combos[i].set[j]; j++) ck_assert_int_eq(q35_eval_config_set(&k, combos[i].set[j], err, sizeof err), 0);
        ck_assert_int_eq(q35_eval_config_finish(&k, err, sizeof err), -1);
        ck_assert_msg(strstr(err, combos[i].says), "combo %zu: '%s' lacks '%s'", i, err, combos[i].says);
        q35_eval_config_free(&k);
    }
    free(t1), free(t2), free(t3), free(t4);
    q35_eval_config_free(&c), q35_eval_config_free(&c2);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(wilson_intervals) {
    double lo, hi;
    q35_wilson95(8, 10, &lo, &hi); /* the textbook case: 0.4902 .. 0.9433 */
    ck_assert_msg(fabs(lo - 0.49016) < 1e-4 && fabs(hi - 0.94332) < 1e-4, "%g %g", lo, hi);
    q35_wilson95(0, 10, &lo, &hi); /* 0 .. 0.2775 */
    ck_assert_msg(lo == 0 && fabs(hi - 0.27753) < 1e-4, "%g %g", lo, hi);
    q35_wilson95(10, 10, &lo, &hi);
    ck_assert_msg(hi == 1 && fabs(lo - 0.72247) < 1e-4, "%g %g", lo, hi);
    q35_wilson95(0, 0, &lo, &hi);
    ck_assert(lo == 0 && hi == 0);
}
END_TEST

/* results.json without its timings, as canonical text. */
static char *results_core(const char *dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/results.json", dir);
    char *t = q35_read_file(p, 1 << 22, NULL);
    ck_assert_msg(t != NULL, "%s: no results.json", dir);
    cJSON *j = cJSON_Parse(t);
    free(t);
    cJSON_DeleteItemFromObject(j, "timings");
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

/* A tiny model's 0-shot run over one item per subject, killed (SIGKILL) at several moments and
 * resumed each time, ends with the results of a run never interrupted. */
START_TEST(kill_and_resume) {
    char dir[4096], model[4200], cmd[16384];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(model, sizeof model, "%s/tiny", dir);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} mkmodel --preset tiny --out %s >/dev/null 2>&1", model);
    ck_assert_int_eq(system(cmd), 0);
    const char *args[] = { "./q35", "eval", "eval/configs/mmlu_0shot.yaml", "--model", model, "--limit", "1", "--threads", "1", "--out", NULL, NULL, NULL };
    char whole[4300], killed[4300];
    snprintf(whole, sizeof whole, "%s/whole", dir);
    snprintf(killed, sizeof killed, "%s/killed", dir);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval eval/configs/mmlu_0shot.yaml --model %s --limit 1 --threads 1 --out %s 2>/dev/null", model, whole);
    ck_assert_int_eq(system(cmd), 0);
    char *want = results_core(whole);
    static const int kill_ms[] = { 150, 600, 1500, 2500 };
    for (int k = 0; k < 4; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            args[10] = killed;
            args[11] = k ? "--resume" : NULL;
            freopen("/dev/null", "w", stderr);
            const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
            args[0] = bin;
            execv(bin, (char *const *)args);
            _exit(127);
        }
        struct timespec ts = { kill_ms[k] / 1000, (kill_ms[k] % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval eval/configs/mmlu_0shot.yaml --model %s --limit 1 --threads 1 --out %s --resume 2>/dev/null", model, killed);
    ck_assert_int_eq(system(cmd), 0);
    char *got = results_core(killed);
    ck_assert_str_eq(got, want);
    /* every item logged once */
    char p[4400];
    snprintf(p, sizeof p, "%s/samples.jsonl", killed);
    char *log = q35_read_file(p, 1 << 22, NULL);
    int lines = 0;
    for (char *c = log; c && *c; c++) lines += *c == '\n';
    ck_assert_int_eq(lines, 57);
    free(log), free(got), free(want);
    /* a different configuration is not resumed into the same directory */
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval eval/configs/mmlu.yaml --model %s --limit 1 --out %s --resume 2>/dev/null", model, killed);
    ck_assert_int_ne(system(cmd), 0);
    tu_rm_rf(dir);
}
END_TEST

/* Items' log-likelihoods per subject from samples.jsonl, in file order; *reused counts the items
 * whose prefix came from the snapshot. */
static int read_logliks(const char *dir, double (*ll)[4], int max, int *reused) {
    char p[4200];
    snprintf(p, sizeof p, "%s/samples.jsonl", dir);
    char *t = q35_read_file(p, 1 << 24, NULL);
    ck_assert_ptr_nonnull(t);
    int n = 0;
    *reused = 0;
    for (char *line = strtok(t, "\n"); line && n < max; line = strtok(NULL, "\n"), n++) {
        cJSON *j = cJSON_Parse(line);
        ck_assert_ptr_nonnull(j);
        const cJSON *a = cJSON_GetObjectItem(j, "loglik");
        for (int c = 0; c < 4; c++) ll[n][c] = cJSON_GetArrayItem(a, c)->valuedouble;
        *reused += cJSON_GetObjectItem(j, "prefix_tokens_reused")->valueint > 0;
        cJSON_Delete(j);
    }
    free(t);
    return n;
}

/* The per-subject prefix snapshot (description + 5 shots run once, restored per item) gives the
 * log-likelihoods of running every context whole: within 1e-5 relative (the two differ only in
 * how the prefill is chunked), and the same prediction on every item. */
START_TEST(prefix_cache_agrees) {
    char dir[4096], model[4200], cmd[16384];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(model, sizeof model, "%s/tiny", dir);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} mkmodel --preset tiny --out %s >/dev/null 2>&1", model);
    ck_assert_int_eq(system(cmd), 0);
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval eval/configs/mmlu.yaml --model %s --limit 2 --threads 2 --out %s/%s %s 2>/dev/null",
                 model, dir, k ? "whole" : "cached", k ? "--set speed.no_prefix_cache=true" : "");
        ck_assert_int_eq(system(cmd), 0);
    }
    static double a[200][4], b[200][4];
    int ra, rb;
    char p[4300];
    snprintf(p, sizeof p, "%s/cached", dir);
    int na = read_logliks(p, a, 200, &ra);
    snprintf(p, sizeof p, "%s/whole", dir);
    int nb = read_logliks(p, b, 200, &rb);
    ck_assert_int_eq(na, 114);
    ck_assert_int_eq(nb, 114);
    ck_assert_int_eq(ra, 114); /* every item reused its subject's prefix */
    ck_assert_int_eq(rb, 0);
    double worst = 0;
    for (int i = 0; i < na; i++) {
        int pa = 0, pb = 0;
        for (int c = 0; c < 4; c++) {
            double r = fabs(a[i][c] - b[i][c]) / fmax(fabs(b[i][c]), 1e-30);
            worst = fmax(worst, r);
            if (a[i][c] > a[i][pa]) pa = c;
            if (b[i][c] > b[i][pb]) pb = c;
        }
        ck_assert_msg(pa == pb, "item %d: prediction %d with the snapshot, %d without", i, pa, pb);
    }
    ck_assert_msg(worst < 1e-5, "worst relative difference %g", worst);
    tu_rm_rf(dir);
}
END_TEST

/* lm-eval --apply_chat_template through Qwen3.5's small-model template (its default: thinking
 * off, an empty think block opening the answer): the description becomes the system turn (the
 * template trims it), shots go into the user turn, or with fewshot_as_multiturn become
 * user/assistant turns answering with the bare letter; the request split then moves the
 * template's trailing "\n\n" into the continuation. Expected strings written by hand. */
START_TEST(chat_template_prompts) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    make_subject(dir);
    q35_mc_set d;
    ck_assert_msg(q35_mmlu_load(&d, dir, err, sizeof err) == 0, "%s", err);
    q35_mc_subject *s = &d.s[0];
    q35_mc_prompt p = { .strip_question = -1, .thinking = -1, .chat = 1, .template_text = q35_chat_template_builtin(1) };
    ck_assert_int_eq(q35_mc_prompt_style(&p, "lm-eval-mmlu"), 0);
    const char *sys = "<|im_start|>system\nThe following are multiple choice questions (with answers) about high school physics.<|im_end|>\n";
    const char *gen = "<|im_start|>assistant\n<think>\n\n</think>\n\n";
    const char *item = "Last, no line end\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:";
    const char *shot1 = "What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:", *shot2 = "Leading spaces and a \"quote\"\nA. a  b\nB.  c\nC. d\nD. e\nAnswer:";
    char want[4096];
    char *c0 = q35_mc_context(&p, s, &s->test[1], 0, err, sizeof err);
    ck_assert_msg(c0 != NULL, "%s", err);
    snprintf(want, sizeof want, "%s<|im_start|>user\n%s<|im_end|>\n%s", sys, item, gen);
    ck_assert_str_eq(c0, want);
    char *c2 = q35_mc_context(&p, s, &s->test[1], 2, err, sizeof err);
    snprintf(want, sizeof want, "%s<|im_start|>user\n%s B\n\n%s D\n\n%s<|im_end|>\n%s", sys, shot1, shot2, item, gen);
    ck_assert_str_eq(c2, want);
    p.multiturn = 1;
    char *m2 = q35_mc_context(&p, s, &s->test[1], 2, err, sizeof err);
    snprintf(want, sizeof want,
             "%s<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\nB<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n"
             "<|im_start|>assistant\nD<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n%s",
             sys, shot1, shot2, item, gen);
    ck_assert_str_eq(m2, want);
    /* a system instruction goes before the description, joined by the few-shot delimiter;
     * thinking on opens a think block instead of the empty one */
    p.multiturn = 0, p.system = "Be brief.", p.thinking = 1;
    char *t0 = q35_mc_context(&p, s, &s->test[1], 0, err, sizeof err);
    snprintf(want, sizeof want,
             "<|im_start|>system\nBe brief.\n\nThe following are multiple choice questions (with answers) about high "
             "school physics.<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n<think>\n", item);
    ck_assert_str_eq(t0, want);
    char *ctx, *cont;
    ck_assert_int_eq(q35_split_request(c0, " A", &ctx, &cont), 0);
    ck_assert_str_eq(cont, "\n\n A");
    ck_assert(strlen(ctx) + 2 == strlen(c0));
    free(ctx), free(cont), free(c0), free(c2), free(m2), free(t0);
    q35_mc_set_free(&d);
    tu_rm_rf(dir);
}
END_TEST

/* ZeroEval's MCQA prompt, byte for byte (trailing spaces included), on an item with 5 options. */
START_TEST(zeroeval_prompt) {
    q35_mc_prompt p = { .strip_question = -1, .thinking = -1 };
    ck_assert_int_eq(q35_mc_prompt_style(&p, "zeroeval-mcqa"), 0);
    char *ch[] = { "red", "green", "blue", " cyan", "magenta" };
    q35_mc_item it = { .question = " Which colour? ", .choices = ch, .n_choices = 5, .answer = 2 };
    q35_mc_subject s = { .name = "colours" };
    char *c = q35_mc_context(&p, &s, &it, 0, err, sizeof err);
    ck_assert_str_eq(c, "\n## Question: \n\n Which colour? \n\n## Choices:\n\n- (A) red\n- (B) green\n- (C) blue\n"
                        "- (D)  cyan\n- (E) magenta\n\n\n## Instruction \n\nPlease answer this question by first "
                        "reasoning and then selecting the correct choice. \nPresent your reasoning and solution in the "
                        "following json format. \nPlease show your choice in the `answer` field with only the choice "
                        "letter, e.g.,`\"answer\": \"C\"`.\n\n```json\n{\n    \"reasoning\": \"___\",\n    \"answer\": "
                        "\"___\"\n}\n```\n");
    free(c);
}
END_TEST

/* Run the tiny model over the sample in 3 shards and merge: results.json equals one machine's
 * apart from timings; a missing or doubled shard is refused. */
START_TEST(shards_merge) {
    char dir[4096], model[4200], cmd[32768];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(model, sizeof model, "%s/tiny", dir);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} mkmodel --preset tiny --out %s >/dev/null 2>&1", model);
    ck_assert_int_eq(system(cmd), 0);
    const char *base = "${Q35_BIN:-./q35} eval eval/configs/mmlu_0shot.yaml --limit 2 --threads 2";
    snprintf(cmd, sizeof cmd, "%s --model %s --out %s/one 2>/dev/null", base, model, dir);
    ck_assert_int_eq(system(cmd), 0);
    for (int k = 1; k <= 3; k++) {
        snprintf(cmd, sizeof cmd, "%s --model %s --shard %d/3 --out %s/s%d 2>/dev/null", base, model, k, dir, k);
        ck_assert_int_eq(system(cmd), 0);
    }
    /* a Slurm array task picks its shard from the environment (ids 1..3 here) */
    snprintf(cmd, sizeof cmd,
             "SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1 %s --model %s --out %s/slurm2 2>/dev/null && "
             "cmp %s/slurm2/run.json %s/s2/run.json", base, model, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/s3 %s/s1 %s/s2 --out %s/merged 2>/dev/null", dir, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    char p1[4300], p2[4300];
    snprintf(p1, sizeof p1, "%s/one", dir);
    snprintf(p2, sizeof p2, "%s/merged", dir);
    char *a = results_core(p1), *b = results_core(p2);
    ck_assert_str_eq(a, b);
    free(a), free(b);
    /* the merged log lists the items in the single run's order */
    snprintf(cmd, sizeof cmd, "cmp <(cut -c1-60 %s/one/samples.jsonl) <(cut -c1-60 %s/merged/samples.jsonl)", dir, dir);
    char bash[33000];
    snprintf(bash, sizeof bash, "bash -c '%s'", cmd);
    ck_assert_int_eq(system(bash), 0);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/s1 %s/s2 --out %s/m2 2>&1 | grep -q 'missing: 3'", dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/s1 %s/s2 %s/s2 --out %s/m3 2>&1 | grep -q 'both shard 2/3'", dir, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/s1 %s/s2 %s/one --out %s/m4 2>&1 | grep -q 'differ in their shard count'", dir, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    tu_rm_rf(dir);
}
END_TEST

/* Generative scoring on the tiny model: greedy, so the same replies on 1 and 2 threads and
 * across runs; replies without an answer are counted as such in the log and the results. */
START_TEST(generative_run) {
    char dir[4096], model[4200], cmd[16384];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(model, sizeof model, "%s/tiny", dir);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} mkmodel --preset tiny --out %s >/dev/null 2>&1", model);
    ck_assert_int_eq(system(cmd), 0);
    for (int k = 1; k <= 2; k++) {
        snprintf(cmd, sizeof cmd,
                 "${Q35_BIN:-./q35} eval eval/configs/mmlu_redux.yaml --model %s --set dataset.subjects=anatomy,virology --limit 2 "
                 "--set max_new_tokens=6 --threads %d --out %s/g%d 2>/dev/null", model, k, dir, k);
        ck_assert_int_eq(system(cmd), 0);
    }
    char p1[4300], p2[4300];
    snprintf(p1, sizeof p1, "%s/g1", dir);
    snprintf(p2, sizeof p2, "%s/g2", dir);
    char *a = results_core(p1), *b = results_core(p2);
    ck_assert_str_eq(a, b);
    cJSON *j = cJSON_Parse(a);
    const cJSON *all = cJSON_GetObjectItem(j, "overall");
    ck_assert_int_eq(cJSON_GetObjectItem(all, "n")->valueint, 4);
    int na = cJSON_GetObjectItem(all, "no_answer")->valueint;
    ck_assert(na >= 0 && na <= 4);
    cJSON_Delete(j);
    /* every record has its output, the rule that extracted (or "none" with pred -1) */
    snprintf(p1, sizeof p1, "%s/g1/samples.jsonl", dir);
    char *log = q35_read_file(p1, 1 << 22, NULL);
    int none = 0;
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *r = cJSON_Parse(line);
        ck_assert(cJSON_IsString(cJSON_GetObjectItem(r, "output")));
        ck_assert_int_eq(cJSON_GetObjectItem(r, "output_tokens")->valueint, 6);
        const char *ex = cJSON_GetObjectItem(r, "extracted")->valuestring;
        int pred = cJSON_GetObjectItem(r, "pred")->valueint;
        ck_assert_int_eq(strcmp(ex, "none") == 0, pred == -1);
        none += pred == -1;
        cJSON_Delete(r);
    }
    ck_assert_int_eq(none, na);
    free(log), free(a), free(b);
    tu_rm_rf(dir);
}
END_TEST

/* Aggregation from a hand-made log (through merge, which computes results from logs alone):
 * micro over items vs macro over subjects, categories, extraction failures counted, Wilson
 * intervals, the published score for the model's size. */
START_TEST(aggregation_from_a_hand_made_log) {
    char dir[4096], p[4300], cmd[16384];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(p, sizeof p, "%s/data", dir);
    mkdir(p, 0777);
    make_subject(p); /* high_school_physics: 2 test items */
    write_at(p, "test/virology_test.csv", "Q1?,a,b,c,d,A\n");
    write_at(p, "dev/virology_dev.csv", "S?,a,b,c,d,B\n");
    snprintf(p, sizeof p, "%s/run", dir);
    mkdir(p, 0777);
    char cfg[8300];
    snprintf(cfg, sizeof cfg,
             "task: hand\ndataset:\n  path: %s/data\nprompt:\n  num_fewshot: 0\nreference:\n  0_8b: 50\n  source: \"card\"\n", dir);
    write_at(p, "config.yaml", cfg);
    q35_eval_config c;
    snprintf(cmd, sizeof cmd, "%s/config.yaml", p);
    ck_assert_msg(q35_eval_config_load(&c, cmd, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(q35_eval_config_finish(&c, err, sizeof err), 0);
    char *text = q35_eval_config_text(&c);
    write_at(p, "config.yaml", text); /* the effective form, as a run writes it */
    char runj[1024];
    snprintf(runj, sizeof runj,
             "{\"config_sha256\": \"%s\", \"model_fingerprint\": \"%064d\", \"model_size\": \"0.8b\", \"q35_version\": \"%s\", "
             "\"shard\": 1, \"shards\": 1}\n", c.hash, 0, Q35_VERSION);
    write_at(p, "run.json", runj);
    write_at(p, "samples.jsonl",
             "{\"subject\":\"high_school_physics\",\"doc_id\":1,\"pred\":2,\"gold\":2,\"correct\":true,\"prompt_tokens\":10,\"seconds\":1}\n"
             "{\"subject\":\"virology\",\"doc_id\":0,\"pred\":-1,\"gold\":0,\"correct\":false,\"prompt_tokens\":10,\"seconds\":1}\n"
             "{\"subject\":\"high_school_physics\",\"doc_id\":0,\"pred\":0,\"gold\":0,\"correct\":true,\"prompt_tokens\":10,\"seconds\":1}\n");
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/run --out %s/out 2>/dev/null", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(p, sizeof p, "%s/out", dir);
    char *r = results_core(p);
    cJSON *j = cJSON_Parse(r);
    const cJSON *all = cJSON_GetObjectItem(j, "overall"), *subs = cJSON_GetObjectItem(j, "subjects"),
                *cats = cJSON_GetObjectItem(j, "categories"), *ref = cJSON_GetObjectItem(j, "reference");
    ck_assert_int_eq(cJSON_GetObjectItem(all, "n")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(all, "correct")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(all, "no_answer")->valueint, 1);
    ck_assert(fabs(cJSON_GetObjectItem(all, "acc_micro")->valuedouble - 2.0 / 3) < 1e-12);
    ck_assert(fabs(cJSON_GetObjectItem(all, "acc_macro_subjects")->valuedouble - 0.5) < 1e-12); /* (1 + 0) / 2 */
    double lo, hi;
    q35_wilson95(2, 3, &lo, &hi);
    ck_assert(fabs(cJSON_GetObjectItem(all, "ci95_lo")->valuedouble - lo) < 1e-12);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(subs, "virology"), "no_answer")->valueint, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(subs, "virology"), "category")->valuestring, "other");
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cats, "stem"), "correct")->valueint, 2);
    ck_assert(fabs(cJSON_GetObjectItem(ref, "acc")->valuedouble - 0.5) < 1e-12);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(ref, "inside_ci95")));
    cJSON_Delete(j);
    free(r);
    /* a log that names an item twice, or one the run does not hold, is refused */
    snprintf(p, sizeof p, "%s/run", dir);
    write_at(p, "samples.jsonl",
             "{\"subject\":\"virology\",\"doc_id\":0,\"pred\":0,\"gold\":0,\"correct\":true}\n"
             "{\"subject\":\"virology\",\"doc_id\":0,\"pred\":0,\"gold\":0,\"correct\":true}\n");
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/run --out %s/out2 2>&1 | grep -q 'samples.jsonl:2: virology doc 0 logged twice'", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    write_at(p, "samples.jsonl", "{\"subject\":\"virology\",\"doc_id\":7,\"pred\":0,\"gold\":0,\"correct\":true}\n");
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/run --out %s/out3 2>&1 | grep -q 'samples.jsonl:1: not an item of this run'", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    free(text);
    q35_eval_config_free(&c);
    tu_rm_rf(dir);
}
END_TEST

/* A 1x1 PNG, base64 (the reader keeps the bytes; decoding is image.c's, tested elsewhere). */
#define PNG1 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"

/* VLMEvalKit's TSV: options by letter columns, hint, base64 or a reference to another row's
 * index, circular copies; each harness's user text written by hand; broken rows name the line. */
START_TEST(vl_tsv_and_prompts) {
    char dir[4096], p[4300];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    write_at(dir, "v.tsv",
             "index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\timage\n"
             "7\tWhat colour is the car?\tLook at the left side.\tred\tblue\tgreen\t\tB\tcolour\t" PNG1 "\n"
             "1000007\tWhat colour is the car?\tLook at the left side.\tblue\tgreen\tred\t\tA\tcolour\t7\n"
             "9\t\"Two\nlines\"\t\tyes\tno\t\t\tA\tcounting\t" PNG1 "\n");
    snprintf(p, sizeof p, "%s/v.tsv", dir);
    q35_mc_set d;
    ck_assert_msg(q35_vlmtsv_load(&d, p, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 2);
    q35_mc_subject *c = &d.s[0]; /* "colour" */
    ck_assert_str_eq(c->name, "colour");
    ck_assert_int_eq(c->n_test, 2);
    q35_mc_item *it = &c->test[0], *rot = &c->test[1];
    ck_assert_int_eq(it->n_choices, 3);
    ck_assert_int_eq(it->answer, 1);
    ck_assert_int_eq((int)rot->index, 1000007);
    ck_assert(it->image_len == rot->image_len && memcmp(it->image, rot->image, it->image_len) == 0);
    ck_assert(it->image_len > 8 && memcmp(it->image, "\x89PNG", 4) == 0);
    ck_assert_ptr_null(d.s[1].test[0].hint);
    char *a = q35_vl_user_text("vlmevalkit", it), *b = q35_vl_user_text("vlmevalkit-qwen", it), *l = q35_vl_user_text("lmms-eval", it);
    ck_assert_str_eq(a, "Hint: Look at the left side.\nQuestion: What colour is the car?\nOptions:\nA. red\nB. blue\nC. green\n"
                        "Please select the correct answer from the options above. \n");
    ck_assert_str_eq(b, "Hint: Look at the left side.\nQuestion: What colour is the car?\nOptions:\nA. red\nB. blue\nC. green\n"
                        "Answer with the option letter only.");
    ck_assert_str_eq(l, "Look at the left side. What colour is the car? There are several options:\nA. red\nB. blue\nC. green\n\n"
                        "Answer with the option's letter from the given choices directly.");
    free(a), free(b), free(l);
    a = q35_vl_user_text("vlmevalkit", &d.s[1].test[0]); /* no hint */
    ck_assert_str_eq(a, "Question: Two\nlines\nOptions:\nA. yes\nB. no\nPlease select the correct answer from the options above. \n");
    free(a);
    q35_mc_set_free(&d);
    static const struct {
        const char *tsv, *says;
    } bad[] = {
        { "index\tquestion\tA\tB\tanswer\timage\n1\tq\tx\ty\tC\t" PNG1 "\n", "v.tsv:2: answer 'C' is not one of the row's options A-B" },
        { "index\tquestion\tA\tB\tC\tanswer\timage\n1\tq\tx\t\tz\tA\t" PNG1 "\n", "v.tsv:2: option C given after an empty option B" },
        { "index\tquestion\tA\tB\tanswer\timage\n1\tq\tx\ty\tA\tnot*base64\n", "v.tsv:2: the image cell is not base64" },
        { "index\tquestion\tA\tB\tanswer\timage\n1\tq\tx\ty\tA\t55\n", "v.tsv:2: the image cell names row 55" },
        { "index\tquestion\tA\tB\tanswer\n1\tq\tx\ty\tA\n", "v.tsv:1: no 'image (or image_path)' column" },
        { "index\tquestion\tA\tB\tanswer\timage\n1\tq\tx\tA\t" PNG1 "\n", "v.tsv:2: 5 fields, the header has 6" },
        { "index\tquestion\tA\tB\tanswer\timage\nx1\tq\tx\ty\tA\t" PNG1 "\n", "v.tsv:2: index 'x1' is not a whole number" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_at(dir, "v.tsv", bad[i].tsv);
        err[0] = 0;
        ck_assert_int_eq(q35_vlmtsv_load(&d, p, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].says), "case %zu: '%s' lacks '%s'", i, err, bad[i].says);
    }
    tu_rm_rf(dir);
}
END_TEST

/* VLMEvalKit's can_infer (commit e8e78f05): one option letter among the last words (punctuation
 * blanked), else "answer is X", else one option's text in a reply not too long; refusals and "Z"
 * give none; its quirks kept. */
START_TEST(vl_can_infer) {
    char *opts[] = { "red car", "blue", "green" };
    static const struct {
        const char *reply;
        int want;
        q35_extract_rule rule;
    } cases[] = {
        { "B", 1, Q35_EX_VLM_LETTER },
        { "The answer is (C).", 2, Q35_EX_VLM_LETTER },
        { "**B**: blue", 1, Q35_EX_VLM_LETTER },
        { "It is blue.", 1, Q35_EX_VLM_TEXT },
        { "A RED CAR, I think", 0, Q35_EX_VLM_TEXT },    /* "A" is a word, but not among the last four */
        { "I pick A", 0, Q35_EX_VLM_LETTER },
        { "The correct answer is **B**. Here's why: the car in the picture is painted a bright blue", 1, Q35_EX_VLM_ANSWER_IS },
        { "the answer is bad", 1, Q35_EX_VLM_ANSWER_IS },  /* VLMEvalKit's pattern reads the "b" */
        { "I'm sorry, but without the image provided I cannot say B", -1, Q35_EX_NONE },
        { "Z", -1, Q35_EX_NONE },
        { "a red car, I think", 0, Q35_EX_VLM_TEXT },
        { "A or B", -1, Q35_EX_NONE },                    /* two letters, and no option text */
        { "blue or green", -1, Q35_EX_NONE },             /* two option texts */
        { "D", -1, Q35_EX_NONE },                         /* not an option */
        { "", -1, Q35_EX_NONE },
        { "Bb", -1, Q35_EX_NONE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        q35_extract_rule r;
        int got = q35_extract_vlmevalkit(cases[i].reply, opts, 3, &r);
        ck_assert_msg(got == cases[i].want && r == cases[i].rule, "'%s': %d (%s), want %d", cases[i].reply, got,
                      q35_extract_rule_name(r), cases[i].want);
    }
}
END_TEST

/* Circular evaluation from a hand-made log: item 7 right in both rotations counts, item 8 right
 * in one of two does not; the plain score counts rows. */
START_TEST(vl_circular_scores) {
    char dir[4096], p[4300], cmd[16384];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    write_at(dir, "v.tsv",
             "index\tquestion\tA\tB\tanswer\tcategory\timage\n"
             "7\tq7\tx\ty\tA\tc\t" PNG1 "\n1000007\tq7\ty\tx\tB\tc\t7\n"
             "8\tq8\tx\ty\tA\tc\t" PNG1 "\n1000008\tq8\ty\tx\tB\tc\t8\n");
    snprintf(p, sizeof p, "%s/run", dir);
    mkdir(p, 0777);
    char cfg[8300];
    snprintf(cfg, sizeof cfg,
             "task: vl\ndataset:\n  format: vlmevalkit-tsv\n  path: %s/v.tsv\nprompt:\n  style: vlmevalkit\n  chat_template: true\n"
             "scoring: generate\nsampling:\n  preset: greedy\nmax_new_tokens: 8\ncircular: true\n", dir);
    write_at(p, "config.yaml", cfg);
    q35_eval_config c;
    snprintf(cmd, sizeof cmd, "%s/config.yaml", p);
    ck_assert_msg(q35_eval_config_load(&c, cmd, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_eval_config_finish(&c, err, sizeof err) == 0, "%s", err);
    char *text = q35_eval_config_text(&c);
    write_at(p, "config.yaml", text);
    char runj[1024];
    snprintf(runj, sizeof runj,
             "{\"config_sha256\": \"%s\", \"model_fingerprint\": \"%064d\", \"model_size\": \"0.8b\", \"q35_version\": \"%s\", "
             "\"shard\": 1, \"shards\": 1}\n", c.hash, 0, Q35_VERSION);
    write_at(p, "run.json", runj);
    write_at(p, "samples.jsonl",
             "{\"subject\":\"c\",\"doc_id\":0,\"index\":7,\"pred\":0,\"gold\":0,\"correct\":true}\n"
             "{\"subject\":\"c\",\"doc_id\":1,\"index\":1000007,\"pred\":1,\"gold\":1,\"correct\":true}\n"
             "{\"subject\":\"c\",\"doc_id\":2,\"index\":8,\"pred\":0,\"gold\":0,\"correct\":true}\n"
             "{\"subject\":\"c\",\"doc_id\":3,\"index\":1000008,\"pred\":-1,\"gold\":1,\"correct\":false}\n");
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/run --out %s/out 2>/dev/null", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(p, sizeof p, "%s/out", dir);
    char *r = results_core(p);
    cJSON *j = cJSON_Parse(r);
    const cJSON *all = cJSON_GetObjectItem(j, "overall"), *circ = cJSON_GetObjectItem(j, "circular");
    ck_assert_int_eq(cJSON_GetObjectItem(all, "correct")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(all, "no_answer")->valueint, 1);
    ck_assert_int_eq(cJSON_GetObjectItem(circ, "items")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(circ, "correct")->valueint, 1);
    cJSON_Delete(j);
    free(r), free(text);
    q35_eval_config_free(&c);
    tu_rm_rf(dir);
}
END_TEST

/* POPE: the question files and their images, the three user texts, both harnesses' yes/no
 * rules, and the metrics of a known table from a hand-made log. */
START_TEST(pope_files_rules_and_metrics) {
    char dir[4096], p[8800], img[4300], cmd[16384];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(img, sizeof img, "%s/img", dir);
    mkdir(img, 0777);
    unsigned char *png;
    size_t pn;
    ck_assert_int_eq(q35_base64_decode(PNG1, strlen(PNG1), &png, &pn), 0);
    snprintf(p, sizeof p, "%s/a.jpg", img);
    tu_write_file(p, png, pn);
    free(png);
    /* 10 questions: gold yes x5, no x5 */
    char lines[4096] = "";
    for (int i = 0; i < 10; i++) {
        char l[256];
        snprintf(l, sizeof l, "{\"question_id\": %d, \"image\": \"a.jpg\", \"text\": \" Is there a cat %d? \", \"label\": \"%s\"}\n",
                 i + 1, i, i < 5 ? "yes" : "no");
        strcat(lines, l);
    }
    snprintf(p, sizeof p, "%s/q", dir);
    mkdir(p, 0777);
    write_at(p, "coco_pope_random.json", lines);
    q35_mc_set d;
    ck_assert_msg(q35_pope_load(&d, p, img, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 1);
    ck_assert_str_eq(d.s[0].name, "random");
    ck_assert_int_eq(d.s[0].n_test, 10);
    ck_assert_int_eq(d.s[0].test[6].answer, 1);
    char *t1 = q35_vl_yes_no_text("lmms-eval", &d.s[0].test[0]), *t2 = q35_vl_yes_no_text("vlmevalkit", &d.s[0].test[0]),
         *t3 = q35_vl_yes_no_text("vlmevalkit-qwen", &d.s[0].test[0]);
    ck_assert_str_eq(t1, "Is there a cat 0?\nAnswer the question using a single word or phrase.");
    ck_assert_str_eq(t2, " Is there a cat 0? ");
    ck_assert_str_eq(t3, " Is there a cat 0?  Please answer yes or no.");
    free(t1), free(t2), free(t3);
    q35_mc_set_free(&d);
    /* the two rules */
    ck_assert_int_eq(q35_extract_yes_no(" Yes \n", 0), 0);
    ck_assert_int_eq(q35_extract_yes_no("Yes.", 0), -1); /* lmms-eval: exact */
    ck_assert_int_eq(q35_extract_yes_no("Yes.", 1), 0);  /* VLMEvalKit: words */
    ck_assert_int_eq(q35_extract_yes_no("No, there is none.", 1), 1);
    ck_assert_int_eq(q35_extract_yes_no("yes and no", 1), -1);
    ck_assert_int_eq(q35_extract_yes_no("Not sure", 1), -1);
    ck_assert_int_eq(q35_extract_yes_no("NO", 0), 1);
    /* broken files name the line */
    static const struct {
        const char *json, *says;
    } bad[] = {
        { "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"q\", \"label\": \"maybe\"}\n", "x.json:1: label is not" },
        { "{\"question_id\": 1, \"image\": \"b.jpg\", \"text\": \"q\", \"label\": \"yes\"}\n", "x.json:1: image" },
        { "\n{\"question_id\": \"1\", \"image\": \"a.jpg\", \"text\": \"q\", \"label\": \"yes\"}\n", "x.json:2: no question_id number" },
        { "[1]\n", "x.json:1: not a JSON object" },
        { "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"is\\u0000there\", \"label\": \"yes\"}\n", "x.json:1: a string holds U+0000" },
        { "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"q\", \"label\": \"yes\"} tail\n", "x.json:1: not a JSON object" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_at(dir, "x.json", bad[i].json);
        snprintf(p, sizeof p, "%s/x.json", dir);
        err[0] = 0;
        ck_assert_int_eq(q35_pope_load(&d, p, img, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].says), "case %zu: '%s' lacks '%s'", i, err, bad[i].says);
    }
    /* metrics: replies yes,yes,yes,no,(none) for gold yes; yes,no,no,no,no for gold no:
     * tp 3, fn 1, fp 1, tn 4, one neither: accuracy 7/10, precision 3/4, recall 3/4, yes ratio 4/10 */
    snprintf(p, sizeof p, "%s/run", dir);
    mkdir(p, 0777);
    char cfg[16384];
    snprintf(cfg, sizeof cfg,
             "task: pope\ntype: yes_no\ndataset:\n  format: pope\n  path: %s/q\n  images: %s\nprompt:\n  style: lmms-eval\n"
             "  chat_template: true\nscoring: generate\nsampling:\n  preset: greedy\nmax_new_tokens: 8\n", dir, img);
    write_at(p, "config.yaml", cfg);
    q35_eval_config c;
    snprintf(cmd, sizeof cmd, "%s/config.yaml", p);
    ck_assert_msg(q35_eval_config_load(&c, cmd, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_eval_config_finish(&c, err, sizeof err) == 0, "%s", err);
    char *text = q35_eval_config_text(&c);
    write_at(p, "config.yaml", text);
    char runj[1024];
    snprintf(runj, sizeof runj,
             "{\"config_sha256\": \"%s\", \"model_fingerprint\": \"%064d\", \"model_size\": \"0.8b\", \"q35_version\": \"%s\", "
             "\"shard\": 1, \"shards\": 1}\n", c.hash, 0, Q35_VERSION);
    write_at(p, "run.json", runj);
    static const int preds[10] = { 0, 0, 0, 1, -1, 0, 1, 1, 1, 1 };
    char log[4096] = "";
    for (int i = 0; i < 10; i++) {
        char l[256];
        int g = i >= 5;
        snprintf(l, sizeof l, "{\"subject\":\"random\",\"doc_id\":%d,\"index\":%d,\"pred\":%d,\"gold\":%d,\"correct\":%s}\n", i, i + 1,
                 preds[i], g, preds[i] == g ? "true" : "false");
        strcat(log, l);
    }
    write_at(p, "samples.jsonl", log);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/run --out %s/out 2>/dev/null", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(p, sizeof p, "%s/out", dir);
    char *r = results_core(p);
    cJSON *j = cJSON_Parse(r);
    const cJSON *y = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "yes_no"), "random");
    ck_assert(fabs(cJSON_GetObjectItem(y, "accuracy")->valuedouble - 0.7) < 1e-12);
    ck_assert(fabs(cJSON_GetObjectItem(y, "precision")->valuedouble - 0.75) < 1e-12);
    ck_assert(fabs(cJSON_GetObjectItem(y, "recall")->valuedouble - 0.75) < 1e-12);
    ck_assert(fabs(cJSON_GetObjectItem(y, "f1")->valuedouble - 0.75) < 1e-12);
    ck_assert(fabs(cJSON_GetObjectItem(y, "yes_ratio")->valuedouble - 0.4) < 1e-12);
    ck_assert_int_eq(cJSON_GetObjectItem(y, "neither")->valueint, 1);
    cJSON_Delete(j);
    free(r), free(text);
    q35_eval_config_free(&c);
    tu_rm_rf(dir);
}
END_TEST

/* The vision demo: the shipped MMBench sample through the tiny vision tower, one machine and
 * 2 shards merged give the same results (the per-item seeds make sampling independent of the
 * shard); a dry run names every rotation with its image size and token count. */
START_TEST(vl_shards_and_dry_run) {
    char dir[4096], model[4200], cmd[32768];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(model, sizeof model, "%s/tiny", dir);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} mkmodel --preset tiny --out %s >/dev/null 2>&1", model);
    ck_assert_int_eq(system(cmd), 0);
    const char *base = "${Q35_BIN:-./q35} eval eval/configs/mmbench_dev_en.yaml --set max_new_tokens=3 --threads 2";
    snprintf(cmd, sizeof cmd, "%s --model %s --out %s/one 2>/dev/null", base, model, dir);
    ck_assert_int_eq(system(cmd), 0);
    for (int k = 1; k <= 2; k++) {
        snprintf(cmd, sizeof cmd, "%s --model %s --shard %d/2 --out %s/s%d 2>/dev/null", base, model, k, dir, k);
        ck_assert_int_eq(system(cmd), 0);
    }
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} eval merge %s/s1 %s/s2 --out %s/m 2>/dev/null", dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    char p1[4300], p2[4300];
    snprintf(p1, sizeof p1, "%s/one", dir);
    snprintf(p2, sizeof p2, "%s/m", dir);
    char *a = results_core(p1), *b = results_core(p2);
    ck_assert_str_eq(a, b);
    cJSON *j = cJSON_Parse(a);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "overall"), "n")->valueint, 11);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "circular"), "items")->valueint, 5);
    cJSON_Delete(j);
    free(a), free(b);
    /* the vision output reused across an item's rotations gives the replies of running the tower
     * for every row (compared without the seconds, which differ) */
    snprintf(cmd, sizeof cmd,
             "%s --model %s --set speed.no_vision_cache=true --out %s/nocache 2>/dev/null && "
             "bash -c 'cmp <(sed \"s/,\\\"seconds\\\".*//\" %s/one/samples.jsonl) <(sed \"s/,\\\"seconds\\\".*//\" %s/nocache/samples.jsonl)'",
             base, model, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    /* killed at two moments and resumed: the uninterrupted run's results */
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "timeout -s KILL %s %s --model %s --out %s/killed %s >/dev/null 2>&1; true", k ? "1.2" : "0.5", base,
                 model, dir, k ? "--resume" : "");
        ck_assert_int_eq(system(cmd), 0);
    }
    snprintf(cmd, sizeof cmd, "%s --model %s --out %s/killed --resume 2>/dev/null", base, model, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(p2, sizeof p2, "%s/killed", dir);
    a = results_core(p1), b = results_core(p2);
    ck_assert_str_eq(a, b);
    free(a), free(b);
    /* an image that is not one names its row */
    snprintf(cmd, sizeof cmd,
             "printf 'index\tquestion\tA\tB\tanswer\timage\n7\tq\tx\ty\tA\tbm90IGFuIGltYWdl\n' > %s/bad.tsv && "
             "%s --model %s --data %s/bad.tsv --out %s/bad 2>&1 | grep -q 'all item 7 (line 2)'", dir, base, model, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "%s --model %s --dry-run > %s/dry.jsonl 2>/dev/null && test $(grep -c '\"circular_rotation\":3' %s/dry.jsonl) = 2 && "
             "grep -q '\"images\":\\[\\[288,256\\]\\],\"image_tokens\":72' %s/dry.jsonl",
             base, model, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    tu_rm_rf(dir);
}
END_TEST

/* VQAv2: the official normalisation on known cases and soft accuracy on known answer sets; the
 * release files read into per-answer-type subjects; a run through the tiny vision tower logs a
 * score per item and averages them. (The normalisation also agreed with lmms-eval 0.7.3's
 * EvalAIAnswerProcessor on 3,026 strings, most of them random: eval/vqa.c's history.) */
START_TEST(vqa_normalize_and_soft_accuracy) {
    static const char *const norm[][2] = {
        { "Two dogs.", "2 dogs" }, { "the cat", "cat" }, { "1,000", "1000" }, { "yes!", "yes" }, { "a-b", "b" },
        { "a - b", "b" }, { "Dont know", "don't know" }, { "3.5", "3.5" }, { "U.S.A.", "usa" }, { "None", "0" },
        { "it's (red)", "it's red" }, { " Yes \t", "yes" }, { "An apple a day", "apple day" }, { "what's up?", "what's up" },
        { "x/y", "x y" }, { "x / y", "x y" },
    };
    for (size_t i = 0; i < sizeof norm / sizeof norm[0]; i++) {
        char *r = q35_vqa_normalize(norm[i][0]);
        ck_assert_msg(strcmp(r, norm[i][1]) == 0, "'%s' -> '%s', want '%s'", norm[i][0], r, norm[i][1]);
        free(r);
    }
    char *ten[10] = { "2", "2", "two", "2", "3", "3", "3", "3", "3", "3" }; /* "two" normalises to "2" */
    /* "2": 4 humans; leaving one of them out leaves 3 matches (1), leaving another out leaves 4 (1): 1 */
    ck_assert(fabs(q35_vqa_soft_accuracy("2", ten, 10) - 1.0) < 1e-12);
    char *ans[10] = { "red", "red", "blue", "blue", "blue", "green", "green", "green", "green", "green" };
    /* "red": 2 humans; out of the other 9, left out one of the reds (2 of 10 subsets) gives 1/3, else 2/3 */
    ck_assert(fabs(q35_vqa_soft_accuracy("Red.", ans, 10) - (2 * (1.0 / 3) + 8 * (2.0 / 3)) / 10) < 1e-12);
    ck_assert(fabs(q35_vqa_soft_accuracy("the blue", ans, 10) - (3 * (2.0 / 3) + 7 * 1.0) / 10) < 1e-12);
    ck_assert(fabs(q35_vqa_soft_accuracy("purple", ans, 10)) < 1e-12);
    /* the files */
    char dir[4096], img[4300], p[8800], cmd[65536];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(img, sizeof img, "%s/img", dir);
    mkdir(img, 0777);
    unsigned char *png;
    size_t pn;
    ck_assert_int_eq(q35_base64_decode(PNG1, strlen(PNG1), &png, &pn), 0);
    snprintf(p, sizeof p, "%s/COCO_val2014_000000000042.jpg", img);
    tu_write_file(p, png, pn);
    free(png);
    write_at(dir, "q.json", "{\"questions\": [{\"image_id\": 42, \"question\": \"What colour?\", \"question_id\": 420},"
                            " {\"image_id\": 42, \"question\": \"How many?\", \"question_id\": 421}]}");
    write_at(dir, "a.json", "{\"annotations\": [{\"question_id\": 421, \"answer_type\": \"number\", \"answers\": [{\"answer\": \"2\"}, {\"answer\": \"two\"}, {\"answer\": \"3\"}]},"
                            " {\"question_id\": 420, \"answer_type\": \"other\", \"answers\": [{\"answer\": \"red\"}, {\"answer\": \"red\"}]}]}");
    q35_mc_set d;
    char q[8800], a[8800];
    snprintf(q, sizeof q, "%s/q.json", dir);
    snprintf(a, sizeof a, "%s/a.json", dir);
    ck_assert_msg(q35_vqav2_load(&d, q, a, img, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 2);
    ck_assert_str_eq(d.s[0].name, "number");
    ck_assert_int_eq(d.s[0].test[0].n_choices, 3);
    ck_assert_int_eq((int)d.s[1].test[0].index, 420);
    char *t = q35_vl_open_text("lmms-eval", &d.s[1].test[0]);
    ck_assert_str_eq(t, "What colour?\nAnswer the question using a single word or phrase.");
    free(t);
    q35_mc_set_free(&d);
    write_at(dir, "a2.json", "{\"annotations\": [{\"question_id\": 421, \"answers\": [{\"answer\": \"2\"}, {\"answer\": \"3\"}]}]}");
    snprintf(a, sizeof a, "%s/a2.json", dir);
    ck_assert_int_eq(q35_vqav2_load(&d, q, a, img, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "question 420 has no annotation"), "%s", err);
    write_at(dir, "q2.json", "{\"questions\": [{\"image_id\": 42, \"question\": \"What\\u0000colour?\", \"question_id\": 420}]}");
    snprintf(q, sizeof q, "%s/q2.json", dir);
    ck_assert_int_eq(q35_vqav2_load(&d, q, a, img, err, sizeof err), -1); /* not cut to "What" */
    ck_assert_msg(strstr(err, "q2.json: a string holds U+0000"), "%s", err);
    snprintf(q, sizeof q, "%s/q.json", dir);
    /* a run on the tiny model: every record has a score in [0, 1]; the overall acc is their mean */
    snprintf(a, sizeof a, "%s/a.json", dir);
    char model[4300];
    snprintf(model, sizeof model, "%s/tiny", dir);
    snprintf(cmd, sizeof cmd, "${Q35_BIN:-./q35} mkmodel --preset tiny --out %s >/dev/null 2>&1 && "
                              "${Q35_BIN:-./q35} eval eval/configs/vqav2_val.yaml --model %s --data %s --annotations %s --images %s "
                              "--set max_new_tokens=2 --out %s/run 2>/dev/null", model, model, q, a, img, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(p, sizeof p, "%s/run", dir);
    char *r = results_core(p);
    cJSON *j = cJSON_Parse(r);
    double acc = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "overall"), "acc_micro")->valuedouble;
    ck_assert(acc >= 0 && acc <= 1);
    cJSON_Delete(j);
    free(r);
    snprintf(cmd, sizeof cmd, "test $(grep -c '\"score\":' %s/run/samples.jsonl) = 2", dir);
    ck_assert_int_eq(system(cmd), 0);
    tu_rm_rf(dir);
}
END_TEST

/* --dry-run reads no weights: with only a tokenizer it prints each item's context and the ids
 * lm-eval scores (the continuation is the tail of encode(context + " A")). */
START_TEST(dry_run) {
    char dir[4096], cmd[8192], p[4300];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(cmd, sizeof cmd,
             "${Q35_BIN:-./q35} eval eval/configs/mmlu.yaml --tokenizer tests/data/tokenizer/qwen35_style_tokenizer.json --dry-run "
             "--limit 2 > %s/dry.jsonl",
             dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(p, sizeof p, "%s/dry.jsonl", dir);
    char *t = q35_read_file(p, 1 << 24, NULL);
    ck_assert_ptr_nonnull(t);
    int lines = 0;
    for (char *c = t; *c; c++) lines += *c == '\n';
    ck_assert_int_eq(lines, 114);
    char *nl = strchr(t, '\n');
    *nl = 0;
    cJSON *j = cJSON_Parse(t);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "subject")->valuestring, "abstract_algebra");
    ck_assert_int_eq(cJSON_GetObjectItem(j, "doc_id")->valueint, 0);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "gold")->valueint, 1);
    const char *ctx = cJSON_GetObjectItem(j, "context")->valuestring;
    ck_assert(strncmp(ctx, "The following are multiple choice questions (with answers) about abstract algebra.\n\n", 83) == 0);
    ck_assert(strstr(ctx, "\nAnswer: B\n\n") && strlen(ctx) > 7 && strcmp(ctx + strlen(ctx) - 8, "\nAnswer:") == 0);
    const cJSON *ci = cJSON_GetObjectItem(j, "continuation_ids");
    ck_assert_int_eq(cJSON_GetArraySize(ci), 4);
    /* " A".." D" are single tokens of the Qwen vocabulary: 362, 425, 356, 422 */
    int want[4] = { 362, 425, 356, 422 };
    for (int k = 0; k < 4; k++) {
        const cJSON *a = cJSON_GetArrayItem(ci, k);
        ck_assert_int_eq(cJSON_GetArraySize(a), 1);
        ck_assert_int_eq(cJSON_GetArrayItem(a, 0)->valueint, want[k]);
    }
    cJSON_Delete(j);
    free(t);
    tu_rm_rf(dir);
}
END_TEST

int main(void) {
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("eval");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, prompt_byte_for_byte);
    tcase_add_test(tc, both_csv_forms_and_the_shipped_sample);
    tcase_add_test(tc, bad_rows_name_file_and_line);
    tcase_add_test(tc, config_errors_name_file_and_line);
    tcase_add_test(tc, wilson_intervals);
    tcase_add_test(tc, dry_run);
    tcase_add_test(tc, kill_and_resume);
    tcase_add_test(tc, prefix_cache_agrees);
    tcase_add_test(tc, chat_template_prompts);
    tcase_add_test(tc, zeroeval_prompt);
    tcase_add_test(tc, shards_merge);
    tcase_add_test(tc, generative_run);
    tcase_add_test(tc, aggregation_from_a_hand_made_log);
    tcase_add_test(tc, vl_tsv_and_prompts);
    tcase_add_test(tc, vl_can_infer);
    tcase_add_test(tc, vl_circular_scores);
    tcase_add_test(tc, pope_files_rules_and_metrics);
    tcase_add_test(tc, vl_shards_and_dry_run);
    tcase_add_test(tc, vqa_normalize_and_soft_accuracy);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
