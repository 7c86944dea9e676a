/* safetensors.h - read (mmap) and write safetensors files, including sharded checkpoints.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 * {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data;
 * offsets are relative to the first byte after the header.
 *
 * Every function returns 0 on success and -1 on error, with a message naming the file and the
 * problem written to err (errlen bytes, always NUL-terminated). Nothing is printed. */
#ifndef Q35_SAFETENSORS_H
#define Q35_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

typedef struct {
    char *name;        /* owned, NUL-terminated, valid UTF-8 */
    q35_tensor t;      /* t.data points into the file's mmap */
    size_t nbytes;     /* numel * dtype size */
    int file;          /* index into q35_st.files */
} q35_st_entry;

typedef struct {
    char *path;        /* owned */
    void *map;         /* mmap of the whole file (NULL for an empty mapping) */
    size_t size;
} q35_st_file;

typedef struct {
    q35_st_file *files;
    int nfiles;
    q35_st_entry *entries; /* sorted by name */
    int n;
} q35_st;

/* Opens path, which is either one .safetensors file or a directory. A directory is read through
 * model.safetensors.index.json ("weight_map": name -> shard file) when present, else through its
 * single model.safetensors. Every tensor named in the index must be found in the shard it names.
 * Checks: header length within the file, JSON object, known dtype (F32, BF16, F16, I64, F64, I32; anything
 * else is an error naming the dtype), shape entries non-negative, data_offsets inside the data
 * section, end - begin == numel * dtype size, the tensors covering each file's data section
 * exactly (as the safetensors library requires: no gap, no overlap, no byte before the first or
 * after the last; zero-size tensors cover nothing), no duplicate names (also across shards), names
 * valid UTF-8. On error st is left empty (safe to close). */
int q35_st_open(q35_st *st, const char *path, char *err, size_t errlen);

/* Maps path read-only into f (size and map; path not set): a regular file (a FIFO fails at once,
 * never hangs) of at least min_size bytes, else "PATH: KIND: N bytes, SHORT_WHY". */
int q35_st_map_file(q35_st_file *f, const char *path, size_t min_size, const char *kind, const char *short_why, char *err,
                    size_t errlen);

/* The entry named name, or NULL. */
const q35_st_entry *q35_st_find(const q35_st *st, const char *name);

/* Unmaps and frees everything; st becomes empty. Safe on an empty or failed st. */
void q35_st_close(q35_st *st);

/* --- writing ---
 * A writer is declared tensor by tensor (name, dtype, shape), then the header is written and the
 * data of each tensor follows in the order declared, in as many q35_stw_write calls as wanted.
 * So files larger than memory can be streamed. Each tensor starts at an offset aligned to its
 * element size, as the reader requires; where that leaves a gap (an I64 after an odd number of
 * F32 values), a filler F16 tensor of zeros named Q35_ST_PAD<i> covers it, since the format allows
 * no holes: the file stays readable by every safetensors reader, and q35's reader skips fillers. */
#define Q35_ST_PAD "__q35_pad_"
typedef struct {
    char *name;
    q35_dtype dtype;
    int ndim;
    int64_t shape[Q35_MAX_DIMS];
    size_t nbytes;
    size_t offset;         /* in the data section: aligned to the element size */
} q35_stw_tensor;

typedef struct {
    char *path;
    void *fp;              /* FILE* once begun */
    q35_stw_tensor *tensors;
    int n, cap;
    char *metadata_json;   /* optional JSON object text for "__metadata__" (string values) */
    size_t expected, written; /* bytes of tensor data in all, so far (padding not counted) */
    int cur;               /* the tensor being written */
    size_t cur_done, file_off; /* its bytes written; position in the data section */
} q35_stw;

/* Starts a writer for path (nothing is written yet). */
int q35_stw_init(q35_stw *w, const char *path, char *err, size_t errlen);
/* Adds a {"key": "value"} pair to __metadata__. */
int q35_stw_meta(q35_stw *w, const char *key, const char *value, char *err, size_t errlen);
/* Declares the next tensor. Names must be unique. */
int q35_stw_add(q35_stw *w, const char *name, q35_dtype dtype, int ndim, const int64_t *shape,
                char *err, size_t errlen);
/* Writes the header (tensors in declared order, contiguous) and opens the data section. */
int q35_stw_begin(q35_stw *w, char *err, size_t errlen);
/* Appends raw little-endian bytes of the data section. */
int q35_stw_write(q35_stw *w, const void *data, size_t nbytes, char *err, size_t errlen);
/* Checks that exactly the declared bytes were written, flushes and closes; frees w.
 * The file is written to path.tmp and renamed at the end, so a killed writer leaves no
 * half file under the final name. */
int q35_stw_finish(q35_stw *w, char *err, size_t errlen);
/* Frees w without finishing (removes the temporary file). */
void q35_stw_abort(q35_stw *w);

/* One-call writer for tensors already in memory. */
int q35_st_save(const char *path, const char *const *names, const q35_tensor *tensors, int n,
                char *err, size_t errlen);

#endif
