/* sha256.h - SHA-256 (FIPS 180-4), for provenance: the hashes of models and golden manifests. */
#ifndef Q35_SHA256_H
#define Q35_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;        /* bytes hashed so far */
    unsigned char buf[64];
    size_t nbuf;
} q35_sha256;

void q35_sha256_init(q35_sha256 *s);
void q35_sha256_update(q35_sha256 *s, const void *data, size_t n);
/* Finishes and writes the digest as 64 lowercase hex digits + NUL into hex[65]. */
void q35_sha256_hex(q35_sha256 *s, char hex[65]);
/* The SHA-256 of a whole file (read in chunks) into hex; -1 when it cannot be read. */
int q35_sha256_file(const char *path, char hex[65]);

#endif
