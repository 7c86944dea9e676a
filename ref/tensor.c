/* tensor.c - dtype conversion and element access for q35_tensor views. */
#include "tensor.h"

#include <stdio.h>
#include <string.h>

size_t q35_dtype_size(q35_dtype dt) {
    switch (dt) {
    case Q35_F32: return 4;
    case Q35_BF16: return 2;
    case Q35_F16: return 2;
    case Q35_I64: return 8;
    case Q35_F64: return 8;
    case Q35_I32: return 4;
    }
    return 0;
}

const char *q35_dtype_name(q35_dtype dt) {
    switch (dt) {
    case Q35_F32: return "F32";
    case Q35_BF16: return "BF16";
    case Q35_F16: return "F16";
    case Q35_I64: return "I64";
    case Q35_F64: return "F64";
    case Q35_I32: return "I32";
    }
    return "?";
}

int64_t q35_numel(const q35_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

uint16_t q35_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float q35_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu, u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: renormalise */
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400u));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t q35_f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t exp = (u >> 23) & 0xff, man = u & 0x7fffffu;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) { /* subnormal or zero, round to nearest even */
        if (e < -10) return sign;
        man |= 0x800000u;
        int shift = 14 - e;
        uint32_t half = 1u << (shift - 1), rest = man & ((1u << shift) - 1), r = man >> shift;
        if (rest > half || (rest == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = man >> 13, rest = man & 0x1fffu;
    uint32_t out = ((uint32_t)e << 10) | r;
    if (rest > 0x1000u || (rest == 0x1000u && (r & 1))) out++; /* may carry into the exponent: correct */
    return (uint16_t)(sign | out);
}

float q35_get_f32(const q35_tensor *t, int64_t i) {
    switch (t->dtype) {
    case Q35_F32: { float v; memcpy(&v, (const char *)t->data + 4 * i, 4); return v; }
    case Q35_BF16: { uint16_t h; memcpy(&h, (const char *)t->data + 2 * i, 2); return q35_bf16_to_f32(h); }
    case Q35_F16: { uint16_t h; memcpy(&h, (const char *)t->data + 2 * i, 2); return q35_f16_to_f32(h); }
    case Q35_I64: { int64_t v; memcpy(&v, (const char *)t->data + 8 * i, 8); return (float)v; }
    case Q35_F64: { double v; memcpy(&v, (const char *)t->data + 8 * i, 8); return (float)v; }
    case Q35_I32: { int32_t v; memcpy(&v, (const char *)t->data + 4 * i, 4); return (float)v; }
    }
    return 0.0f;
}

double q35_get_f64(const q35_tensor *t, int64_t i) {
    switch (t->dtype) {
    case Q35_F64: { double v; memcpy(&v, (const char *)t->data + 8 * i, 8); return v; }
    case Q35_I64: { int64_t v; memcpy(&v, (const char *)t->data + 8 * i, 8); return (double)v; }
    case Q35_I32: { int32_t v; memcpy(&v, (const char *)t->data + 4 * i, 4); return v; }
    default: return q35_get_f32(t, i);
    }
}

void q35_read_f32(float *out, const q35_tensor *t, int64_t start, int64_t n) {
    if (t->dtype == Q35_F32) {
        memcpy(out, (const float *)t->data + start, (size_t)n * sizeof(float));
        return;
    }
    if (t->dtype == Q35_BF16) {
        const uint16_t *h = (const uint16_t *)t->data + start;
        for (int64_t i = 0; i < n; i++) out[i] = q35_bf16_to_f32(h[i]);
        return;
    }
    for (int64_t i = 0; i < n; i++) out[i] = q35_get_f32(t, start + i);
}

q35_tensor q35_view_f32(const float *x, int ndim, const int64_t *shape) {
    q35_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = Q35_F32;
    t.ndim = ndim;
    for (int i = 0; i < ndim && i < Q35_MAX_DIMS; i++) t.shape[i] = shape[i];
    t.data = x;
    return t;
}

void q35_shape_str(char *buf, size_t n, const q35_tensor *t) {
    size_t used = 0;
    if (n == 0) return;
    buf[0] = 0;
    used += (size_t)snprintf(buf + used, n - used, "[");
    for (int i = 0; i < t->ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ",%lld" : "%lld", (long long)t->shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
}
