/* stats.h - comparing two evaluation runs item by item: McNemar's exact test, a paired interval
 * for the difference in accuracy, and `q35 eval diff` (two run directories matched by
 * (subject, doc_id)). */
#ifndef Q35_EVAL_STATS_H
#define Q35_EVAL_STATS_H

#include <stddef.h>
#include <stdio.h>

/* Two-sided exact McNemar test on the discordant counts (b: right in A, wrong in B; c: the
 * reverse): min(1, 2 P(X <= min(b, c))) for X ~ Binomial(b + c, 1/2); 1 when b + c == 0.
 * Exact summation of the binomial tail (Loader's saddle-point form of the point probability,
 * then the ratio recurrence), accurate to ~1e-13 relative for any b + c up to 2^31; far tails
 * underflow to 0, never NaN. NaN when b or c is negative. */
double q35_mcnemar_exact_p(int b, int c);

/* The paired 2x2 table of two runs over the same n = both + a_only + b_only + neither items.
 * *diff = accuracy of B minus accuracy of A = (b_only - a_only) / n, and its 95% interval
 * [*lo, *hi]: Newcombe's hybrid score interval for paired proportions (method 10 of Newcombe,
 * Stat Med 1998;17:2635-50: the two marginal accuracies' Wilson intervals, combined with the
 * estimated correlation phi, which carries his continuity correction: phi = (AD - BC - n/2) /
 * sqrt(product of the margins) when AD - BC > n/2, 0 when 0 <= AD - BC <= n/2, else uncorrected;
 * 0 when a margin is empty). Clamped to [-1, 1]. All three are 0 when n is 0; NaN when a count
 * is negative. (It needs all four cells: phi depends on both-right against both-wrong.) */
void q35_paired_diff95(int both, int a_only, int b_only, int neither, double *diff, double *lo, double *hi);

/* Compares the runs in directories run_a and run_b (written by q35 eval) and writes the report to
 * out: text, or with json one JSON object and a newline. list: how many changed items (and items
 * of only one run) to list, the first in (subject, doc_id) order. Returns 0, or -1 with err and
 * nothing written: a samples.jsonl that cannot be read, a malformed line (err names file:line),
 * the same (subject, doc_id) twice in one run, a results.json or run.json that is not a JSON
 * object; or -1 after a write error on out.
 *
 * Reads RUN/samples.jsonl (required; one record per line with "subject", "doc_id", "pred" (-1:
 * nothing extracted), "gold", "correct", optionally "prompt_sha256" and "ids_sha256"; a torn last
 * line, one without its newline, is left out with a note, as the run would redo it), and for the
 * header RUN/results.json (task, config_sha256, model_fingerprint, backend), else RUN/run.json,
 * and RUN/config.yaml (its "key: value" lines: the keys whose values differ are listed). Items
 * are paired by (subject, doc_id); items of only one run are counted and left out of the paired
 * statistics. A changed item is a paired item whose pred differs.
 *
 * The JSON object's keys:
 *   schema             "q35-eval-diff/1"
 *   a, b               per run: run (the directory as given), task, config_sha256,
 *                      model_fingerprint, backend (null where unknown), items (records read),
 *                      torn_last_line (bool)
 *   same_config, same_model, same_backend   bool (false when either side is unknown)
 *   config_differences [{key, a, b}]: config.yaml keys whose values differ (null: key absent)
 *   paired, only_in_a, only_in_b            item counts
 *   only_in_a_items, only_in_b_items        the first `list` of them: [{subject, doc_id}]
 *   different_prompts  paired items whose prompt_sha256 or ids_sha256 differ (both present)
 *   different_gold     paired items whose gold differs (the datasets differ)
 *   table              {both_right, a_only, b_only, both_wrong} over the paired items
 *   acc_a, acc_b       accuracies over the paired items (null when none are paired)
 *   diff, diff_ci95_lo, diff_ci95_hi        acc_b - acc_a and its interval (as above)
 *   interval           "newcombe-hybrid-score-paired"
 *   mcnemar_p          the exact two-sided McNemar p (q35_mcnemar_exact_p(a_only, b_only))
 *   pred_changed       paired items whose pred differs
 *   subjects           {name: {n, correct_a, correct_b, a_only, b_only, pred_changed}} for
 *                      every subject with paired items
 *   changed            the first `list` changed items: [{subject, doc_id, gold, pred_a, pred_b,
 *                      correct_a, correct_b}] (preds as numbers, -1 = none)
 *   notes              [string]: torn last lines left out, and the like */
int q35_eval_diff(const char *run_a, const char *run_b, FILE *out, int json, int list, char *err, size_t errlen);

#endif
