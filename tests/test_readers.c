/* test_readers.c - the MMLU-Redux reader on the shipped sample (comma, semicolon and reordered
 * files, error_type spellings, keep filter, corrected labels) and on hostile files (each error
 * naming file and line), cp1252 conversion byte for byte, the Python list literal parser, and the
 * generic JSONL/CSV reader (MMLU-Pro-, C-Eval- and text-answer-like files, its errors). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "mcfile.h"
#include "redux.h"
#include "testutil.h"

static char err[2048];

static void write_at(const char *dir, const char *name, const char *text) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    tu_write_file(p, text, strlen(text));
}

static const q35_mc_subject *find(const q35_mc_set *d, const char *name) {
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->s[i].name, name) == 0) return &d->s[i];
    ck_abort_msg("no subject %s", name);
    return NULL;
}

static int n_items(const q35_mc_set *d) {
    int n = 0;
    for (int i = 0; i < d->n; i++) n += d->s[i].n_test;
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * MMLU-Redux */

START_TEST(redux_shipped_sample) {
    q35_mc_set d;
    int conv = -1;
    ck_assert_msg(q35_redux_load_ex(&d, "datasets/mmlu_redux", NULL, &conv, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 57);
    ck_assert_int_eq(conv, 0); /* the first 5 rows of moral_scenarios are plain ASCII */
    ck_assert_int_eq(d.n_filtered, 0);
    for (int i = 0; i < d.n; i++) {
        ck_assert_int_eq(d.s[i].n_test, 5);
        ck_assert_int_eq(d.s[i].n_dev, 0);
        ck_assert_ptr_nonnull(d.s[i].category);
        for (int j = 0; j < 5; j++) {
            ck_assert_int_eq(d.s[i].test[j].doc_id, j);
            ck_assert_int_eq(d.s[i].test[j].n_choices, 4);
            ck_assert_int_eq(d.s[i].test[j].answer, d.s[i].test[j].orig_answer);
        }
        if (i) ck_assert(strcmp(d.s[i - 1].name, d.s[i].name) < 0);
    }
    /* comma-separated, "Bad Question Clarity" */
    const q35_mc_subject *s = find(&d, "abstract_algebra");
    ck_assert_str_eq(s->category, "stem");
    const q35_mc_item *it = &s->test[0];
    ck_assert(strncmp(it->question, "Statement 1 | If T: V -> W is a linear transformation", 52) == 0);
    ck_assert_str_eq(it->choices[0], "True, True");
    ck_assert_str_eq(it->choices[3], "False, True");
    ck_assert_int_eq(it->answer, 0);
    ck_assert_int_eq(it->line, 2);
    ck_assert_str_eq(it->error_type, "bad_question_clarity");
    ck_assert_str_eq(s->test[1].error_type, "wrong_groundtruth"); /* "Wrong Groundtruth" */
    /* semicolon-separated, "OK" */
    s = find(&d, "anatomy");
    it = &s->test[0];
    ck_assert_str_eq(it->question, "Which of the following is a disorder characterized by uncontrollable episodes of falling asleep during the day?");
    ck_assert_str_eq(it->choices[0], "Dyslexia");
    ck_assert_str_eq(it->choices[3], "Narcolepsy");
    ck_assert_int_eq(it->answer, 3);
    ck_assert_str_eq(it->error_type, "ok");
    /* semicolon-separated, \xa0 escapes in the list literal */
    s = find(&d, "high_school_macroeconomics");
    ck_assert_str_eq(s->test[1].choices[0], "Decrease \xC2\xA0\xC2\xA0\xC2\xA0 Increase \xC2\xA0\xC2\xA0\xC2\xA0 Increase");
    /* the cp1252 file of the release (its sample is ASCII) */
    s = find(&d, "moral_scenarios");
    it = &s->test[0];
    ck_assert(strncmp(it->question, "For which of these two scenarios does the main character (who uses I/me/my)", 75) == 0);
    ck_assert_str_eq(it->choices[1], "Wrong, Not wrong");
    ck_assert_int_eq(it->answer, 3);
    ck_assert_str_eq(it->error_type, "ok");
    /* double-quoted strings with UTF-8 curly quotes; reordered columns; extra unnamed columns */
    ck_assert_str_eq(find(&d, "virology")->test[1].choices[0], "\xE2\x80\x9COpt-in\xE2\x80\x9D");
    ck_assert_str_eq(find(&d, "miscellaneous")->test[2].choices[0], "Pun'kin");
    it = &find(&d, "machine_learning")->test[0];
    ck_assert_str_eq(it->error_type, "wrong_groundtruth"); /* "Wrong groundtruth" */
    ck_assert_int_eq(it->answer, 3);
    ck_assert_int_eq(find(&d, "econometrics")->n_test, 5);
    int kinds[7] = { 0 };
    static const char *const names[7] = { "ok", "wrong_groundtruth", "multiple_correct_answers", "no_correct_answer",
                                          "bad_question_clarity", "bad_options_clarity", "expert" };
    for (int i = 0; i < d.n; i++)
        for (int j = 0; j < d.s[i].n_test; j++) {
            int k = 0;
            while (k < 7 && strcmp(names[k], d.s[i].test[j].error_type) != 0) k++;
            ck_assert_int_lt(k, 7);
            kinds[k]++;
        }
    ck_assert_int_eq(kinds[0], 237); /* ok 119 + OK 99 + Ok 19 */
    ck_assert_int_eq(kinds[1], 7);
    ck_assert_int_eq(kinds[2], 2);
    ck_assert_int_eq(kinds[3], 6);
    ck_assert_int_eq(kinds[4], 27);
    ck_assert_int_eq(kinds[5], 2);
    ck_assert_int_eq(kinds[6], 4);
    q35_mc_set_free(&d);
    /* one file alone: the subject from its name */
    ck_assert_msg(q35_redux_load(&d, "datasets/mmlu_redux/mmlu_anatomy.first5.csv", NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 1);
    ck_assert_str_eq(d.s[0].name, "anatomy");
    q35_mc_set_free(&d);
}
END_TEST

START_TEST(redux_keep_and_corrected) {
    q35_mc_set d;
    q35_redux_opts o = { "ok", 0 };
    ck_assert_msg(q35_redux_load(&d, "datasets/mmlu_redux", &o, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(n_items(&d), 237);
    ck_assert_int_eq(d.n_filtered, 48);
    const q35_mc_subject *s = find(&d, "abstract_algebra"); /* rows 0 and 1 are not ok */
    ck_assert_int_eq(s->test[0].doc_id, 2);
    ck_assert_int_eq(s->test[0].line, 11); /* rows 0 and 1 span lines 2-10 */
    q35_mc_set_free(&d);
    o.keep = " OK , Wrong Groundtruth"; /* spelt like the files */
    ck_assert_msg(q35_redux_load(&d, "datasets/mmlu_redux", &o, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(n_items(&d), 244);
    q35_mc_set_free(&d);
    /* the wrong_groundtruth rows only, corrected: empty subjects dropped */
    o.keep = "wrong_groundtruth", o.corrected = 1;
    ck_assert_msg(q35_redux_load(&d, "datasets/mmlu_redux", &o, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(n_items(&d), 7);
    ck_assert_int_eq(d.n, 6);
    ck_assert_int_eq(d.n_filtered, 278);
    struct {
        const char *subject;
        int doc, answer, orig;
    } want[] = {
        { "abstract_algebra", 1, 2, 3 }, { "global_facts", 1, 1, 1 } /* correct_answer empty */,
        { "global_facts", 4, 2, 2 },     { "high_school_microeconomics", 1, 1, 0 },
        { "high_school_physics", 0, 2, 0 }, { "machine_learning", 0, 1, 3 },
        { "public_relations", 3, 1, 0 },
    };
    int w = 0;
    for (int i = 0; i < d.n; i++)
        for (int j = 0; j < d.s[i].n_test; j++, w++) {
            const q35_mc_item *it = &d.s[i].test[j];
            ck_assert_str_eq(d.s[i].name, want[w].subject);
            ck_assert_int_eq(it->doc_id, want[w].doc);
            ck_assert_int_eq(it->answer, want[w].answer);
            ck_assert_int_eq(it->orig_answer, want[w].orig);
        }
    q35_mc_set_free(&d);
    /* corrected leaves the other error types alone ("OK" rows with an index in correct_answer) */
    o.keep = NULL;
    ck_assert_msg(q35_redux_load(&d, "datasets/mmlu_redux", &o, err, sizeof err) == 0, "%s", err);
    int changed = 0;
    for (int i = 0; i < d.n; i++)
        for (int j = 0; j < d.s[i].n_test; j++) changed += d.s[i].test[j].answer != d.s[i].test[j].orig_answer;
    ck_assert_int_eq(changed, 5);
    q35_mc_set_free(&d);
    o.keep = "ok,okay";
    ck_assert_int_eq(q35_redux_load(&d, "datasets/mmlu_redux", &o, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "'okay'") && strstr(err, "bad_options_clarity"), "%s", err);
    ck_assert_int_eq(d.n, 0);
    char norm[64];
    ck_assert_int_eq(q35_redux_error_type(" Multiple Correct Answers ", norm, sizeof norm), 0);
    ck_assert_str_eq(norm, "multiple_correct_answers");
    ck_assert_int_eq(q35_redux_error_type("bad-options-clarity", norm, sizeof norm), 0);
    ck_assert_str_eq(norm, "bad_options_clarity");
    ck_assert_int_eq(q35_redux_error_type("fine", norm, sizeof norm), -1);
}
END_TEST

#define HDR "question,choices,answer,error_type,source,correct_answer,potential_reason\n"
#define ROW2 "q1,\"['a', 'b']\",0,ok,,,\n"

/* cp1252 bytes become UTF-8; a correction by letter; blank lines; a multi-line row. */
START_TEST(redux_cp1252_and_edges) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    write_at(dir, "mmlu_moral_scenarios.csv",
             "question;choices;answer;error_type;source;correct_answer;potential_reason\r\n"
             "\x93Quoted\x94 sister\x92s \x80 caf\xE9;\"['a\x85', \"\"b\"\", 'c']\";1;Wrong Groundtruth;;C;\r\n");
    q35_mc_set d;
    int conv = 0;
    q35_redux_opts o = { NULL, 1 };
    ck_assert_msg(q35_redux_load_ex(&d, dir, &o, &conv, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(conv, 1);
    const q35_mc_item *it = &d.s[0].test[0];
    ck_assert_str_eq(it->question, "\xE2\x80\x9CQuoted\xE2\x80\x9D sister\xE2\x80\x99s \xE2\x82\xAC caf\xC3\xA9");
    ck_assert_str_eq(it->choices[0], "a\xE2\x80\xA6");
    ck_assert_int_eq(it->answer, 2); /* the letter C */
    ck_assert_int_eq(it->orig_answer, 1);
    q35_mc_set_free(&d);
    tu_rm_rf(dir);
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    write_at(dir, "mmlu_x.csv", HDR ROW2 "\n\"two\nlines\",\"[\n 'a\\\\b', 'it\\'s', \"\"say \\\"\"hi\\\"\"\"\",\n"
                                "'l1\\nl2\\t\\r', '\\xe9\\u2019\\U0001F600',\n]\",4,OK ,,,\n");
    ck_assert_msg(q35_redux_load(&d, dir, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.s[0].n_test, 2);
    it = &d.s[0].test[1];
    ck_assert_int_eq(it->doc_id, 1); /* the blank line is no row */
    ck_assert_int_eq(it->line, 4);
    ck_assert_str_eq(it->question, "two\nlines");
    ck_assert_int_eq(it->n_choices, 5);
    ck_assert_str_eq(it->choices[0], "a\\b");
    ck_assert_str_eq(it->choices[1], "it's");
    ck_assert_str_eq(it->choices[2], "say \"hi\"");
    ck_assert_str_eq(it->choices[3], "l1\nl2\t\r");
    ck_assert_str_eq(it->choices[4], "\xC3\xA9\xE2\x80\x99\xF0\x9F\x98\x80");
    ck_assert_int_eq(it->answer, 4);
    q35_mc_set_free(&d);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(redux_hostile_files) {
    char many[512] = "[";
    for (int i = 0; i < 27; i++) strcat(many, i ? ", 'x'" : "'x'");
    strcat(many, "]");
    char row27[1024];
    snprintf(row27, sizeof row27, HDR ROW2 "q,\"%s\",0,ok,,,\n", many);
    struct {
        const char *text;
        const char *says;
    } cases[] = {
        { HDR ROW2 "q,\"['a', 'b'\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: expected ',' or ']'" },
        { HDR ROW2 "q,\"['a', 'b]\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: a string is never closed" },
        { HDR ROW2 "q,\"['a\\q', 'b']\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: bad escape '\\q'" },
        { HDR ROW2 "q,\"['a\\x4', 'b']\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: bad escape '\\x'" },
        { HDR ROW2 "q,\"['a\\x00', 'b']\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: escape '\\x00'" },
        { HDR ROW2 "q,\"['a\\ud800', 'b']\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: escape '\\ud800'" },
        { HDR ROW2 "q,\"['a'] x\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: text after" },
        { HDR ROW2 "q,\"('a', 'b')\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: expected a Python list" },
        { HDR ROW2 "q,\"['a\nb', 'c']\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: a line break inside a string" },
        { HDR ROW2 "q,\"['a']\",0,ok,,,\n", "mmlu_hostile.csv:3: choices: 1 string; expected 2..26" },
        { row27, "mmlu_hostile.csv:3: choices: more than 26 strings" },
        { HDR ROW2 "q,\"['a', 'b']\",2,ok,,,\n", "mmlu_hostile.csv:3: answer '2': expected a 0-based index below 2" },
        { HDR ROW2 "q,\"['a', 'b']\",-1,ok,,,\n", "mmlu_hostile.csv:3: answer '-1'" },
        { HDR ROW2 "q,\"['a', 'b']\",0,Okay,,,\n", "mmlu_hostile.csv:3: error_type 'Okay': not one of ok, wrong_groundtruth" },
        { HDR ROW2 "q,\"['a', 'b']\",0,,,,\n", "mmlu_hostile.csv:3: error_type ''" },
        { HDR ROW2 "q,\"['a', 'b']\",0,ok,,\n", "mmlu_hostile.csv:3: 6 fields; the header has 7" },
        { HDR "\"x\ny\",\"['a', 'b']\",0,ok,,,\nq,\"['a', 'b']\",9,ok,,,\n", "mmlu_hostile.csv:4: answer '9'" },
        { "question,choices,answer,source,correct_answer\nq,\"['a', 'b']\",0,,\n", "mmlu_hostile.csv:1: the header (read with separator ',') has no column 'error_type'" },
        { "questoin,choices,answer,error_type,source,correct_answer\n", "mmlu_hostile.csv:1: the header (read with separator ',') has no column 'question'" },
        { "question\tchoices\tanswer\terror_type\tsource\tcorrect_answer\n", "mmlu_hostile.csv:1: the header line has neither ',' nor ';'" },
        { "question;choices;answer;error_type,source,correct_answer\n", "mmlu_hostile.csv:1: the header (read with separator ';') has no column 'error_type'" },
        { HDR ROW2 "caf\xE9,\"['a', 'b']\",0,ok,,,\nq\x81,\"['a', 'b']\",0,ok,,,\n", "mmlu_hostile.csv:4: byte 0x81" },
        { "\xEF\xBB\xBF" HDR "caf\xE9,\"['a', 'b']\",0,ok,,,\n", "mmlu_hostile.csv:2: not valid UTF-8" },
        { HDR ROW2 "q,\"['a', 'b']\",0,ok,\"open\n", "mmlu_hostile.csv:3: a quoted field is never closed" },
        { "", "mmlu_hostile.csv:1: the header line has neither" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
        write_at(dir, "mmlu_hostile.csv", cases[i].text);
        q35_mc_set d;
        err[0] = 0;
        ck_assert_int_eq(q35_redux_load(&d, dir, NULL, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].says), "case %zu: '%s' lacks '%s'", i, err, cases[i].says);
        ck_assert_int_eq(d.n, 0);
        tu_rm_rf(dir);
    }
    /* a rejected row fails even when keep would drop it */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    write_at(dir, "mmlu_hostile.csv", HDR ROW2 "q,\"['a']\",0,expert,,,\n");
    q35_mc_set d;
    q35_redux_opts o = { "ok", 0 };
    ck_assert_int_eq(q35_redux_load(&d, dir, &o, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "mmlu_hostile.csv:3:"), "%s", err);
    /* two files of one subject; a directory without csv files */
    write_at(dir, "mmlu_hostile.csv", HDR ROW2);
    write_at(dir, "mmlu_hostile.first5.csv", HDR ROW2);
    ck_assert_int_eq(q35_redux_load(&d, dir, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "mmlu_hostile.first5.csv: subject 'hostile' was already read"), "%s", err);
    tu_rm_rf(dir);
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    ck_assert_int_eq(q35_redux_load(&d, dir, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no *.csv files"), "%s", err);
    ck_assert_int_eq(q35_redux_load(&d, "datasets/no_such_thing", NULL, err, sizeof err), -1);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(pylist_parser) {
    char **v;
    int n;
    ck_assert_int_eq(q35_pylist_parse(" [ ] ", 26, &v, &n, "w", err, sizeof err), 0);
    ck_assert_int_eq(n, 0);
    q35_strv_free(v, n);
    ck_assert_int_eq(q35_pylist_parse("['a',\"b\" ,'',]", 26, &v, &n, "w", err, sizeof err), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(v[0], "a");
    ck_assert_str_eq(v[1], "b");
    ck_assert_str_eq(v[2], "");
    q35_strv_free(v, n);
    const char *bad[] = { "", "[", "['a',,'b']", "['a' 'b']", "['a'", "['\\", "['\\u12']", "['\\U00110000']", "[1, 2]", "['a'],", "['a\\']" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        ck_assert_msg(q35_pylist_parse(bad[i], 26, &v, &n, "file.csv:7: choices", err, sizeof err) == -1, "'%s' parsed", bad[i]);
        ck_assert_msg(strncmp(err, "file.csv:7: choices: ", 21) == 0, "%s", err);
        ck_assert_ptr_null(v);
    }
    ck_assert_int_eq(q35_pylist_parse("['a', 'b', 'c']", 2, &v, &n, "w", err, sizeof err), -1);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * The generic reader */

START_TEST(mcfile_mmlu_pro_jsonl) {
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    const char *opts = "[\"o0\",\"o1\",\"o2\",\"o3\",\"o4\",\"o5\",\"o6\",\"o7\",\"o8\",\"N/A\"]";
    char text[2048];
    snprintf(text, sizeof text,
             "{\"question_id\": 70, \"question\": \"Q math\", \"options\": %s, \"answer\": \"J\", \"answer_index\": 9, \"category\": \"math\"}\r\n"
             "\r\n"
             "{\"question_id\": 71, \"question\": \"Q law \\u00e9\", \"options\": %s, \"answer\": \"C\", \"answer_index\": 2, \"category\": \"law\"}\n"
             "{\"question_id\": 72, \"question\": \"Q math 2\", \"options\": [\"x\", \"y\"], \"answer\": \" B \", \"answer_index\": 1, \"category\": \"math\"}",
             opts, opts);
    write_at(dir, "test.jsonl", text);
    snprintf(p, sizeof p, "%s/test.jsonl", dir);
    q35_mc_columns cols = { "question", "options", "answer", "letter", "category", NULL };
    q35_mc_set d = { 0 };
    ck_assert_msg(q35_mcfile_load(&d, p, NULL, &cols, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 2);
    ck_assert_str_eq(d.s[0].name, "law");
    ck_assert_str_eq(d.s[1].name, "math");
    ck_assert_ptr_null(d.s[0].category);
    const q35_mc_item *it = &d.s[1].test[0];
    ck_assert_int_eq(it->n_choices, 10);
    ck_assert_str_eq(it->choices[9], "N/A");
    ck_assert_int_eq(it->answer, 9);
    ck_assert_int_eq(it->doc_id, 0);
    ck_assert_int_eq(it->line, 1);
    ck_assert_ptr_null(it->error_type);
    it = &d.s[0].test[0];
    ck_assert_str_eq(it->question, "Q law \xC3\xA9");
    ck_assert_int_eq(it->answer, 2);
    ck_assert_int_eq(it->doc_id, 1);
    ck_assert_int_eq(it->line, 3);
    it = &d.s[1].test[1];
    ck_assert_int_eq(it->answer, 1);
    ck_assert_int_eq(it->doc_id, 2);
    ck_assert_int_eq(it->line, 4);
    q35_mc_set_free(&d);
    /* the same through the JSON number column, and as one subject */
    q35_mc_columns c2 = { "question", "options", "answer_index", "index", "", NULL };
    ck_assert_msg(q35_mcfile_load(&d, dir, "jsonl", &c2, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 1);
    ck_assert_str_eq(d.s[0].name, "all");
    ck_assert_int_eq(d.s[0].test[0].answer, 9);
    ck_assert_int_eq(d.s[0].test[1].answer, 2);
    ck_assert_int_eq(d.s[0].test[2].answer, 1);
    ck_assert_int_eq(q35_mcfile_load(&d, dir, "jsonl", &cols, 0, err, sizeof err), 0); /* again: appends */
    q35_mc_columns c3 = { "question", "options", "answer_index", "index", "", "category" };
    ck_assert_int_eq(q35_mcfile_load(&d, p, NULL, &c3, 0, err, sizeof err), -1); /* category differs in "all" */
    ck_assert_msg(strstr(err, "test.jsonl:3: column 'category' (category) 'law' differs from 'math'"), "%s", err);
    ck_assert_int_eq(d.n, 3); /* as it was */
    ck_assert_int_eq(d.s[0].n_test, 3);
    q35_mc_set_free(&d);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(mcfile_ceval_csv_dirs) {
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(p, sizeof p, "%s/val", dir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/dev", dir);
    mkdir(p, 0777);
    write_at(dir, "val/law_val.csv", "id,question,A,B,C,D,answer\n0,\"法律, 问题\",甲,乙,丙,丁,B\n1,q2,a,b,c,d,D\n");
    write_at(dir, "val/computer_network_val.csv", "id,question,A,B,C,D,answer\r\n0,\"Two\r\nlines\",a,b,c,d,A\r\n");
    write_at(dir, "val/notes.txt", "not a csv");
    write_at(dir, "dev/law_dev.csv", "id,question,A,B,C,D,answer,explanation\n0,dq,a,b,c,d,C,because\n");
    write_at(dir, "dev/computer_network_dev.csv", "id,question,A,B,C,D,answer,explanation\n0,dq1,a,b,c,d,A,x\n1,dq2,a,b,c,d,B,y\n");
    q35_mc_columns cols = { "question", "A,B,C,D", "answer", "letter", NULL, NULL };
    q35_mc_set d = { 0 };
    snprintf(p, sizeof p, "%s/val", dir);
    ck_assert_msg(q35_mcfile_load(&d, p, NULL, &cols, 0, err, sizeof err) == 0, "%s", err);
    snprintf(p, sizeof p, "%s/dev", dir);
    ck_assert_msg(q35_mcfile_load(&d, p, "csv", &cols, 1, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.n, 2);
    const q35_mc_subject *s = &d.s[0];
    ck_assert_str_eq(s->name, "computer_network");
    ck_assert_ptr_null(s->category);
    ck_assert_int_eq(s->n_test, 1);
    ck_assert_int_eq(s->n_dev, 2);
    ck_assert_str_eq(s->test[0].question, "Two\r\nlines");
    ck_assert_str_eq(s->dev[1].question, "dq2");
    ck_assert_int_eq(s->dev[1].answer, 1);
    ck_assert_int_eq(s->dev[1].doc_id, 1);
    s = &d.s[1];
    ck_assert_str_eq(s->name, "law");
    ck_assert_int_eq(s->n_test, 2);
    ck_assert_int_eq(s->n_dev, 1);
    ck_assert_str_eq(s->test[0].question, "法律, 问题");
    ck_assert_str_eq(s->test[0].choices[2], "丙");
    ck_assert_int_eq(s->test[0].answer, 1);
    ck_assert_int_eq(s->test[1].answer, 3);
    ck_assert_int_eq(s->test[1].doc_id, 1);
    ck_assert_int_eq(s->test[1].line, 3);
    ck_assert_int_eq(s->dev[0].answer, 2);
    q35_mc_set_free(&d);
    /* MMLU subject names from a column get MMLU's categories; a TSV */
    write_at(dir, "mmmlu.tsv", "Question\tA\tB\tC\tD\tAnswer\tSubject\nq\ta\tb\tc\td\tD\tabstract_algebra\nq\ta\tb\tc\td\t3\tvirology\n");
    q35_mc_columns c3 = { "Question", "A,B,C,D", "Answer", "auto", "Subject", NULL };
    snprintf(p, sizeof p, "%s/mmmlu.tsv", dir);
    ck_assert_msg(q35_mcfile_load(&d, p, NULL, &c3, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(d.s[0].category, "stem");
    ck_assert_str_eq(d.s[1].category, "other");
    ck_assert_int_eq(d.s[0].test[0].answer, 3);
    ck_assert_int_eq(d.s[1].test[0].answer, 3);
    q35_mc_set_free(&d);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(mcfile_text_answers_and_lists) {
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    /* a key given twice counts with its last value, as Python's json reads it */
    write_at(dir, "geo.jsonl", "{\"q\": \"Capital of Italy?\", \"q\": \"Capital of France?\", \"c\": [\"Rome\", \"Berlin\", \"Paris\"], "
                               "\"a\": \"Rome\", \"a\": \"Paris\"}\n");
    write_at(dir, "gpqa.csv", "Question,choices,Correct\n"
                               "q1,\"['x', 'y\\'s', \"\"z\"\"]\",y's\n"
                               "q2,\"[\"\"\\u00e9\"\", \"\"b\"\"]\",\xC3\xA9\n");
    q35_mc_columns cols = { "q", "c", "a", "text", NULL, NULL };
    q35_mc_set d = { 0 };
    snprintf(p, sizeof p, "%s/geo.jsonl", dir);
    ck_assert_msg(q35_mcfile_load(&d, p, NULL, &cols, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(d.s[0].name, "geo");
    ck_assert_int_eq(d.s[0].test[0].answer, 2);
    ck_assert_str_eq(d.s[0].test[0].question, "Capital of France?");
    q35_mc_set_free(&d);
    q35_mc_columns c2 = { "Question", "choices", "Correct", "text", "", NULL };
    snprintf(p, sizeof p, "%s/gpqa.csv", dir);
    ck_assert_msg(q35_mcfile_load(&d, p, NULL, &c2, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(d.s[0].n_test, 2);
    ck_assert_str_eq(d.s[0].test[0].choices[2], "z");
    ck_assert_int_eq(d.s[0].test[0].answer, 1);
    ck_assert_str_eq(d.s[0].test[1].choices[0], "\xC3\xA9"); /* a JSON array */
    ck_assert_int_eq(d.s[0].test[1].answer, 0);
    q35_mc_set_free(&d);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(mcfile_errors_name_file_and_line) {
    struct {
        const char *name, *text, *question, *choices, *answer, *fmt, *says;
    } cases[] = {
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":\"x\"}\n{\"q\":\"b\",\"c\":[\"x\",\"x\"],\"a\":\"x\"}\n", "q", "c", "a", "text",
          "f.jsonl:2: column 'a' (answer) 'x' matches 2 choices" },
        { "f.jsonl", "{\"q\":\"b\",\"c\":[\"x\",\"y\"],\"a\":\"z\"}\n", "q", "c", "a", "text", "f.jsonl:1: column 'a' (answer) 'z' matches none" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":0}\n\n{\"q\":7,\"c\":[\"x\",\"y\"],\"a\":0}\n", "q", "c", "a", "index",
          "f.jsonl:3: column 'q' (question) is not a string" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":0}\n{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":0\n", "q", "c", "a", "index",
          "f.jsonl:2: not valid JSON" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":0} x\n", "q", "c", "a", "index", "f.jsonl:1: not valid JSON" },
        { "f.jsonl", "[1]\n", "q", "c", "a", "index", "f.jsonl:1: not a JSON object" },
        { "f.jsonl", "{\"q\":\"a\\u0000b\",\"c\":[\"x\",\"y\"],\"a\":0}\n", "q", "c", "a", "index", "f.jsonl:1: a string holds U+0000" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"]}\n", "q", "c", "a", "index", "f.jsonl:1: no column 'a' (answer)" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":2}\n", "q", "c", "a", "index", "f.jsonl:1: column 'a' (answer) '2' is out of range" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":1.5}\n", "q", "c", "a", "index", "f.jsonl:1: column 'a' (answer) '1.5': expected a 0-based" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":0}\n", "q", "c", "a", "index1", "f.jsonl:1: column 'a' (answer) '0': expected a 1-based" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":true}\n", "q", "c", "a", "auto", "f.jsonl:1: column 'a' (answer) is neither" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",\"y\"],\"a\":1}\n", "q", "c", "a", "letter", "f.jsonl:1: column 'a' (answer) '1': expected a letter" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\"],\"a\":0}\n", "q", "c", "a", "index", "f.jsonl:1: 1 choice; expected 2..26" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":[\"x\",3],\"a\":0}\n", "q", "c", "a", "index", "f.jsonl:1: column 'c' (choices): item 1 of the list is not a string" },
        { "f.jsonl", "{\"q\":\"a\",\"c\":\"x,y\",\"a\":0}\n", "q", "c", "a", "index", "f.jsonl:1: column 'c' (choices): not a JSON array" },
        { "f.jsonl", "{\"q\":\"\xFF\",\"c\":[\"x\",\"y\"],\"a\":0}\n", "q", "c", "a", "index", "f.jsonl:1: column 'q' (question) is not valid UTF-8" },
        { "f.csv", "q,A,B,answer\nx,a,b,C\n", "q", "A,B", "answer", "letter", "f.csv:2: column 'answer' (answer) 'C' is out of range" },
        { "f.csv", "q,A,answer\nx,a,A\n", "q", "A,B", "answer", "letter", "f.csv:1: the header has no column 'B'" },
        { "f.csv", "q,A,B,answer\nx,a,b,A\ny,a,b\n", "q", "A,B", "answer", "letter", "f.csv:3: 3 fields; the header has 4" },
        { "f.csv", "q,c,answer\nx,\"['a', 'b\",A\n", "q", "c", "answer", "letter", "f.csv:2: column 'c' (choices): a string is never closed" },
        { "f.csv", "q,c,answer\nx,\"['a', 'b']\",a\n", "q", "c", "answer", "auto", "f.csv:2: column 'answer' (answer) 'a': expected a letter" },
        { "f.csv", "q,c,answer\nx,\"['a', 'b']\",A\n", "q", "c", "answer", "roman", "answer format 'roman'" },
        { "f.txt", "q,c,answer\n", "q", "c", "answer", "auto", "f.txt: cannot tell the format" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[4096], p[4200];
        snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
        write_at(dir, cases[i].name, cases[i].text);
        snprintf(p, sizeof p, "%s/%s", dir, cases[i].name);
        q35_mc_columns cols = { cases[i].question, cases[i].choices, cases[i].answer, cases[i].fmt, "", NULL };
        q35_mc_set d = { 0 };
        err[0] = 0;
        ck_assert_int_eq(q35_mcfile_load(&d, p, NULL, &cols, 0, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].says), "case %zu: '%s' lacks '%s'", i, err, cases[i].says);
        ck_assert_int_eq(d.n, 0);
        tu_rm_rf(dir);
    }
    q35_mc_columns none = { NULL, "c", "a", NULL, NULL, NULL };
    q35_mc_set d = { 0 };
    ck_assert_int_eq(q35_mcfile_load(&d, "datasets", NULL, &none, 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "question, choices and answer"), "%s", err);
    q35_mc_columns one = { "q", "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R,S,T,U,V,W,X,Y,Z,AA", "a", NULL, NULL, NULL };
    ck_assert_int_eq(q35_mcfile_load(&d, "datasets", NULL, &one, 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "more than 26 columns"), "%s", err);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void) {
    Suite *s = suite_create("readers");
    TCase *tc = tcase_create("readers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, redux_shipped_sample);
    tcase_add_test(tc, redux_keep_and_corrected);
    tcase_add_test(tc, redux_cp1252_and_edges);
    tcase_add_test(tc, redux_hostile_files);
    tcase_add_test(tc, pylist_parser);
    tcase_add_test(tc, mcfile_mmlu_pro_jsonl);
    tcase_add_test(tc, mcfile_ceval_csv_dirs);
    tcase_add_test(tc, mcfile_text_answers_and_lists);
    tcase_add_test(tc, mcfile_errors_name_file_and_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(make_suite()); }
