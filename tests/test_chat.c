/* test_chat.c - Qwen3.5's chat templates rendered by the Jinja interpreter against the
 * goldens of transformers' own renderer (tests/data/chat), then tokenized; hostile templates. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q35.h"
#include "jinja.h"
#include "testutil.h"
#include "tokenizer.h"
#include "util.h"

static char err[2048];

/* Renders and tokenizes every case of a chat golden file; asserts the counts of cases and errors. */
static void check_chat(const char *file, int want_cases, int want_errors) {
    q35_tokenizer *tok = q35_tokenizer_load("tests/data/tokenizer/qwen35_style_tokenizer.json", err, sizeof err);
    ck_assert_msg(tok != NULL, "%s", err);
    size_t n;
    char *text = q35_read_file(file, 16u << 20, &n);
    ck_assert_ptr_nonnull(text);
    int cases = 0, errors = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        cJSON *j = q35_chat_parse_json(l); /* numbers written 2.0 stay floats */
        const char *id = cJSON_GetObjectItem(j, "id")->valuestring, *tpl = cJSON_GetObjectItem(j, "template")->valuestring;
        char path[256];
        snprintf(path, sizeof path, "tests/data/chat/%s", tpl);
        char *t = q35_read_file(path, 1u << 20, NULL);
        ck_assert_ptr_nonnull(t);
        cJSON *vars = cJSON_Duplicate(cJSON_GetObjectItem(j, "flags"), 1);
        cJSON_AddItemToObject(vars, "messages", cJSON_Duplicate(cJSON_GetObjectItem(j, "messages"), 1));
        char *r = q35_jinja_render(t, vars, err, sizeof err);
        const cJSON *want = cJSON_GetObjectItem(j, "text"), *werr = cJSON_GetObjectItem(j, "error");
        if (werr) { /* the template's own raise_exception, same message */
            ck_assert_msg(r == NULL, "%s/%s: rendered, expected the error '%s'", id, tpl, werr->valuestring);
            char expect[512];
            snprintf(expect, sizeof expect, "raise_exception: %s", werr->valuestring);
            ck_assert_str_eq(err, expect);
            errors++;
        } else {
            ck_assert_msg(r != NULL, "%s/%s: %s", id, tpl, err);
            ck_assert_msg(strcmp(r, want->valuestring) == 0, "%s/%s: rendered text differs:\n%s\n---\n%s", id, tpl, r,
                          want->valuestring);
            int *ids, k;
            ck_assert_int_eq(q35_tokenize(tok, r, strlen(r), &ids, &k, err, sizeof err), 0);
            const cJSON *wids = cJSON_GetObjectItem(j, "ids");
            ck_assert_int_eq(k, cJSON_GetArraySize(wids));
            int at = 0;
            for (const cJSON *w = wids->child; w; w = w->next, at++)
                ck_assert_msg(ids[at] == w->valueint, "%s/%s: id %d differs", id, tpl, at);
            free(ids);
        }
        free(r);
        free(t);
        cJSON_Delete(vars);
        cJSON_Delete(j);
        cases++;
    }
    ck_assert_int_eq(cases, want_cases);
    ck_assert_int_eq(errors, want_errors);
    free(text);
    q35_tokenizer_free(tok);
}

START_TEST(chat_goldens) { check_chat("tests/data/chat/chat_goldens.jsonl", 60, 4); }
END_TEST

/* more cases made the same way: parallel tool calls, nested tool arguments, kept reasoning,
 * vision ids across turns, Unicode and whitespace, float tool values (2.0 and 1e3 print as Python
 * prints them), errors (make_extra.py) */
START_TEST(extra_chat_goldens) { check_chat("tests/data/chat/extra_chat_goldens.jsonl", 18, 4); }
END_TEST

/* Broken templates: a clear error with the line, never a crash. */
START_TEST(bad_templates) {
    cJSON *vars = cJSON_Parse("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"x\": 1}");
    struct { const char *tpl, *frag; } c[] = {
        { "{% if x %}never closed", "missing {% endif %}" },
        { "{{ x ", "unterminated {{ tag" },
        { "{% for m in messages %}{{ m.role }}", "missing {% endfor %}" },
        { "{{ x | nosuchfilter }}", "unsupported filter 'nosuchfilter'" },
        { "{{ x is nosuchtest }}", "unsupported test 'nosuchtest'" },
        { "{% include 'other' %}", "unsupported or unexpected tag 'include'" },
        { "line one\n{{ 'abc }}", "template line 2: unterminated string" },
        { "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion too deep" },
        { "{{ x + 'a' }}", "unsupported operand types" },
        { "{{ raise_exception('stop here') }}", "raise_exception: stop here" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *r = q35_jinja_render(c[i].tpl, vars, err, sizeof err);
        ck_assert_msg(r == NULL, "case %zu rendered: %s", i, r);
        ck_assert_msg(strstr(err, c[i].frag), "case %zu: '%s' not in: %s", i, c[i].frag, err);
    }
    /* deep nesting is refused, not a stack overflow */
    size_t depth = 5000, len = 0;
    char *deep = malloc(depth * 24 + 1);
    for (size_t i = 0; i < depth; i++) len += (size_t)sprintf(deep + len, "{%% if x %%}");
    deep[len] = 0;
    ck_assert_ptr_null(q35_jinja_render(deep, vars, err, sizeof err));
    ck_assert_msg(strstr(err, "nested too deeply"), "%s", err);
    free(deep);
    cJSON_Delete(vars);
}
END_TEST

/* The built-in templates are the shipped files, byte for byte. */
START_TEST(builtin_templates_are_the_files) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    const char *src;
    char *t = q35_chat_template_load(dir, &src, err, sizeof err); /* no template, no config */
    char *f = q35_read_file("tests/data/chat/chat_template.jinja", 1u << 20, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, f);
    ck_assert_str_eq(src, "built-in Qwen3.5 template");
    free(t), free(f);
    q35_config c; /* a 0.8B-sized config selects the small models' variant */
    ck_assert_int_eq(q35_preset_config(&c, "0.8b", err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    ck_assert_int_eq(q35_config_save(&c, path, err, sizeof err), 0);
    t = q35_chat_template_load(dir, &src, err, sizeof err);
    f = q35_read_file("tests/data/chat/chat_template_0.8b_2b.jinja", 1u << 20, NULL);
    ck_assert_str_eq(t, f);
    free(t), free(f);
    /* a checkpoint's own file wins */
    snprintf(path, sizeof path, "%s/chat_template.jinja", dir);
    tu_write_file(path, "{{ messages[0].content }}!", 26);
    t = q35_chat_template_load(dir, &src, err, sizeof err);
    ck_assert_str_eq(t, "{{ messages[0].content }}!");
    ck_assert_str_eq(src, "chat_template.jinja");
    free(t);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(image_placeholders) {
    int ids[] = { 1, 7, 2, 7, 7, 7, 3 }, counts[] = { 4, 3 }, *out, n;
    ck_assert_int_eq(q35_expand_image_tokens(&out, &n, ids, 7, 7, counts, 2, err, sizeof err), 0);
    int want[] = { 1, 7, 7, 7, 7, 2, 7, 7, 7, 3 };
    ck_assert_int_eq(n, 10);
    ck_assert_mem_eq(out, want, sizeof want);
    free(out);
    ck_assert_int_eq(q35_expand_image_tokens(&out, &n, ids, 7, 7, counts, 1, err, sizeof err), -1);
    int wrong[] = { 4, 2 };
    ck_assert_int_eq(q35_expand_image_tokens(&out, &n, ids, 7, 7, wrong, 2, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "image 2 needs 2"), "%s", err);
}
END_TEST

/* q35 chat-format on a checkpoint with a vision tower: the image placeholder becomes the
 * image's 80 tokens (70x90 -> 256x320 -> 16x20 patches -> 8x10 merged). */
START_TEST(cli_chat_format_with_image) {
    const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
    char dir[1024], cmd[16384];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(cmd, sizeof cmd, "%s mkmodel --preset tiny --out %s/m --tokenizer none >/dev/null 2>&1 && cp tests/data/tokenizer/qwen35_style_tokenizer.json %s/m/tokenizer.json", bin, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    char conv[1100];
    snprintf(conv, sizeof conv, "%s/conv.json", dir);
    const char *msg = "[{\"role\": \"user\", \"content\": [{\"type\": \"image\"}, {\"type\": \"text\", \"text\": \"What is this?\"}]}]";
    tu_write_file(conv, msg, strlen(msg));
    snprintf(cmd, sizeof cmd, "%s chat-format %s/m --messages %s --no-think --image golden/data/small_vl/image_70x90.png", bin, dir, conv);
    FILE *p = popen(cmd, "r");
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    ck_assert_int_eq(pclose(p), 0);
    cJSON *o = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(o);
    const cJSON *ids = cJSON_GetObjectItem(o, "ids");
    int pads = 0;
    for (const cJSON *e = ids->child; e; e = e->next) pads += e->valueint == 248056;
    ck_assert_int_eq(pads, 80);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "template")->valuestring, "built-in Qwen3.5 0.8B/2B template");
    cJSON_Delete(o);
    /* forward --prompt goes through the same tokenizer; the dump records the ids */
    snprintf(cmd, sizeof cmd, "%s forward %s/m --prompt 'Hello, world!' --dump %s/p.safetensors --only input_ids >/dev/null", bin, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(conv, sizeof conv, "%s/p.safetensors", dir);
    q35_st st;
    ck_assert_msg(q35_st_open(&st, conv, err, sizeof err) == 0, "%s", err);
    const q35_st_entry *e = q35_st_find(&st, "prefill.input_ids");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->t.shape[1], 4);
    int want[4] = { 9707, 11, 1879, 0 };
    for (int i = 0; i < 4; i++) ck_assert_int_eq((int)q35_get_f32(&e->t, i), want[i]);
    q35_st_close(&st);
    tu_rm_rf(dir);
}
END_TEST

/* Video placeholders against Hugging Face's Qwen3-VL processor (tests/data/chat/video_goldens.jsonl,
 * made by make_video.py): sampled frames, grid and the placeholder text of each case; then the whole
 * chat-format path with a directory of frames, text and ids. */
START_TEST(video_placeholders) {
    char *text = q35_read_file("tests/data/chat/video_goldens.jsonl", 16u << 20, NULL);
    ck_assert_ptr_nonnull(text);
    q35_video_config vc;
    ck_assert_int_eq(q35_video_config_load(&vc, "tests/data/chat", err, sizeof err), 0);
    int cases = 0, cli = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(l);
        ck_assert_ptr_nonnull(j);
        if (cJSON_GetObjectItem(j, "cli")) {
            const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
            char dir[1024], cmd[4096], conv[1200];
            snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
            snprintf(conv, sizeof conv, "%s/conv.json", dir);
            char *m = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "messages"));
            tu_write_file(conv, m, strlen(m));
            free(m);
            snprintf(cmd, sizeof cmd, "%s chat-format tests/data/chat --messages %s --no-think --template "
                     "tests/data/chat/chat_template.jinja --tokenizer tests/data/tokenizer/qwen35_style_tokenizer.json "
                     "--video tests/data/chat/video_frames --video-fps 3 2>/dev/null", bin, conv);
            FILE *p = popen(cmd, "r");
            static char buf[1 << 20];
            size_t n = fread(buf, 1, sizeof buf - 1, p);
            buf[n] = 0;
            ck_assert_int_eq(pclose(p), 0);
            cJSON *o = cJSON_Parse(buf);
            ck_assert_ptr_nonnull(o);
            ck_assert_str_eq(cJSON_GetObjectItem(o, "text")->valuestring, cJSON_GetObjectItem(j, "text")->valuestring);
            const cJSON *ids = cJSON_GetObjectItem(o, "ids"), *want = cJSON_GetObjectItem(j, "ids");
            ck_assert_int_eq(cJSON_GetArraySize(ids), cJSON_GetArraySize(want));
            for (int i = 0; i < cJSON_GetArraySize(want); i++)
                ck_assert_int_eq(cJSON_GetArrayItem(ids, i)->valueint, cJSON_GetArrayItem(want, i)->valueint);
            cJSON_Delete(o);
            /* two videos given, one placeholder: an error naming both counts */
            snprintf(cmd, sizeof cmd, "%s chat-format tests/data/chat --messages %s --template tests/data/chat/chat_template.jinja "
                     "--tokenizer tests/data/tokenizer/qwen35_style_tokenizer.json --video tests/data/chat/video_frames "
                     "--video tests/data/chat/video_frames --video-fps 3 > %s/out.txt 2>&1", bin, conv, dir);
            ck_assert_int_ne(system(cmd), 0);
            snprintf(conv, sizeof conv, "%s/out.txt", dir);
            char *out = q35_read_file(conv, 1u << 20, NULL);
            ck_assert_msg(out && strstr(out, "2 videos given but the prompt holds 1"), "%s", out ? out : "");
            free(out);
            tu_rm_rf(dir);
            cli++;
        } else {
            q35_video_plan p;
            int rc = q35_video_plan_make(&p, &vc, cJSON_GetObjectItem(j, "frames")->valueint,
                                         cJSON_GetObjectItem(j, "fps")->valuedouble, cJSON_GetObjectItem(j, "height")->valueint,
                                         cJSON_GetObjectItem(j, "width")->valueint, err, sizeof err);
            ck_assert_msg(rc == 0, "%s", err);
            const cJSON *idx = cJSON_GetObjectItem(j, "indices"), *grid = cJSON_GetObjectItem(j, "grid");
            ck_assert_int_eq(p.n, cJSON_GetArraySize(idx));
            for (int i = 0; i < p.n; i++) ck_assert_int_eq(p.indices[i], cJSON_GetArrayItem(idx, i)->valueint);
            for (int i = 0; i < 3; i++) ck_assert_int_eq(p.grid[i], cJSON_GetArrayItem(grid, i)->valueint);
            char *ph = q35_video_placeholder(&p);
            ck_assert_str_eq(ph, cJSON_GetObjectItem(j, "placeholder")->valuestring);
            free(ph);
            q35_video_plan_free(&p);
        }
        cases++;
        cJSON_Delete(j);
    }
    free(text);
    ck_assert_int_eq(cases, 11);
    ck_assert_int_eq(cli, 1);
    /* bad input */
    q35_video_plan p;
    ck_assert_int_eq(q35_video_plan_make(&p, &vc, 0, 24, 10, 10, err, sizeof err), -1);
    ck_assert_int_eq(q35_video_plan_make(&p, &vc, 1, 24, 10, 10, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "at least 2"), "%s", err);
    ck_assert_int_eq(q35_video_plan_make(&p, &vc, 10, 24, 10, 5000, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "aspect ratio"), "%s", err);
    ck_assert_int_eq(q35_video_plan_dir(&p, &vc, "tests/data/nope", 3, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "tests/data/nope"), "%s", err);
    ck_assert_int_eq(q35_video_plan_dir(&p, &vc, "tests/data/chat", 3, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no frames"), "%s", err);
}
END_TEST

int main(void) {
    Suite *s = suite_create("chat");
    TCase *tc = tcase_create("template");
    tcase_add_test(tc, chat_goldens);
    tcase_add_test(tc, extra_chat_goldens);
    tcase_add_test(tc, bad_templates);
    tcase_add_test(tc, builtin_templates_are_the_files);
    tcase_add_test(tc, image_placeholders);
    tcase_add_test(tc, cli_chat_format_with_image);
    tcase_add_test(tc, video_placeholders);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
