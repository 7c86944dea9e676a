/* chart.h - a self-contained SVG bar chart of accuracies (for report.md): one horizontal bar per
 * category or subject with its 95% interval, no scripts, no external fonts. */
#ifndef Q35_EVAL_CHART_H
#define Q35_EVAL_CHART_H

#include <stddef.h>

typedef struct {
    const char *label; /* the row's name (NULL: "") */
    double value;      /* the accuracy in [0, 1] (clamped; NaN draws no bar) */
    double lo, hi;     /* its 95% interval, drawn as a whisker (clamped; NaN or lo > hi: none) */
    int n;             /* the items behind it, shown as "n=.." */
} q35_chart_bar;

/* Writes to path (atomically: path.tmp, then renamed) an SVG chart titled title (NULL: none) of
 * the n bars, top to bottom in the order given: the label left, the bar on an axis 0..100% with
 * grid lines at 25/50/75%, the interval's whisker, and "41.2%  n=57" right of the plot. reference
 * in [0, 1] draws a dashed vertical line with reference_label (NULL: "reference") and the value;
 * reference < 0 (or NaN) draws none. Height grows with n; labels over 48 characters are cut with
 * "...". Text is XML-escaped (& < > " '); control characters and bytes of invalid UTF-8 become
 * '?'. Returns 0, or -1 with err (n < 0, bars NULL with n > 0, a write or rename failure; no
 * path.tmp is left behind). */
int q35_chart_svg(const char *path, const char *title, const q35_chart_bar *bars, int n, double reference,
                  const char *reference_label, char *err, size_t errlen);

#endif
