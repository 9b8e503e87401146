/* GOST R 34.11-94 (GOST 34.311-95 in Kazakhstan): incremental state, no Python in here so the
 * extension can run it without the GIL. Byte order is that of the published test vectors: a
 * 32-byte block is a little-endian 256-bit number and the digest is the final H in that order. */
#ifndef EGSU_GOST94_H
#define EGSU_GOST94_H

#include <stddef.h>
#include <stdint.h>

/* The GOST 28147-89 round function rol11(S(x)) split by input byte, built from the S-box. */
typedef struct {
    uint32_t f[4][256];
} gost94_sbox;

typedef struct {
    const gost94_sbox *sbox; /* owned by the caller, outlives the state */
    uint64_t h[4];           /* chaining value, word 0 least significant */
    uint64_t sigma[4];       /* sum of the message blocks mod 2^256 */
    uint64_t bytes_hi;       /* message length in bytes, as a 128-bit counter */
    uint64_t bytes_lo;
    uint8_t buffer[32];
    size_t buffered;
} gost94_state;

/* rows: 8 rows of 16 nibbles, K1 (the lowest nibble of a word) first. 0 on success,
 * -1 when a value is not a nibble. */
int gost94_sbox_init(gost94_sbox *out, const uint8_t rows[128]);
void gost94_init(gost94_state *state, const gost94_sbox *sbox);
void gost94_update(gost94_state *state, const uint8_t *data, size_t length);
/* Leaves the state untouched (works on a copy), like hashlib's digest(). */
void gost94_digest(const gost94_state *state, uint8_t out[32]);

#endif
