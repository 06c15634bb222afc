/* Tests of the distinct kernel's core: canonical hashing, HyperLogLog, CVM, exact sets, lines. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "hotloop/distinct.h"
#include "hotloop/rng.h"

HL_TEST(distinct_hash_canonical_numbers) {
    const uint64_t key = 12345;
    CHECK_EQ_U64(hl_dhash_double(1.0, key), hl_dhash_int(1, key));
    CHECK_EQ_U64(hl_dhash_double(-0.0, key), hl_dhash_int(0, key));
    CHECK_EQ_U64(hl_dhash_double(-7.0, key), hl_dhash_int(-7, key));
    CHECK_EQ_U64(hl_dhash_double(NAN, key), hl_dhash_double(-NAN, key));
    CHECK(hl_dhash_double(0.5, key) != hl_dhash_double(1.5, key));
    CHECK(hl_dhash_int(1, key) != hl_dhash_int(1, key + 1));
    CHECK_EQ_U64(hl_dhash_u64(5, key), hl_dhash_int(5, key));
    /* 2^63 as u64, as a double, as big-integer bytes. */
    unsigned char mag[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    CHECK_EQ_U64(hl_dhash_u64(UINT64_C(1) << 63, key), hl_dhash_bigint(0, mag, 8, key));
    CHECK_EQ_U64(hl_dhash_double(0x1p63, key), hl_dhash_bigint(0, mag, 8, key));
    CHECK(hl_dhash_double(-0x1p63, key) == hl_dhash_int(INT64_MIN, key));
    unsigned char big[16] = {0};
    big[12] = 1; /* 2^96 */
    CHECK_EQ_U64(hl_dhash_double(0x1p96, key), hl_dhash_bigint(0, big, 16, key));
    CHECK(hl_dhash_double(-0x1p96, key) != hl_dhash_double(0x1p96, key));
    /* leading zero bytes of the magnitude do not matter */
    unsigned char five[4] = {5, 0, 0, 0};
    CHECK_EQ_U64(hl_dhash_bigint(1, five, 4, key), hl_dhash_int(-5, key));
}

HL_TEST(distinct_hash_strings) {
    const uint64_t key = 7;
    unsigned char scratch[64];
    const char *ascii = "hello";
    uint32_t ucs4[5] = {'h', 'e', 'l', 'l', 'o'};
    uint16_t ucs2[5] = {'h', 'e', 'l', 'l', 'o'};
    CHECK_EQ_U64(hl_dhash_ucs(ascii, 1, 5, key, scratch), hl_dhash_utf8(ascii, 5, key));
    CHECK_EQ_U64(hl_dhash_ucs(ucs4, 4, 5, key, scratch), hl_dhash_utf8(ascii, 5, key));
    CHECK_EQ_U64(hl_dhash_ucs(ucs2, 2, 5, key, scratch), hl_dhash_utf8(ascii, 5, key));
    /* e-acute: U+00E9 is C3 A9 in UTF-8 */
    uint8_t l1[1] = {0xE9};
    const char *utf8 = "\xC3\xA9";
    CHECK_EQ_U64(hl_dhash_ucs(l1, 1, 1, key, scratch), hl_dhash_utf8(utf8, 2, key));
    uint32_t emoji[1] = {0x1F600};
    CHECK_EQ_U64(hl_dhash_ucs(emoji, 4, 1, key, scratch),
                 hl_dhash_utf8("\xF0\x9F\x98\x80", 4, key));
    CHECK(hl_dhash_utf8("ab", 2, key) != hl_dhash_bytestr("ab", 2, key));
    CHECK(hl_dhash_utf8("", 0, key) != hl_dhash_bytestr("", 0, key));
    /* every length from 0 to 100 differs from its neighbours (short/long read paths) */
    char buf[128];
    memset(buf, 'x', sizeof buf);
    for (size_t n = 1; n < 100; n++) {
        CHECK(hl_dhash_utf8(buf, n, key) != hl_dhash_utf8(buf, n - 1, key));
    }
}

/* The byte hash keeps its values (sketch bytes and estimates depend on them, in every process
 * and on every machine): a digest over lengths 0..72 (the short, single-lane and two-lane
 * paths), odd offsets, three keys and two domains, and a few single values, pinned from the
 * first implementation. The inline short-input form used by the list walk (its seed computed
 * once) gives the same values. */
HL_TEST(distinct_hash_pinned_values_and_short_path) {
    unsigned char buf[80];
    hl_rng r;
    hl_rng_seed(&r, 11);
    const uint64_t keys[3] = {0, 7, UINT64_C(0xdeadbeefcafef00d)};
    const uint64_t tags[2] = {HL_DTAG_STR, HL_DTAG_BYTES};
    uint64_t digest = 0;
    for (int trial = 0; trial < 50; trial++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            buf[i] = (unsigned char)hl_rng_next(&r);
        }
        for (int k = 0; k < 3; k++) {
            for (int t = 0; t < 2; t++) {
                const uint64_t seed = hl_dhash_bytes_seed(keys[k], tags[t]);
                for (size_t n = 0; n <= 72; n++) {
                    /* at an odd offset: the loads must not assume alignment */
                    uint64_t h = hl_dhash_bytes(buf + 3, n, keys[k], tags[t]);
                    digest = hl_dmum(digest ^ h, HL_DK2);
                    if (n <= 16) {
                        CHECK_EQ_U64(hl_dhash_short(buf + 3, n, seed, tags[t]), h);
                    }
                }
            }
        }
    }
    CHECK_EQ_U64(digest, UINT64_C(0x8cf3045eb5f5feeb));
    CHECK_EQ_U64(hl_dhash_utf8("", 0, 0), UINT64_C(0x9a092822aa5a5c96));
    CHECK_EQ_U64(hl_dhash_utf8("abc", 3, 0), UINT64_C(0xf06c19ae070241ec));
    CHECK_EQ_U64(hl_dhash_utf8("12345", 5, 0), UINT64_C(0x5e93652ef49d2bc7));
    CHECK_EQ_U64(hl_dhash_utf8("hello, w", 8, 0), UINT64_C(0xd3e03c3d48b64ccb));
    CHECK_EQ_U64(hl_dhash_utf8("0123456789abcdefg", 17, 0), UINT64_C(0x54e5f0517c1c8dc3));
    CHECK_EQ_U64(hl_dhash_utf8("word", 4, 7), UINT64_C(0xe5f9f704dae6146a));
    CHECK_EQ_U64(hl_dhash_bytestr("abc", 3, 0), UINT64_C(0xa0a6fb24f8b18b69));
}

/* Hash quality: the top bits and leading zeros HyperLogLog uses look uniform. */
HL_TEST(distinct_hash_bits_balanced) {
    const size_t n = 200000;
    size_t ones[64] = {0};
    char s[32];
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(s, sizeof s, "%zu", i);
        uint64_t h = hl_dhash_utf8(s, (size_t)len, 0);
        uint64_t g = hl_dhash_int((int64_t)i, 0);
        for (int b = 0; b < 64; b++) {
            ones[b] += ((h >> b) & 1) + ((g >> b) & 1);
        }
    }
    /* 2n fair bits: sd = sqrt(2n)/2 = 316; 6 sd bounds (false failure < 1e-7 overall) */
    for (int b = 0; b < 64; b++) {
        CHECK(fabs((double)ones[b] - (double)n) < 6 * 316.3);
    }
}

static void make_hashes(uint64_t seed, size_t n, uint64_t *out) {
    hl_rng r;
    hl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        out[i] = hl_rng_next(&r);
    }
}

HL_TEST(distinct_hll_sparse_is_exact_then_dense) {
    hl_hll *s;
    CHECK_OK(hl_hll_create(12, 0, &s));
    size_t lim = hl_hll_sparse_limit(12);
    uint64_t *h = malloc(4 * lim * sizeof(uint64_t));
    make_hashes(1, 4 * lim, h);
    bool exact;
    CHECK(hl_hll_estimate(s, &exact) == 0.0 && exact);
    hl_hll_add(s, h, lim);
    hl_hll_add(s, h, lim); /* duplicates */
    CHECK_OK(hl_hll_validate(s));
    CHECK(hl_hll_estimate(s, &exact) == (double)lim && exact);
    hl_hll_add(s, h, lim + 1);
    CHECK(!hl_hll_is_sparse(s));
    CHECK_OK(hl_hll_validate(s));
    hl_hll_add(s, h, 4 * lim);
    double e = hl_hll_estimate(s, &exact);
    CHECK(!exact);
    CHECK(fabs(e / (4.0 * (double)lim) - 1.0) < 6 * hl_hll_rse(12));
    hl_hll_free(s);
    free(h);
}

HL_TEST(distinct_hll_merge_equals_union_and_order_free) {
    const size_t n = 50000;
    uint64_t *h = malloc(n * sizeof(uint64_t));
    make_hashes(2, n, h);
    for (size_t cut = 100; cut <= n; cut *= 7) {
        hl_hll *a, *b, *all, *rev;
        CHECK_OK(hl_hll_create(10, 3, &a));
        CHECK_OK(hl_hll_create(10, 3, &b));
        CHECK_OK(hl_hll_create(10, 3, &all));
        CHECK_OK(hl_hll_create(10, 3, &rev));
        size_t c = cut < n ? cut : n;
        hl_hll_add(a, h, c / 2);
        hl_hll_add(b, h + c / 4, c - c / 4);
        hl_hll_add(all, h, c);
        for (size_t i = c; i-- > 0;) {
            hl_hll_add(rev, &h[i], 1);
        }
        CHECK_OK(hl_hll_merge(a, b));
        CHECK(hl_hll_equal(a, all));
        CHECK(hl_hll_equal(rev, all));
        /* serialisation is a function of the set */
        size_t sz = hl_hll_serialized_size(all);
        CHECK_EQ_U64(sz, hl_hll_serialized_size(rev));
        unsigned char *x = malloc(sz), *y = malloc(sz);
        CHECK_OK(hl_hll_serialize(all, x, sz));
        CHECK_OK(hl_hll_serialize(rev, y, sz));
        CHECK(memcmp(x, y, sz) == 0);
        hl_hll *back;
        CHECK_OK(hl_hll_deserialize(x, sz, &back));
        CHECK(back != NULL && hl_hll_equal(back, all));
        /* every truncation and every single-byte flip is refused */
        for (size_t k = 0; k < sz; k += 1 + sz / 64) {
            hl_hll *bad = NULL;
            CHECK_STATUS(hl_hll_deserialize(x, k, &bad), HL_EFORMAT);
            x[k] ^= 0x40;
            CHECK_STATUS(hl_hll_deserialize(x, sz, &bad), HL_EFORMAT);
            x[k] ^= 0x40;
            CHECK(bad == NULL);
        }
        hl_hll_free(back);
        free(x);
        free(y);
        hl_hll_free(a);
        hl_hll_free(b);
        hl_hll_free(all);
        hl_hll_free(rev);
    }
    hl_hll *a, *b;
    CHECK_OK(hl_hll_create(10, 3, &a));
    CHECK_OK(hl_hll_create(10, 4, &b));
    CHECK_STATUS(hl_hll_merge(a, b), HL_EINVAL);
    hl_hll_free(b);
    CHECK_OK(hl_hll_create(11, 3, &b));
    CHECK_STATUS(hl_hll_merge(a, b), HL_EINVAL);
    hl_hll_free(a);
    hl_hll_free(b);
    free(h);
}

HL_TEST(distinct_hll_estimate_accuracy) {
    /* 200 sketches of p = 8 over 20000 random hashes: RMS relative error near 1.04/16. */
    const int p = 8;
    const size_t n = 20000;
    uint64_t *h = malloc(n * sizeof(uint64_t));
    double ss = 0;
    for (int rep = 0; rep < 200; rep++) {
        make_hashes(1000 + (uint64_t)rep, n, h);
        hl_hll *s;
        CHECK_OK(hl_hll_create(p, 0, &s));
        hl_hll_add(s, h, n);
        double e = hl_hll_estimate(s, NULL) / (double)n - 1.0;
        ss += e * e;
        hl_hll_free(s);
    }
    double rms = sqrt(ss / 200);
    /* sd of the RMS estimate ~ rse / sqrt(400) = 5%: 20% tolerance is 4 sd */
    CHECK(fabs(rms / hl_hll_rse(p) - 1.0) < 0.2);
    free(h);
}

HL_TEST(distinct_hll_source_threads_agree) {
    const size_t n = 3000000;
    int64_t *v = malloc(n * sizeof(int64_t));
    for (size_t i = 0; i < n; i++) {
        v[i] = (int64_t)((i * 7919) % 400000) - 1000;
    }
    hl_dsource src = {.kind = HL_DK_I64, .data = v, .n = n};
    CHECK_OK(hl_dsource_check(&src, n * 8));
    hl_hll *one, *many;
    CHECK_OK(hl_hll_create(14, 9, &one));
    CHECK_OK(hl_hll_create(14, 9, &many));
    CHECK_OK(hl_hll_add_source(one, &src, 1, NULL));
    CHECK_OK(hl_hll_add_source(many, &src, 4, NULL));
    CHECK(hl_hll_equal(one, many));
    double e = hl_hll_estimate(one, NULL);
    CHECK(fabs(e / 400000.0 - 1.0) < 0.05);
    hl_hll_free(one);
    hl_hll_free(many);
    free(v);
}

HL_TEST(distinct_cvm_small_streams_exact) {
    uint64_t h[1000];
    make_hashes(5, 1000, h);
    for (int m = 0; m < 2; m++) {
        hl_cvm *c;
        CHECK_OK(hl_cvm_create((hl_cvm_method)m, 2000, 11, &c));
        CHECK_OK(hl_cvm_add(c, h, 1000));
        CHECK_OK(hl_cvm_add(c, h, 500));
        CHECK_EQ_U64(hl_cvm_estimate(c), 1000);
        CHECK_OK(hl_cvm_validate(c));
        hl_cvm_free(c);
    }
}

HL_TEST(distinct_cvm_estimates_within_eps) {
    /* thresh from eps = 0.2, delta = 0.01: failures (|err| > 0.2) should essentially never
     * happen over 20 runs of 60000 items, 20000 distinct. */
    const size_t n = 60000, d = 20000;
    uint64_t *base = malloc(d * sizeof(uint64_t));
    uint64_t *h = malloc(n * sizeof(uint64_t));
    make_hashes(8, d, base);
    hl_rng r;
    hl_rng_seed(&r, 99);
    for (size_t i = 0; i < n; i++) {
        h[i] = base[i < d ? i : hl_rng_below(&r, d)];
    }
    size_t thresh = hl_cvm_threshold(0.2, 0.01, (double)n);
    CHECK(thresh == (size_t)ceil(12 / 0.04 * log2(8.0 * 60000 / 0.01)));
    for (int m = 0; m < 2; m++) {
        for (uint64_t seed = 0; seed < 10; seed++) {
            hl_cvm *c;
            CHECK_OK(hl_cvm_create((hl_cvm_method)m, thresh, seed, &c));
            /* feed in uneven batches: the result must not depend on batching */
            CHECK_OK(hl_cvm_add(c, h, 777));
            CHECK_OK(hl_cvm_add(c, h + 777, n - 777));
            CHECK_OK(hl_cvm_validate(c));
            double e = (double)hl_cvm_estimate(c);
            CHECK(fabs(e / (double)d - 1.0) < 0.2);
            hl_cvm *c2;
            CHECK_OK(hl_cvm_create((hl_cvm_method)m, thresh, seed, &c2));
            CHECK_OK(hl_cvm_add(c2, h, n));
            CHECK_EQ_U64(hl_cvm_estimate(c2), hl_cvm_estimate(c));
            hl_cvm_free(c);
            hl_cvm_free(c2);
        }
    }
    /* a tiny buffer makes the paper's algorithm fail (never a wrong number) */
    hl_cvm *c;
    CHECK_OK(hl_cvm_create(HL_CVM_PAPER, 1, 0, &c));
    CHECK_STATUS(hl_cvm_add(c, h, n), HL_ENUMERIC);
    CHECK_STATUS(hl_cvm_add(c, h, 1), HL_ENUMERIC);
    hl_cvm_free(c);
    CHECK_EQ_U64(hl_cvm_threshold(0.0, 0.1, 10), 0);
    CHECK_EQ_U64(hl_cvm_threshold(0.5, 1.0, 10), 0);
    free(base);
    free(h);
}

/* Knuth's Algorithm D written plainly (buffer in arrays, linear searches), drawing the same
 * random words as hl_cvm: the table, heap and their compaction must not change any answer. */
static uint64_t plain_algorithm_d(const uint64_t *h, size_t n, size_t s, uint64_t seed) {
    uint64_t *keys = malloc(s * sizeof(uint64_t));
    double *vol = malloc(s * sizeof(double));
    size_t size = 0;
    double p = 1.0;
    hl_rng r;
    hl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < size; j++) { /* D3 */
            if (keys[j] == h[i]) {
                keys[j] = keys[size - 1];
                vol[j] = vol[size - 1];
                size--;
                break;
            }
        }
        double u = hl_rng_uniform(&r); /* D4 */
        if (u >= p) {
            continue;
        }
        if (size < s) {
            keys[size] = h[i];
            vol[size++] = u;
            continue;
        }
        size_t top = 0; /* D5 */
        for (size_t j = 1; j < size; j++) {
            top = vol[j] > vol[top] ? j : top;
        }
        if (u > vol[top]) {
            p = u;
        } else {
            p = vol[top];
            keys[top] = h[i];
            vol[top] = u;
        }
    }
    free(keys);
    free(vol);
    return (uint64_t)llround((double)size / p);
}

HL_TEST(distinct_cvm_knuth_matches_plain_algorithm_d) {
    /* Few distinct items against small buffers: items leave and re-enter the buffer all the
     * time (deletions shifting clusters, stale heap entries, compactions). */
    const size_t n = 40000;
    uint64_t *base = malloc(400 * sizeof(uint64_t));
    uint64_t *h = malloc(n * sizeof(uint64_t));
    make_hashes(21, 400, base);
    hl_rng r;
    hl_rng_seed(&r, 5);
    const size_t distinct[3] = {30, 120, 400};
    const size_t threshes[4] = {1, 7, 40, 100};
    for (int d = 0; d < 3; d++) {
        for (size_t i = 0; i < n; i++) {
            h[i] = base[hl_rng_below(&r, distinct[d])];
        }
        for (int t = 0; t < 4; t++) {
            for (uint64_t seed = 0; seed < 3; seed++) {
                hl_cvm *c;
                CHECK_OK(hl_cvm_create(HL_CVM_KNUTH, threshes[t], seed, &c));
                for (size_t i = 0, step = 1; i < n; i += step, step = step % 97 + 13) {
                    size_t m = n - i < step ? n - i : step;
                    CHECK_OK(hl_cvm_add(c, h + i, m));
                    CHECK_OK(hl_cvm_validate(c));
                }
                CHECK_EQ_U64(hl_cvm_estimate(c), plain_algorithm_d(h, n, threshes[t], seed));
                hl_cvm_free(c);
            }
        }
    }
    free(base);
    free(h);
}

static int always_equal_calls;
static int eq_by_value(void *ctx, uint64_t a, uint64_t b) {
    const int *v = ctx;
    always_equal_calls++;
    return v[a] == v[b];
}

HL_TEST(distinct_exset_resolves_collisions) {
    /* Every item gets the same hash: the count must still be exact. */
    int vals[300];
    uint64_t hs[300];
    for (int i = 0; i < 300; i++) {
        vals[i] = i % 100;
        hs[i] = 42;
    }
    hl_exset *s;
    CHECK_OK(hl_exset_create(&s));
    CHECK_OK(hl_exset_add(s, hs, 300, 0, eq_by_value, vals));
    CHECK_EQ_U64(hl_exset_count(s), 100);
    CHECK(always_equal_calls > 0);
    hl_exset_free(s);
}

HL_TEST(distinct_exset_sources) {
    double f[8] = {1.0, NAN, -0.0, 0.0, NAN, 2.5, 1.0, 2.5};
    hl_dsource src = {.kind = HL_DK_F64, .data = f, .n = 8};
    hl_exset *s;
    CHECK_OK(hl_exset_create(&s));
    CHECK_OK(hl_exset_add_sources(s, &src, 1, NULL));
    CHECK_EQ_U64(hl_exset_count(s), 4); /* 1, nan, 0, 2.5 */
    hl_exset_free(s);
    /* Arrow-like strings with a null, in two chunks */
    const char *data = "abcab";
    int32_t off[6] = {0, 1, 2, 3, 4, 5};
    uint8_t valid = 0x1B; /* items 0,1,3,4 valid; 2 null */
    hl_dsource ch[2] = {
        {.kind = HL_DK_UTF8_O32, .data = data, .offsets = off, .n = 3, .validity = &valid},
        {.kind = HL_DK_UTF8_O32, .data = data, .offsets = off + 3, .n = 2},
    };
    CHECK_OK(hl_dsource_check(&ch[0], 5));
    CHECK_OK(hl_dsource_check(&ch[1], 5));
    CHECK_OK(hl_exset_create(&s));
    CHECK_OK(hl_exset_add_sources(s, ch, 2, NULL));
    CHECK_EQ_U64(hl_exset_count(s), 3); /* a, b, None */
    hl_exset_free(s);
    int32_t bad[3] = {0, 4, 2};
    hl_dsource b = {.kind = HL_DK_UTF8_O32, .data = data, .offsets = bad, .n = 2};
    CHECK_STATUS(hl_dsource_check(&b, 5), HL_EINVAL);
    int32_t over[2] = {0, 9};
    hl_dsource o = {.kind = HL_DK_UTF8_O32, .data = data, .offsets = over, .n = 1};
    CHECK_STATUS(hl_dsource_check(&o, 5), HL_EINVAL);
}

HL_TEST(distinct_lines_from_fd) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    const char *text = "a\nb\r\na\n\nc\nb\nlast";
    CHECK(write(fds[1], text, strlen(text)) == (ssize_t)strlen(text));
    close(fds[1]);
    hl_lineset *ls;
    CHECK_OK(hl_lineset_create(&ls));
    uint64_t bytes = 0, lines = 0;
    CHECK_OK(hl_lines_read_fd(fds[0], NULL, ls, &bytes, &lines, NULL));
    close(fds[0]);
    CHECK_EQ_U64(bytes, strlen(text));
    CHECK_EQ_U64(lines, 7);
    CHECK_EQ_U64(hl_lineset_count(ls), 5); /* a b "" c last */
    hl_lineset_free(ls);
    CHECK_STATUS(hl_lines_read_fd(-1, NULL, ls, NULL, NULL, NULL), HL_EINVAL);
}

/* The dispatched integer hash (AVX-512 where active) gives the scalar hash's bits, for every
 * length (vector body and tail) and offset; the sketch fed through it equals the sketch fed
 * scalar hashes. Run on every CPU path by the test driver. */
HL_TEST(distinct_int_hash_paths_agree) {
    const size_t n = 5003;
    int64_t *v = malloc(n * sizeof(int64_t));
    uint64_t *got = malloc(n * sizeof(uint64_t));
    uint64_t *want = malloc(n * sizeof(uint64_t));
    hl_rng r;
    hl_rng_seed(&r, 77);
    for (size_t i = 0; i < n; i++) {
        v[i] = (int64_t)hl_rng_next(&r) >> (i % 64);
    }
    const uint64_t keys[3] = {0, 1, UINT64_C(0xdeadbeefcafef00d)};
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < n; i++) {
            want[i] = hl_dhash_int(v[i], keys[k]);
        }
        hl_dsource src = {.kind = HL_DK_I64, .data = v, .n = n};
        for (size_t begin = 0; begin < 20; begin += 3) {
            for (size_t end = begin; end <= n; end += (end < 40 ? 1 : 997)) {
                CHECK_OK(hl_dsource_hash(&src, begin, end, keys[k], got));
                CHECK(end == begin || memcmp(got, want + begin, (end - begin) * 8) == 0);
            }
        }
        hl_hll *a, *b;
        CHECK_OK(hl_hll_create(12, keys[k], &a));
        CHECK_OK(hl_hll_create(12, keys[k], &b));
        CHECK_OK(hl_hll_add_source(a, &src, 1, NULL));
        hl_hll_add(b, want, n);
        CHECK(hl_hll_equal(a, b));
        hl_hll_free(a);
        hl_hll_free(b);
    }
    free(v);
    free(got);
    free(want);
}
