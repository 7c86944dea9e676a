/* prompt.c - a multiple-choice item's prompt text (prompt.h). */
#include "prompt.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "chat.h"
#include "util.h"

/* A growing string. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} str;

static void put(str *b, const char *t, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s, b->cap = cap;
    }
    memcpy(b->s + b->n, t, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void puts_(str *b, const char *t) { put(b, t, strlen(t)); }

/* Python's str.strip() set, ASCII part (MMLU's questions hold only ASCII whitespace at their ends). */
static int is_py_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

/* fmt into b with each "{name}" of names[] replaced by vals[] (n pairs); other text literal. */
static void format(str *b, const char *fmt, const char *const *names, const char *const *vals, int n) {
    const char *p = fmt;
    while (*p) {
        int hit = -1;
        size_t len = 0;
        if (*p == '{')
            for (int i = 0; i < n && hit < 0; i++) {
                len = strlen(names[i]);
                if (strncmp(p + 1, names[i], len) == 0 && p[1 + len] == '}') hit = i;
            }
        if (hit < 0) {
            const char *q = strchr(p + 1, '{');
            size_t m = q ? (size_t)(q - p) : strlen(p);
            put(b, p, m);
            p += m;
            continue;
        }
        puts_(b, vals[hit]);
        p += len + 2;
    }
}

static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

static void doc_to_text(str *b, const q35_mc_prompt *p, const q35_mc_item *it) {
    str q = { 0 }, opts = { 0 };
    const char *s = it->question, *e = s + strlen(s);
    if (p->strip_question) {
        while (s < e && is_py_space((unsigned char)*s)) s++;
        while (e > s && is_py_space((unsigned char)e[-1])) e--;
    }
    put(&q, s, (size_t)(e - s));
    puts_(&q, "");
    for (int k = 0; k < it->n_choices; k++) {
        char letter[2] = { letters[k], 0 };
        const char *names[] = { "letter", "text" }, *vals[] = { letter, it->choices[k] };
        format(&opts, p->option_format, names, vals, 2);
    }
    puts_(&opts, "");
    const char *names[] = { "question", "options" }, *vals[] = { q.s ? q.s : "", opts.s ? opts.s : "" };
    if (q.oom || opts.oom) b->oom = 1;
    else format(b, p->question_format, names, vals, 2);
    free(q.s), free(opts.s);
}

static void description(str *b, const q35_mc_prompt *p, const q35_mc_subject *s) {
    char *name = strdup(s->name);
    if (!name) {
        b->oom = 1;
        return;
    }
    for (char *c = name; *c; c++)
        if (*c == '_') *c = ' ';
    const char *names[] = { "subject" }, *vals[] = { name };
    format(b, p->description, names, vals, 1);
    free(name);
}

/* Shot i's text with its answer and the delimiter after it. */
static void shot(str *b, const q35_mc_prompt *p, const q35_mc_item *it) {
    doc_to_text(b, p, it);
    puts_(b, p->target_delimiter);
    put(b, &letters[it->answer], 1);
    puts_(b, p->fewshot_delimiter);
}

static int add_msg(cJSON *msgs, const char *role, const char *content) {
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddStringToObject(m, "role", role) || !cJSON_AddStringToObject(m, "content", content)) {
        cJSON_Delete(m);
        return -1;
    }
    cJSON_AddItemToArray(msgs, m);
    return 0;
}

static char *chat_context(const q35_mc_prompt *p, const q35_mc_subject *s, const q35_mc_item *it, int k, char *err,
                          size_t errlen) {
    cJSON *msgs = cJSON_CreateArray(), *flags = cJSON_CreateObject();
    str sys = { 0 }, user = { 0 }, d = { 0 };
    char *out = NULL;
    int bad = !msgs || !flags;
    description(&d, p, s);
    if (p->system && p->system[0]) {
        puts_(&sys, p->system);
        if (d.n) puts_(&sys, p->fewshot_delimiter);
    }
    if (d.n) puts_(&sys, d.s);
    if (!bad && sys.n && !sys.oom) bad |= add_msg(msgs, "system", sys.s);
    if (p->multiturn) {
        for (int i = 0; i < k && !bad; i++) {
            str q = { 0 };
            doc_to_text(&q, p, &s->dev[i]);
            char a[2] = { letters[s->dev[i].answer], 0 };
            bad |= q.oom || add_msg(msgs, "user", q.s ? q.s : "") || add_msg(msgs, "assistant", a);
            free(q.s);
        }
    } else {
        for (int i = 0; i < k; i++) shot(&user, p, &s->dev[i]);
    }
    doc_to_text(&user, p, it);
    bad |= sys.oom || user.oom || d.oom;
    if (!bad) bad |= add_msg(msgs, "user", user.s);
    if (!bad) {
        cJSON_AddBoolToObject(flags, "add_generation_prompt", 1);
        if (p->thinking >= 0) cJSON_AddBoolToObject(flags, "enable_thinking", p->thinking);
        out = q35_chat_render(p->template_text, msgs, flags, err, errlen);
    } else {
        q35_fail(err, errlen, "out of memory");
    }
    cJSON_Delete(msgs), cJSON_Delete(flags);
    free(sys.s), free(user.s), free(d.s);
    return out;
}

char *q35_mc_context(const q35_mc_prompt *p, const q35_mc_subject *s, const q35_mc_item *it, int k, char *err,
                     size_t errlen) {
    if (k < 0 || k > s->n_dev) {
        q35_fail(err, errlen, "%s: %d shots asked, its few-shot split has %d", s->name, k, s->n_dev);
        return NULL;
    }
    if (p->chat) {
        if (!p->template_text) {
            q35_fail(err, errlen, "no chat template");
            return NULL;
        }
        return chat_context(p, s, it, k, err, errlen);
    }
    str b = { 0 };
    description(&b, p, s);
    for (int i = 0; i < k; i++) shot(&b, p, &s->dev[i]);
    doc_to_text(&b, p, it);
    puts_(&b, "");
    if (b.oom) {
        free(b.s);
        q35_fail(err, errlen, "out of memory");
        return NULL;
    }
    return b.s;
}

int q35_split_request(const char *context, const char *continuation, char **ctx, char **cont) {
    size_t n = strlen(context), m = n;
    while (m > 0 && is_py_space((unsigned char)context[m - 1])) m--;
    *ctx = strndup(context, m);
    *cont = malloc(n - m + strlen(continuation) + 1);
    if (!*ctx || !*cont) {
        free(*ctx), free(*cont);
        return -1;
    }
    memcpy(*cont, context + m, n - m);
    strcpy(*cont + (n - m), continuation);
    return 0;
}

/* ZeroEval's MCQA template (src/templates/MCQA.py), its trailing spaces included; its choices are
 * "- (X) text\n" lines. */
static const char zeroeval_mcqa[] =
    "\n## Question: \n\n{question}\n\n## Choices:\n\n{options}\n\n## Instruction \n\n"
    "Please answer this question by first reasoning and then selecting the correct choice. \n"
    "Present your reasoning and solution in the following json format. \n"
    "Please show your choice in the `answer` field with only the choice letter, e.g.,`\"answer\": \"C\"`.\n\n"
    "```json\n{\n    \"reasoning\": \"___\",\n    \"answer\": \"___\"\n}\n```\n";

int q35_mc_prompt_style(q35_mc_prompt *p, const char *style) {
    const char *desc, *qf, *of, *td, *fd;
    int strip;
    if (strcmp(style, "lm-eval-mmlu") == 0) {
        desc = "The following are multiple choice questions (with answers) about {subject}.\n\n";
        qf = "{question}{options}\nAnswer:", of = "\n{letter}. {text}", td = " ", fd = "\n\n", strip = 1;
    } else if (strcmp(style, "zeroeval-mcqa") == 0) {
        desc = "", qf = zeroeval_mcqa, of = "- ({letter}) {text}\n", td = " ", fd = "\n\n", strip = 0;
    } else {
        return -1;
    }
    if (!p->description) p->description = desc;
    if (!p->question_format) p->question_format = qf;
    if (!p->option_format) p->option_format = of;
    if (!p->target_delimiter) p->target_delimiter = td;
    if (!p->fewshot_delimiter) p->fewshot_delimiter = fd;
    if (p->strip_question < 0) p->strip_question = strip;
    return 0;
}

char *q35_vl_user_text(const char *style, const q35_mc_item *it) {
    str b = { 0 };
    int lmms = !strcmp(style, "lmms-eval"), qwen = !strcmp(style, "vlmevalkit-qwen");
    if (!lmms && !qwen && strcmp(style, "vlmevalkit") != 0) return NULL;
    if (lmms) { /* f"{hint} {question} {options}" + "\n" + post_prompt */
        if (it->hint) puts_(&b, it->hint), puts_(&b, " ");
        puts_(&b, it->question);
        puts_(&b, " There are several options:");
        for (int k = 0; k < it->n_choices && k < 5; k++) {
            char head[5] = { '\n', letters[k], '.', ' ', 0 };
            puts_(&b, head);
            puts_(&b, it->choices[k]);
        }
        puts_(&b, "\n\nAnswer with the option's letter from the given choices directly.");
    } else {
        if (it->hint) puts_(&b, "Hint: "), puts_(&b, it->hint), puts_(&b, "\n");
        puts_(&b, "Question: "), puts_(&b, it->question), puts_(&b, "\n");
        if (it->n_choices > 0) {
            puts_(&b, "Options:\n");
            for (int k = 0; k < it->n_choices; k++) {
                char head[4] = { letters[k], '.', ' ', 0 };
                puts_(&b, head), puts_(&b, it->choices[k]), puts_(&b, "\n");
            }
            puts_(&b, qwen ? "Answer with the option letter only." : "Please select the correct answer from the options above. \n");
        }
        if (qwen)
            while (b.n > 0 && is_py_space((unsigned char)b.s[b.n - 1])) b.s[--b.n] = 0;
    }
    puts_(&b, "");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *q35_vl_yes_no_text(const char *style, const q35_mc_item *it) {
    str b = { 0 };
    if (!strcmp(style, "lmms-eval")) {
        const char *q = it->question, *e = q + strlen(q);
        while (q < e && is_py_space((unsigned char)*q)) q++;
        while (e > q && is_py_space((unsigned char)e[-1])) e--;
        put(&b, q, (size_t)(e - q));
        puts_(&b, "\nAnswer the question using a single word or phrase.");
    } else if (!strcmp(style, "vlmevalkit")) {
        puts_(&b, it->question);
    } else if (!strcmp(style, "vlmevalkit-qwen")) {
        puts_(&b, it->question), puts_(&b, " Please answer yes or no.");
    } else {
        return NULL;
    }
    puts_(&b, "");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *q35_vl_open_text(const char *style, const q35_mc_item *it) {
    const char *tail = !strcmp(style, "lmms-eval")         ? "\nAnswer the question using a single word or phrase."
                       : !strcmp(style, "vlmevalkit-qwen") ? "\nPlease answer concisely with short words or phrases when possible."
                       : !strcmp(style, "vlmevalkit")      ? ""
                                                           : NULL;
    if (!tail) return NULL;
    str b = { 0 };
    puts_(&b, it->question), puts_(&b, tail);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
