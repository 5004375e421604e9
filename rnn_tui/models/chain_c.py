"""The scratch RNN's time loop as one C call: the C source, built with the other C loops.

A time loop of the scratch RNN is a chain of T dependent steps, each one small product with the
same weight and one element-wise pass (d2l §8.5, §8.7):

    forward   H_t = tanh(H_{t-1} W_hh + X_t W_xh + b_h)     (X_t W_xh + b_h: row x_t of W_xh + b_h)
    BPTT      G_t = (∂L/∂H_t from O_t + G_{t+1} W_hhᵀ) ⊙ (1 − H_t²)

In torch each step is a matmul call that lays W out for its kernel again and wakes the thread
pool, then a tanh or a multiplication: at batch 32 and hidden 512 the product is 32 × 512 by
512 × 512, too small for MKL's threading to pay. Here the whole chain is one call: W is laid out
once, in panels of 16 columns (`recurrent_chain.pack`), and the columns are split between
threads that stay in one OpenMP parallel region for all T steps, meeting at a barrier after each;
each thread adds the input term (a row of W_xh + b_h for a one-hot X_t) or the output's gradient
and applies tanh or 1 − H_t² to its columns as it finishes them.
Built with -fopenmp, the library shares the OpenMP runtime torch has loaded (the same libgomp),
so its threads are torch's own and do not compete with them; built without OpenMP, the chain
runs on one thread, and the measured choice (`recurrent_chain`) keeps torch where that is slower.

The same sums in another order, and glibc's vectorised tanhf: values agree with torch's to
float32 rounding (checked at load, `fused_check`, and in tests/test_recurrent_chain.py).
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
#ifdef _OPENMP
#include <omp.h>
#endif
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define NR 16
static inline v8 ld8(const float* p) { return *(const v8u*)p; }
static inline void st8(float* p, v8 v) { *(v8u*)p = v; }

/* C[r, :cols] = A[r, :K] · panel for skip <= r < MR; the panel is K rows of 16 floats. */
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
    if (cols == NR) { st8(c, c0[r]); st8(c + 8, c1[r]); }                              \
    else { union { v8 v[2]; float f[NR]; } t = {{c0[r], c1[r]}};                     \
           for (long j = 0; j < cols; j++) c[j] = t.f[j]; }                            \
  }                                                                                    \
}
TILE(6) TILE(5) TILE(4) TILE(3) TILE(2) TILE(1)

/* C (M x N) = A (M x K) W for the columns of panels p0..p1 of W (K x N, packed). */
static void chain_product(const float* A, const float* W, float* C, long M, long K, long N,
                          long p0, long p1) {
  for (long p = p0; p < p1; p++) {
    const float* P = W + p * K * NR;
    long cols = N - p * NR < NR ? N - p * NR : NR;
    float* c = C + p * NR;
    if (M >= 6) {
      long i = 0;
      for (; i + 6 <= M; i += 6) tile6(A + i * K, K, P, K, c + i * N, N, 0, cols);
      long rest = M - i;
      if (rest == 3) tile3(A + i * K, K, P, K, c + i * N, N, 0, cols);
      else if (rest == 2) tile2(A + i * K, K, P, K, c + i * N, N, 0, cols);
      else if (rest == 1) tile1(A + i * K, K, P, K, c + i * N, N, 0, cols);
      else if (rest) tile6(A + (M - 6) * K, K, P, K, c + (M - 6) * N, N, 6 - rest, cols);
    } else if (M == 5) tile5(A, K, P, K, c, N, 0, cols);
    else if (M == 4) tile4(A, K, P, K, c, N, 0, cols);
    else if (M == 3) tile3(A, K, P, K, c, N, 0, cols);
    else if (M == 2) tile2(A, K, P, K, c, N, 0, cols);
    else if (M == 1) tile1(A, K, P, K, c, N, 0, cols);
  }
}

typedef struct {
  float* Y; const float* W; const long* X; const float* tab; const float* E; const float* H;
  long T, B, n;
} Chain;

/* One thread's columns [j0, j1) of every step; the threads meet after each step. */
static void chain_work(const Chain* c, int forward, int id, int active) {
  long n = c->n, B = c->B, panels = (n + NR - 1) / NR, block = B * n;
  long p0 = panels * id / active, p1 = panels * (id + 1) / active;
  long j0 = p0 * NR, j1 = p1 * NR < n ? p1 * NR : n;
  long steps = forward ? c->T : c->T - 1;
  for (long s = 0; s < steps; s++) {
    long t = forward ? s : c->T - 1 - s, u = forward ? t + 1 : t - 1;
    float* cur = c->Y + u * block;
    chain_product(c->Y + t * block, c->W, cur, B, n, n, p0, p1);
    for (long b = 0; b < B; b++) {
      float* row = cur + b * n;
      if (forward) {  /* + X_u W_xh + b_h: row x_u of the table */
        const float* x = c->tab + c->X[(u - 1) * B + b] * n;
        #pragma omp simd
        for (long j = j0; j < j1; j++) row[j] = tanhf(row[j] + x[j]);
      } else {
        const float* e = c->E + u * block + b * n;
        const float* h = c->H + u * block + b * n;
        #pragma omp simd
        for (long j = j0; j < j1; j++) row[j] = (row[j] + e[j]) * (1.0f - h[j] * h[j]);
      }
    }
#ifdef _OPENMP
    if (active > 1) {
      #pragma omp barrier
    }
#endif
  }
}

static void chain_run(const Chain* c, int forward, long threads) {
  long panels = (c->n + NR - 1) / NR;
  if (threads > panels) threads = panels;
#ifdef _OPENMP
  if (threads > 1) {
    #pragma omp parallel num_threads(threads)
    chain_work(c, forward, omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  chain_work(c, forward, 0, 1);
}

/* The RNN's forward: Y (T + 1, B, n) with Y_0 = H_0 given;
   Y_u = tanh(Y_{u-1} W + tab[X_u]) for u = 1..T, X (T, B) token ids in [0, V), tab (V, n)
   = W_xh + b_h, W = W_hh (n x n) packed in panels of 16 columns, zero-padded. */
void rnn_chain_forward(float* Y, const float* W, const long* X, const float* tab, long T,
                       long B, long n, long threads) {
  Chain c = {Y, W, X, tab, 0, 0, T, B, n};
  chain_run(&c, 1, threads);
}

/* Its BPTT: G (T, B, n) with G_{T-1} given; G_t = (E_t + G_{t+1} W) ⊙ (1 − H_t²) for
   t = T-2..0, E = ∂L/∂H_t from the outputs, H = H_1..H_T, W = W_hhᵀ packed. */
void rnn_chain_backward(float* G, const float* E, const float* H, const float* W, long T,
                        long B, long n, long threads) {
  Chain c = {G, W, 0, 0, E, H, T, B, n};
  chain_run(&c, 0, threads);
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
