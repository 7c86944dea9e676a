/* vqa.c - VQAv2's answer normalisation and soft accuracy (vqa.h). */
#include "vqa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "util.h"

/* The official VQA evaluation's contraction table (answers written without apostrophes get them). */
static const char *const contractions[][2] = {
    { "aint", "ain't" }, { "arent", "aren't" }, { "cant", "can't" }, { "couldve", "could've" },
    { "couldnt", "couldn't" }, { "couldn'tve", "couldn't've" }, { "couldnt've", "couldn't've" },
    { "didnt", "didn't" }, { "doesnt", "doesn't" }, { "dont", "don't" }, { "hadnt", "hadn't" },
    { "hadnt've", "hadn't've" }, { "hadn'tve", "hadn't've" }, { "hasnt", "hasn't" }, { "havent", "haven't" },
    { "hed", "he'd" }, { "hed've", "he'd've" }, { "he'dve", "he'd've" }, { "hes", "he's" },
    { "howd", "how'd" }, { "howll", "how'll" }, { "hows", "how's" }, { "Id've", "I'd've" },
    { "I'dve", "I'd've" }, { "Im", "I'm" }, { "Ive", "I've" }, { "isnt", "isn't" }, { "itd", "it'd" },
    { "itd've", "it'd've" }, { "it'dve", "it'd've" }, { "itll", "it'll" }, { "let's", "let's" },
    { "maam", "ma'am" }, { "mightnt", "mightn't" }, { "mightnt've", "mightn't've" },
    { "mightn'tve", "mightn't've" }, { "mightve", "might've" }, { "mustnt", "mustn't" },
    { "mustve", "must've" }, { "neednt", "needn't" }, { "notve", "not've" }, { "oclock", "o'clock" },
    { "oughtnt", "oughtn't" }, { "ow's'at", "'ow's'at" }, { "'ows'at", "'ow's'at" }, { "'ow'sat", "'ow's'at" },
    { "shant", "shan't" }, { "shed've", "she'd've" }, { "she'dve", "she'd've" }, { "she's", "she's" },
    { "shouldve", "should've" }, { "shouldnt", "shouldn't" }, { "shouldnt've", "shouldn't've" },
    { "shouldn'tve", "shouldn't've" }, { "somebody'd", "somebodyd" }, { "somebodyd've", "somebody'd've" },
    { "somebody'dve", "somebody'd've" }, { "somebodyll", "somebody'll" }, { "somebodys", "somebody's" },
    { "someoned", "someone'd" }, { "someoned've", "someone'd've" }, { "someone'dve", "someone'd've" },
    { "someonell", "someone'll" }, { "someones", "someone's" }, { "somethingd", "something'd" },
    { "somethingd've", "something'd've" }, { "something'dve", "something'd've" },
    { "somethingll", "something'll" }, { "thats", "that's" }, { "thered", "there'd" },
    { "thered've", "there'd've" }, { "there'dve", "there'd've" }, { "therere", "there're" },
    { "theres", "there's" }, { "theyd", "they'd" }, { "theyd've", "they'd've" }, { "they'dve", "they'd've" },
    { "theyll", "they'll" }, { "theyre", "they're" }, { "theyve", "they've" }, { "twas", "'twas" },
    { "wasnt", "wasn't" }, { "wed've", "we'd've" }, { "we'dve", "we'd've" }, { "weve", "we've" },
    { "werent", "weren't" }, { "whatll", "what'll" }, { "whatre", "what're" }, { "whats", "what's" },
    { "whatve", "what've" }, { "whens", "when's" }, { "whered", "where'd" }, { "wheres", "where's" },
    { "whereve", "where've" }, { "whod", "who'd" }, { "whod've", "who'd've" }, { "who'dve", "who'd've" },
    { "wholl", "who'll" }, { "whos", "who's" }, { "whove", "who've" }, { "whyll", "why'll" },
    { "whyre", "why're" }, { "whys", "why's" }, { "wont", "won't" }, { "wouldve", "would've" },
    { "wouldnt", "wouldn't" }, { "wouldnt've", "wouldn't've" }, { "wouldn'tve", "wouldn't've" },
    { "yall", "y'all" }, { "yall'll", "y'all'll" }, { "y'allll", "y'all'll" }, { "yall'd've", "y'all'd've" },
    { "y'alld've", "y'all'd've" }, { "y'all'dve", "y'all'd've" }, { "youd", "you'd" },
    { "youd've", "you'd've" }, { "you'dve", "you'd've" }, { "youll", "you'll" }, { "youre", "you're" },
    { "youve", "you've" },
};

static const char *const numbers[][2] = { { "none", "0" }, { "zero", "0" }, { "one", "1" }, { "two", "2" },
                                          { "three", "3" }, { "four", "4" }, { "five", "5" }, { "six", "6" },
                                          { "seven", "7" }, { "eight", "8" }, { "nine", "9" }, { "ten", "10" } };

static const char punct[] = ";/[]\"{}()=+\\_-><@`,?!";

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

void q35_vqa_punctuation(char *t, int vlmevalkit) {
    size_t n = strlen(t);
    int comma_run = 0;
    for (size_t i = 1; i + 1 < n && !comma_run; i++)
        if (t[i] == ',' && is_digit(t[i - 1])) {
            size_t j = i + 1;
            if (!vlmevalkit)
                while (j < n && t[j] == ',') j++;
            comma_run = j < n && is_digit(t[j]);
        }
    char *orig = strdup(t);
    if (!orig) return;
    for (const char *p = punct; *p; p++) {
        int del = comma_run;
        for (size_t i = 0; i < n && !del; i++)
            if (orig[i] == *p && ((i + 1 < n && orig[i + 1] == ' ') || (i > 0 && orig[i - 1] == ' '))) del = 1;
        size_t o = 0;
        for (size_t i = 0; t[i]; i++) {
            if (t[i] != *p) t[o++] = t[i];
            else if (!del) t[o++] = ' ';
        }
        t[o] = 0;
    }
    free(orig);
    size_t o = 0;
    int removed = 0;
    char prev = 0; /* the character before, as it was before this pass (t[i - 1] may be overwritten) */
    for (size_t i = 0; t[i]; i++) {
        char c = t[i];
        int after_digit = vlmevalkit && is_digit(prev);
        prev = c;
        if (c == '.' && removed < 32 && !is_digit(t[i + 1]) && !after_digit) {
            removed++;
            continue;
        }
        t[o++] = c;
    }
    t[o] = 0;
}

/* process_digit_article: lower case, words split at whitespace, number words as digits,
 * articles dropped, contractions restored, joined by single spaces. */
static char *process_digit_article(const char *t) {
    size_t n = strlen(t);
    char *out = malloc(2 * n + 16), *w = malloc(n + 1);
    if (!out || !w) return free(out), free(w), NULL;
    size_t o = 0;
    for (const char *p = t; *p;) {
        while (*p && is_space(*p)) p++;
        if (!*p) break;
        size_t k = 0;
        while (*p && !is_space(*p)) w[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p), p++;
        w[k] = 0;
        const char *word = w;
        for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
            if (!strcmp(word, numbers[i][0])) word = numbers[i][1];
        if (!strcmp(word, "a") || !strcmp(word, "an") || !strcmp(word, "the")) continue;
        for (size_t i = 0; i < sizeof contractions / sizeof contractions[0]; i++)
            if (!strcmp(word, contractions[i][0])) {
                word = contractions[i][1];
                break;
            }
        size_t m = strlen(word);
        if (o) out[o++] = ' ';
        memcpy(out + o, word, m);
        o += m;
    }
    out[o] = 0;
    free(w);
    return out;
}

char *q35_vqa_normalize(const char *answer) {
    char *t = strdup(answer);
    if (!t) return NULL;
    for (char *c = t; *c; c++)
        if (*c == '\n' || *c == '\t') *c = ' ';
    char *a = t, *e = t + strlen(t);
    while (a < e && is_space(*a)) a++;
    while (e > a && is_space(e[-1])) e--;
    memmove(t, a, (size_t)(e - a));
    t[e - a] = 0;
    q35_vqa_punctuation(t, 0);
    char *r = process_digit_article(t);
    free(t);
    return r;
}

double q35_vqa_soft_accuracy(const char *reply, char *const *answers, int n) {
    if (n <= 0) return 0;
    char *r = q35_vqa_normalize(reply), **g = calloc((size_t)n, sizeof *g);
    double sum = 0;
    int ok = r && g;
    for (int i = 0; ok && i < n; i++) ok = (g[i] = q35_vqa_normalize(answers[i])) != NULL;
    for (int i = 0; ok && i < n; i++) { /* the mean over leaving out each human answer in turn */
        int match = 0;
        for (int j = 0; j < n; j++) match += j != i && !strcmp(g[j], r);
        sum += match >= 3 ? 1.0 : match / 3.0;
    }
    for (int i = 0; g && i < n; i++) free(g[i]);
    free(g), free(r);
    return ok ? sum / n : -1;
}

static double qid_of(const cJSON *a) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, "question_id");
    return cJSON_IsNumber(x) ? x->valuedouble : -1;
}

static int cmp_qid(const void *a, const void *b) {
    double x = qid_of(*(const cJSON *const *)a), y = qid_of(*(const cJSON *const *)b);
    return x < y ? -1 : x > y;
}

static cJSON *read_json(const char *path, char *err, size_t errlen) {
    size_t n;
    char *t = q35_read_file(path, 1u << 30, &n);
    if (!t) return q35_fail(err, errlen, "%s: cannot read (or over 1 GiB)", path), NULL;
    if (q35_json_has_nul(t, n)) {
        free(t);
        return q35_fail(err, errlen, "%s: a string holds U+0000 (\\u0000), which a prompt cannot carry", path), NULL;
    }
    cJSON *j = q35_json_parse(t, n);
    free(t);
    if (!j) q35_fail(err, errlen, "%s: not JSON", path);
    return j;
}

int q35_vqav2_load(q35_mc_set *d, const char *questions, const char *annotations, const char *image_dir, char *err,
                   size_t errlen) {
    memset(d, 0, sizeof *d);
    if (!annotations || !image_dir) return q35_fail(err, errlen, "VQAv2 needs dataset.annotations and dataset.images");
    cJSON *qj = read_json(questions, err, errlen), *aj = qj ? read_json(annotations, err, errlen) : NULL;
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(qj, "questions"), *as = cJSON_GetObjectItemCaseSensitive(aj, "annotations");
    int rc = 0;
    if (!aj) rc = -1;
    else if (!cJSON_IsArray(qs)) rc = q35_fail(err, errlen, "%s: no \"questions\" list", questions);
    else if (!cJSON_IsArray(as)) rc = q35_fail(err, errlen, "%s: no \"annotations\" list", annotations);
    /* annotations by question_id: sorted index for lookups */
    int na = rc == 0 ? cJSON_GetArraySize(as) : 0, row = 0;
    const cJSON **byq = calloc((size_t)na + 1, sizeof *byq);
    if (rc == 0 && !byq) rc = q35_fail(err, errlen, "out of memory");
    int k = 0;
    for (const cJSON *a = rc == 0 ? as->child : NULL; a; a = a->next) byq[k++] = a;
    if (na > 1) qsort(byq, (size_t)na, sizeof *byq, cmp_qid);
    const cJSON *q;
    for (q = rc == 0 ? qs->child : NULL; q && rc == 0; q = q->next, row++) {
        const cJSON *qid = cJSON_GetObjectItemCaseSensitive(q, "question_id"), *img = cJSON_GetObjectItemCaseSensitive(q, "image_id"),
                    *txt = cJSON_GetObjectItemCaseSensitive(q, "question");
        if (!cJSON_IsNumber(qid) || !cJSON_IsNumber(img) || !cJSON_IsString(txt)) {
            rc = q35_fail(err, errlen, "%s: questions[%d]: needs question_id, image_id (numbers) and question (a string)", questions, row);
            break;
        }
        const cJSON *ann = NULL;
        for (int lo = 0, hi = na - 1; lo <= hi && !ann;) { /* binary search by question_id */
            int mid = (lo + hi) / 2;
            double x = qid_of(byq[mid]);
            if (x == qid->valuedouble) ann = byq[mid];
            else if (x < qid->valuedouble) lo = mid + 1;
            else hi = mid - 1;
        }
        const cJSON *ans = cJSON_GetObjectItemCaseSensitive(ann, "answers"), *typ = cJSON_GetObjectItemCaseSensitive(ann, "answer_type");
        int n = cJSON_IsArray(ans) ? cJSON_GetArraySize(ans) : 0;
        if (!ann || n < 2) {
            rc = q35_fail(err, errlen, "%s: question %.0f has %s", annotations, qid->valuedouble, ann ? "fewer than 2 answers" : "no annotation");
            break;
        }
        q35_mc_item it = { 0 };
        it.choices = calloc((size_t)n, sizeof *it.choices);
        it.question = strdup(txt->valuestring);
        it.image_path = malloc(strlen(image_dir) + 40);
        int ok = it.choices && it.question && it.image_path, i = 0;
        for (const cJSON *a = ans->child; ok && a; a = a->next, i++) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "answer");
            if (!cJSON_IsString(s)) {
                rc = q35_fail(err, errlen, "%s: question %.0f: answers[%d] has no answer string", annotations, qid->valuedouble, i);
                ok = 0;
                break;
            }
            ok = (it.choices[i] = strdup(s->valuestring)) != NULL;
            it.n_choices = i + 1;
        }
        if (!ok) {
            if (rc == 0) rc = q35_fail(err, errlen, "out of memory");
            q35_mc_item_free(&it);
            break;
        }
        sprintf(it.image_path, "%s/COCO_val2014_%012.0f.jpg", image_dir, img->valuedouble);
        it.index = (long long)qid->valuedouble, it.doc_id = row, it.line = row + 1;
        if (access(it.image_path, R_OK) != 0) {
            rc = q35_fail(err, errlen, "%s: question %lld: image %s is not there", questions, it.index, it.image_path);
            q35_mc_item_free(&it);
            break;
        }
        q35_mc_subject *s = q35_mc_set_subject(d, cJSON_IsString(typ) && typ->valuestring[0] ? typ->valuestring : "all");
        if (!s || q35_mc_push(&s->test, &s->n_test, &it) != 0) rc = q35_fail(err, errlen, "out of memory");
    }
    free(byq);
    cJSON_Delete(qj), cJSON_Delete(aj);
    if (rc == 0 && d->n == 0) rc = q35_fail(err, errlen, "%s: no questions", questions);
    if (rc != 0) {
        q35_mc_set_free(d);
        return -1;
    }
    q35_mc_set_sort(d);
    return 0;
}
