/* test_jinja.c - the Jinja interpreter against hostile templates: nesting deep enough to overflow
 * the C stack, left-deep chains of 100,000 terms, huge literals, loops and recursion without end,
 * output and memory without bound, integers past 64 bits. Each must end in a clear error (with the
 * template line) or the right answer, quickly; never a crash. Rendering real templates is
 * test_chat's (goldens against transformers). */
#include <cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jinja.h"
#include "testutil.h"

static char err[2048];

/* CPU seconds of this process (a loaded machine stretches wall time, not this) */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* a + u1 * n1 + b + u2 * n2 + c, in a new string */
static char *build(const char *a, const char *u1, size_t n1, const char *b, const char *u2, size_t n2, const char *c) {
    size_t l1 = strlen(u1), l2 = strlen(u2), len = strlen(a) + l1 * n1 + strlen(b) + l2 * n2 + strlen(c);
    char *s = malloc(len + 1), *p = s;
    ck_assert_ptr_nonnull(s);
    p = stpcpy(p, a);
    for (size_t i = 0; i < n1; i++) p = memcpy(p, u1, l1), p += l1;
    p = stpcpy(p, b);
    for (size_t i = 0; i < n2; i++) p = memcpy(p, u2, l2), p += l2;
    stpcpy(p, c);
    return s;
}

static cJSON *vars(void) {
    cJSON *v = cJSON_Parse("{\"x\": 1, \"t\": true, \"s\": \"  padded  \", \"l\": [1], \"d\": {\"a\": 1},"
                           " \"messages\": [{\"role\": \"user\", \"content\": \" hi \"},"
                           " {\"role\": \"assistant\", \"content\": \"yo\"}]}");
    ck_assert_ptr_nonnull(v);
    return v;
}

/* Renders tpl; the time it took in *secs when not NULL. */
static char *render(const char *tpl, double *secs) {
    cJSON *v = vars();
    double t0 = now();
    char *r = q35_jinja_render(tpl, v, err, sizeof err);
    if (secs) *secs = now() - t0;
    cJSON_Delete(v);
    return r;
}

#define expect_ok(tpl, want) expect_ok_at(__LINE__, tpl, want)
static void expect_ok_at(int at, const char *tpl, const char *want) {
    char *r = render(tpl, NULL);
    ck_assert_msg(r != NULL, "line %d: %.80s: %s", at, tpl, err);
    ck_assert_msg(strcmp(r, want) == 0, "line %d: %.80s: got '%.200s', want '%.200s'", at, tpl, r, want);
    free(r);
}

/* The render fails with an error holding frag (and each further fragment, NULL-terminated), in
 * under max_secs. */
#define expect_err(tpl, max_secs, ...) expect_err_at(__LINE__, tpl, max_secs, __VA_ARGS__, (const char *)NULL)
static void expect_err_at(int at, const char *tpl, double max_secs, ...) {
    double secs;
    char *r = render(tpl, &secs);
    ck_assert_msg(r == NULL, "line %d: %.80s: rendered '%.80s', expected an error", at, tpl, r);
    va_list ap;
    va_start(ap, max_secs);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        ck_assert_msg(strstr(err, frag), "line %d: %.80s: '%s' not in: %s", at, tpl, frag, err);
    va_end(ap);
    ck_assert_msg(secs < max_secs, "line %d: %.80s: %.2f s (limit %.1f s) to fail with: %s", at, tpl, secs, max_secs, err);
}

/* Nesting 20,000 deep: the parser's limit, not the C stack; the error names the line. */
START_TEST(deep_nesting) {
    size_t n = 20000;
    char *t;
    t = build("one\ntwo\n{{ ", "(", n, "1", ")", n, " }}");
    expect_err(t, 2.0, "template line 3: ", "expression nested too deeply (more than 200 levels)");
    free(t);
    t = build("{{ ", "-", n, "1", "", 0, " }}");
    expect_err(t, 2.0, "template line 1: ", "nested too deeply");
    free(t);
    t = build("{{ ", "not ", n, "t", "", 0, " }}");
    expect_err(t, 2.0, "nested too deeply");
    free(t);
    t = build("{{ ", "[", n, "1", "]", n, " }}");
    expect_err(t, 2.0, "nested too deeply");
    free(t);
    t = build("{% set y = ", "{'a': ", n, "1", "}", n, " %}");
    expect_err(t, 2.0, "nested too deeply");
    free(t);
    t = build("{{ ", "x|default(", n, "1", ")", n, " }}");
    expect_err(t, 2.0, "nested too deeply");
    free(t);
    t = build("{{ ", "1 if t else ", n, "2", "", 0, " }}");
    expect_err(t, 2.0, "nested too deeply");
    free(t);
    t = build("{{ ", "l[", n, "0", "]", n, " }}");
    expect_err(t, 2.0, "nested too deeply");
    free(t);
    t = build("", "{% if t %}", n, "", "{% endif %}", n, "");
    expect_err(t, 2.0, "blocks nested too deeply");
    free(t);
    /* below the limit, the right answer */
    t = build("{{ ", "(", 150, "1", ")", 150, " }}");
    expect_ok(t, "1");
    free(t);
    t = build("{{ ", "-", 150, "7", "", 0, " }}");
    expect_ok(t, "7");
    free(t);
    t = build("{{ ", "not ", 151, "t", "", 0, " }}");
    expect_ok(t, "False");
    free(t);
    char *want = build("", "[", 150, "1", "]", 150, "");
    t = build("{{ ", "[", 150, "1", "]", 150, " }}");
    expect_ok(t, want);
    free(t), free(want);
    t = build("{{ ", "(1 + ", 150, "1", ")", 150, " }}");
    expect_ok(t, "151");
    free(t);
    /* a chain of calls nests evaluation, not parsing: the evaluator's limit */
    t = build("{{ x", "()", 100000, "", "", 0, " }}");
    expect_err(t, 2.0, "template line 1: ", "nested too deeply (more than 500 levels)");
    free(t);
    /* macros recursing through deep blocks: the same limit, counted over both */
    t = build("{% macro f() %}", "{% if t %}", 150, "{{ f() }}", "{% endif %}", 150, "{% endmacro %}{{ f() }}");
    expect_err(t, 2.0, "nested too deeply");
    free(t);
    expect_err("{% macro f() %}{{ f() }}{% endmacro %}\n{{ f() }}", 2.0, "template line 1: ", "macro recursion too deep");
    /* values nested deeper than Python's json.dumps or == would go */
    expect_err("{% set ns = namespace(l=[]) %}{% for i in range(5000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l|tojson }}",
               2.0, "value nested too deeply");
    expect_err("{% set ns = namespace(a=[], b=[]) %}{% for i in range(5000) %}{% set ns.a = [ns.a] %}{% set ns.b = [ns.b] %}"
               "{% endfor %}{{ ns.a == ns.b }}", 2.0, "value nested too deeply");
    expect_ok("{% set ns = namespace(l=[]) %}{% for i in range(5000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l == ns.l }}",
              "True");
    cJSON *deep = cJSON_CreateObject(), *at = cJSON_AddArrayToObject(deep, "v");
    for (int i = 0; i < 3000; i++) {
        cJSON *inner = cJSON_CreateArray();
        cJSON_AddItemToArray(at, inner);
        at = inner;
    }
    ck_assert_ptr_null(q35_jinja_render("{{ v }}", deep, err, sizeof err));
    ck_assert_msg(strstr(err, "variables nested too deeply"), "%s", err);
    cJSON_Delete(deep);
}
END_TEST

/* Left-deep chains of 100,000 terms are built and evaluated in loops: the right answer. */
START_TEST(long_chains) {
    size_t n = 100000;
    char *t;
    double secs;
    t = build("{{ ", "1+", n - 1, "1", "", 0, " }}");
    char *r = render(t, &secs);
    ck_assert_msg(r && strcmp(r, "100000") == 0, "%s", r ? r : err);
    ck_assert_msg(secs < 2.0, "%.2f s", secs);
    free(r), free(t);
    t = build("{{ 100000", "-1", n, "", "", 0, " }}");
    expect_ok(t, "0");
    free(t);
    t = build("{{ ", "x and ", n - 1, "x", "", 0, " }}");
    expect_ok(t, "1");
    free(t);
    t = build("{{ ", "0 or ", n - 1, "x", "", 0, " }}");
    expect_ok(t, "1");
    free(t);
    t = build("{{ ", "x == ", n - 1, "x", "", 0, " }}");
    expect_ok(t, "True"); /* 1 == 1 == ... == 1 */
    free(t);
    t = build("{{ (d", ".a", n, ") is defined }}", "", 0, ""); /* d.a.a is undefined, using it an error */
    expect_err(t, 1.0, "an undefined value has no attribute 'a'");
    free(t);
    t = build("{{ d.a", "", 0, "", "", 0, " }}");
    expect_ok(t, "1");
    free(t);
    t = build("{{ s", "|trim", n, "", "", 0, " }}");
    expect_ok(t, "padded");
    free(t);
    t = build("{{ l", "[0]", n, " is defined }}", "", 0, "");
    expect_err(t, 1.0, "an undefined value cannot be indexed");
    free(t);
    t = build("{{ 'ab'", "[::-1]", n, "", "", 0, " }}");
    expect_ok(t, "ab");
    free(t);
    t = build("{% if x == 0 %}a", "{% elif x == 0 %}b", n, "{% elif x == 1 %}c{% else %}d{% endif %}", "", 0, "");
    expect_ok(t, "c");
    free(t);
    t = build("{{ x", " is defined", n, "", "", 0, " }}"); /* Jinja: "You cannot chain multiple tests with is" */
    expect_err(t, 1.0, "tests cannot be chained");
    free(t);
    t = build("{{ ", "not ", 150, "x is defined", "", 0, " }}");
    expect_ok(t, "True");
    free(t);
    t = build("{{ s", ".strip()", n, ".upper() }}", "", 0, "");
    expect_ok(t, "PADDED");
    free(t);
    expect_ok("{{ d.get('a', 0) }} {{ d.get('b', 0) }} {{ s.strip().split('d')|join('-') }} {{ (l + l).__len__ is defined }}",
              "1 0 pa--e- False");
    expect_err("{{ d.get('a', 0).get('a') }}", 1.0, "'get' is not callable");
    char *want = build("", "a", 10000, "", "", 0, "");
    t = build("{{ ", "'a' ~ ", 9999, "'a'", "", 0, " }}");
    expect_ok(t, want);
    free(t), free(want);
    t = build("{{ ", "2 * ", 62, "1", "", 0, " }}");
    expect_ok(t, "4611686018427387904");
    free(t);
}
END_TEST

/* Building a list, a dict or arguments is linear: a 30,000-element literal in well under 2 s. */
START_TEST(big_literals) {
    size_t n = 30000;
    char *t;
    double secs;
    struct { const char *pre, *unit, *last, *post, *want; } c[] = {
        { "{{ [", "1, ", "1", "]|length }}", "30000" },
        { "{{ [", "'a', ", "'a'", "]|length }}", "30000" },
        { "{{ (", "[1] + ", "[1]", ")|length }}", "30000" },
        { "{{ range(", "1 + ", "1", ")|length }}", "30000" },
        { "{{ [", "[], ", "[]", "]|tojson|length }}", "120000" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        t = build(c[i].pre, c[i].unit, n - 1, c[i].last, "", 0, c[i].post);
        char *r = render(t, &secs);
        ck_assert_msg(r && strcmp(r, c[i].want) == 0, "case %zu: %s", i, r ? r : err);
        ck_assert_msg(secs < 2.0, "case %zu: %.2f s", i, secs);
        free(r), free(t);
    }
    t = build("{% macro f() %}{% endmacro %}{{ f(", "1, ", n - 1, "1) }}", "", 0, "");
    expect_err(t, 2.0, "too many arguments to macro f");
    free(t);
    /* 10,000 distinct keys */
    size_t cap = 200000, len = 0;
    t = malloc(cap);
    len += (size_t)snprintf(t + len, cap - len, "{%% set y = {");
    for (int i = 0; i < 10000; i++) len += (size_t)snprintf(t + len, cap - len, "%s'k%d': %d", i ? ", " : "", i, i);
    snprintf(t + len, cap - len, "} %%}{{ y|length }} {{ y.k9999 }}");
    char *r = render(t, &secs);
    ck_assert_msg(r && strcmp(r, "10000 9999") == 0, "%s", r ? r : err);
    ck_assert_msg(secs < 2.0, "%.2f s", secs);
    free(r), free(t);
}
END_TEST

/* range: sizes computed without overflow, capped at 1,000,000 items. */
START_TEST(range_limits) {
    expect_ok("{{ range(3)|join(',') }} {{ range(-2, 2)|join(',') }} {{ range(5, 2)|length }} {{ range(-3)|length }}",
              "0,1,2 -2,-1,0,1 0 0");
    expect_ok("{{ range(1000000)|length }}", "1000000");
    expect_err("{{ range(1000001) }}", 2.0, "template line 1: ", "range too large");
    /* b - a overflows: once, it wrapped to a negative size and slipped past the cap */
    expect_err("{% for i in range(-9223372036854775807, 10) %}{% endfor %}", 2.0, "range too large");
    expect_err("{{ range(-9223372036854775807 - 1, 9223372036854775807)|length }}", 2.0, "range too large");
    expect_err("{{ range(-9223372036854775807 - 1, 1) }}", 2.0, "range too large");
    expect_ok("{{ range(9223372036854775807 - 2, 9223372036854775807)|join(',') }} "
              "{{ range(-9223372036854775807 - 1, -9223372036854775807 + 1)|join(',') }}",
              "9223372036854775805,9223372036854775806 -9223372036854775808,-9223372036854775807");
}
END_TEST

/* One work budget per render: loop iterations, macro calls, range() items, bytes scanned. */
START_TEST(work_budget) {
    expect_err("{% for i in range(1000000) %}\n{% for j in range(1000000) %}{% endfor %}{% endfor %}", 2.0,
               "render budget exceeded: more than 10000000 loop iterations");
    expect_err("{% for i in range(1000000) %}{% for j in range(1000000) %}{{ '' }}{% endfor %}{% endfor %}", 2.0,
               "render budget exceeded");
    /* exponential recursion: 2^40 calls */
    expect_err("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}", 5.0,
               "render budget exceeded");
    /* == on two lists that share their items: 2^60 comparisons */
    expect_err("{% set ns = namespace(a=[], b=[]) %}{% for i in range(60) %}{% set ns.a = [ns.a, ns.a] %}"
               "{% set ns.b = [ns.b, ns.b] %}{% endfor %}{{ ns.a == ns.b }}", 5.0, "render budget exceeded");
    /* a 7 MB string searched a million times */
    expect_err("{% set s = range(1000000)|join(',') %}{% for i in range(1000000) %}{% if 'zz' in s %}{% endif %}{% endfor %}",
               5.0, "render budget exceeded");
    expect_err("{% set s = range(1000000)|join(',') %}{% for i in range(1000000) %}{{ s|length }}{% endfor %}", 5.0,
               "render budget exceeded");
    /* a big but finite loop is fine */
    expect_ok("{% set ns = namespace(n=0) %}{% for i in range(1000000) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
              "499999500000");
}
END_TEST

/* The output, and any one string, at most 16 MiB; the arena at most 1 GiB. */
START_TEST(output_and_memory_budget) {
    expect_err("{% set s = range(1000000)|join(',') %}\n{% for i in range(20) %}{{ s }}{% endfor %}", 5.0,
               "template line 2: ", "output or string longer than 16 MiB");
    expect_err("{% set ns = namespace(a=[]) %}{% for i in range(40) %}{% set ns.a = [ns.a, ns.a] %}{% endfor %}{{ ns.a|tojson }}",
               5.0, "longer than 16 MiB");
    expect_err("{% set ns = namespace(s=range(1000000)|join(',')) %}{% for i in range(30) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
               5.0, "longer than 16 MiB");
    /* strings grown one byte at a time, each a copy: the arena's limit */
    expect_err("{% set ns = namespace(s=range(100000)|join(',')) %}{% for i in range(100000) %}{% set ns.s = ns.s ~ 'y' %}{% endfor %}",
               5.0, "template needs more than 1024 MiB of memory");
    /* a 6.9 MB output is fine */
    double secs;
    char *r = render("{{ range(1000000)|join(',') }}", &secs);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_uint_eq(strlen(r), 6888889);
    free(r);
}
END_TEST

/* Integers: Python's results where they fit in 64 bits, a clear error where they do not. */
START_TEST(integers) {
    expect_ok("{{ 9223372036854775807 }} {{ -9223372036854775807 - 1 }}", "9223372036854775807 -9223372036854775808");
    expect_err("{{ 9223372036854775808 }}", 1.0, "template line 1: ", "integer literal 9223372036854775808 does not fit in 64 bits");
    expect_err("{{ x + 99999999999999999999999999999999999999999999999999 }}", 1.0, "does not fit in 64 bits");
    expect_err("{{ 9223372036854775807 + 1 }}", 1.0, "integer overflow: 9223372036854775807 + 1 does not fit in 64 bits");
    expect_err("{{ -9223372036854775807 - 2 }}", 1.0, "integer overflow");
    expect_err("{{ 4611686018427387904 * 2 }}", 1.0, "integer overflow");
    expect_err("{{ 3037000500 * 3037000500 }}", 1.0, "integer overflow");
    expect_ok("{{ 4611686018427387904 * -2 }} {{ 3037000499 * 3037000499 }}", "-9223372036854775808 9223372030926249001");
    expect_err("{{ (-9223372036854775807 - 1) // -1 }}", 1.0, "integer overflow: -9223372036854775808 // -1 does not fit");
    expect_ok("{{ (-9223372036854775807 - 1) % -1 }}", "0");
    expect_err("{{ -(-9223372036854775807 - 1) }}", 1.0, "integer overflow");
    expect_err("{% set ns = namespace(n=1) %}{% for i in range(70) %}{% set ns.n = ns.n * 2 %}{% endfor %}", 1.0,
               "integer overflow: 4611686018427387904 * 2");
    expect_ok("{{ 7 // 2 }} {{ 7 // -2 }} {{ -7 // 2 }} {{ -7 // -2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ -7 % -3 }}",
              "3 -4 -4 3 1 2 -2 -1");
    expect_ok("{{ (-9223372036854775807 - 1) // 7 }} {{ (-9223372036854775807 - 1) % 7 }} {{ 9223372036854775807 // -1 }}",
              "-1317624576693539402 6 -9223372036854775807");
    expect_err("{{ 5 // 0 }}", 1.0, "division or modulo by zero");
    expect_err("{{ 5 % 0 }}", 1.0, "division or modulo by zero");
    expect_err("{{ 5 / 0 }}", 1.0, "division by zero");
    expect_ok("{{ 7 / 2 }} {{ 1.5e3 }} {{ 2.5 }} {{ 1e-2 }} {{ 10 - 2 * 3 }}", "3.5 1500.0 2.5 0.01 4");
    /* slice steps whose next index does not fit */
    expect_ok("{{ 'abcdef'[1::9223372036854775807] }} {{ 'abcdef'[::-9223372036854775807 - 1] }} {{ [1, 2, 3][2::9223372036854775807] }}",
              "b f [3]");
}
END_TEST

/* Ordinary templates still render as Jinja would (checked against jinja2 3.1). */
START_TEST(normal_templates) {
    expect_ok("{%- macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro -%}\n"
              "{%- set ns = namespace(n=0) -%}\n"
              "{%- for m in messages -%}\n"
              "{{ loop.index }}/{{ loop.length }} {{ m.role }}: {{ m.content | trim }}{% if loop.last %} (last){% endif %}\n"
              "{% set ns.n = ns.n + 1 %}\n"
              "{%- endfor -%}\n"
              "{{ greet('you') }} {{ greet('all', punct='?') }} {{ ns.n }} {{ [1, 2] + [3] }} {{ 'a,b'.split(',') | join('|') }}\n"
              "{{ {'k': [1, 2.0, none, true, 'x\"y']} | tojson }} {{ messages[-1].content }} {{ 'abc'[::-1] }} {{ s.strip() ~ '.' }}\n"
              "{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %} {{ 'x' if x else 'y' }} {{ l is sequence }} {{ 'i' in 'hi' }}\n",
              "1/2 user: hi2/2 assistant: yo (last)Hello you! Hello all? 2 [1, 2, 3] a|b\n"
              "{\"k\": [1, 2.0, null, true, \"x\\\"y\"]} yo cba padded.\n"
              "a=1 x True True");
    expect_ok("{% for i in range(3) %}{{ loop.previtem }},{{ loop.nextitem }},{{ loop.revindex }};{% endfor %}",
              ",1,3;0,2,2;1,,1;");
    expect_ok("{% for i in range(2) %}{% for j in 'ab' %}{{ loop.index }}{{ j }}{% endfor %}{{ loop.index }}|{% endfor %}",
              "1a2b1|1a2b2|");
    expect_ok("{% for i in [] %}x{% else %}empty{% endfor %}", "empty");
    expect_ok("{{ 'a-b-a'.replace('a', 'xy') }} {{ 'a  b c'.split()|join('+') }} {{ 'xxhixx'.strip('x') }}", "xy-b-xy a+b+c hi");
}
END_TEST

/* The deepest templates the limits let through, and those they stop, in a thread with a 1 MiB
 * stack (4 MiB under sanitizers, whose frames are bigger): the limits trigger, not the stack. */
static void *render_deep(void *arg) {
    (void)arg;
    struct { char *tpl; const char *frag; } c[] = {
        { build("{{ ", "(", 199, "1", ")", 199, " }}"), NULL },
        { build("{{ ", "x or x and x == x + x ~ x * (", 199, "1", ")", 199, " }}"), NULL },
        { build("{{ ", "s.replace('a', ", 199, "'b'", ")", 199, " }}"), NULL },
        { build("{{ x", "()", 100000, "", "", 0, " }}"), "nested too deeply" },
        { build("{% macro f() %}", "{% for i in l %}", 150, "{{ f() }}", "{% endfor %}", 150, "{% endmacro %}{{ f() }}"),
          "nested too deeply" },
        { build("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "", 0, "", "", 0, ""), "macro recursion too deep" },
        { build("{% set ns = namespace(l=[]) %}{% for i in range(999) %}{% set ns.l = [ns.l] %}{% endfor %}",
                "", 0, "{{ ns.l|tojson|length }}{{ ns.l == ns.l[:] }}", "", 0, ""), NULL },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *r = render(c[i].tpl, NULL);
        if (c[i].frag) ck_assert_msg(!r && strstr(err, c[i].frag), "case %zu: %s", i, r ? r : err);
        else ck_assert_msg(r != NULL, "case %zu: %s", i, err);
        free(r), free(c[i].tpl);
    }
    return NULL;
}

START_TEST(small_thread_stack) {
    size_t stack = (size_t)1 << 20;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
    stack *= 4;
#endif
    pthread_attr_t at;
    pthread_t th;
    ck_assert_int_eq(pthread_attr_init(&at), 0);
    ck_assert_int_eq(pthread_attr_setstacksize(&at, stack), 0);
    ck_assert_int_eq(pthread_create(&th, &at, render_deep, NULL), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    pthread_attr_destroy(&at);
}
END_TEST

/* tests/data/chat/jinja_goldens.jsonl: templates rendered by transformers' own Jinja environment
 * (make_jinja_goldens.py). q35 gives exactly the same text; where transformers raises, q35 fails;
 * templates using what q35 refuses by design ("unsupported") fail, never render other text. */
START_TEST(transformers_semantics) {
    FILE *f = fopen("tests/data/chat/jinja_goldens.jsonl", "r");
    ck_assert_msg(f != NULL, "tests/data/chat/jinja_goldens.jsonl: run from the repository root");
    char *line = NULL;
    size_t cap = 0;
    int rows = 0, texts = 0, bad = 0;
    char report[4096] = "";
    size_t used = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *row = cJSON_Parse(line);
        ck_assert_ptr_nonnull(row);
        const char *tpl = cJSON_GetStringValue(cJSON_GetObjectItem(row, "template"));
        const cJSON *want = cJSON_GetObjectItem(row, "text");
        int unsupported = cJSON_IsTrue(cJSON_GetObjectItem(row, "unsupported"));
        ck_assert_ptr_nonnull(tpl);
        char *got = q35_jinja_render(tpl, cJSON_GetObjectItem(row, "vars"), err, sizeof err);
        int ok = want ? (got ? strcmp(got, want->valuestring) == 0 : unsupported) : got == NULL;
        rows++, texts += want && got && ok;
        if (!ok) {
            bad++;
            if (used < sizeof report - 200)
                used += (size_t)snprintf(report + used, sizeof report - used, "\n  %.100s\n    want %s%.100s\n    got  %.100s",
                                         tpl, want ? "" : "an error", want ? want->valuestring : "", got ? got : err);
        }
        free(got);
        cJSON_Delete(row);
    }
    free(line);
    fclose(f);
    ck_assert_msg(rows >= 200, "only %d rows", rows);
    ck_assert_msg(bad == 0, "%d of %d templates differ from transformers:%s", bad, rows, report);
    ck_assert_msg(texts >= 150, "only %d rows compared as text", texts);
}
END_TEST

int main(void) {
    Suite *s = suite_create("jinja");
    TCase *tc = tcase_create("hostile");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, deep_nesting);
    tcase_add_test(tc, long_chains);
    tcase_add_test(tc, big_literals);
    tcase_add_test(tc, range_limits);
    tcase_add_test(tc, work_budget);
    tcase_add_test(tc, output_and_memory_budget);
    tcase_add_test(tc, integers);
    tcase_add_test(tc, normal_templates);
    tcase_add_test(tc, transformers_semantics);
    tcase_add_test(tc, small_thread_stack);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
