/* image.c - PNG/JPEG decoding (libpng, libjpeg-turbo) and Qwen2-VL image preprocessing. */
#include "image.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h> /* after stdio.h: it uses FILE */
#include <jerror.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "util.h"

void q35_image_free(q35_image *im) {
    if (!im) return;
    free(im->rgb);
    memset(im, 0, sizeof *im);
}

static int check_size(const char *path, long w, long h, char *err, size_t errlen) {
    if (w <= 0 || h <= 0) return q35_fail(err, errlen, "%s: image has a zero side (%ldx%ld)", path, w, h);
    if (w > Q35_IMAGE_MAX_SIDE || h > Q35_IMAGE_MAX_SIDE || (unsigned long)w * (unsigned long)h > Q35_IMAGE_MAX_PIXELS)
        return q35_fail(err, errlen, "%s: image of %ldx%ld pixels is larger than q35 accepts (sides up to %d, %u pixels)",
                        path, w, h, Q35_IMAGE_MAX_SIDE, Q35_IMAGE_MAX_PIXELS);
    return 0;
}

/* ---- EXIF orientation, found where and as Pillow 13 finds it ----
 *
 * Hugging Face's load_image opens the file with Pillow and calls ImageOps.exif_transpose, which
 * transposes by image.getexif()'s Orientation: tag 0x0112 of IFD0 of the TIFF-structured block
 * in image.info["exif"] (for a PNG without one, the hex dump of a "Raw profile type exif" text
 * chunk) and, when IFD0 holds no such tag, the first tiff:Orientation of the XMP packet. Where
 * each comes from in a JPEG or PNG, and how Pillow parses it, hostile files included, is
 * reproduced here, and so are the ways this metadata makes load_image raise (q35 then refuses the
 * image); tests/data/images/exif_hostile/make_fixtures.py records what Pillow 13.0 does with each
 * case. Not reproduced: after transposing, exif_transpose writes the EXIF back (Exif.tobytes) and
 * raises when a tag's value does not fit the type Pillow gives that tag; q35 transposes those. */

/* A byte string of the file's metadata; set tells an empty value from an absent one. */
typedef struct {
    uint8_t *p;
    size_t n;
    int set;
} meta_str;

/* The entries of Pillow's image.info that getexif reads. */
typedef struct {
    meta_str exif;        /* info["exif"] */
    int exif_is_text;     /* ... came from a zTXt or iTXt chunk: a str, on which Exif.load raises */
    meta_str raw_profile; /* info["Raw profile type exif"] (PNG text chunks, ImageMagick's) */
    meta_str xmp_text;    /* info["XML:com.adobe.xmp"] (PNG text chunks) */
    meta_str xmp;         /* info["xmp"]: JPEG's XMP APP1, the value of a PNG iTXt XML:com.adobe.xmp */
    int jpeg;             /* from a JPEG ... */
    int jfif_dpi;         /* ... with a JFIF APP0 that gives a resolution (info["dpi"]) */
} pil_meta;

static void meta_free(pil_meta *m) {
    free(m->exif.p);
    free(m->raw_profile.p);
    free(m->xmp_text.p);
    free(m->xmp.p);
    memset(m, 0, sizeof *m);
}

/* Replaces s by the n bytes at p (appends them when append and s is set). -1 when out of memory. */
static int meta_put(meta_str *s, const uint8_t *p, size_t n, int append) {
    size_t keep = append && s->set ? s->n : 0;
    uint8_t *q = malloc(keep + n + 1);
    if (!q) return -1;
    if (keep) memcpy(q, s->p, keep);
    if (n) memcpy(q + keep, p, n);
    free(s->p);
    s->p = q, s->n = keep + n, s->set = 1;
    return 0;
}

static unsigned rd16(const uint8_t *d, int le) { return le ? (unsigned)(d[0] | d[1] << 8) : (unsigned)(d[0] << 8 | d[1]); }
static uint32_t rd32(const uint8_t *d, int le) {
    return le ? (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24
              : (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | (uint32_t)d[3];
}
static uint64_t rd64(const uint8_t *d, int le) {
    return le ? (uint64_t)rd32(d + 4, 1) << 32 | rd32(d, 1) : (uint64_t)rd32(d, 0) << 32 | rd32(d + 4, 0);
}

/* The transposition exif_transpose makes (2..8; 1: none) for an Orientation of TIFF type typ whose
 * first value is at d. Pillow looks the value up in {2: ..., 8: ...}: an integer, float or
 * rational equal to 2..8 counts; BYTE and UNDEFINED values (bytes) and ASCII (str) never do. */
static int tiff_orientation_value(const uint8_t *d, unsigned typ, int le) {
    double v;
    switch (typ) {
    case 3: v = rd16(d, le); break;                                 /* SHORT */
    case 8: v = (int16_t)rd16(d, le); break;                        /* SSHORT */
    case 4: case 13: v = rd32(d, le); break;                        /* LONG, IFD */
    case 9: v = (int32_t)rd32(d, le); break;                        /* SLONG */
    case 6: v = (int8_t)d[0]; break;                                /* SBYTE */
    case 16: v = rd64(d, le) <= 8 ? (double)rd64(d, le) : 0; break; /* LONG8 */
    case 11: { uint32_t b = rd32(d, le); float f; memcpy(&f, &b, 4); v = f; break; }
    case 12: { uint64_t b = rd64(d, le); memcpy(&v, &b, 8); break; }
    case 5: case 10: { /* RATIONAL, SRATIONAL: IFDRational, NaN for a zero denominator */
        int64_t num = typ == 5 ? (int64_t)rd32(d, le) : (int64_t)(int32_t)rd32(d, le);
        int64_t den = typ == 5 ? (int64_t)rd32(d + 4, le) : (int64_t)(int32_t)rd32(d + 4, le);
        for (int k = 2; k <= 8; k++)
            if (den != 0 && num == k * den) return k;
        return 1;
    }
    default: return 1;
    }
    for (int k = 2; k <= 8; k++)
        if (v == k) return k;
    return 1;
}

/* Bytes per value of the TIFF types Pillow reads (ImageFileDirectory_v2._load_dispatch); 0 for
 * those it skips. */
static unsigned tiff_type_size(unsigned typ) {
    static const unsigned char size[17] = { 0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8 };
    return typ < 17 ? size[typ] : 0;
}

/* What Pillow reads from IFD0 that decides how Hugging Face's load_image treats the image. */
typedef struct {
    int found;     /* the Orientation tag was stored (Pillow then ignores XMP) */
    int o;         /* its transposition (2..8, 1 for none) */
    int unit;      /* ResolutionUnit (0x0128) was stored */
    int xres_bad;  /* XResolution (0x011A) is a value that Pillow's JPEG opener indexes past its end:
                    * one BYTE or UNDEFINED byte, or ASCII text of no character or one digit */
} tiff_info;

/* IFD0 of an EXIF block as Pillow reads it (Image.Exif.load,
 * TiffImagePlugin.ImageFileDirectory_v2.load): one or two "Exif\0\0" prefixes are dropped and an
 * empty block has no tags; the first entry of a tag wins; entries of unknown types or of no values
 * are skipped, and so is an out-of-line value once the out-of-line sizes read so far exceed the
 * block; an out-of-line value that runs past the end, like a short entry or count, ends the
 * reading, the tags read before it kept. Returns -1 with *why where Pillow raises: no TIFF header,
 * a BigTIFF one, or fewer than 8 bytes. */
static int tiff_ifd0(const uint8_t *p, size_t n, tiff_info *t, const char **why) {
    memset(t, 0, sizeof *t);
    t->o = 1;
    for (int k = 0; k < 2 && n >= 6 && memcmp(p, "Exif\0\0", 6) == 0; k++) p += 6, n -= 6;
    if (n == 0) return 0;
    /* TiffImagePlugin.PREFIXES; of them only "II+\0" has the BigTIFF byte (43) where Pillow looks */
    static const char *const heads[] = { "MM\0*", "II*\0", "MM*\0", "II\0*", "MM\0+", "II+\0" };
    int head = -1;
    for (int k = 0; k < 6 && n >= 4; k++)
        if (memcmp(p, heads[k], 4) == 0) head = k;
    if (head < 0) return *why = "no TIFF header", -1;
    if (head == 5) return *why = "a BigTIFF header", -1;
    if (n < 8) return *why = "it ends within the TIFF header", -1;
    int le = p[0] == 'I';
    uint64_t ifd = rd32(p + 4, le), total = 0;
    if (ifd + 2 > n) return 0;
    unsigned count = rd16(p + ifd, le);
    uint8_t seen[65536 / 8] = { 0 };
    for (unsigned i = 0; i < count; i++) {
        uint64_t e = ifd + 2 + 12 * (uint64_t)i;
        if (e + 12 > n) break;
        unsigned tag = rd16(p + e, le), typ = rd16(p + e + 2, le);
        if (seen[tag >> 3] & (1u << (tag & 7))) continue;
        uint64_t size = (uint64_t)rd32(p + e + 4, le) * tiff_type_size(typ);
        if (size == 0) continue; /* unknown type, or no values */
        const uint8_t *d = p + e + 8;
        if (size > 4) {
            uint64_t off = rd32(p + e + 8, le);
            if ((total += size) > n) continue;
            if (off + size > n) break;
            d = p + off;
        }
        seen[tag >> 3] |= (uint8_t)(1u << (tag & 7));
        if (tag == 0x0112) t->found = 1, t->o = tiff_orientation_value(d, typ, le);
        if (tag == 0x0128) t->unit = 1;
        if (tag == 0x011A) {
            size_t len = (size_t)size - (d[size - 1] == 0); /* load_string drops one trailing NUL */
            t->xres_bad = ((typ == 1 || typ == 7) && size == 1) || (typ == 2 && (len == 0 || (len == 1 && d[0] >= '0' && d[0] <= '9')));
        }
    }
    return 0;
}

/* The digit of the first match of Pillow's r'tiff:Orientation(="|>)([0-9])' in s, or -1. */
static int xmp_orientation(const uint8_t *s, size_t n) {
    static const char key[] = "tiff:Orientation";
    const size_t k = sizeof key - 1;
    for (size_t i = 0; i + k < n; i++) {
        if (memcmp(s + i, key, k) != 0) continue;
        size_t j = i + k;
        if (s[j] == '>') j += 1;
        else if (s[j] == '=' && j + 1 < n && s[j + 1] == '"') j += 2;
        else continue;
        if (j < n && s[j] >= '0' && s[j] <= '9') return s[j] - '0';
    }
    return -1;
}

static int hex_digit(uint8_t c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* bytes.fromhex("".join(t.split("\n")[3:])) of a "Raw profile type exif" text into out: the hex
 * dump after the third line feed, pairs of hex digits with ASCII whitespace between pairs.
 * Returns -1 where Python raises ValueError, -2 when out of memory. */
static int raw_profile_decode(const uint8_t *t, size_t n, meta_str *out) {
    size_t i = 0;
    for (int lf = 0; lf < 3; lf++) {
        const uint8_t *nl = memchr(t + i, '\n', n - i);
        if (!nl) return meta_put(out, t, 0, 0) ? -2 : 0;
        i = (size_t)(nl - t) + 1;
    }
    uint8_t *q = malloc((n - i) / 2 + 1);
    if (!q) return -2;
    size_t m = 0;
    int top = -1; /* the first digit of a pair */
    for (; i < n; i++) {
        uint8_t c = t[i];
        if (c == '\n') continue; /* removed by the join */
        if (top < 0 && (c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r')) continue;
        int v = hex_digit(c);
        if (v < 0) break;
        if (top < 0) top = v;
        else q[m++] = (uint8_t)(top << 4 | v), top = -1;
    }
    if (i < n || top >= 0) {
        free(q);
        return -1;
    }
    free(out->p);
    out->p = q, out->n = m, out->set = 1;
    return 0;
}

/* The transposition (1..8) exif_transpose makes of an image with metadata m. Returns -1 with why
 * where Hugging Face's load_image raises on that metadata (in exif_transpose, or in Pillow's JPEG
 * opener), -2 when out of memory. */
static int pil_orientation(const pil_meta *m, int *o, char *why, size_t whylen) {
    *o = 1;
    meta_str hex = { 0 };
    const meta_str *exif = &m->exif;
    if (!exif->set && m->raw_profile.set) {
        int rc = raw_profile_decode(m->raw_profile.p, m->raw_profile.n, &hex);
        if (rc == -1) snprintf(why, whylen, "Pillow's ImageOps.exif_transpose raises on its \"Raw profile type exif\" text, no hex dump");
        if (rc != 0) return rc;
        exif = &hex;
    }
    if (exif->set) {
        tiff_info t;
        const char *bad = NULL;
        int rc = m->exif_is_text ? (bad = "a str from a zTXt or iTXt chunk", -1) : tiff_ifd0(exif->p, exif->n, &t, &bad);
        free(hex.p);
        if (rc != 0) {
            /* Without a JFIF resolution, Pillow's JPEG opener has already read the EXIF for one, caught
             * the error and kept no tags, not even XMP's orientation */
            if (m->jpeg && !m->jfif_dpi) return 0;
            snprintf(why, whylen, "Pillow's ImageOps.exif_transpose raises on its EXIF: %s", bad);
            return -1;
        }
        if (m->jpeg && !m->jfif_dpi && t.unit && t.xres_bad) {
            snprintf(why, whylen, "Pillow cannot open it: looking for a resolution in its EXIF, the JPEG opener "
                     "indexes past the end of XResolution");
            return -1;
        }
        if (t.found) return *o = t.o, 0;
    }
    const meta_str *x = m->xmp_text.set && m->xmp_text.n ? &m->xmp_text : &m->xmp;
    int d = x->set ? xmp_orientation(x->p, x->n) : -1;
    if (d >= 2 && d <= 8) *o = d;
    return 0;
}

/* ---- zlib streams of PNG text chunks ---- */

enum { ZS_BAD = -1, ZS_BIG = -2, ZS_NOMEM = -3 };

/* zlib.decompressobj().decompress(in, max) as Pillow's _safe_zlib_decompress calls it, with the
 * same zlib: *out (free it) holds the stream's output, or all a truncated stream decodes to.
 * Returns 0, ZS_BAD where Python's zlib raises zlib.error (a bad header, code, distance or
 * Adler-32 check, a preset dictionary), ZS_BIG when the output would exceed max, ZS_NOMEM. */
static int zs_inflate(const uint8_t *in, size_t n, size_t max, uint8_t **out, size_t *outn) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return ZS_NOMEM;
    size_t cap = 0, len = 0, fed = 0;
    uint8_t *buf = NULL;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap > max) { rc = ZS_BIG; break; }
            size_t nc = cap ? cap * 2 : 4096;
            if (nc > max + 1) nc = max + 1; /* one byte past max tells that the output is too big */
            uint8_t *nb = realloc(buf, nc);
            if (!nb) { rc = ZS_NOMEM; break; }
            buf = nb, cap = nc;
        }
        if (z.avail_in == 0 && fed < n) { /* avail_in is a uInt: feed large inputs in pieces */
            size_t k = n - fed > (1u << 30) ? (1u << 30) : n - fed;
            z.next_in = (Bytef *)(uintptr_t)(in + fed), z.avail_in = (uInt)k, fed += k;
        }
        z.next_out = buf + len, z.avail_out = (uInt)(cap - len);
        int r = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (len > max) { rc = ZS_BIG; break; }
        if (r == Z_STREAM_END) break;
        if (r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_STREAM_ERROR) { rc = ZS_BAD; break; }
        if (r == Z_MEM_ERROR) { rc = ZS_NOMEM; break; }
        if (r == Z_BUF_ERROR && z.avail_in == 0 && fed == n && z.avail_out > 0) break; /* truncated: what it gave */
    }
    inflateEnd(&z);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf, *outn = len;
    return 0;
}

#define PNG_TEXT_MAX (1u << 20) /* Pillow's MAX_TEXT_CHUNK: more decompressed text makes it raise */

/* Stores text chunk value v under key k where Pillow's getexif looks (is_str: Pillow holds it as
 * a str). -1 when out of memory. */
static int png_text_meta(pil_meta *m, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, int is_str) {
    meta_str *dst = NULL;
    if (kn == 4 && memcmp(k, "exif", 4) == 0) dst = &m->exif, m->exif_is_text = is_str;
    else if (kn == 21 && memcmp(k, "Raw profile type exif", 21) == 0) dst = &m->raw_profile;
    else if (kn == 17 && memcmp(k, "XML:com.adobe.xmp", 17) == 0) dst = &m->xmp_text;
    return dst ? meta_put(dst, v, vn, 0) : 0;
}

/* One chunk's share of the metadata, as Pillow's PngStream.chunk_eXIf, chunk_tEXt, chunk_zTXt
 * and chunk_iTXt store it in info. A chunk on which Pillow raises (a compression method other than
 * 0, text over PNG_TEXT_MAX) is left out, as libpng leaves it out. -1 when out of memory. */
static int png_chunk_meta(pil_meta *m, const uint8_t *type, const uint8_t *d, size_t n) {
    const uint8_t *nul = memchr(d, 0, n);
    size_t kn = nul ? (size_t)(nul - d) : n, vn = nul ? n - kn - 1 : 0;
    const uint8_t *v = d + kn + (nul != NULL);
    if (memcmp(type, "eXIf", 4) == 0) {
        m->exif_is_text = 0;
        return meta_put(&m->exif, (const uint8_t *)"Exif\0\0", 6, 0) || meta_put(&m->exif, d, n, 1) ? -1 : 0;
    }
    if (memcmp(type, "tEXt", 4) == 0) return kn ? png_text_meta(m, d, kn, v, vn, 0) : 0; /* "exif" as bytes */
    uint8_t *text = NULL;
    size_t tn = 0;
    int rc = 0;
    if (memcmp(type, "zTXt", 4) == 0) {
        if (vn && v[0] != 0) return 0;
        int z = vn ? zs_inflate(v + 1, vn - 1, PNG_TEXT_MAX, &text, &tn) : 0;
        if (z == ZS_NOMEM) return -1;
        if (z == ZS_BIG) return 0;
        if (z == ZS_BAD) tn = 0; /* zlib.error: Pillow keeps an empty text */
        if (kn) rc = png_text_meta(m, d, kn, text, tn, 1);
    } else if (memcmp(type, "iTXt", 4) == 0) {
        if (!nul || vn < 2) return 0;
        int cf = v[0], cm = v[1];
        const uint8_t *lang = v + 2, *end = v + vn;
        const uint8_t *n1 = memchr(lang, 0, (size_t)(end - lang));
        const uint8_t *n2 = n1 ? memchr(n1 + 1, 0, (size_t)(end - n1 - 1)) : NULL;
        if (!n2) return 0;
        const uint8_t *val = n2 + 1;
        size_t valn = (size_t)(end - val);
        if (cf != 0) {
            if (cm != 0) return 0;
            int z = zs_inflate(val, valn, PNG_TEXT_MAX, &text, &tn);
            if (z == ZS_NOMEM) return -1;
            if (z != 0) return 0;
            val = text, valn = tn;
        }
        if (kn == 17 && memcmp(d, "XML:com.adobe.xmp", 17) == 0) rc = meta_put(&m->xmp, val, valn, 0);
        if (rc == 0 && q35_valid_utf8_n((const char *)lang, (size_t)(n1 - lang)) &&
            q35_valid_utf8_n((const char *)n1 + 1, (size_t)(n2 - n1 - 1)) && q35_valid_utf8_n((const char *)val, valn))
            rc = png_text_meta(m, d, kn, val, valn, 1);
    }
    free(text);
    return rc;
}

/* Walks the chunks of the PNG in f as Pillow does, before the image data and after it up to IEND,
 * and gathers the metadata of the text and eXIf chunks into m. Stops where Pillow stops: a chunk
 * name that is not 4 word characters, a chunk that runs past the end of the file, and in an
 * animated PNG the fcTL that follows the image data (Pillow loads the first frame only). -1 when
 * out of memory. */
static int png_scan_meta(FILE *f, pil_meta *m) {
    if (fseek(f, 0, SEEK_END) != 0) return 0;
    long size = ftell(f);
    if (size < 8 || fseek(f, 8, SEEK_SET) != 0) return 0;
    uint64_t at = 8;
    uint8_t h[8];
    uint32_t frames = 0; /* acTL's frame count, 0 for none (PngStream.im_n_frames) */
    int idat = 0, fctl = 0, animated = 0;
    while (fread(h, 1, 8, f) == 8) {
        uint64_t len = rd32(h, 0);
        at += 8;
        int word = 1;
        for (int k = 4; k < 8; k++)
            word &= (h[k] >= '0' && h[k] <= '9') || (h[k] >= 'A' && h[k] <= 'Z') || (h[k] >= 'a' && h[k] <= 'z') || h[k] == '_';
        if (!word || memcmp(h + 4, "IEND", 4) == 0 || at + len > (uint64_t)size) break;
        int is_fctl = memcmp(h + 4, "fcTL", 4) == 0;
        if (idat && animated && is_fctl) break;
        if (!idat && memcmp(h + 4, "IDAT", 4) == 0) {
            /* the image data before any fcTL is an extra frame, the default image */
            idat = 1, animated = frames + (frames && !fctl) > 1;
        }
        fctl |= is_fctl;
        int want = memcmp(h + 4, "eXIf", 4) == 0 || memcmp(h + 4, "tEXt", 4) == 0 || memcmp(h + 4, "zTXt", 4) == 0 ||
                   memcmp(h + 4, "iTXt", 4) == 0 || (!idat && memcmp(h + 4, "acTL", 4) == 0);
        if (want) {
            uint8_t *d = malloc(len + 1);
            if (!d) return -1;
            int rc = 0, got = fread(d, 1, len, f) == len;
            if (got && memcmp(h + 4, "acTL", 4) != 0) rc = png_chunk_meta(m, h + 4, d, len);
            else if (got && len >= 8) /* a second acTL cancels the first; 0 or over 2^31 frames are ignored */
                frames = frames ? 0 : rd32(d, 0) <= 0x80000000u ? rd32(d, 0) : 0;
            free(d);
            if (rc != 0) return -1;
        } else if (fseek(f, (long)len, SEEK_CUR) != 0) {
            break;
        }
        at += len + 4;
        if (fseek(f, 4, SEEK_CUR) != 0) break; /* the CRC */
    }
    return 0;
}

/* The metadata of a JPEG's saved APP0 and APP1 markers, as Pillow's JpegImagePlugin.APP stores it:
 * the first APP1 that starts "Exif\0\0" is info["exif"], and each later one is appended to it
 * without its prefix; the last XMP APP1 is info["xmp"]; a JFIF APP0 of unit 1 or 2 gives
 * info["dpi"]. An APP1 without the "Exif\0\0" prefix is not EXIF. -1 when out of memory. */
static int jpeg_meta(j_decompress_ptr cinfo, pil_meta *m) {
    static const char xmp[] = "http://ns.adobe.com/xap/1.0/";
    m->jpeg = 1;
    for (jpeg_saved_marker_ptr s = cinfo->marker_list; s; s = s->next) {
        const uint8_t *d = s->data;
        size_t n = s->data_length;
        if (s->marker == JPEG_APP0 && n >= 12 && memcmp(d, "JFIF", 4) == 0 && (d[7] == 1 || d[7] == 2)) m->jfif_dpi = 1;
        if (s->marker != JPEG_APP0 + 1) continue;
        if (n >= 6 && memcmp(d, "Exif\0\0", 6) == 0) {
            int first = !m->exif.set;
            if (meta_put(&m->exif, d + (first ? 0 : 6), n - (first ? 0 : 6), 1) != 0) return -1;
        } else if (n >= sizeof xmp && memcmp(d, xmp, sizeof xmp) == 0) { /* the prefix and its NUL */
            if (meta_put(&m->xmp, d + sizeof xmp, n - sizeof xmp, 0) != 0) return -1;
        }
    }
    return 0;
}

/* ---- PNG ---- */

typedef struct {
    jmp_buf jb;
    char msg[200];
} png_errctx;

static void png_error_fn(png_structp png, png_const_charp msg) {
    png_errctx *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    longjmp(e->jb, 1);
}
static void png_warning_fn(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static int load_png(q35_image *im, FILE *f, const char *path, char *err, size_t errlen) {
    png_errctx ectx = { .msg = "" };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ectx, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile raw = NULL;
    png_bytep *volatile rows = NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        return q35_fail(err, errlen, "%s: out of memory", path);
    }
    if (setjmp(ectx.jb)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(raw);
        free(rows);
        return q35_fail(err, errlen, "%s: corrupt or truncated PNG: %s", path, ectx.msg);
    }
    png_init_io(png, f);
    png_set_user_limits(png, 1000000, 1000000); /* libpng's own bound; q35's stricter one follows */
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (check_size(path, (long)w, (long)h, err, errlen) != 0) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    int ct = png_get_color_type(png, info);
    /* Pillow opens 16-bit grey as 32-bit integers ("I") and convert("RGB") clips them to 255;
     * other 16-bit samples keep their high byte (Pillow's ;16B unpackers). Palettes and low-depth
     * grey expand, grey replicates, alpha and tRNS transparency are dropped. */
    int grey16 = ct == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) == 16;
    if (!grey16) {
        png_set_strip_16(png);
        png_set_packing(png);
        if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) {
            png_set_expand_gray_1_2_4_to_8(png);
            png_set_gray_to_rgb(png);
        }
        /* expanding a palette with tRNS adds alpha: drop it like any other */
        if ((ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)w * (grey16 ? 2 : 3)) png_error(png, "unexpected row layout after conversion");
    raw = malloc(rowbytes * h);
    rows = malloc((size_t)h * sizeof(png_bytep));
    if (!raw || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = raw + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, info); /* checks the chunks after the image data (png_scan_meta reads their metadata) */
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    if (grey16) { /* in place: 2 bytes in, 3 out, so convert into a new buffer */
        uint8_t *rgb = malloc((size_t)w * h * 3);
        if (!rgb) {
            free(raw);
            return q35_fail(err, errlen, "%s: out of memory", path);
        }
        for (size_t i = 0; i < (size_t)w * h; i++) {
            unsigned v = (unsigned)raw[2 * i] << 8 | raw[2 * i + 1];
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (uint8_t)(v > 255 ? 255 : v);
        }
        free(raw);
        raw = rgb;
    }
    im->w = (int)w, im->h = (int)h, im->rgb = raw;
    return 0;
}

/* ---- JPEG ---- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} jpg_errctx;

static void jpg_error_exit(j_common_ptr cinfo) {
    jpg_errctx *e = (jpg_errctx *)cinfo->err;
    longjmp(e->jb, 1);
}
/* libjpeg only warns on a premature end of data and fills the rest with grey; Pillow refuses
 * such a file ("image file is truncated"), and so does q35. Other warnings are ignored. */
static void jpg_emit(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) cinfo->err->error_exit(cinfo);
}

/* meta: where to gather the metadata of exif_transpose (NULL: not wanted). */
static int load_jpeg(q35_image *im, FILE *f, const char *path, pil_meta *meta, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    jpg_errctx jerr;
    uint8_t *volatile rgb = NULL, *volatile row = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpg_error_exit;
    jerr.pub.emit_message = jpg_emit;
    if (setjmp(jerr.jb)) {
        char msg[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
        int eof = cinfo.err->msg_code == JWRN_JPEG_EOF;
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        if (eof) return q35_fail(err, errlen, "%s: truncated JPEG (the data ends early)", path);
        return q35_fail(err, errlen, "%s: corrupt JPEG: %s", path, msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    if (meta) {
        jpeg_save_markers(&cinfo, JPEG_APP0, 0xffff);
        jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    }
    jpeg_read_header(&cinfo, TRUE);
    if (check_size(path, (long)cinfo.image_width, (long)cinfo.image_height, err, errlen) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    if (meta && jpeg_meta(&cinfo, meta) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return q35_fail(err, errlen, "%s: out of memory", path);
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB; /* grey is replicated to RGB */
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height, nc = (size_t)cinfo.output_components;
    rgb = malloc(w * h * 3);
    row = malloc(w * nc);
    if (!rgb || !row) {
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        return q35_fail(err, errlen, "%s: out of memory", path);
    }
    /* Adobe CMYK JPEGs store inverted values (Pillow's "CMYK;I"); convert("RGB") then computes
     * each channel as (255 - k) - (c * (255 - k)) / 255 with Pillow's rounding */
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < h) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rp = row;
        jpeg_read_scanlines(&cinfo, &rp, 1);
        uint8_t *o = rgb + y * w * 3;
        if (!cmyk) {
            memcpy(o, row, w * 3);
            continue;
        }
        for (size_t x = 0; x < w; x++) {
            unsigned v[4];
            for (int c = 0; c < 4; c++) v[c] = inverted ? 255u - row[x * 4 + c] : row[x * 4 + c];
            unsigned nk = 255 - v[3];
            for (int c = 0; c < 3; c++) {
                unsigned t = v[c] * nk + 128;
                int r = (int)nk - (int)(((t >> 8) + t) >> 8);
                o[x * 3 + c] = (uint8_t)(r < 0 ? 0 : r);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    im->w = (int)w, im->h = (int)h, im->rgb = rgb;
    return 0;
}

/* Applies an EXIF orientation (2..8) as Pillow's ImageOps.exif_transpose does. */
static int apply_orientation(q35_image *im, int o) {
    if (o <= 1 || o > 8) return 0;
    int w = im->w, h = im->h, swap = o >= 5;
    int ow = swap ? h : w, oh = swap ? w : h;
    uint8_t *out = malloc((size_t)ow * oh * 3);
    if (!out) return -1;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int sx, sy; /* source pixel of output (x, y) */
            switch (o) {
            case 2: sx = w - 1 - x, sy = y; break;           /* mirror horizontal */
            case 3: sx = w - 1 - x, sy = h - 1 - y; break;   /* rotate 180 */
            case 4: sx = x, sy = h - 1 - y; break;           /* mirror vertical */
            case 5: sx = y, sy = x; break;                   /* transpose */
            case 6: sx = y, sy = h - 1 - x; break;           /* rotate 90 clockwise */
            case 7: sx = w - 1 - y, sy = h - 1 - x; break;   /* transverse */
            default: sx = w - 1 - y, sy = x; break;          /* 8: rotate 90 counter-clockwise */
            }
            memcpy(out + ((size_t)y * ow + x) * 3, im->rgb + ((size_t)sy * w + sx) * 3, 3);
        }
    free(im->rgb);
    im->rgb = out, im->w = ow, im->h = oh;
    return 0;
}

int q35_image_load(q35_image *im, const char *path, char *err, size_t errlen) {
    return q35_image_load_opts(im, path, 1, err, errlen);
}

/* Transposes im as exif_transpose does for metadata m. -1 with err (im freed) where Pillow raises. */
static int orient(q35_image *im, const pil_meta *m, const char *path, char *err, size_t errlen) {
    int o = 1;
    char why[200] = "";
    int rc = pil_orientation(m, &o, why, sizeof why);
    if (rc == 0 && apply_orientation(im, o) == 0) return 0;
    q35_image_free(im);
    if (rc == -1)
        return q35_fail(err, errlen, "%s: Hugging Face's load_image cannot load this image: %s (without the EXIF "
                        "orientation, --no-exif, q35 loads it)", path, why);
    return q35_fail(err, errlen, "%s: out of memory", path);
}

int q35_image_load_opts(q35_image *im, const char *path, int exif, char *err, size_t errlen) {
    memset(im, 0, sizeof *im);
    FILE *f = fopen(path, "rb");
    if (!f) return q35_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    uint8_t sig[8] = {0};
    size_t n = fread(sig, 1, 8, f);
    rewind(f);
    pil_meta meta = { 0 };
    int rc;
    if (n == 8 && png_sig_cmp(sig, 0, 8) == 0) {
        rc = load_png(im, f, path, err, errlen);
        if (rc == 0 && exif && png_scan_meta(f, &meta) != 0) {
            q35_image_free(im);
            rc = q35_fail(err, errlen, "%s: out of memory", path);
        }
    } else if (n >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff) {
        rc = load_jpeg(im, f, path, exif ? &meta : NULL, err, errlen);
    } else {
        rc = q35_fail(err, errlen, "%s: not a PNG or JPEG image", path);
    }
    fclose(f);
    if (rc == 0 && exif) rc = orient(im, &meta, path, err, errlen);
    meta_free(&meta);
    return rc;
}

/* ---- smart_resize ---- */

int q35_smart_resize(int h, int w, int factor, long min_pixels, long max_pixels, int *out_h, int *out_w,
                     char *err, size_t errlen) {
    if (h <= 0 || w <= 0) return q35_fail(err, errlen, "image has a zero side (%dx%d)", w, h);
    double hi = h > w ? h : w, lo = h > w ? w : h;
    if (hi / lo > 200)
        return q35_fail(err, errlen, "image of %dx%d has an aspect ratio of %.1f; at most 200 is accepted", w, h, hi / lo);
    /* nearbyint in the default rounding mode is Python's round: half to even */
    double hb = nearbyint((double)h / factor) * factor, wb = nearbyint((double)w / factor) * factor;
    if (hb * wb > (double)max_pixels) {
        double beta = sqrt((double)h * w / (double)max_pixels);
        hb = fmax(factor, floor(h / beta / factor) * factor);
        wb = fmax(factor, floor(w / beta / factor) * factor);
    } else if (hb * wb < (double)min_pixels) {
        double beta = sqrt((double)min_pixels / ((double)h * w));
        hb = ceil(h * beta / factor) * factor;
        wb = ceil(w * beta / factor) * factor;
    }
    *out_h = (int)hb, *out_w = (int)wb;
    return 0;
}

/* ---- Pillow's bicubic resampling (libImaging/Resample.c, 8 bits per channel) ---- */

#define PRECISION_BITS (32 - 8 - 2)

static double bicubic(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Fixed-point coefficients of each output sample: bounds[2i] = first input, bounds[2i+1] = count. */
static int coeffs(int in_size, int out_size, int **bounds_out, int32_t **kk_out) {
    double scale = (double)in_size / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *pre = malloc((size_t)out_size * ksize * sizeof(double));
    int *bounds = malloc((size_t)out_size * 2 * sizeof(int));
    int32_t *kk = malloc((size_t)out_size * ksize * sizeof(int32_t));
    if (!pre || !bounds || !kk) {
        free(pre), free(bounds), free(kk);
        return -1;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = pre + (size_t)xx * ksize;
        int x;
        for (x = 0; x < xmax; x++) {
            double wgt = bicubic((x + xmin - center + 0.5) * ss);
            k[x] = wgt;
            ww += wgt;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        bounds[xx * 2] = xmin, bounds[xx * 2 + 1] = xmax;
    }
    for (size_t i = 0; i < (size_t)out_size * ksize; i++) /* rounded half away from zero */
        kk[i] = pre[i] < 0 ? (int32_t)(-0.5 + pre[i] * (1 << PRECISION_BITS)) : (int32_t)(0.5 + pre[i] * (1 << PRECISION_BITS));
    free(pre);
    *bounds_out = bounds;
    *kk_out = kk;
    return ksize;
}

static uint8_t clip8(int32_t v) {
    v >>= PRECISION_BITS; /* arithmetic shift, as Pillow's lookup table indexes */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

int q35_resize_bicubic(uint8_t *out, int ow, int oh, const uint8_t *in, int iw, int ih) {
    int *hb = NULL, *vb = NULL;
    int32_t *hk = NULL, *vk = NULL;
    uint8_t *tmp = NULL;
    int rc = -1;
    int kh = coeffs(iw, ow, &hb, &hk), kv = coeffs(ih, oh, &vb, &vk);
    if (kh < 0 || kv < 0) goto done;
    const uint8_t *src = in;
    int sw = iw, sh = ih, y0 = 0;
    if (ow != iw) { /* horizontal pass over the rows the vertical pass will read */
        int first = vb[0], last = vb[(oh - 1) * 2] + vb[(oh - 1) * 2 + 1];
        if (oh == ih) first = 0, last = ih;
        tmp = malloc((size_t)ow * (last - first) * 3);
        if (!tmp) goto done;
        for (int y = first; y < last; y++)
            for (int x = 0; x < ow; x++) {
                int xmin = hb[x * 2], xn = hb[x * 2 + 1];
                const int32_t *k = hk + (size_t)x * kh;
                for (int c = 0; c < 3; c++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int j = 0; j < xn; j++) ss += in[((size_t)y * iw + xmin + j) * 3 + c] * k[j];
                    tmp[((size_t)(y - first) * ow + x) * 3 + c] = clip8(ss);
                }
            }
        src = tmp, sw = ow, sh = last - first, y0 = first;
    }
    if (oh != ih) {
        for (int y = 0; y < oh; y++) {
            int ymin = vb[y * 2] - y0, yn = vb[y * 2 + 1];
            const int32_t *k = vk + (size_t)y * kv;
            for (int x = 0; x < sw; x++)
                for (int c = 0; c < 3; c++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int j = 0; j < yn; j++) ss += src[((size_t)(ymin + j) * sw + x) * 3 + c] * k[j];
                    out[((size_t)y * sw + x) * 3 + c] = clip8(ss);
                }
        }
    } else {
        memcpy(out, src, (size_t)sw * sh * 3);
    }
    rc = 0;
done:
    free(hb), free(vb), free(hk), free(vk), free(tmp);
    return rc;
}

/* ---- preprocessing ---- */

void q35_preproc_defaults(q35_preproc_config *p) {
    p->patch_size = 16;
    p->temporal_patch_size = 2;
    p->merge_size = 2;
    p->min_pixels = 65536;
    p->max_pixels = 16777216;
    for (int c = 0; c < 3; c++) p->mean[c] = 0.5f, p->std[c] = 0.5f;
}

int q35_preproc_load(q35_preproc_config *p, const char *dir, char *err, size_t errlen) {
    q35_preproc_defaults(p);
    char path[4096];
    snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
    cJSON *j = q35_read_json_object(path, 1u << 20, 1, err, errlen);
    if (!j) return err[0] ? -1 : 0; /* no file: the released settings */
    const cJSON *v, *size = cJSON_GetObjectItemCaseSensitive(j, "size");
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(size, "shortest_edge"))) p->min_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(size, "longest_edge"))) p->max_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "min_pixels"))) p->min_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "max_pixels"))) p->max_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "patch_size"))) p->patch_size = (int)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "temporal_patch_size"))) p->temporal_patch_size = (int)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "merge_size"))) p->merge_size = (int)v->valuedouble;
    const char *keys[2] = { "image_mean", "image_std" };
    float *dst[2] = { p->mean, p->std };
    for (int k = 0; k < 2; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
        if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == 3)
            for (int c = 0; c < 3; c++) dst[k][c] = (float)cJSON_GetArrayItem(a, c)->valuedouble;
    }
    cJSON_Delete(j);
    if (p->patch_size <= 0 || p->temporal_patch_size <= 0 || p->merge_size <= 0 || p->min_pixels <= 0 ||
        p->max_pixels < p->min_pixels || p->std[0] == 0 || p->std[1] == 0 || p->std[2] == 0)
        return q35_fail(err, errlen, "%s: inconsistent preprocessing settings", path);
    return 0;
}

int q35_preproc_grid(const q35_preproc_config *p, int h, int w, int grid_thw[3], char *err, size_t errlen) {
    int rh, rw, factor = p->patch_size * p->merge_size;
    if (q35_smart_resize(h, w, factor, p->min_pixels, p->max_pixels, &rh, &rw, err, errlen) != 0) return -1;
    grid_thw[0] = 1, grid_thw[1] = rh / p->patch_size, grid_thw[2] = rw / p->patch_size;
    return 0;
}

int q35_preprocess(float *out, const q35_preproc_config *p, const q35_image *im, const int grid_thw[3], char *err,
                   size_t errlen) {
    int ps = p->patch_size, T = p->temporal_patch_size, m = p->merge_size;
    int gh = grid_thw[1], gw = grid_thw[2], rh = gh * ps, rw = gw * ps;
    const uint8_t *px = im->rgb;
    uint8_t *resized = NULL;
    if (rh != im->h || rw != im->w) { /* Pillow resizes only when the size changes */
        resized = malloc((size_t)rh * rw * 3);
        if (!resized || q35_resize_bicubic(resized, rw, rh, im->rgb, im->w, im->h) != 0) {
            free(resized);
            return q35_fail(err, errlen, "out of memory resizing a %dx%d image to %dx%d", im->w, im->h, rw, rh);
        }
        px = resized;
    }
    /* rescale in double then normalise in float32, as the processor's numpy dtypes do */
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        for (int u = 0; u < 256; u++) lut[c][u] = ((float)((double)u * (1.0 / 255.0)) - p->mean[c]) / p->std[c];
    size_t row_len = (size_t)3 * T * ps * ps, r = 0;
    for (int br = 0; br < gh / m; br++)
        for (int bc = 0; bc < gw / m; bc++)
            for (int ir = 0; ir < m; ir++)
                for (int ic = 0; ic < m; ic++, r++) {
                    int prow = br * m + ir, pcol = bc * m + ic;
                    float *o = out + r * row_len;
                    for (int c = 0; c < 3; c++)
                        for (int t = 0; t < T; t++) /* a still image is repeated over the frames */
                            for (int y = 0; y < ps; y++)
                                for (int x = 0; x < ps; x++)
                                    *o++ = lut[c][px[((size_t)(prow * ps + y) * rw + pcol * ps + x) * 3 + c]];
                }
    free(resized);
    return 0;
}

void q35_image_batch_free(q35_image_batch *b) {
    free(b->grids);
    free(b->pixels);
    memset(b, 0, sizeof *b);
}

int q35_image_batch_load(q35_image_batch *b, const q35_preproc_config *p, const char *const *files, int n, int exif,
                         q35_image_seen_fn seen, void *ctx, char *err, size_t errlen) {
    memset(b, 0, sizeof *b);
    b->row = 3 * p->temporal_patch_size * p->patch_size * p->patch_size;
    b->grids = calloc((size_t)n + 1, sizeof *b->grids);
    if (!b->grids) return q35_fail(err, errlen, "out of memory");
    for (int k = 0; k < n; k++) {
        q35_image im;
        char msg[1024];
        if (q35_image_load_opts(&im, files[k], exif, err, errlen) != 0) goto fail;
        int *g = b->grids[k];
        if (q35_preproc_grid(p, im.h, im.w, g, msg, sizeof msg) != 0) {
            q35_image_free(&im);
            q35_fail(err, errlen, "%s: %s", files[k], msg);
            goto fail;
        }
        if (seen) seen(ctx, files[k], &im, g);
        int add = g[0] * g[1] * g[2];
        float *px = realloc(b->pixels, (size_t)(b->npatch + add) * b->row * sizeof(float));
        int rc = px ? q35_preprocess(px + (size_t)b->npatch * b->row, p, &im, g, err, errlen)
                    : q35_fail(err, errlen, "%s: out of memory", files[k]);
        if (px) b->pixels = px;
        q35_image_free(&im);
        if (rc != 0) goto fail;
        b->npatch += add;
        b->n = k + 1;
    }
    return 0;
fail:
    q35_image_batch_free(b);
    return -1;
}
