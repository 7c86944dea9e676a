/* dumps.c - two dumps, matched by canonical name, judged row by row. */
#include "dumps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "npy.h"
#include "util.h"

int q35_dump_open(q35_st *st, const char *path, char *err, size_t errlen) {
    if (q35_npy_is_dir(path)) return q35_npy_dir_open(st, path, err, errlen);
    return q35_st_open(st, path, err, errlen);
}

static int by_offset(const void *a, const void *b) {
    const q35_st_entry *x = *(const q35_st_entry *const *)a, *y = *(const q35_st_entry *const *)b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    uintptr_t p = (uintptr_t)x->t.data, q = (uintptr_t)y->t.data;
    return p < q ? -1 : p > q;
}

/* The entries of st in the order they were written. */
static const q35_st_entry **written_order(const q35_st *st) {
    const q35_st_entry **order = malloc(((size_t)st->n + 1) * sizeof *order);
    if (!order) return NULL;
    for (int i = 0; i < st->n; i++) order[i] = &st->entries[i];
    qsort(order, (size_t)st->n, sizeof *order, by_offset);
    return order;
}

/* Theirs under our names: one per tensor of theirs, renamed and moved into our layout. */
typedef struct {
    char *name;                  /* canonical */
    const q35_st_entry *e;       /* their entry */
    int alias;                   /* index in the map, -1 when the name was kept */
    int used;
} mapped;

static int cmp_mapped(const void *a, const void *b) { return strcmp(((const mapped *)a)->name, ((const mapped *)b)->name); }

static mapped *find_mapped(mapped *v, int n, const char *name) {
    mapped key = { .name = (char *)name };
    return bsearch(&key, v, (size_t)n, sizeof *v, cmp_mapped);
}

int q35_compare_files(const q35_compare_opts *o, q35_report *rep, char *err, size_t errlen) {
    q35_st a = {0}, b = {0};
    q35_alias_map am = {0};
    mapped *mv = NULL;
    const q35_st_entry **order = NULL;
    int rc = -1, nm = 0;
    const char *phase = o->phase ? o->phase : "prefill";
    if (o->names) {
        if (q35_alias_load(&am, o->names, err, errlen) != 0) return -1;
        if (q35_alias_resolve(&am, o->config, o->params, o->nparams, err, errlen) != 0) goto done;
    }
    if (q35_dump_open(&a, o->ours, err, errlen) != 0 || q35_dump_open(&b, o->theirs, err, errlen) != 0) goto done;
    q35_report_prov(rep, "ours", "%s", o->ours);
    q35_report_prov(rep, "theirs", "%s", o->theirs);
    if (o->names) {
        q35_report_prov(rep, "alias map", "%s (%s), phase %s", o->names, am.implementation ? am.implementation : "", phase);
        for (int k = 0; k < am.nparams; k++)
            q35_report_prov(rep, "param", "%s = %lld", am.param_name[k], (long long)am.param_val[k]);
    }
    q35_report_prov(rep, "policy", "%s", o->policy->source[0] ? o->policy->source : "defaults");

    if (!(mv = calloc((size_t)b.n + 1, sizeof *mv)) || !(order = written_order(&a))) {
        q35_fail(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < b.n; i++) {
        char name[512];
        int idx = -1;
        if (o->names) {
            char ours[400];
            if ((idx = q35_alias_match(&am, 0, b.entries[i].name, ours, sizeof ours)) < 0) {
                q35_row *w = q35_report_add(rep, b.entries[i].name, Q35_ROW_ONLY_THEIRS);
                if (w) snprintf(w->note, sizeof w->note, "no alias in %s", o->names);
                continue;
            }
            snprintf(name, sizeof name, "%s.%s", phase, ours);
            /* a name that stands for several of ours: the first alias whose tensor we have (else the first) */
            char alt[512];
            for (int k = idx; !q35_st_find(&a, name) && (k = q35_alias_match(&am, k + 1, b.entries[i].name, ours, sizeof ours)) >= 0;) {
                snprintf(alt, sizeof alt, "%s.%s", phase, ours);
                if (q35_st_find(&a, alt)) snprintf(name, sizeof name, "%s", alt), idx = k;
            }
        } else {
            snprintf(name, sizeof name, "%s", b.entries[i].name);
        }
        if (!(mv[nm].name = strdup(name))) {
            q35_fail(err, errlen, "out of memory");
            goto done;
        }
        mv[nm].e = &b.entries[i];
        mv[nm++].alias = idx;
    }
    qsort(mv, (size_t)nm, sizeof *mv, cmp_mapped);
    for (int i = 1; i < nm; i++)
        if (strcmp(mv[i].name, mv[i - 1].name) == 0) {
            q35_fail(err, errlen, "%s: %s and %s both map to %s", o->names ? o->names : o->theirs, mv[i - 1].e->name,
                     mv[i].e->name, mv[i].name);
            goto done;
        }

    for (int i = 0; i < a.n; i++) {
        const q35_st_entry *e = order[i];
        char base[512];
        /* logits in top-k form: one row NAME.topk from NAME.topk_ids (+ NAME.topk_logprobs) */
        int ours_topk = q35_ends_with(e->name, ".topk_ids");
        if (q35_ends_with(e->name, ".topk_logprobs") || q35_ends_with(e->name, ".logits.lse")) continue;
        snprintf(base, sizeof base, "%.*s", (int)(strlen(e->name) - (ours_topk ? 9 : 0)), e->name);
        if (ours_topk || q35_ends_with(e->name, "logits")) {
            char ids[600], lps[600];
            snprintf(ids, sizeof ids, "%s.topk_ids", base);
            snprintf(lps, sizeof lps, "%s.topk_logprobs", base);
            mapped *full = find_mapped(mv, nm, base), *ti = find_mapped(mv, nm, ids), *tl = find_mapped(mv, nm, lps);
            if (ours_topk || (!full && ti && tl)) {
                const q35_st_entry *ol = ours_topk ? q35_st_find(&a, lps) : NULL;
                q35_logit_src so = { .full = ours_topk ? NULL : &e->t, .ids = ours_topk ? &e->t : NULL,
                                     .lp = ol ? &ol->t : NULL };
                q35_logit_src sg = { .full = full ? &full->e->t : NULL, .ids = ti ? &ti->e->t : NULL,
                                     .lp = tl ? &tl->e->t : NULL };
                char row[600];
                snprintf(row, sizeof row, "%s.topk", base);
                if (ours_topk && !ol) {
                    q35_fail(err, errlen, "%s: %s has no %s beside it", o->ours, e->name, lps);
                    goto done;
                }
                if (!full && !(ti && tl)) {
                    q35_report_add(rep, row, Q35_ROW_ONLY_OURS);
                    continue;
                }
                char lse[600];
                snprintf(lse, sizeof lse, "%s.lse", base);
                mapped *tz = find_mapped(mv, nm, lse);
                if (full) full->used = 1;
                if (ti) ti->used = 1;
                if (tl) tl->used = 1;
                if (tz) tz->used = 1;
                if (full) sg.ids = sg.lp = NULL; /* the full logits when theirs has them */
                if (!q35_report_compare_topk(rep, o->policy, row, &so, &sg)) goto oom;
                continue;
            }
        }
        mapped *m = find_mapped(mv, nm, e->name);
        if (!m) {
            if (!q35_report_add(rep, e->name, Q35_ROW_ONLY_OURS)) goto oom;
            continue;
        }
        m->used = 1;
        q35_tensor t = m->e->t;
        void *buf = NULL;
        char xerr[400];
        if (m->alias >= 0 && q35_alias_apply(&am, m->alias, &m->e->t, &e->t, &buf, &t, xerr, sizeof xerr) != 0) {
            /* a layout that does not fit: this tensor fails, the others are still compared */
            q35_row *w = q35_report_add(rep, e->name, Q35_ROW_FAIL);
            if (!w) goto oom;
            q35_shape_str(w->shape, sizeof w->shape, &e->t);
            q35_shape_str(w->shape_theirs, sizeof w->shape_theirs, &m->e->t);
            if (!(w->theirs = strdup(m->e->name))) rep->oom = 1;
            snprintf(w->note, sizeof w->note, "transform: %.180s", xerr);
            continue;
        }
        q35_row *w = q35_report_compare(rep, o->policy, e->name, m->e->name, &e->t, &t);
        free(buf);
        if (!w) goto oom;
        if (m->alias >= 0 && am.a[m->alias].note && !w->note[0])
            snprintf(w->note, sizeof w->note, "%s", am.a[m->alias].note);
    }
    for (int i = 0; i < nm; i++)
        if (!mv[i].used) {
            q35_row *w = q35_report_add(rep, mv[i].name, Q35_ROW_ONLY_THEIRS);
            if (w && mv[i].alias >= 0 && !(w->theirs = strdup(mv[i].e->name))) rep->oom = 1;
        }
    rc = q35_report_finish(rep);
    if (rep->compared == 0) {
        rc = q35_fail(err, errlen, "%s and %s share no tensor name%s", o->ours, o->theirs,
                      o->names ? " after the alias map" : " (another implementation's names need --names MAP)");
    }
    goto done;
oom:
    rc = q35_fail(err, errlen, "out of memory");
done:
    for (int i = 0; i < nm; i++) free(mv[i].name);
    free(mv);
    free(order);
    q35_alias_free(&am);
    q35_st_close(&a);
    q35_st_close(&b);
    return rc;
}
