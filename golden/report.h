/* report.h - the result of a compare or verify run: one row per tensor, in execution order, judged
 * under a tolerance policy; printed as a table, written as JSON or as a Markdown conformance report.
 *
 * JSON schema "q35-report/1" (documented in README.md, checked by tests/test_compare.c):
 *   { "schema": "q35-report/1", "kind": "compare" | "verify", "verdict": "pass" | "fail" | "incomplete",
 *     "provenance": { key: string, ... },
 *     "summary": { "compared", "passed", "failed", "missing", "unsupported", "only_ours", "only_theirs",
 *                  "worst": { "name", "max_rel" } | null },
 *     "first_divergence": { "name", "layer", "status", "before": [ { "name", "status" } ] } | null,
 *     "tensors": [ { "name", "theirs", "status", "shape", "shape_theirs", "dtype_ours", "dtype_theirs",
 *                    "rule": { "name", "bars" },
 *                    "metrics": { "max_abs", "max_rel", "mean_abs", "rmse", "nmse", "cosine", "atol_needed",
 *                                 "rtol_needed", "mismatches", "nan_ours", "nan_theirs", "first_nan_ours",
 *                                 "first_nan_theirs", "allclose_bad" } | null,
 *                    "logits": { "positions", "compact", "k", "top1", "top5", "top10",
 *                                "kl_theirs_ours": { "mean", "p99", "max" }, "kl_ours_theirs": {...},
 *                                "first_argmax_diff", "max_abs_logprob" } | null,
 *                    "note" } ] }
 * "theirs" is the golden / second side (null names mean "same as name"); a number that is not
 * finite is written as null. Statuses: "ok", "FAIL", "MISSING" (a golden ours did not produce),
 * "unsupported" (needs a part q35 lacks), "only_ours", "only_theirs". */
#ifndef Q35_REPORT_H
#define Q35_REPORT_H

#include <stdio.h>

#include "compare.h"
#include "logits.h"
#include "policy.h"

typedef enum { Q35_ROW_OK, Q35_ROW_FAIL, Q35_ROW_MISSING, Q35_ROW_UNSUPPORTED, Q35_ROW_ONLY_OURS, Q35_ROW_ONLY_THEIRS } q35_row_status;

typedef struct {
    char *name;              /* canonical name (owned) */
    char *theirs;            /* the second side's own name when an alias map renamed it, else NULL */
    q35_row_status status;
    char shape[64], shape_theirs[64], dtype_ours[8], dtype_theirs[8];
    int has_cmp, has_logits;
    q35_cmp c;
    q35_logit_cmp lg;
    int64_t allclose_bad;
    char rule[96], bars[160];
    char note[200];
} q35_row;

typedef struct {
    const char *kind;        /* "compare" or "verify" */
    q35_row *rows;
    int n, cap;
    char *prov[32][2];       /* provenance key, value (owned) */
    int nprov;
    int oom;
    /* filled by q35_report_finish */
    int compared, passed, failed, missing, unsupported, only_ours, only_theirs;
    int first_fail, worst;   /* row indices, -1 when none */
} q35_report;

void q35_report_init(q35_report *r, const char *kind);
void q35_report_free(q35_report *r);
/* Adds a provenance line (key, printf-formatted value), kept in order. */
void q35_report_prov(q35_report *r, const char *key, const char *fmt, ...);
/* Appends a row named name with the given status and no metrics; NULL when out of memory. */
q35_row *q35_report_add(q35_report *r, const char *name, q35_row_status st);
/* Compares ours with gold (their name theirs_name, or NULL) under policy p and appends the row.
 * Tensors named ...logits get the logits metrics too. */
q35_row *q35_report_compare(q35_report *r, const q35_policy *p, const char *name, const char *theirs_name,
                            const q35_tensor *ours, const q35_tensor *gold);
/* The same for logits where either side is in top-k form (name is NAME.logits.topk). */
q35_row *q35_report_compare_topk(q35_report *r, const q35_policy *p, const char *name, const q35_logit_src *ours,
                                 const q35_logit_src *gold);
/* Counts, first failure and worst row; returns 0 when nothing failed or went missing, else 1. */
int q35_report_finish(q35_report *r);
/* "pass", "fail" (a row failed or a golden was not produced) or "incomplete" (nothing failed, but
 * some goldens need parts q35 lacks: not a pass). */
const char *q35_report_verdict(const q35_report *r);

/* The layer a canonical name belongs to ("text layer 7", "vision block 2") into buf, or "" . */
void q35_name_layer(char *buf, size_t n, const char *name);

/* The human table: provenance, verdict, first divergence with the 3 compared tensors before it,
 * then one row per tensor (only failures when failures_only), then the summary. color: ANSI
 * colours (the caller passes isatty). */
void q35_report_print(const q35_report *r, FILE *out, int color, int failures_only);
/* Writes the JSON document (schema above) / the Markdown conformance report to path (through
 * path.tmp, renamed when complete). */
int q35_report_write_json(const q35_report *r, const char *path, char *err, size_t errlen);
int q35_report_write_markdown(const q35_report *r, const char *path, char *err, size_t errlen);

#endif
