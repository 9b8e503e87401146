/* Streebog (GOST R 34.11-2012 section 8); see streebog.h for the conventions.
 *
 * LPS = L(P(S(x))) is done with eight 256-entry tables of 64-bit words: after S and the byte
 * transposition P, word i of the result is made of byte i of every input word j, and L is
 * linear, so word i = XOR over j of T[j][byte i of word j], T[j][b] = l(pi(b) << 8j). */
#include "streebog.h"

#include <string.h>

#include "streebog_constants.h"

static uint64_t lps_table[8][256];

/* l: the 64-bit linear map, the most significant input bit selects row 0 of A. */
static uint64_t linear(uint64_t x)
{
    uint64_t out = 0;
    for (int row = 0; row < 64; row++) {
        if ((x >> (63 - row)) & 1) {
            out ^= STREEBOG_A[row];
        }
    }
    return out;
}

void streebog_tables_init(void)
{
    for (int j = 0; j < 8; j++) {
        for (int b = 0; b < 256; b++) {
            lps_table[j][b] = linear((uint64_t)STREEBOG_PI[b] << (8 * j));
        }
    }
}

static uint64_t load64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void store64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* out = LPS(a xor b) */
static void lps_xor(uint64_t out[8], const uint64_t a[8], const uint64_t b[8])
{
    uint64_t x[8];
    for (int j = 0; j < 8; j++) {
        x[j] = a[j] ^ b[j];
    }
    for (int i = 0; i < 8; i++) {
        int shift = 8 * i;
        out[i] = lps_table[0][(x[0] >> shift) & 0xff] ^ lps_table[1][(x[1] >> shift) & 0xff] ^
                 lps_table[2][(x[2] >> shift) & 0xff] ^ lps_table[3][(x[3] >> shift) & 0xff] ^
                 lps_table[4][(x[4] >> shift) & 0xff] ^ lps_table[5][(x[5] >> shift) & 0xff] ^
                 lps_table[6][(x[6] >> shift) & 0xff] ^ lps_table[7][(x[7] >> shift) & 0xff];
    }
}

/* g_N(h, m) = E(LPS(h xor N), m) xor h xor m, E(K, m) = X[K13] LPS X[K12] ... LPS X[K1](m). */
static void compress(uint64_t h[8], const uint64_t n[8], const uint64_t m[8])
{
    uint64_t key[8], state[8];
    lps_xor(key, h, n);
    memcpy(state, m, sizeof state);
    for (int round = 0; round < 12; round++) {
        lps_xor(state, state, key);
        lps_xor(key, key, STREEBOG_C[round]);
    }
    for (int i = 0; i < 8; i++) {
        h[i] ^= state[i] ^ key[i] ^ m[i];
    }
}

static void add512(uint64_t sum[8], const uint64_t m[8])
{
    uint64_t carry = 0;
    for (int i = 0; i < 8; i++) {
        uint64_t a = sum[i] + carry;
        carry = a < carry;
        uint64_t b = a + m[i];
        carry += b < a;
        sum[i] = b;
    }
}

static void add_bits(uint64_t n[8], uint64_t bits)
{
    uint64_t word[8] = {bits, 0, 0, 0, 0, 0, 0, 0};
    add512(n, word);
}

static void absorb(streebog_state *state, const uint8_t block[64], uint64_t bits)
{
    uint64_t m[8];
    for (int i = 0; i < 8; i++) {
        m[i] = load64(block + 8 * i);
    }
    compress(state->h, state->n, m);
    add_bits(state->n, bits);
    add512(state->sigma, m);
}

void streebog_init(streebog_state *state, int digest_bits)
{
    memset(state, 0, sizeof *state);
    state->digest_bits = digest_bits;
    if (digest_bits == 256) {
        /* IV of the 256-bit hash: every byte 0x01. */
        for (int i = 0; i < 8; i++) {
            state->h[i] = 0x0101010101010101ULL;
        }
    }
}

void streebog_update(streebog_state *state, const uint8_t *data, size_t length)
{
    if (state->buffered) {
        size_t take = 64 - state->buffered;
        if (take > length) {
            take = length;
        }
        memcpy(state->buffer + state->buffered, data, take);
        state->buffered += take;
        data += take;
        length -= take;
        if (state->buffered < 64) {
            return;
        }
        absorb(state, state->buffer, 512);
        state->buffered = 0;
    }
    while (length >= 64) {
        absorb(state, data, 512);
        data += 64;
        length -= 64;
    }
    memcpy(state->buffer, data, length);
    state->buffered = length;
}

void streebog_digest(const streebog_state *state, uint8_t *out)
{
    static const uint64_t zero[8] = {0};
    streebog_state last = *state;
    /* The last block, possibly empty, is padded with one 0x01 byte and zeros above it. */
    memset(last.buffer + last.buffered, 0, 64 - last.buffered);
    last.buffer[last.buffered] = 0x01;
    absorb(&last, last.buffer, 8 * (uint64_t)last.buffered);
    compress(last.h, zero, last.n);
    compress(last.h, zero, last.sigma);
    if (last.digest_bits == 512) {
        for (int i = 0; i < 8; i++) {
            store64(out + 8 * i, last.h[i]);
        }
    } else {
        /* The 256-bit digest is the most significant half of the final value. */
        for (int i = 0; i < 4; i++) {
            store64(out + 8 * i, last.h[4 + i]);
        }
    }
}
