/* chart.c - the SVG bar chart of accuracies (chart.h). */
#include "chart.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Layout, in SVG user units (px). */
#define ROW_H 22     /* one bar's row */
#define BAR_H 14     /* the bar's thickness */
#define CHAR_W 7     /* a label character's width at 12px sans-serif, roughly */
#define PLOT_W 400   /* the 0..100% axis */
#define RIGHT_W 130  /* "100.0%  n=14042" */
#define TOP 56       /* title and reference label */
#define BOTTOM 36    /* axis labels */
#define MAX_LABEL 48 /* characters shown of a label */

/* Writes s XML-escaped, at most max characters (then "..."); control characters and, when s is
 * not valid UTF-8, every non-ASCII byte become '?'. */
static void put_text(FILE *f, const char *s, int max) {
    if (!s) return;
    int utf8 = q35_valid_utf8(s), chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (!utf8 || (*p & 0xC0) != 0x80) { /* a character starts here */
            if (chars++ == max) {
                fputs("...", f);
                return;
            }
        }
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8) ? '?' : *p, f);
        }
    }
}

/* The number of characters put_text shows of s. */
static int text_len(const char *s, int max) {
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) n += (*p & 0xC0) != 0x80;
    return n > max ? max + 3 : n;
}

static double clamp01(double v) {
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void write_svg(FILE *f, const char *title, const q35_chart_bar *bars, int n, double reference,
                      const char *reference_label) {
    int lw = 0;
    for (int i = 0; i < n; i++) {
        int l = text_len(bars[i].label, MAX_LABEL);
        if (l > lw) lw = l;
    }
    int x0 = 12 + lw * CHAR_W + 8, width = x0 + PLOT_W + RIGHT_W, plot_h = (n > 0 ? n : 1) * ROW_H;
    int height = TOP + plot_h + BOTTOM, y1 = TOP + plot_h;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
            width, height, width, height, width, height);
    if (title) {
        fprintf(f, "<text x=\"12\" y=\"22\" font-size=\"15\" font-weight=\"bold\">");
        put_text(f, title, 120);
        fprintf(f, "</text>\n");
    }
    for (int g = 0; g <= 4; g++) { /* the frame at 0 and 100%, grid lines between */
        double x = x0 + PLOT_W * g / 4.0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1\"/>\n", x, TOP, x, y1,
                g == 0 || g == 4 ? "#888888" : "#dddddd");
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#444444\">%d%%</text>\n", x, y1 + 16, 25 * g);
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888888\" stroke-width=\"1\"/>\n", x0, y1,
            x0 + PLOT_W, y1);
    if (n == 0) fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#444444\">no data</text>\n", x0 + 8, TOP + 15);
    for (int i = 0; i < n; i++) {
        const q35_chart_bar *b = &bars[i];
        int y = TOP + i * ROW_H, yc = y + ROW_H / 2;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", x0 - 8, yc + 4);
        put_text(f, b->label, MAX_LABEL);
        fprintf(f, "</text>\n");
        int has_v = !isnan(b->value);
        double v = clamp01(b->value);
        if (has_v)
            fprintf(f, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"#4e79a7\"/>\n", x0,
                    yc - BAR_H / 2, PLOT_W * v, BAR_H);
        if (!isnan(b->lo) && !isnan(b->hi) && b->lo <= b->hi) {
            double xl = x0 + PLOT_W * clamp01(b->lo), xh = x0 + PLOT_W * clamp01(b->hi);
            fprintf(f, "<path class=\"whisker\" d=\"M%.2f %d V%d M%.2f %d H%.2f M%.2f %d V%d\" stroke=\"#222222\" "
                       "stroke-width=\"1.2\" fill=\"none\"/>\n",
                    xl, yc - 4, yc + 4, xl, yc, xh, xh, yc - 4, yc + 4);
        }
        fprintf(f, "<text x=\"%d\" y=\"%d\">", x0 + PLOT_W + 8, yc + 4);
        if (has_v) fprintf(f, "%.1f%%", 100 * v);
        else fprintf(f, "-");
        fprintf(f, "  n=%d</text>\n", b->n);
    }
    if (reference >= 0) {
        double x = x0 + PLOT_W * clamp01(reference);
        fprintf(f, "<line class=\"reference\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#e15759\" "
                   "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n",
                x, TOP - 6, x, y1);
        fprintf(f, "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\" fill=\"#e15759\">", x, TOP - 10);
        put_text(f, reference_label ? reference_label : "reference", MAX_LABEL);
        fprintf(f, " %.1f%%</text>\n", 100 * clamp01(reference));
    }
    fprintf(f, "</svg>\n");
}

int q35_chart_svg(const char *path, const char *title, const q35_chart_bar *bars, int n, double reference,
                  const char *reference_label, char *err, size_t errlen) {
    if (n < 0 || (n > 0 && !bars)) return q35_fail(err, errlen, "chart: %d bars (bars %s)", n, bars ? "given" : "NULL");
    if (!path) return q35_fail(err, errlen, "chart: no path");
    char *svg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&svg, &len);
    if (!f) return q35_fail(err, errlen, "out of memory");
    write_svg(f, title, bars, n, reference, reference_label);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    int rc = bad ? q35_fail(err, errlen, "%s: out of memory", path) : q35_write_file_atomic(path, svg, len, err, errlen);
    free(svg);
    return rc;
}
