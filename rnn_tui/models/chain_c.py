"""The scratch RNN's time loop as one C call: the C source, built with the other C loops.

A time loop of the scratch RNN is a chain of T dependent steps, each one small product with the
same weight and one element-wise pass (d2l §8.5, §8.7):

    forward   H_t = tanh(X_t W_xh + b_h + H_{t-1} W_hh)           (X_t W_xh + b_h already in row t)
    BPTT      G_t = (∂L/∂H_t from O_t + G_{t+1} W_hhᵀ) ⊙ (1 − H_t²)

In torch each step is a matmul call that lays W out for its kernel again and wakes the thread
pool, then a tanh or a multiplication: at batch 32 and hidden 512 the product is 32 × 512 by
512 × 512, too small for MKL's threading to pay. Here the whole chain is one call: W is laid out
once, in panels of 16 columns (`recurrent_chain.pack`), and the columns are split between
threads that stay in one OpenMP parallel region for all T steps, meeting at a barrier after each.
Built with -fopenmp, the library shares the OpenMP runtime torch has loaded (the same libgomp),
so its threads are torch's own and do not compete with them; built without OpenMP, the chain
runs on one thread, and the measured choice (`recurrent_chain`) keeps torch where that is slower.

The same sums in another order, and glibc's vectorised tanhf: values agree with torch's to
float32 rounding (checked at load, `fused_check`, and in tests/test_recurrent_chain.py).
"""

from __future__ import annotations

# Each product is tiled 6 rows by 16 columns: 12 accumulators of 8 floats, two panel loads and
# one broadcast a multiply-add, which fits the 16 vector registers of AVX2 (GCC's generic
# vectors compile to whatever SIMD the target has). A batch not a multiple of 6 ends with one
# tile overlapping the one before, of which only the new rows are written: 32 rows cost 36 rows
# of work instead of falling back to narrower, slower tiles.
SOURCE = r"""
#ifdef _OPENMP
#include <omp.h>
#endif
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define NR 16
static inline v8 ld8(const float* p) { return *(const v8u*)p; }
static inline void st8(float* p, v8 v) { *(v8u*)p = v; }

/* C[r, :cols] += A[r, :K] · panel for skip <= r < MR; the panel is K rows of 16 floats. */
#define TILE(MR)                                                                       \
static void tile##MR(const float* A, long lda, const float* P, long K, float* C, long ldc, \
                     long skip, long cols) {                                           \
  v8 c0[MR], c1[MR];                                                                   \
  for (int r = 0; r < MR; r++) { c0[r] = (v8){0}; c1[r] = (v8){0}; }                   \
  for (long k = 0; k < K; k++) {                                                       \
    v8 b0 = ld8(P + NR * k), b1 = ld8(P + NR * k + 8);                                 \
    _Pragma("GCC unroll 6")                                                            \
    for (int r = 0; r < MR; r++) {                                                     \
      float a = A[r * lda + k];                                                        \
      c0[r] += a * b0; c1[r] += a * b1;                                                \
    }                                                                                  \
  }                                                                                    \
  for (int r = (int)skip; r < MR; r++) {                                               \
    float* c = C + r * ldc;                                                            \
    if (cols == NR) { st8(c, ld8(c) + c0[r]); st8(c + 8, ld8(c + 8) + c1[r]); }        \
    else { union { v8 v[2]; float f[NR]; } t = {{c0[r], c1[r]}};                     \
           for (long j = 0; j < cols; j++) c[j] += t.f[j]; }                           \
  }                                                                                    \
}
TILE(6) TILE(5) TILE(4) TILE(3) TILE(2) TILE(1)

/* C (M x N) += A (M x K) W for the columns of panels p0..p1 of W (K x N, packed). */
static void chain_product(const float* A, const float* W, float* C, long M, long K, long N,
                          long p0, long p1) {
  for (long p = p0; p < p1; p++) {
    const float* P = W + p * K * NR;
    long cols = N - p * NR < NR ? N - p * NR : NR;
    float* c = C + p * NR;
    if (M >= 6) {
      long i = 0;
      for (; i + 6 <= M; i += 6) tile6(A + i * K, K, P, K, c + i * N, N, 0, cols);
      if (i < M) tile6(A + (M - 6) * K, K, P, K, c + (M - 6) * N, N, 6 - (M - i), cols);
    } else if (M == 5) tile5(A, K, P, K, c, N, 0, cols);
    else if (M == 4) tile4(A, K, P, K, c, N, 0, cols);
    else if (M == 3) tile3(A, K, P, K, c, N, 0, cols);
    else if (M == 2) tile2(A, K, P, K, c, N, 0, cols);
    else if (M == 1) tile1(A, K, P, K, c, N, 0, cols);
  }
}

typedef struct {
  float* Y; const float* D; const float* W;
  long steps, start, dir, B, n, mode;
} Chain;

static void chain_work(const Chain* c, int id, int active) {
  long n = c->n, B = c->B, panels = (n + NR - 1) / NR, block = B * n;
  long p0 = panels * id / active, p1 = panels * (id + 1) / active;
  long j0 = p0 * NR, j1 = p1 * NR < n ? p1 * NR : n;
  for (long s = 0; s < c->steps; s++) {
    long t = c->start + s * c->dir, u = t + c->dir;
    float* cur = c->Y + u * block;
    chain_product(c->Y + t * block, c->W, cur, B, n, n, p0, p1);
    for (long b = 0; b < B; b++) {
      float* row = cur + b * n;
      if (c->mode == 0) {
        #pragma omp simd
        for (long j = j0; j < j1; j++) row[j] = tanhf(row[j]);
      } else {
        const float* d = c->D + u * block + b * n;
        #pragma omp simd
        for (long j = j0; j < j1; j++) row[j] *= d[j];
      }
    }
#ifdef _OPENMP
    if (active > 1) {
      #pragma omp barrier
    }
#endif
  }
}

/* For s = 0..steps-1, t = start + s·dir, u = t + dir, with Y's rows (B, n) blocks:
     mode 0:  Y_u = tanh(Y_u + Y_t W)      (forward; Y_u holds X_u W_xh + b_h)
     mode 1:  Y_u = (Y_u + Y_t W) ⊙ D_u    (BPTT; W = W_hhᵀ, D = 1 − H²)
   W (n x n) packed in panels of 16 columns, zero-padded; columns split over `threads`. */
void rnn_chain(float* Y, const float* D, const float* W, long steps, long start, long dir,
               long B, long n, long mode, long threads) {
  Chain c = {Y, D, W, steps, start, dir, B, n, mode};
  long panels = (n + NR - 1) / NR;
  if (threads > panels) threads = panels;
#ifdef _OPENMP
  if (threads > 1) {
    #pragma omp parallel num_threads(threads)
    chain_work(&c, omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  chain_work(&c, 0, 1);
}

/* The threads a chain can use: OpenMP's, or 1 where the library was built without it. */
long chain_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
"""

__all__ = ["SOURCE"]
