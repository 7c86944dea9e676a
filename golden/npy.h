/* npy.h - read directories of numpy .npy files (one tensor per file), write one .npy file.
 *
 * Other implementations dump their intermediates as a directory of .npy files, one per tensor,
 * named by the tensor ("Kcur-3.npy", "attn_norm-0.npy", "model.layers.0.mlp.npy"); q35 compare
 * reads such a directory through the same q35_st structure as a safetensors file.
 *
 * Format (numpy.lib.format): magic "\x93NUMPY", a major and a minor version byte (1.0: 2-byte
 * little-endian header length; 2.0 and 3.0: 4-byte), then the header, a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces and a newline,
 * then the data, C order, exactly numel * element size bytes.
 *
 * dtypes: '<f4' F32, '<f2' F16, '<u2' BF16 (numpy has no bfloat16: the convention is to save the
 * bf16 bits as uint16, e.g. torch: t.view(torch.uint16).numpy() or t.float().numpy().view(np.uint32)
 * >> 16), '<f8' F64, '<i8' I64, '<i4' I32. Anything else is refused, naming it; big-endian and
 * Fortran-order arrays are refused with the numpy call that fixes them.
 *
 * Every function returning int returns 0 on success and -1 on error, with a message naming the
 * file and the problem written to err (errlen bytes, always NUL-terminated). Nothing is printed. */
#ifndef Q35_NPY_H
#define Q35_NPY_H

#include <stddef.h>

#include "safetensors.h"
#include "tensor.h"

/* Opens dir, a directory of .npy files, as a q35_st (the struct of ref/safetensors.h, so
 * q35_st_find and q35_st_close work unchanged): one entry per regular file (symbolic links
 * followed) whose name ends in ".npy", named by the file name without that ".npy", verbatim
 * ("Kcur-3#1", "model.layers.0.mlp"); every file mmap'd read-only, each entry's t.data pointing
 * into its map, entry i's .file its index in st->files. Subdirectories and files of other names
 * (and other kinds: FIFOs, sockets) are ignored.
 * st->files is in the order the files were written: modification time (seconds, then
 * nanoseconds), then name (strcmp), which is the execution order of a dumper writing as it runs;
 * st->entries is sorted by name with strcmp, as q35_st_find needs.
 * Errors, each naming the file: a file name that is not valid UTF-8, is ".npy" alone (an empty
 * name) or makes a path of PATH_MAX bytes or more; a .npy that cannot be stat'd (a dangling
 * link) or opened; wrong magic; a version other than 1.0, 2.0, 3.0; a header length past the end
 * of the file; a header that is not the dict literal above (keys in any order, whitespace and a
 * trailing comma allowed; a missing, repeated or unknown key is an error); big-endian or any
 * other unsupported descr; fortran_order True; more than Q35_MAX_DIMS dims; a negative,
 * non-integer or overflowing shape; data shorter than the shape needs, or longer (trailing
 * bytes mean the shape is wrong); data not aligned to its element size. A directory without any
 * .npy file is an error too. The header is parsed within its bytes only: no hostile file makes
 * the reader look outside the file. On error st is left empty (safe to close). */
int q35_npy_dir_open(q35_st *st, const char *dir, char *err, size_t errlen);

/* Writes t as one .npy file at path: version 1.0, C order, little-endian, the header laid out
 * byte for byte as numpy.save lays it out (keys sorted, the spare spaces numpy leaves after the
 * dict, padded so that the data starts at a multiple of 64). The file is written to path.tmp
 * and renamed at the end, so a failed write leaves nothing under path (and removes path.tmp).
 * BF16 is written as '<u2'. Errors: ndim outside 0..Q35_MAX_DIMS, a negative or overflowing
 * shape, NULL data for a non-empty tensor, an unknown dtype, I/O failures. */
int q35_npy_write(const char *path, const q35_tensor *t, char *err, size_t errlen);

/* 1 when path is a directory holding at least one regular file named *.npy and neither
 * model.safetensors nor model.safetensors.index.json (so a checkpoint directory with stray .npy
 * files stays a checkpoint); 0 otherwise, including when path cannot be read. */
int q35_npy_is_dir(const char *path);

#endif
