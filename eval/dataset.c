/* dataset.c - a multiple-choice benchmark in memory (dataset.h). */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

void q35_mc_item_free(q35_mc_item *it) {
    free(it->question);
    for (int k = 0; k < it->n_choices; k++) free(it->choices[k]);
    free(it->choices);
    free(it->error_type);
    free(it->hint), free(it->image), free(it->image_path);
    memset(it, 0, sizeof *it);
}

void q35_mc_subject_free(q35_mc_subject *s) {
    for (int j = 0; j < s->n_test; j++) q35_mc_item_free(&s->test[j]);
    for (int j = 0; j < s->n_dev; j++) q35_mc_item_free(&s->dev[j]);
    free(s->test), free(s->dev), free(s->name), free(s->category);
    memset(s, 0, sizeof *s);
}

void q35_mc_set_free(q35_mc_set *d) {
    for (int i = 0; i < d->n; i++) q35_mc_subject_free(&d->s[i]);
    free(d->s);
    memset(d, 0, sizeof *d);
}

static int cmp_subject(const void *a, const void *b) {
    return strcmp(((const q35_mc_subject *)a)->name, ((const q35_mc_subject *)b)->name);
}

void q35_mc_set_sort(q35_mc_set *d) {
    if (d->n > 1) qsort(d->s, (size_t)d->n, sizeof *d->s, cmp_subject);
}

q35_mc_subject *q35_mc_set_subject(q35_mc_set *d, const char *name) {
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->s[i].name, name) == 0) return &d->s[i];
    q35_mc_subject *s = realloc(d->s, (size_t)(d->n + 1) * sizeof *s);
    if (!s) return NULL;
    d->s = s;
    s = &d->s[d->n];
    memset(s, 0, sizeof *s);
    if (!(s->name = strdup(name))) return NULL;
    const char *cat = q35_mmlu_category(name);
    if (cat && !(s->category = strdup(cat))) {
        free(s->name);
        return NULL;
    }
    d->n++;
    return s;
}

int q35_mc_push(q35_mc_item **items, int *n, q35_mc_item *it) {
    if ((*n & (*n - 1)) == 0) { /* capacity doubles at powers of two */
        q35_mc_item *g = realloc(*items, (size_t)(*n ? 2 * *n : 1) * sizeof *g);
        if (!g) {
            q35_mc_item_free(it);
            return -1;
        }
        *items = g;
    }
    (*items)[(*n)++] = *it;
    memset(it, 0, sizeof *it);
    return 0;
}

/* lm-evaluation-harness's MMLU groups (its per-subject task files name one of four). */
static const char *const mmlu_groups[][2] = {
    { "abstract_algebra", "stem" }, { "anatomy", "stem" }, { "astronomy", "stem" }, { "business_ethics", "other" },
    { "clinical_knowledge", "other" }, { "college_biology", "stem" }, { "college_chemistry", "stem" },
    { "college_computer_science", "stem" }, { "college_mathematics", "stem" }, { "college_medicine", "other" },
    { "college_physics", "stem" }, { "computer_security", "stem" }, { "conceptual_physics", "stem" },
    { "econometrics", "social_sciences" }, { "electrical_engineering", "stem" }, { "elementary_mathematics", "stem" },
    { "formal_logic", "humanities" }, { "global_facts", "other" }, { "high_school_biology", "stem" },
    { "high_school_chemistry", "stem" }, { "high_school_computer_science", "stem" },
    { "high_school_european_history", "humanities" }, { "high_school_geography", "social_sciences" },
    { "high_school_government_and_politics", "social_sciences" }, { "high_school_macroeconomics", "social_sciences" },
    { "high_school_mathematics", "stem" }, { "high_school_microeconomics", "social_sciences" },
    { "high_school_physics", "stem" }, { "high_school_psychology", "social_sciences" },
    { "high_school_statistics", "stem" }, { "high_school_us_history", "humanities" },
    { "high_school_world_history", "humanities" }, { "human_aging", "other" }, { "human_sexuality", "social_sciences" },
    { "international_law", "humanities" }, { "jurisprudence", "humanities" }, { "logical_fallacies", "humanities" },
    { "machine_learning", "stem" }, { "management", "other" }, { "marketing", "other" }, { "medical_genetics", "other" },
    { "miscellaneous", "other" }, { "moral_disputes", "humanities" }, { "moral_scenarios", "humanities" },
    { "nutrition", "other" }, { "philosophy", "humanities" }, { "prehistory", "humanities" },
    { "professional_accounting", "other" }, { "professional_law", "humanities" }, { "professional_medicine", "other" },
    { "professional_psychology", "social_sciences" }, { "public_relations", "social_sciences" },
    { "security_studies", "social_sciences" }, { "sociology", "social_sciences" }, { "us_foreign_policy", "social_sciences" },
    { "virology", "other" }, { "world_religions", "humanities" },
};

const char *q35_mmlu_category(const char *subject) {
    for (size_t i = 0; i < sizeof mmlu_groups / sizeof mmlu_groups[0]; i++)
        if (strcmp(mmlu_groups[i][0], subject) == 0) return mmlu_groups[i][1];
    return NULL;
}
