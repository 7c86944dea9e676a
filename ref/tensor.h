/* tensor.h - a typed, row-major view of numbers that live elsewhere (an mmap, a buffer).
 *
 * A q35_tensor never owns its data. Weights stay in the checkpoint's dtype and are converted
 * to float32 as they are read, one element or one row at a time. */
#ifndef Q35_TENSOR_H
#define Q35_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define Q35_MAX_DIMS 8

/* F64 and I32 appear only in dumps made elsewhere (numpy, other implementations); the model
 * itself reads F32/BF16/F16 weights and writes F32/I64. */
typedef enum { Q35_F32 = 0, Q35_BF16, Q35_F16, Q35_I64, Q35_F64, Q35_I32 } q35_dtype;

typedef struct {
    q35_dtype dtype;
    int ndim;
    int64_t shape[Q35_MAX_DIMS];
    const void *data; /* row-major, little-endian, not owned */
} q35_tensor;

/* Bytes per element of dtype. */
size_t q35_dtype_size(q35_dtype dt);
/* "F32", "BF16", "F16", "I64", "F64", "I32" (the safetensors spelling). */
const char *q35_dtype_name(q35_dtype dt);
/* Product of the shape (1 for a scalar, ndim 0). */
int64_t q35_numel(const q35_tensor *t);

/* bf16 is the upper half of an f32. Rounding f32 -> bf16 is to nearest, ties to even
 * (what torch's .to(bfloat16) does); NaN stays NaN. */
static inline float q35_bf16_to_f32(uint16_t h) {
    union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
    return v.f;
}
uint16_t q35_f32_to_bf16(float f);
float q35_f16_to_f32(uint16_t h);
uint16_t q35_f32_to_f16(float f);

/* Element i (flat index) of t as float (integers are converted too). */
float q35_get_f32(const q35_tensor *t, int64_t i);
/* Element i as double: exact for every dtype but I64 beyond 2^53. */
double q35_get_f64(const q35_tensor *t, int64_t i);
/* Integer dtypes (I64, I32): compared exactly. */
static inline int q35_dtype_is_int(q35_dtype dt) { return dt == Q35_I64 || dt == Q35_I32; }
/* out[0..n) = t's flat elements [start, start+n) as float. */
void q35_read_f32(float *out, const q35_tensor *t, int64_t start, int64_t n);

/* A view of the float buffer x with the given shape (ndim <= Q35_MAX_DIMS). */
q35_tensor q35_view_f32(const float *x, int ndim, const int64_t *shape);

/* "[1,24,96]" into buf (always NUL-terminated). */
void q35_shape_str(char *buf, size_t n, const q35_tensor *t);

#endif
