/* pystr.c - Python's str semantics on UTF-8 text (see pystr.h). */
#include "pystr.h"

#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

int32_t q35_py_next(const char *s, size_t n, size_t *i) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + *i, (utf8proc_ssize_t)(n - *i), &cp);
    if (k <= 0) {
        (*i)++;
        return 0xFFFD;
    }
    *i += (size_t)k;
    return cp;
}

int32_t q35_py_prev(const char *s, size_t start, size_t *i) {
    size_t e = *i, q = e - 1;
    while (q > start && ((unsigned char)s[q] & 0xC0) == 0x80 && e - q < 4) q--;
    size_t k = q;
    int32_t c = q35_py_next(s, e, &k);
    if (k != e) {
        *i = e - 1;
        return -1;
    }
    *i = q;
    return c;
}

size_t q35_py_put(char *out, int32_t cp) { return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out); }

int q35_py_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return 0;
    return 1;
}

int q35_py_isspace(int32_t c) {
    if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Code points whose str.upper() is more than one code point (SpecialCasing.txt, unconditional). */
static const struct { int32_t cp, up[3]; } special_upper[] = {
    { 0x00DF, { 0x0053, 0x0053 } }, { 0x0149, { 0x02BC, 0x004E } }, { 0x01F0, { 0x004A, 0x030C } },
    { 0x0390, { 0x0399, 0x0308, 0x0301 } }, { 0x03B0, { 0x03A5, 0x0308, 0x0301 } },
    { 0x0587, { 0x0535, 0x0552 } }, { 0x1E96, { 0x0048, 0x0331 } }, { 0x1E97, { 0x0054, 0x0308 } },
    { 0x1E98, { 0x0057, 0x030A } }, { 0x1E99, { 0x0059, 0x030A } }, { 0x1E9A, { 0x0041, 0x02BE } },
    { 0x1F50, { 0x03A5, 0x0313 } }, { 0x1F52, { 0x03A5, 0x0313, 0x0300 } },
    { 0x1F54, { 0x03A5, 0x0313, 0x0301 } }, { 0x1F56, { 0x03A5, 0x0313, 0x0342 } },
    { 0x1F80, { 0x1F08, 0x0399 } }, { 0x1F81, { 0x1F09, 0x0399 } }, { 0x1F82, { 0x1F0A, 0x0399 } },
    { 0x1F83, { 0x1F0B, 0x0399 } }, { 0x1F84, { 0x1F0C, 0x0399 } }, { 0x1F85, { 0x1F0D, 0x0399 } },
    { 0x1F86, { 0x1F0E, 0x0399 } }, { 0x1F87, { 0x1F0F, 0x0399 } }, { 0x1F88, { 0x1F08, 0x0399 } },
    { 0x1F89, { 0x1F09, 0x0399 } }, { 0x1F8A, { 0x1F0A, 0x0399 } }, { 0x1F8B, { 0x1F0B, 0x0399 } },
    { 0x1F8C, { 0x1F0C, 0x0399 } }, { 0x1F8D, { 0x1F0D, 0x0399 } }, { 0x1F8E, { 0x1F0E, 0x0399 } },
    { 0x1F8F, { 0x1F0F, 0x0399 } }, { 0x1F90, { 0x1F28, 0x0399 } }, { 0x1F91, { 0x1F29, 0x0399 } },
    { 0x1F92, { 0x1F2A, 0x0399 } }, { 0x1F93, { 0x1F2B, 0x0399 } }, { 0x1F94, { 0x1F2C, 0x0399 } },
    { 0x1F95, { 0x1F2D, 0x0399 } }, { 0x1F96, { 0x1F2E, 0x0399 } }, { 0x1F97, { 0x1F2F, 0x0399 } },
    { 0x1F98, { 0x1F28, 0x0399 } }, { 0x1F99, { 0x1F29, 0x0399 } }, { 0x1F9A, { 0x1F2A, 0x0399 } },
    { 0x1F9B, { 0x1F2B, 0x0399 } }, { 0x1F9C, { 0x1F2C, 0x0399 } }, { 0x1F9D, { 0x1F2D, 0x0399 } },
    { 0x1F9E, { 0x1F2E, 0x0399 } }, { 0x1F9F, { 0x1F2F, 0x0399 } }, { 0x1FA0, { 0x1F68, 0x0399 } },
    { 0x1FA1, { 0x1F69, 0x0399 } }, { 0x1FA2, { 0x1F6A, 0x0399 } }, { 0x1FA3, { 0x1F6B, 0x0399 } },
    { 0x1FA4, { 0x1F6C, 0x0399 } }, { 0x1FA5, { 0x1F6D, 0x0399 } }, { 0x1FA6, { 0x1F6E, 0x0399 } },
    { 0x1FA7, { 0x1F6F, 0x0399 } }, { 0x1FA8, { 0x1F68, 0x0399 } }, { 0x1FA9, { 0x1F69, 0x0399 } },
    { 0x1FAA, { 0x1F6A, 0x0399 } }, { 0x1FAB, { 0x1F6B, 0x0399 } }, { 0x1FAC, { 0x1F6C, 0x0399 } },
    { 0x1FAD, { 0x1F6D, 0x0399 } }, { 0x1FAE, { 0x1F6E, 0x0399 } }, { 0x1FAF, { 0x1F6F, 0x0399 } },
    { 0x1FB2, { 0x1FBA, 0x0399 } }, { 0x1FB3, { 0x0391, 0x0399 } }, { 0x1FB4, { 0x0386, 0x0399 } },
    { 0x1FB6, { 0x0391, 0x0342 } }, { 0x1FB7, { 0x0391, 0x0342, 0x0399 } },
    { 0x1FBC, { 0x0391, 0x0399 } }, { 0x1FC2, { 0x1FCA, 0x0399 } }, { 0x1FC3, { 0x0397, 0x0399 } },
    { 0x1FC4, { 0x0389, 0x0399 } }, { 0x1FC6, { 0x0397, 0x0342 } },
    { 0x1FC7, { 0x0397, 0x0342, 0x0399 } }, { 0x1FCC, { 0x0397, 0x0399 } },
    { 0x1FD2, { 0x0399, 0x0308, 0x0300 } }, { 0x1FD3, { 0x0399, 0x0308, 0x0301 } },
    { 0x1FD6, { 0x0399, 0x0342 } }, { 0x1FD7, { 0x0399, 0x0308, 0x0342 } },
    { 0x1FE2, { 0x03A5, 0x0308, 0x0300 } }, { 0x1FE3, { 0x03A5, 0x0308, 0x0301 } },
    { 0x1FE4, { 0x03A1, 0x0313 } }, { 0x1FE6, { 0x03A5, 0x0342 } },
    { 0x1FE7, { 0x03A5, 0x0308, 0x0342 } }, { 0x1FF2, { 0x1FFA, 0x0399 } },
    { 0x1FF3, { 0x03A9, 0x0399 } }, { 0x1FF4, { 0x038F, 0x0399 } }, { 0x1FF6, { 0x03A9, 0x0342 } },
    { 0x1FF7, { 0x03A9, 0x0342, 0x0399 } }, { 0x1FFC, { 0x03A9, 0x0399 } },
    { 0xFB00, { 0x0046, 0x0046 } }, { 0xFB01, { 0x0046, 0x0049 } }, { 0xFB02, { 0x0046, 0x004C } },
    { 0xFB03, { 0x0046, 0x0046, 0x0049 } }, { 0xFB04, { 0x0046, 0x0046, 0x004C } },
    { 0xFB05, { 0x0053, 0x0054 } }, { 0xFB06, { 0x0053, 0x0054 } }, { 0xFB13, { 0x0544, 0x0546 } },
    { 0xFB14, { 0x0544, 0x0535 } }, { 0xFB15, { 0x0544, 0x053B } }, { 0xFB16, { 0x054E, 0x0546 } },
    { 0xFB17, { 0x0544, 0x053D } },
};

/* Python's _PyUnicode_IsCaseIgnorable: Mn Me Cf Lm Sk, and Word_Break MidLetter, MidNumLet and
 * Single_Quote. */
static int case_ignorable(int32_t c) {
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK: return 1;
    default: break;
    }
    static const int32_t mid[] = { 0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
                                   0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A };
    for (size_t k = 0; k < sizeof mid / sizeof mid[0]; k++)
        if (c == mid[k]) return 1;
    return 0;
}

/* Python's _PyUnicode_IsCased: Lu Ll Lt, Other_Lowercase and Other_Uppercase (letters with a case
 * mapping, the ordinal indicators, the squared and circled capital letters). */
static int cased(int32_t c) {
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: return 1;
    default: break;
    }
    return utf8proc_toupper(c) != c || utf8proc_tolower(c) != c || c == 0xAA || c == 0xBA ||
           (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) || (c >= 0x1F170 && c <= 0x1F189);
}

/* U+03A3 at byte i of s lowers to final sigma when a cased letter precedes it and none follows
 * (case-ignorable code points between are skipped both ways). */
static int final_sigma(const char *s, size_t n, size_t at, size_t after) {
    int before = 0;
    for (size_t j = at; j > 0;) {
        int32_t c = q35_py_prev(s, 0, &j);
        if (c < 0) break; /* not text: neither cased nor case-ignorable */
        if (case_ignorable(c)) continue;
        before = cased(c);
        break;
    }
    if (!before) return 0;
    for (size_t j = after; j < n;) {
        int32_t c = q35_py_next(s, n, &j);
        if (!case_ignorable(c)) return !cased(c);
    }
    return 1;
}

size_t q35_py_case(char *out, const char *s, size_t n, int upper) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t c = q35_py_next(s, n, &i);
        if (c < 0x80) {
            out[o++] = (char)(upper ? (c >= 'a' && c <= 'z' ? c - 32 : c) : (c >= 'A' && c <= 'Z' ? c + 32 : c));
            continue;
        }
        if (upper) {
            size_t lo = 0, hi = sizeof special_upper / sizeof special_upper[0];
            while (lo < hi) { /* the table is sorted */
                size_t mid = (lo + hi) / 2;
                if (special_upper[mid].cp < c) lo = mid + 1;
                else hi = mid;
            }
            if (lo < sizeof special_upper / sizeof special_upper[0] && special_upper[lo].cp == c) {
                for (int k = 0; k < 3 && special_upper[lo].up[k]; k++) o += q35_py_put(out + o, special_upper[lo].up[k]);
                continue;
            }
            o += q35_py_put(out + o, utf8proc_toupper(c));
        } else if (c == 0x130) { /* İ lowers to i + combining dot above */
            out[o++] = 'i';
            o += q35_py_put(out + o, 0x307);
        } else if (c == 0x3A3) {
            o += q35_py_put(out + o, final_sigma(s, n, at, i) ? 0x3C2 : 0x3C3);
        } else {
            o += q35_py_put(out + o, utf8proc_tolower(c));
        }
    }
    return o;
}

/* Python's Py_UNICODE_ISPRINTABLE: everything but Cc Cf Cs Co Cn Zl Zp, and Zs other than space. */
static int printable(int32_t c) {
    if (c == ' ') return 1;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS: return 0;
    default: return 1;
    }
}

size_t q35_py_repr(char *out, const char *s, size_t n) {
    int single = memchr(s, '\'', n) != NULL, dbl = memchr(s, '"', n) != NULL;
    char q = single && !dbl ? '"' : '\'';
    size_t o = 0;
    out[o++] = q;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t c = q35_py_next(s, n, &i);
        if (c == q || c == '\\') out[o++] = '\\', out[o++] = (char)c;
        else if (c == '\t') out[o++] = '\\', out[o++] = 't';
        else if (c == '\n') out[o++] = '\\', out[o++] = 'n';
        else if (c == '\r') out[o++] = '\\', out[o++] = 'r';
        else if (c < 0x20 || c == 0x7F) o += (size_t)sprintf(out + o, "\\x%02x", (unsigned)c);
        else if (c < 0x7F) out[o++] = (char)c;
        else if (!printable(c)) {
            if (c <= 0xFF) o += (size_t)sprintf(out + o, "\\x%02x", (unsigned)c);
            else if (c <= 0xFFFF) o += (size_t)sprintf(out + o, "\\u%04x", (unsigned)c);
            else o += (size_t)sprintf(out + o, "\\U%08x", (unsigned)c);
        } else {
            memcpy(out + o, s + at, i - at);
            o += i - at;
        }
    }
    out[o++] = q;
    return o;
}
