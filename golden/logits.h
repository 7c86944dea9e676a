/* logits.h - metrics between two sets of logits, full or compact (top-k).
 *
 * A logits tensor is [..., V]: every row is one position. A compact dump keeps, per position, the
 * k largest log-probabilities and their ids (NAME.topk_logprobs F32 [..., k], NAME.topk_ids I64
 * [..., k], sorted by decreasing log-probability) and the log-sum-exp of the row (NAME.lse), so a
 * 248320-wide row costs k * 12 bytes instead of 1 MB.
 *
 * Metrics, "golden" being the reference side:
 *   top1         fraction of positions whose argmax agrees
 *   top5, top10  mean over positions of |top-k(ours) ∩ top-k(golden)| / k
 *   kl_go        KL(golden || ours) = sum p_g (log p_g - log p_o), per position, in nats
 *   kl_og        KL(ours || golden)
 *                mean, 99th percentile (nearest rank) and max over positions
 *   first_argmax_diff  the first position whose argmax differs, -1 when none
 * With full logits on both sides the KL sums run over the whole vocabulary, in double. When either
 * side is compact, each distribution is reduced to k + 1 buckets: the reference side's top-k ids
 * and one bucket for the rest (which can only lower KL: a lower bound). An id the compact side did
 * not keep is given that side's smallest kept probability (an upper bound on it). */
#ifndef Q35_LOGITS_H
#define Q35_LOGITS_H

#include <stddef.h>

#include "tensor.h"

typedef struct {
    const q35_tensor *full;   /* [..., V], or NULL for a compact side */
    const q35_tensor *ids;    /* compact: [..., k] I64 */
    const q35_tensor *lp;     /* compact: [..., k] log-probabilities */
} q35_logit_src;

typedef struct {
    int positions;
    int compact;              /* either side compact: KL over k + 1 buckets (a lower bound) */
    int k;                    /* the compact side's k (0 when both are full) */
    double top1, top5, top10;
    double kl_go_mean, kl_go_p99, kl_go_max;
    double kl_og_mean, kl_og_p99, kl_og_max;
    int first_argmax_diff;
    /* compact only: the largest |log p_o - log p_g| over the golden's kept ids both sides know */
    double max_abs_logprob;
} q35_logit_cmp;

/* Compares ours with gold. Returns 0, or -1 with err when the shapes disagree (positions, V, or
 * compact tensors whose ids and log-probabilities differ in shape) or memory runs out. */
int q35_compare_logits(q35_logit_cmp *r, const q35_logit_src *ours, const q35_logit_src *gold, char *err,
                       size_t errlen);

/* The compact form of rows logits rows x V: out_ids[rows*k], out_lp[rows*k] (decreasing), out_lse[rows].
 * k must be in 1..64 and <= V. Ties are broken by the smaller id. */
void q35_logits_topk(int64_t *out_ids, float *out_lp, float *out_lse, const float *logits, int rows, int V, int k);

#endif
