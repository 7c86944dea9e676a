/* test_extract.c - answer extraction for generative multiple choice: each rule on hand-written
 * cases, the precedence between rules, last-match, out-of-range letters, lower-case and word
 * traps, empty and non-ASCII text, and hostile 1 MB inputs that must stay linear. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extract.h"
#include "testutil.h"

typedef struct {
    const char *text;
    int n;            /* options */
    int want;         /* option index, -1 none */
    q35_extract_rule rule;
} tcase;

#define NO -1, Q35_EX_NONE

static void run_cases(const tcase *c, int count) {
    for (int i = 0; i < count; i++) {
        q35_extract_rule r = (q35_extract_rule)99;
        int got = q35_extract_choice(c[i].text, c[i].n, &r);
        ck_assert_msg(got == c[i].want && r == c[i].rule, "case %d [%s] n=%d: got %d (%s), want %d (%s)", i, c[i].text,
                      c[i].n, got, q35_extract_rule_name(r), c[i].want, q35_extract_rule_name(c[i].rule));
    }
}
#define RUN(cases) run_cases(cases, (int)(sizeof cases / sizeof *cases))

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

START_TEST(json_rule) {
    static const tcase c[] = {
        { "```json\n{\"reasoning\": \"x\", \"answer\": \"C\"}\n```", 4, 2, Q35_EX_JSON },
        { "{\"answer\":\"A\"}", 4, 0, Q35_EX_JSON },
        { "{\"answer\" : \"B\"}", 4, 1, Q35_EX_JSON },
        { "{\n  \"answer\":\n    \"D\"\n}", 4, 3, Q35_EX_JSON },
        { "{'answer': 'C'}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": 'C'}", 4, 2, Q35_EX_JSON },
        { "{\"Answer\": \"C\"}", 4, 2, Q35_EX_JSON },
        { "{\"ANSWER\": \"B\"}", 4, 1, Q35_EX_JSON },
        { "{\"answer\": \"(C)\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C)\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C.\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C:\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C. mitochondria\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C) mitochondria\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"(C) mitochondria\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C: mitochondria\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C mitochondria\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \" C \"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"c\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \" c \"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": C}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": C, \"reasoning\": \"x\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": (C)}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": C.}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": c}", 4, 2, Q35_EX_JSON },
        { "[{\"answer\": B]", 4, 1, Q35_EX_JSON },
        { "\"answer\": J", 10, 9, Q35_EX_JSON },
        { "\"answer\": \"Z\"", 26, 25, Q35_EX_JSON },
        /* not a letter value: no json match, and nothing else in the text */
        { "{\"answer\": \"Option C\"}", 4, NO },
        { "{\"answer\": \"CD\"}", 4, NO },
        { "{\"answer\": \"C/D\"}", 4, NO },
        { "{\"answer\": \"(c)\"}", 4, NO },
        { "{\"answer\": \"c. text\"}", 4, NO },
        { "{\"answer\": \"cat\"}", 4, NO },
        { "{\"answer\": \"\"}", 4, NO },
        { "{\"answer\": null}", 4, NO },
        { "{\"answer\": 3}", 4, NO },
        { "{\"answer\": (C}", 4, NO },
        { "{\"answer\": c.}", 4, NO },
        { "{\"answer\": C1}", 4, NO },
        { "{\"answer\" \"C\"}", 4, NO },
        { "{\"answer': \"C\"}", 4, NO },
        { "{\"answers\": \"C\"}", 4, NO },
        { "{\\\"answer\\\": \\\"C\\\"}", 4, NO }, /* escaped inside a string */
        { "{\"answer\": \"", 4, NO },
        { "{\"answer\": ", 4, NO },
        { "{\"answer\":", 4, NO },
        { "\"answer", 4, NO },
        { "\"", 4, NO },
        /* out of range: no match */
        { "{\"answer\": \"E\"}", 4, NO },
        { "{\"answer\": \"e\"}", 4, NO },
        { "{\"answer\": \"B\"}", 1, NO },
        { "{\"answer\": \"A\"}", 1, 0, Q35_EX_JSON },
    };
    RUN(c);
}
END_TEST

START_TEST(boxed_rule) {
    static const tcase c[] = {
        { "so \\boxed{C}", 4, 2, Q35_EX_BOXED },
        { "$\\boxed{B}$", 4, 1, Q35_EX_BOXED },
        { "\\boxed{ C }", 4, 2, Q35_EX_BOXED },
        { "\\boxed {C}", 4, 2, Q35_EX_BOXED },
        { "\\boxed{(C)}", 4, 2, Q35_EX_BOXED },
        { "\\boxed{ ( C ) }", 4, NO }, /* spaces inside the parentheses: no */
        { "\\boxed{C.}", 4, 2, Q35_EX_BOXED },
        { "\\boxed{C)}", 4, 2, Q35_EX_BOXED },
        { "\\boxed{\\text{C}}", 4, 2, Q35_EX_BOXED },
        { "\\boxed{\\textbf{C}}", 4, 2, Q35_EX_BOXED },
        { "\\boxed{\\textbf{(D)}}", 4, 3, Q35_EX_BOXED },
        { "\\boxed{ \\text { C } }", 4, 2, Q35_EX_BOXED },
        { "\\boxed{\\mathrm{A}}", 4, 0, Q35_EX_BOXED },
        { "\\boxed{\\mathbf{B}}", 4, 1, Q35_EX_BOXED },
        { "\\boxed{c}", 4, 2, Q35_EX_BOXED },
        { "\\boxed{J}", 10, 9, Q35_EX_BOXED },
        { "\\boxed{(c)}", 4, NO },
        { "\\boxed{C. mitochondria}", 4, NO },
        { "\\boxed{CD}", 4, NO },
        { "\\boxed{42}", 4, NO },
        { "\\boxed{x}", 4, NO },
        { "\\boxed{E}", 4, NO },
        { "\\boxed{C", 4, NO },
        { "\\boxed{\\text{C}", 4, NO },
        { "\\boxed{\\textit{C}}", 4, NO },
        { "\\boxedC", 4, NO },
        { "\\boxed", 4, NO },
        { "\\boxed{", 4, NO },
        { "\\boxed{\\", 4, NO },
        { "\\boxed{\\text", 4, NO },
        { "\\fbox{C}", 4, NO },
        { "\\boxed{B} then \\boxed{C}", 4, 2, Q35_EX_BOXED },
        { "\\boxed{B} then \\boxed{E}", 4, 1, Q35_EX_BOXED }, /* last valid one */
        { "\\boxed{B} then \\boxed{x+1}", 4, 1, Q35_EX_BOXED },
    };
    RUN(c);
}
END_TEST

START_TEST(answer_is_rule) {
    static const tcase c[] = {
        { "Answer: C", 4, 2, Q35_EX_ANSWER_IS },
        { "answer: C", 4, 2, Q35_EX_ANSWER_IS },
        { "ANSWER: C", 4, 2, Q35_EX_ANSWER_IS },
        { "Answer:C", 4, 2, Q35_EX_ANSWER_IS },
        { "Answer : C", 4, 2, Q35_EX_ANSWER_IS },
        { "The answer is C", 4, 2, Q35_EX_ANSWER_IS },
        { "The answer is C.", 4, 2, Q35_EX_ANSWER_IS },
        { "The Answer Is C", 4, 2, Q35_EX_ANSWER_IS },
        { "the answer is (C).", 4, 2, Q35_EX_ANSWER_IS },
        { "the answer is [C]", 4, 2, Q35_EX_ANSWER_IS },
        { "Answer: (C)", 4, 2, Q35_EX_ANSWER_IS },
        { "**Answer:** C", 4, 2, Q35_EX_ANSWER_IS },
        { "**Answer**: C", 4, 2, Q35_EX_ANSWER_IS },
        { "*Answer*: _C_", 4, 2, Q35_EX_ANSWER_IS },
        { "**Answer: C**", 4, 2, Q35_EX_ANSWER_IS },
        { "The correct answer is: **C**", 4, 2, Q35_EX_ANSWER_IS },
        { "The correct answer is **(C) mitochondria**.", 4, 2, Q35_EX_ANSWER_IS },
        { "Final answer: C", 4, 2, Q35_EX_ANSWER_IS },
        { "final answer: D)", 4, 3, Q35_EX_ANSWER_IS },
        { "Final Answer:\n\nB", 4, 1, Q35_EX_ANSWER_IS },
        { "The answer is option B", 4, 1, Q35_EX_ANSWER_IS },
        { "The answer is Option (B)", 4, 1, Q35_EX_ANSWER_IS },
        { "The answer is choice D.", 4, 3, Q35_EX_ANSWER_IS },
        { "answer is: C", 4, 2, Q35_EX_ANSWER_IS },
        { "(answer: C)", 4, 2, Q35_EX_ANSWER_IS },
        { "Answer: C, because the cell...", 4, 2, Q35_EX_ANSWER_IS },
        { "Answer: C-", 4, 2, Q35_EX_ANSWER_IS },
        { "Answer: J", 10, 9, Q35_EX_ANSWER_IS },
        { "Answer: A bird in the hand", 4, 0, Q35_EX_ANSWER_IS }, /* documented: cannot tell */
        /* word traps */
        { "Answer: Because the cell divides", 4, NO },
        { "Answer: I'm not sure", 10, NO },
        { "Answer: Don't know", 4, NO },
        { "the answer is a bit subtle", 4, NO },
        { "the answer is c", 4, NO },
        { "Answer: (c)", 4, NO },
        { "Answer: C1", 4, NO },
        { "Answer: (C", 4, NO },
        { "Answer: [C)", 4, NO },
        { "answers: C", 4, NO },
        { "answered: C", 4, NO },
        { "reanswer: C", 4, NO },
        { "The answer isn't C", 4, NO },
        { "The answer was C", 4, NO },
        { "Answer C", 4, NO },
        { "Answer:", 4, NO },
        { "Answer", 4, NO },
        { "answer is", 4, NO },
        { "answer is option", 4, NO },
        /* out of range, last match */
        { "Answer: E", 4, NO },
        { "Answer: B. Wait, the answer is C.", 4, 2, Q35_EX_ANSWER_IS },
        { "Answer: B. Hmm, answer: E", 4, 1, Q35_EX_ANSWER_IS },
        { "Answer: B. Hmm, answer: Because", 4, 1, Q35_EX_ANSWER_IS },
    };
    RUN(c);
}
END_TEST

START_TEST(lone_letter_rule) {
    static const tcase c[] = {
        { "C", 4, 2, Q35_EX_LONE },
        { "  C\n", 4, 2, Q35_EX_LONE },
        { "(C)", 4, 2, Q35_EX_LONE },
        { "C.", 4, 2, Q35_EX_LONE },
        { "C)", 4, 2, Q35_EX_LONE },
        { "[C]", 4, 2, Q35_EX_LONE },
        { "**C**", 4, 2, Q35_EX_LONE },
        { "**C.**", 4, 2, Q35_EX_LONE },
        { "**C**.", 4, 2, Q35_EX_LONE },
        { "\n\n **(C)** \n", 4, 2, Q35_EX_LONE },
        { "(C).", 4, 2, Q35_EX_LONE },
        { "c", 4, 2, Q35_EX_LONE },
        { "c.", 4, 2, Q35_EX_LONE },
        { "J", 10, 9, Q35_EX_LONE },
        { "(c)", 4, NO },
        { "c)", 4, NO },
        { "E", 4, NO },
        { "CD", 4, NO },
        { "C..", 4, NO },
        { "(C]", 4, NO },
        { "C D", 4, NO },
        { "1", 4, NO },
        { ".", 4, NO },
        { "**", 4, NO },
        { "a", 4, 0, Q35_EX_LONE },
        { "It is a", 4, NO }, /* "a" in prose is not an answer */
        { "I think a is right", 4, NO },
    };
    RUN(c);
}
END_TEST

START_TEST(precedence) {
    static const tcase c[] = {
        /* json beats an earlier or later answer_is / boxed / lone letter */
        { "Answer: B\n{\"answer\": \"C\"}", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C\"}\nAnswer: B", 4, 2, Q35_EX_JSON },
        { "{\"answer\": \"C\"} and finally \\boxed{A}", 4, 2, Q35_EX_JSON },
        { "\\boxed{A} {\"answer\": \"C\"}", 4, 2, Q35_EX_JSON },
        /* boxed beats answer_is either side */
        { "\\boxed{D} The answer is B", 4, 3, Q35_EX_BOXED },
        { "The answer is B. \\boxed{D}", 4, 3, Q35_EX_BOXED },
        /* an invalid json value falls through to the next rules */
        { "{\"answer\": \"E\"} so \\boxed{B}", 4, 1, Q35_EX_BOXED },
        { "{\"answer\": \"Option C\"}\nAnswer: D", 4, 3, Q35_EX_ANSWER_IS },
        { "{\"answer\": \"Option C\"}", 4, NO },
        /* last match within a rule, skipping invalid later ones */
        { "{\"answer\": \"A\"} ... {\"answer\": \"D\"}", 4, 3, Q35_EX_JSON },
        { "{\"answer\": \"A\"} ... {\"answer\": \"E\"}", 4, 0, Q35_EX_JSON },
        { "{\"answer\": \"A\"} ... {\"answer\": \"maybe\"}", 4, 0, Q35_EX_JSON },
        { "\"answer\": \"B\", \"answer\": \"C\", \"answer\": \"D\"", 4, 3, Q35_EX_JSON },
        { "The answer is A. No wait, the answer is B. Final answer: D", 4, 3, Q35_EX_ANSWER_IS },
        /* lone letter only when it is the whole text */
        { "C\nAnswer: B", 4, 1, Q35_EX_ANSWER_IS },
        { "C\nbecause reasons", 4, NO },
    };
    RUN(c);
}
END_TEST

START_TEST(empty_and_bad_arguments) {
    q35_extract_rule r = Q35_EX_JSON;
    ck_assert_int_eq(q35_extract_choice("", 4, &r), -1);
    ck_assert_int_eq(r, Q35_EX_NONE);
    r = Q35_EX_JSON;
    ck_assert_int_eq(q35_extract_choice(NULL, 4, &r), -1);
    ck_assert_int_eq(r, Q35_EX_NONE);
    ck_assert_int_eq(q35_extract_choice("   \n\t ", 4, &r), -1);
    ck_assert_int_eq(q35_extract_choice("C", 0, &r), -1);
    ck_assert_int_eq(q35_extract_choice("C", -3, &r), -1);
    ck_assert_int_eq(q35_extract_choice("C", 27, &r), -1);
    ck_assert_int_eq(r, Q35_EX_NONE);
    ck_assert_int_eq(q35_extract_choice("Answer: Z", 26, &r), 25);
    ck_assert_int_eq(q35_extract_choice("Answer: C", 4, NULL), 2); /* rule may be NULL */
    ck_assert_int_eq(q35_extract_choice("nothing", 4, NULL), -1);
    ck_assert_str_eq(q35_extract_rule_name(Q35_EX_NONE), "none");
    ck_assert_str_eq(q35_extract_rule_name(Q35_EX_JSON), "json");
    ck_assert_str_eq(q35_extract_rule_name(Q35_EX_BOXED), "boxed");
    ck_assert_str_eq(q35_extract_rule_name(Q35_EX_ANSWER_IS), "answer_is");
    ck_assert_str_eq(q35_extract_rule_name(Q35_EX_LONE), "lone_letter");
    ck_assert_str_eq(q35_extract_rule_name((q35_extract_rule)42), "none");
    ck_assert_str_eq(q35_extract_rule_name((q35_extract_rule)-1), "none");
}
END_TEST

START_TEST(non_ascii) {
    static const tcase c[] = {
        { "答案：C", 4, NO },                                 /* full-width colon is not ':' */
        { "Ответ: the answer is C — готово", 4, 2, Q35_EX_ANSWER_IS },
        { "Answer: C\xc3\xa9", 4, 2, Q35_EX_ANSWER_IS },        /* é after the letter: not a letter */
        { "Answer: \xc3\x89", 4, NO },                          /* É is no option */
        { "Answer:\xc2\xa0" "C", 4, NO },                        /* NBSP is not whitespace */
        { "\xef\xbb\xbf" "C", 4, NO },                           /* a BOM is not trimmed */
        { "\xe2\x80\x9c" "answer\xe2\x80\x9d: \"C\"", 4, NO },   /* curly quotes are not quotes */
        { "{\"answer\": \"C\xc3\xa9\"}", 4, NO },
        { "{\"answer\": \"C \xc3\xa9tape\"}", 4, 2, Q35_EX_JSON },
        { "\\boxed{\xc3\x89}", 4, NO },
        { "\xff\xfe\x80\x81", 4, NO },
        { "\xc3", 4, NO },
        { "C\xc3", 4, NO },
        { "\xe4\xb8\xad C \xe4\xb8\xad", 4, NO },
    };
    RUN(c);
}
END_TEST

/* A buffer of n bytes repeating frag (cut wherever n falls), NUL-terminated. */
static char *repeat(const char *frag, size_t n) {
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    size_t f = strlen(frag);
    for (size_t i = 0; i < n; i++) s[i] = frag[i % f];
    s[n] = 0;
    return s;
}

START_TEST(hostile_inputs_are_linear) {
    static const struct {
        const char *frag;
        int want;
    } h[] = {
        { "\"answer\": \"", -1 },
        { "\"answer\": ", -1 },
        { "\"answer\"", -1 },
        { "'answer': '", -1 },
        { "\"answer\":      ", -1 },
        { "\\boxed{", -1 },
        { "\\boxed{\\text{", -1 },
        { "\\boxed{ ", -1 },
        { "answer: ", -1 },
        { "answer is answer is ", -1 },
        { "the answer is ** ** ", -1 },
        { "**", -1 },
        { " ", -1 },
        { "\xc3\xa9", -1 },
        { "a", -1 },
        { "\"answer\": \"C\", ", 2 },
        { "\\boxed{B}", 1 },
        { "Answer: D. ", 3 },
    };
    enum { N = 1 << 20 };
    for (size_t i = 0; i < sizeof h / sizeof *h; i++) {
        char *s = repeat(h[i].frag, N);
        double t0 = now();
        int got = q35_extract_choice(s, 4, NULL);
        double dt = now() - t0;
        ck_assert_msg(got == h[i].want, "[%s]: got %d, want %d", h[i].frag, got, h[i].want);
        ck_assert_msg(dt < 0.5, "[%s]: %.3f s on 1 MB", h[i].frag, dt);
        free(s);
    }
    /* a valid answer at the very end after 1 MB of fragments */
    char *s = repeat("\"answer\": \"", N);
    memcpy(s + N - 16, "\"answer\": \"B\"}\n", 15);
    ck_assert_int_eq(q35_extract_choice(s, 4, NULL), 1);
    /* and text that ends exactly inside a value, no NUL missed */
    memcpy(s + N - 11, "\"answer\": ", 10);
    s[N - 1] = 'C';
    ck_assert_int_eq(q35_extract_choice(s, 4, NULL), 2);
    free(s);
    /* whitespace longer than Q35_EX_GAP_MAX between tokens: no match, still fast */
    s = repeat(" ", N);
    memcpy(s, "Answer:", 7);
    s[N - 1] = 'C';
    double t0 = now();
    ck_assert_int_eq(q35_extract_choice(s, 4, NULL), -1);
    ck_assert(now() - t0 < 0.5);
    free(s);
}
END_TEST

/* Random bytes from a small alphabet of the rules' tokens: never crashes, answers are in range. */
START_TEST(fuzz_tokens) {
    static const char *const tok[] = { "\"", "'", "answer", "Answer", "is", ":", " ", "\n", "{", "}", "(", ")",
                                       "[", "]", "\\boxed", "\\text", "A", "C", "E", "c", "*", ".", "\xc3", "option" };
    unsigned long long x = 0x9E3779B97F4A7C15ull;
    char buf[256];
    for (int it = 0; it < 200000; it++) {
        size_t len = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % 12);
        for (int j = 0; j < k; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *t = tok[x % (sizeof tok / sizeof *tok)];
            size_t tl = strlen(t);
            if (len + tl >= sizeof buf) break;
            memcpy(buf + len, t, tl), len += tl;
        }
        buf[len] = 0;
        int n = 1 + (int)(x >> 40) % 26;
        q35_extract_rule r;
        int got = q35_extract_choice(buf, n, &r);
        ck_assert_msg(got >= -1 && got < n && (got < 0) == (r == Q35_EX_NONE), "[%s] n=%d -> %d", buf, n, got);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("extract");
    TCase *tc = tcase_create("extract");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, json_rule);
    tcase_add_test(tc, boxed_rule);
    tcase_add_test(tc, answer_is_rule);
    tcase_add_test(tc, lone_letter_rule);
    tcase_add_test(tc, precedence);
    tcase_add_test(tc, empty_and_bad_arguments);
    tcase_add_test(tc, non_ascii);
    tcase_add_test(tc, hostile_inputs_are_linear);
    tcase_add_test(tc, fuzz_tokens);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
