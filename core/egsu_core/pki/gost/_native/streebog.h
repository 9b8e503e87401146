/* Streebog, GOST R 34.11-2012, 256 and 512 bits: incremental state without Python.
 * Byte order is that of the reference implementation and of NCA signatures: the message is
 * read as a little-endian number (RFC 6986 prints messages and digests reversed). */
#ifndef EGSU_STREEBOG_H
#define EGSU_STREEBOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t h[8];     /* chaining value, word 0 least significant */
    uint64_t n[8];     /* bits processed so far, mod 2^512 */
    uint64_t sigma[8]; /* sum of the message blocks mod 2^512 */
    uint8_t buffer[64];
    size_t buffered;
    int digest_bits; /* 256 or 512 */
} streebog_state;

/* Fills the combined substitution/transposition/linear tables; call once before hashing. */
void streebog_tables_init(void);
/* digest_bits must be 256 or 512. */
void streebog_init(streebog_state *state, int digest_bits);
void streebog_update(streebog_state *state, const uint8_t *data, size_t length);
/* Writes digest_bits / 8 bytes; leaves the state untouched. */
void streebog_digest(const streebog_state *state, uint8_t *out);

#endif
