/* extract.c - which option letter a model's text chose; the rules are in extract.h.
 *
 * Every rule scans the text once, left to right, for its anchor ('"answer"', "\boxed",
 * "answer"), reads a bounded number of bytes after each anchor and keeps the last valid letter.
 * The text is NUL-terminated, so a look-ahead stops at the NUL: every test below fails on 0. */
#include "extract.h"

#include "vqa.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ASCII only: bytes >= 0x80 are none of these, whatever the locale. */
static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_alpha(unsigned char c) { return is_upper(c) || is_lower(c); }
static int is_alnum(unsigned char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
static unsigned char lower(unsigned char c) { return is_upper(c) ? (unsigned char)(c + 32) : c; }

/* Skips at most Q35_EX_GAP_MAX whitespace bytes (and '*' / '_' when md). */
static const unsigned char *skip_gap(const unsigned char *p, int md) {
    for (int i = 0; i < Q35_EX_GAP_MAX && (is_space(*p) || (md && (*p == '*' || *p == '_'))); i++) p++;
    return p;
}

/* Whether p starts with the lower-case ASCII word w, compared case-insensitively. */
static int starts_ci(const unsigned char *p, const char *w) {
    for (; *w; p++, w++)
        if (lower(*p) != (unsigned char)*w) return 0;
    return 1;
}

/* The option index of upper-case letter c, or -1 when it is not one of n options. */
static int upper_opt(unsigned char c, int n) { return is_upper(c) && c - 'A' < n ? c - 'A' : -1; }
static int lower_opt(unsigned char c, int n) { return is_lower(c) && c - 'a' < n ? c - 'a' : -1; }

/* Rule 1 at p, which points at a quote: '"answer"' ':' value. The option, or -1. */
static int json_at(const unsigned char *p, int n) {
    unsigned char q = *p;
    if (!starts_ci(p + 1, "answer") || p[7] != q) return -1;
    p = skip_gap(p + 8, 0);
    if (*p != ':') return -1;
    p = skip_gap(p + 1, 0);
    if (*p == '"' || *p == '\'') { /* quoted */
        unsigned char vq = *p;
        p = skip_gap(p + 1, 0);
        if (is_lower(*p)) return *skip_gap(p + 1, 0) == vq ? lower_opt(*p, n) : -1;
        int paren = *p == '(';
        p += paren;
        unsigned char c = *p++;
        if (!is_upper(c)) return -1;
        if (paren) {
            if (*p++ != ')') return -1;
        } else if (*p == ')' || *p == '.' || *p == ':')
            p++;
        return *p == vq || is_space(*p) ? upper_opt(c, n) : -1;
    }
    /* bare */
    int paren = *p == '(';
    p += paren;
    unsigned char c = *p++;
    if (!is_alpha(c)) return -1; /* also stops at the NUL */
    int sep = 0;
    if (paren) {
        if (*p++ != ')') return -1;
    } else if (*p == ')' || *p == '.')
        p++, sep = 1;
    if (!(*p == 0 || is_space(*p) || *p == ',' || *p == '}' || *p == ']')) return -1;
    if (is_lower(c)) return paren || sep ? -1 : lower_opt(c, n);
    return upper_opt(c, n);
}

/* Rule 2 at p, which points at "\boxed". The option, or -1. */
static int boxed_at(const unsigned char *p, int n) {
    static const char *const wraps[] = { "\\textbf", "\\text", "\\mathrm", "\\mathbf" };
    p = skip_gap(p + 6, 0);
    if (*p != '{') return -1;
    p = skip_gap(p + 1, 0);
    int inner = 0;
    if (*p == '\\') {
        for (size_t i = 0; i < sizeof wraps / sizeof *wraps && !inner; i++) {
            size_t len = strlen(wraps[i]);
            if (strncmp((const char *)p, wraps[i], len) == 0 && !is_alpha(p[len])) p += len, inner = 1;
        }
        if (!inner) return -1;
        p = skip_gap(p, 0);
        if (*p != '{') return -1;
        p = skip_gap(p + 1, 0);
    }
    int opt;
    if (is_lower(*p)) {
        opt = lower_opt(*p++, n);
    } else {
        int paren = *p == '(';
        p += paren;
        unsigned char c = *p++;
        if (!is_upper(c)) return -1;
        if (paren) {
            if (*p++ != ')') return -1;
        } else if (*p == ')' || *p == '.')
            p++;
        opt = upper_opt(c, n);
    }
    p = skip_gap(p, 0);
    if (inner) {
        if (*p != '}') return -1;
        p = skip_gap(p + 1, 0);
    }
    return *p == '}' ? opt : -1;
}

/* Rule 3 at p, which points at "answer" (any case) not preceded by a letter. The option, or -1. */
static int answer_is_at(const unsigned char *p, int n) {
    p += 6;
    if (is_alpha(*p)) return -1; /* "answers", "answered" */
    p = skip_gap(p, 1);
    if (*p == ':') {
        p++;
    } else if (starts_ci(p, "is") && !is_alnum(p[2])) {
        p = skip_gap(p + 2, 1);
        if (*p == ':') p++;
    } else
        return -1;
    p = skip_gap(p, 1);
    if ((starts_ci(p, "option") || starts_ci(p, "choice")) && !is_alpha(p[6])) p = skip_gap(p + 6, 1);
    unsigned char close = *p == '(' ? ')' : *p == '[' ? ']' : 0;
    p += close != 0;
    unsigned char c = *p++;
    if (!is_upper(c)) return -1;
    if (close && *p++ != close) return -1;
    if (is_alnum(*p) || (*p == '\'' && is_alpha(p[1]))) return -1; /* "Because", "I'm", "A1" */
    return upper_opt(c, n);
}

/* Rule 4: the whole text s[0..len) is one letter after trimming. The option, or -1. */
static int lone_letter(const unsigned char *s, size_t len, int n) {
    size_t a = 0, b = len;
    while (a < b && (is_space(s[a]) || s[a] == '*')) a++;
    while (a < b && (is_space(s[b - 1]) || s[b - 1] == '*')) b--;
    if (a < b && s[b - 1] == '.') b--;
    while (a < b && (is_space(s[b - 1]) || s[b - 1] == '*')) b--;
    const unsigned char *p = s + a;
    switch (b - a) {
    case 1: return is_lower(p[0]) ? lower_opt(p[0], n) : upper_opt(p[0], n);
    case 2: return p[1] == ')' ? upper_opt(p[0], n) : -1;
    case 3: return (p[0] == '(' && p[2] == ')') || (p[0] == '[' && p[2] == ']') ? upper_opt(p[1], n) : -1;
    default: return -1;
    }
}

int q35_extract_choice(const char *text, int n_choices, q35_extract_rule *rule) {
    if (rule) *rule = Q35_EX_NONE;
    if (!text || n_choices < 1 || n_choices > Q35_EX_MAX_CHOICES) return -1;
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text);
    int best = -1, r;

    for (size_t i = 0; i < len; i++)
        if ((s[i] == '"' || s[i] == '\'') && (r = json_at(s + i, n_choices)) >= 0) best = r;
    if (best >= 0) {
        if (rule) *rule = Q35_EX_JSON;
        return best;
    }
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\\' && strncmp((const char *)s + i, "\\boxed", 6) == 0 && (r = boxed_at(s + i, n_choices)) >= 0)
            best = r;
    if (best >= 0) {
        if (rule) *rule = Q35_EX_BOXED;
        return best;
    }
    for (size_t i = 0; i < len; i++)
        if (lower(s[i]) == 'a' && (i == 0 || !is_alpha(s[i - 1])) && starts_ci(s + i, "answer") &&
            (r = answer_is_at(s + i, n_choices)) >= 0)
            best = r;
    if (best >= 0) {
        if (rule) *rule = Q35_EX_ANSWER_IS;
        return best;
    }
    if ((best = lone_letter(s, len, n_choices)) >= 0 && rule) *rule = Q35_EX_LONE;
    return best;
}

const char *q35_extract_rule_name(q35_extract_rule r) {
    switch (r) {
    case Q35_EX_JSON: return "json";
    case Q35_EX_BOXED: return "boxed";
    case Q35_EX_ANSWER_IS: return "answer_is";
    case Q35_EX_LONE: return "lone_letter";
    case Q35_EX_VLM_LETTER: return "vlm_letter";
    case Q35_EX_VLM_TEXT: return "vlm_text";
    case Q35_EX_VLM_ANSWER_IS: return "vlm_answer_is";
    case Q35_EX_YES_NO: return "yes_no";
    default: return "none";
    }
}

/* ASCII lower case of s (a new string; NULL on out of memory). Python's str.lower() also folds
 * non-ASCII letters; the options compared here are English. */
static char *ascii_lower(const char *s) {
    char *t = strdup(s);
    for (char *c = t; t && *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    return t;
}

static int is_ws(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Code points of UTF-8 text (Python's len). */
static size_t utf8_len(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* _VERBOSE_ANSWER_RE: (?i)(?:correct\s+)?answer\s+is\s+\**([ABCD])\**, first match. */
static int verbose_answer(const char *t) {
    for (const char *p = t; *p; p++) {
        if (strncasecmp(p, "answer", 6) != 0) continue;
        const char *q = p + 6;
        if (!is_ws(*q)) continue;
        while (is_ws(*q)) q++;
        if (strncasecmp(q, "is", 2) != 0 || !is_ws(q[2])) continue;
        q += 2;
        while (is_ws(*q)) q++;
        while (*q == '*') q++;
        char c = (char)(*q >= 'a' && *q <= 'd' ? *q - 'a' + 'A' : *q);
        if (c >= 'A' && c <= 'D') return c - 'A';
    }
    return -1;
}

int q35_extract_vlmevalkit(const char *text, char *const *choices, int n_choices, q35_extract_rule *rule) {
    q35_extract_rule dummy;
    if (!rule) rule = &dummy;
    *rule = Q35_EX_NONE;
    if (!text || n_choices < 1 || n_choices > 26) return -1;
    static const char *const refusals[] = { "Sorry, I can't help with images of people yet.", "I can't process this file.",
                                            "I'm sorry, but without the image provided", "Cannot determine the answer" };
    int api_failed = strstr(text, "Failed to obtain answer via API") != NULL;
    for (size_t i = 0; !api_failed && i < sizeof refusals / sizeof refusals[0]; i++)
        if (strstr(text, refusals[i])) return -1; /* VLMEvalKit's "Z": no option */
    if (!api_failed) {
        /* can_infer_option: the words once .()[],:;!*#{} are blanked; a letter counts when it is
         * the only option letter among them and stands among the last four words */
        int first[26], words = 0, z = 0;
        for (int k = 0; k < 26; k++) first[k] = -1;
        const char *p = text;
        while (*p) {
            while (*p && (strchr(".()[],:;!*#{}", *p) || is_ws(*p))) p++;
            if (!*p) break;
            const char *w = p;
            while (*p && !strchr(".()[],:;!*#{}", *p) && !is_ws(*p)) p++;
            if (p - w == 1 && *w >= 'A' && *w <= 'Z' && first[*w - 'A'] < 0) first[*w - 'A'] = words;
            words++;
        }
        int count = 0;
        for (int k = 0; k < n_choices; k++) count += first[k] >= 0;
        z = first['Z' - 'A'] >= 0 && n_choices <= 'Z' - 'A';
        if (count == 1)
            for (int k = 0; k < n_choices; k++)
                if (first[k] >= 0 && first[k] > words - 5) {
                    *rule = Q35_EX_VLM_LETTER;
                    return k;
                }
        if (count == 0 && z) return -1; /* "Z": none of them */
        int v = verbose_answer(text);
        if (v >= 0 && v < n_choices) {
            *rule = Q35_EX_VLM_ANSWER_IS;
            return v;
        }
    }
    /* can_infer_text: the one option whose text the (not too long) reply contains */
    size_t total = 0;
    for (int k = 0; k < n_choices; k++) total += utf8_len(choices[k] ? choices[k] : "");
    if (utf8_len(text) > 2 * total) return -1;
    char *low = ascii_lower(text);
    if (!low) return -1;
    int count = 0, which = -1;
    for (int k = 0; k < n_choices; k++) {
        char *o = ascii_lower(choices[k] ? choices[k] : "");
        if (o && strstr(low, o)) count++, which = k;
        free(o);
    }
    free(low);
    if (count == 1) {
        *rule = Q35_EX_VLM_TEXT;
        return which;
    }
    return -1;
}

int q35_extract_yes_no(const char *text, int word_rule) {
    if (!text) return -1;
    char *t = ascii_lower(text);
    if (!t) return -1;
    int ans = -1;
    if (!word_rule) {
        char *a = t, *e = t + strlen(t);
        while (a < e && (*a == ' ' || (*a >= '\t' && *a <= '\r'))) a++;
        while (e > a && (e[-1] == ' ' || (e[-1] >= '\t' && e[-1] <= '\r'))) e--;
        *e = 0;
        ans = !strcmp(a, "yes") ? 0 : !strcmp(a, "no") ? 1 : -1;
    } else {
        int yes = 0, no = 0;
        q35_vqa_punctuation(t, 1);
        for (char *w = strtok(t, " \t\n\r\v\f"); w; w = strtok(NULL, " \t\n\r\v\f")) yes |= !strcmp(w, "yes"), no |= !strcmp(w, "no");
        ans = yes && !no ? 0 : no && !yes ? 1 : -1;
    }
    free(t);
    return ans;
}
