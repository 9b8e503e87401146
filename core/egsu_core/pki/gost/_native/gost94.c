/* GOST R 34.11-94 step function and padding; see gost94.h for the conventions.
 *
 * The step f(H, M) has three parts (GOST R 34.11-94 section 6):
 *   key schedule   K_j = P(U xor V), U <- A(U) xor C_j, V <- A(A(V)), starting from U = H, V = M;
 *   encryption     s_i = E_{K_i}(h_i), GOST 28147-89 simple substitution on each 64-bit word;
 *   mixing         psi^61(H xor psi(M xor psi^12(S))).
 * psi shifts the sixteen 16-bit words down by one and puts y1^y2^y3^y4^y13^y16 on top, so
 * psi^n of a value is a window of a word-wise linear recurrence: we extend an array instead of
 * shifting it n times. */
#include "gost94.h"

#include <string.h>

/* C_3 of the key schedule (C_2 = C_4 = 0), 64-bit words, least significant first. */
static const uint64_t GOST94_C3[4] = {
    0xff00ff00ff00ff00ULL,
    0x00ff00ff00ff00ffULL,
    0xff0000ff00ffff00ULL,
    0xff00ffff000000ffULL,
};

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

static uint32_t rol11(uint32_t x)
{
    return (x << 11) | (x >> 21);
}

int gost94_sbox_init(gost94_sbox *out, const uint8_t rows[128])
{
    for (int i = 0; i < 128; i++) {
        if (rows[i] > 15) {
            return -1;
        }
    }
    for (int byte = 0; byte < 4; byte++) {
        const uint8_t *low_row = rows + 16 * (2 * byte);
        const uint8_t *high_row = rows + 16 * (2 * byte + 1);
        for (int v = 0; v < 256; v++) {
            uint32_t substituted = (uint32_t)(low_row[v & 0xf] | high_row[v >> 4] << 4);
            out->f[byte][v] = rol11(substituted << (8 * byte));
        }
    }
    return 0;
}

/* P: byte r of key word k is byte k of the 64-bit word r of W. */
static void key_from(const uint64_t w[4], uint32_t key[8])
{
    for (int k = 0; k < 8; k++) {
        key[k] = (uint32_t)((w[0] >> (8 * k)) & 0xff) | (uint32_t)((w[1] >> (8 * k)) & 0xff) << 8 |
                 (uint32_t)((w[2] >> (8 * k)) & 0xff) << 16 | (uint32_t)((w[3] >> (8 * k)) & 0xff) << 24;
    }
}

/* A(Y) for Y = y4||y3||y2||y1: (y1 xor y2)||y4||y3||y2. */
static void transform_a(uint64_t y[4])
{
    uint64_t first = y[0] ^ y[1];
    y[0] = y[1];
    y[1] = y[2];
    y[2] = y[3];
    y[3] = first;
}

#define GOST94_ROUND(a, b, k) \
    do { \
        uint32_t t_ = (a) + (k); \
        (b) ^= f[0][t_ & 0xff] ^ f[1][(t_ >> 8) & 0xff] ^ f[2][(t_ >> 16) & 0xff] ^ f[3][t_ >> 24]; \
    } while (0)

/* GOST 28147-89 simple substitution mode on one block; n1 is the low half. */
static uint64_t encrypt_block(const gost94_sbox *sbox, const uint32_t key[8], uint64_t block)
{
    const uint32_t(*f)[256] = sbox->f;
    uint32_t n1 = (uint32_t)block;
    uint32_t n2 = (uint32_t)(block >> 32);
    for (int pass = 0; pass < 3; pass++) {
        GOST94_ROUND(n1, n2, key[0]);
        GOST94_ROUND(n2, n1, key[1]);
        GOST94_ROUND(n1, n2, key[2]);
        GOST94_ROUND(n2, n1, key[3]);
        GOST94_ROUND(n1, n2, key[4]);
        GOST94_ROUND(n2, n1, key[5]);
        GOST94_ROUND(n1, n2, key[6]);
        GOST94_ROUND(n2, n1, key[7]);
    }
    GOST94_ROUND(n1, n2, key[7]);
    GOST94_ROUND(n2, n1, key[6]);
    GOST94_ROUND(n1, n2, key[5]);
    GOST94_ROUND(n2, n1, key[4]);
    GOST94_ROUND(n1, n2, key[3]);
    GOST94_ROUND(n2, n1, key[2]);
    GOST94_ROUND(n1, n2, key[1]);
    GOST94_ROUND(n2, n1, key[0]);
    /* After the 32 Feistel rounds the halves come out swapped. */
    return (uint64_t)n2 | (uint64_t)n1 << 32;
}

static void words16(const uint64_t in[4], uint16_t out[16])
{
    for (int i = 0; i < 16; i++) {
        out[i] = (uint16_t)(in[i / 4] >> (16 * (i % 4)));
    }
}

/* Extend x[0..15] by n words of the psi recurrence; x[n..n+15] is then psi^n. */
static void psi_extend(uint16_t *x, int n)
{
    for (int i = 0; i < n; i++) {
        x[i + 16] = x[i] ^ x[i + 1] ^ x[i + 2] ^ x[i + 3] ^ x[i + 12] ^ x[i + 15];
    }
}

static void step(const gost94_sbox *sbox, uint64_t h[4], const uint64_t m[4])
{
    uint64_t u[4], v[4], w[4], s[4];
    uint32_t key[8];
    memcpy(u, h, sizeof u);
    memcpy(v, m, sizeof v);
    for (int j = 0; j < 4; j++) {
        if (j > 0) {
            transform_a(u);
            if (j == 2) {
                for (int i = 0; i < 4; i++) {
                    u[i] ^= GOST94_C3[i];
                }
            }
            transform_a(v);
            transform_a(v);
        }
        for (int i = 0; i < 4; i++) {
            w[i] = u[i] ^ v[i];
        }
        key_from(w, key);
        s[j] = encrypt_block(sbox, key, h[j]);
    }

    uint16_t x[16 + 61];
    uint16_t mw[16], hw[16];
    words16(s, x);
    words16(m, mw);
    words16(h, hw);
    psi_extend(x, 12);
    for (int i = 0; i < 16; i++) {
        x[i] = x[i + 12] ^ mw[i];
    }
    psi_extend(x, 1);
    for (int i = 0; i < 16; i++) {
        x[i] = x[i + 1] ^ hw[i];
    }
    psi_extend(x, 61);
    for (int i = 0; i < 4; i++) {
        h[i] = (uint64_t)x[61 + 4 * i] | (uint64_t)x[62 + 4 * i] << 16 | (uint64_t)x[63 + 4 * i] << 32 |
               (uint64_t)x[64 + 4 * i] << 48;
    }
}

static void add256(uint64_t sum[4], const uint64_t m[4])
{
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t a = sum[i] + carry;
        carry = a < carry;
        uint64_t b = a + m[i];
        carry += b < a;
        sum[i] = b;
    }
}

static void count_bytes(gost94_state *state, size_t n)
{
    uint64_t before = state->bytes_lo;
    state->bytes_lo += (uint64_t)n;
    state->bytes_hi += state->bytes_lo < before;
}

static void absorb(gost94_state *state, const uint8_t block[32])
{
    uint64_t m[4];
    for (int i = 0; i < 4; i++) {
        m[i] = load64(block + 8 * i);
    }
    add256(state->sigma, m);
    step(state->sbox, state->h, m);
}

void gost94_init(gost94_state *state, const gost94_sbox *sbox)
{
    memset(state, 0, sizeof *state);
    state->sbox = sbox;
}

void gost94_update(gost94_state *state, const uint8_t *data, size_t length)
{
    count_bytes(state, length);
    if (state->buffered) {
        size_t take = 32 - state->buffered;
        if (take > length) {
            take = length;
        }
        memcpy(state->buffer + state->buffered, data, take);
        state->buffered += take;
        data += take;
        length -= take;
        if (state->buffered < 32) {
            return;
        }
        absorb(state, state->buffer);
        state->buffered = 0;
    }
    while (length >= 32) {
        absorb(state, data);
        data += 32;
        length -= 32;
    }
    memcpy(state->buffer, data, length);
    state->buffered = length;
}

void gost94_digest(const gost94_state *state, uint8_t out[32])
{
    gost94_state last = *state;
    if (last.buffered) {
        /* The last partial block is padded with zero bytes at its high end. */
        memset(last.buffer + last.buffered, 0, 32 - last.buffered);
        absorb(&last, last.buffer);
    }
    /* The length block is the bit count as a 256-bit number. */
    uint64_t length[4] = {
        last.bytes_lo << 3,
        last.bytes_hi << 3 | last.bytes_lo >> 61,
        last.bytes_hi >> 61,
        0,
    };
    step(last.sbox, last.h, length);
    step(last.sbox, last.h, last.sigma);
    for (int i = 0; i < 4; i++) {
        store64(out + 8 * i, last.h[i]);
    }
}
