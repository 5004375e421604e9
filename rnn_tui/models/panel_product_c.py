"""The time-loop chains' small products: C source, built with the other C loops (chain_c.py).

A chain's step multiplies a few rows (the batch) by the recurrent weight, laid out once a pass
in panels of 16 columns (`recurrent_chain.pack`, or the RNN chains' packing in C), each thread
its own panels or its own rows. `chain_product` computes C = A W, or C += A W, for a range of
panels, with tiles of registers chosen for the CPU the library is built on; the same sums in
another order as torch's matmul, equal to float32 rounding.
"""

from __future__ import annotations

# Each product is tiled 6 rows by 16 columns: 12 accumulators of 8 floats, two panel loads and
# one broadcast a multiply-add, which fits the 16 vector registers of AVX2 (GCC's generic
# vectors compile to whatever SIMD the target has). The rows past the last multiple of 6 go
# through one narrower tile where they are 1–3 (the batch of 32's last two rows: a forward
# chain 5 % faster than through an overlapping tile), else through a tile of 6 overlapping the
# one before, of which only the new rows are written (narrower tiles of 4 and 5 ran slower per
# row than that).
SOURCE = r"""
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define NR 16
static inline v8 ld8(const float* p) { return *(const v8u*)p; }
static inline void st8(float* p, v8 v) { *(v8u*)p = v; }

/* C[r, :cols] = A[r, :K] · panel (or += where add) for skip <= r < MR; the panel is K rows
   of 16 floats. S sets of accumulators take every S-th k: a multiply-add waits on the one
   before into the same accumulator, so a tile of fewer than 8 of them (1–3 rows) would run
   at half speed or less; the sets are summed at the end. */
#define TILE(MR, S)                                                                    \
static void tile##MR(const float* A, long lda, const float* P, long K, float* C, long ldc, \
                     long skip, long cols, int add) {                                  \
  v8 c0[S][MR], c1[S][MR];                                                             \
  for (int s = 0; s < S; s++)                                                          \
    for (int r = 0; r < MR; r++) { c0[s][r] = (v8){0}; c1[s][r] = (v8){0}; }           \
  long k = 0;                                                                          \
  for (; k + S <= K; k += S) {                                                         \
    _Pragma("GCC unroll 4")                                                            \
    for (int s = 0; s < S; s++) {                                                      \
      v8 b0 = ld8(P + NR * (k + s)), b1 = ld8(P + NR * (k + s) + 8);                   \
      _Pragma("GCC unroll 6")                                                          \
      for (int r = 0; r < MR; r++) {                                                   \
        float a = A[r * lda + k + s];                                                  \
        c0[s][r] += a * b0; c1[s][r] += a * b1;                                        \
      }                                                                                \
    }                                                                                  \
  }                                                                                    \
  for (; k < K; k++) {                                                                 \
    v8 b0 = ld8(P + NR * k), b1 = ld8(P + NR * k + 8);                                 \
    for (int r = 0; r < MR; r++) {                                                     \
      float a = A[r * lda + k];                                                        \
      c0[0][r] += a * b0; c1[0][r] += a * b1;                                          \
    }                                                                                  \
  }                                                                                    \
  for (int s = 1; s < S; s++)                                                          \
    for (int r = 0; r < MR; r++) { c0[0][r] += c0[s][r]; c1[0][r] += c1[s][r]; }       \
  for (int r = (int)skip; r < MR; r++) {                                               \
    float* c = C + r * ldc;                                                            \
    v8 v0 = c0[0][r], v1 = c1[0][r];                                                   \
    if (add && cols == NR) { st8(c, ld8(c) + v0); st8(c + 8, ld8(c + 8) + v1); }       \
    else if (cols == NR) { st8(c, v0); st8(c + 8, v1); }                               \
    else { union { v8 v[2]; float f[NR]; } t = {{v0, v1}};                             \
           for (long j = 0; j < cols; j++) c[j] = add ? c[j] + t.f[j] : t.f[j]; }     \
  }                                                                                    \
}
TILE(6, 1) TILE(5, 1) TILE(4, 1) TILE(3, 2) TILE(2, 2) TILE(1, 4)

#ifdef __AVX512F__
/* With AVX-512 a panel's row of 16 floats is one register: two panels at once, 8 rows,
   are 16 accumulators, two panel loads and 8 broadcasts a k. On a 2-core Xeon a forward chain
   of 35 steps (32 x 512 by 512 x 512) took 2.2 ms this way against 3.5 ms with the 8-float
   tiles above (which AVX-512 runs at half its width) and 2.9 ms in MKL's products. */
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
static inline v16 ld16(const float* p) { return *(const v16u*)p; }
static inline void st16(float* p, v16 v) { *(v16u*)p = v; }
#define WIDE_MR 8
/* Stores (or adds) a tile row's 16 accumulators into the first `cols` columns at o. */
static inline void put16(float* o, v16 v, long cols, int add) {
  if (cols == NR) {
    if (add) v += ld16(o);
    st16(o, v);
    return;
  }
  union { v16 v; float f[NR]; } t = {v};
  for (long j = 0; j < cols; j++) o[j] = add ? o[j] + t.f[j] : t.f[j];
}

/* The second panel may be the last, partial one (`cols` < 16 of its columns written): its
   missing columns are packed as zeros, so reading it whole is safe. */
static void wide8(const float* A, long lda, const float* P, const float* Q, long K, float* C,
                  long ldc, long cols, int add) {
  v16 c[WIDE_MR], d[WIDE_MR];
  for (int r = 0; r < WIDE_MR; r++) { c[r] = (v16){0}; d[r] = (v16){0}; }
  for (long k = 0; k < K; k++) {
    v16 b = ld16(P + NR * k), e = ld16(Q + NR * k);
    _Pragma("GCC unroll 8")
    for (int r = 0; r < WIDE_MR; r++) {
      float a = A[r * lda + k];
      c[r] += a * b; d[r] += a * e;
    }
  }
  for (int r = 0; r < WIDE_MR; r++) {
    float* o = C + r * ldc;
    put16(o, c[r], NR, add);
    put16(o + NR, d[r], cols, add);
  }
}

/* A lone full panel (a thread's odd one, or its only one where many threads share few
   panels): 8 rows of one register each, 2.5 ms for the chain above against 3.5. */
static void wide8_one(const float* A, long lda, const float* P, long K, float* C, long ldc,
                      long cols, int add) {
  v16 c[WIDE_MR];
  for (int r = 0; r < WIDE_MR; r++) c[r] = (v16){0};
  for (long k = 0; k < K; k++) {
    v16 b = ld16(P + NR * k);
    _Pragma("GCC unroll 8")
    for (int r = 0; r < WIDE_MR; r++) c[r] += A[r * lda + k] * b;
  }
  for (int r = 0; r < WIDE_MR; r++) put16(C + r * ldc, c[r], cols, add);
}
#endif

static void panel_product(const float* A, long lda, const float* P, long K, float* c, long ldc,
                          long M, long cols, int add);

/* C (M x N, rows ldc apart) = A (M x K, rows lda apart) W, or += where add, for the columns
   of panels p0..p1 of W (K x N, packed), over k >= k0 only (A's columns before k0 are zeros). */
static void chain_product_from(long k0, const float* A0, long lda, const float* W, float* C,
                               long ldc, long M, long K0, long N, long p0, long p1, int add) {
  const float* A = A0 + k0;
  long K = K0 - k0;
  for (long p = p0; p < p1; p++) {
    const float* P = W + p * K0 * NR + k0 * NR;
    long cols = N - p * NR < NR ? N - p * NR : NR;
    float* c = C + p * NR;
#ifdef __AVX512F__
    if (p + 1 < p1) {  /* two panels, the second perhaps the last, partial one */
      long cols2 = N - (p + 1) * NR < NR ? N - (p + 1) * NR : NR;
      long i = 0;
      for (; i + WIDE_MR <= M; i += WIDE_MR)
        wide8(A + i * lda, lda, P, P + K0 * NR, K, c + i * ldc, ldc, cols2, add);
      if (i < M) {
        panel_product(A + i * lda, lda, P, K, c + i * ldc, ldc, M - i, NR, add);
        panel_product(A + i * lda, lda, P + K0 * NR, K, c + NR + i * ldc, ldc, M - i, cols2, add);
      }
      p++;
      continue;
    }
    if (M >= WIDE_MR) {
      long i = 0;
      for (; i + WIDE_MR <= M; i += WIDE_MR)
        wide8_one(A + i * lda, lda, P, K, c + i * ldc, ldc, cols, add);
      if (i < M) panel_product(A + i * lda, lda, P, K, c + i * ldc, ldc, M - i, cols, add);
      continue;
    }
#endif
    panel_product(A, lda, P, K, c, ldc, M, cols, add);
  }
}

/* c (M x cols) = A (M x K) P, or += where add, P one packed panel of K rows. */
static void panel_product(const float* A, long lda, const float* P, long K, float* c, long ldc,
                          long M, long cols, int add) {
  if (M >= 6) {
    long i = 0;
    for (; i + 6 <= M; i += 6) tile6(A + i * lda, lda, P, K, c + i * ldc, ldc, 0, cols, add);
    long rest = M - i;
    const float* a = A + i * lda;
    float* o = c + i * ldc;
    if (rest == 3) tile3(a, lda, P, K, o, ldc, 0, cols, add);
    else if (rest == 2) tile2(a, lda, P, K, o, ldc, 0, cols, add);
    else if (rest == 1) tile1(a, lda, P, K, o, ldc, 0, cols, add);
    else if (rest)
      tile6(A + (M - 6) * lda, lda, P, K, c + (M - 6) * ldc, ldc, 6 - rest, cols, add);
  } else if (M == 5) tile5(A, lda, P, K, c, ldc, 0, cols, add);
  else if (M == 4) tile4(A, lda, P, K, c, ldc, 0, cols, add);
  else if (M == 3) tile3(A, lda, P, K, c, ldc, 0, cols, add);
  else if (M == 2) tile2(A, lda, P, K, c, ldc, 0, cols, add);
  else if (M == 1) tile1(A, lda, P, K, c, ldc, 0, cols, add);
}

static void chain_product(const float* A, long lda, const float* W, float* C, long ldc, long M,
                          long K, long N, long p0, long p1, int add) {
  chain_product_from(0, A, lda, W, C, ldc, M, K, N, p0, p1, add);
}

"""

__all__ = ["SOURCE"]
