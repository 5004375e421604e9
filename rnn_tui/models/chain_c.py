"""Scratch cells' time loops as one C call each: the C source, built with the other C loops.

A time loop of the scratch RNN is a chain of T dependent steps, each one small product with the
same weight and one element-wise pass (d2l §8.5, §8.7):

    forward   H_t = tanh(H_{t-1} W_hh + X_t W_xh + b_h)     (X_t W_xh + b_h: row x_t of W_xh + b_h)
    BPTT      G_t = (∂L/∂O_t W_hqᵀ + G_{t+1} W_hhᵀ) ⊙ (1 − H_t²)
                  = ([G_{t+1}, ∂L/∂O_t] [W_hhᵀ; W_hqᵀ]) ⊙ (1 − H_t²)

In torch each step is a matmul call that lays W out for its kernel again and wakes the thread
pool, then a tanh or a multiplication: at batch 32 and hidden 512 the product is 32 × 512 by
512 × 512, too small for MKL's threading to pay. Here the whole chain is one call: its threads
stay in one OpenMP parallel region for all T steps, W laid out once in panels of 16 columns
that panel_product_c.py's tiles multiply (by `recurrent_chain.pack`, or for the RNN by the
chain's own threads, each a share, rnn_chain_c.py). A batch of 8 rows a thread or more (the
last thread 4 or more) is split by rows: a row's chain reads only its own row of the step
before, so those threads never meet again, and BPTT's sums ∂L/∂b_h and ∂L/∂W_xh follow the
chain, each thread over its own columns. A smaller batch is split by columns, the threads
meeting at a barrier after each step, and each adds the input term (a row of W_xh + b_h for a
one-hot X_t) and applies tanh, or applies 1 − H_t² and sums ∂L/∂b_h and ∂L/∂W_xh, on its
columns as it finishes them. The output layer's gradient enters BPTT's product
as V more rows of the weight. The scratch LSTM's and GRU's loops (d2l §9.1, §9.2) are split the
same way, by rows where the batch allows; split by columns, each thread owns a range of hidden
units, their columns in all gate blocks, so its element-wise work (gates, C_t, H_t; their BPTT)
reads only what its own products wrote, and the threads meet once or twice a step.
Built with -fopenmp, the library shares the OpenMP runtime torch has loaded (the same libgomp),
so its threads are torch's own and do not compete with them; built without OpenMP, the chain
runs on one thread, and the measured choice (`recurrent_chain`) keeps torch where that is slower.

The same sums in another order, and glibc's vectorised tanhf: values agree with torch's to
float32 rounding (checked at load, `fused_check`, and in tests/test_recurrent_chain.py).
"""

from __future__ import annotations

SOURCE = r"""
#ifdef _OPENMP
#include <omp.h>
#endif
/* The threads meet: every column of this step is written before the next reads any. */
#ifdef _OPENMP
static inline void chain_barrier(int active) {
  if (active > 1) {
    #pragma omp barrier
  }
}
#else
static inline void chain_barrier(int active) { (void)active; }
#endif

/* Runs work(arg, id, active) on `threads` threads (at most one a panel), or on this one. */
typedef void (*chain_work)(const void*, int, int);
static void chain_parallel(chain_work work, const void* arg, long panels, long threads) {
  if (threads > panels) threads = panels;
#ifdef _OPENMP
  if (threads > 1) {
    #pragma omp parallel num_threads(threads)
    work(arg, omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  work(arg, 0, 1);
}

/* A thread's panels [p0, p1) of ⌈n/16⌉ and their columns [j0, j1). */
#define SPLIT(n, id, active)                                                      \
  long panels = ((n) + NR - 1) / NR;                                              \
  long p0 = panels * (id) / (active), p1 = panels * ((id) + 1) / (active);        \
  long j0 = p0 * NR, j1 = p1 * NR < (n) ? p1 * NR : (n);

/* A thread's rows [r0, r1) of B: the same whole tiles of 8 (WIDE_MR) each, and the rows left
   over shared evenly where that leaves each thread 3 or fewer (narrow tiles, cheap: batch 20 on
   2 threads, 10 and 10, ran 13-19 % faster than 8 and 12, whose 4 cost about a whole tile),
   else in whole tiles. */
#define ROWS(B, id, active)                                                       \
  long whole = 8 * ((B) / (8 * (active))), rest = (B) - whole * (active);         \
  long r0, r1;                                                                    \
  if (rest <= 3 * (active)) {                                                     \
    r0 = whole * (id) + rest * (id) / (active);                                   \
    r1 = whole * ((id) + 1) + rest * ((id) + 1) / (active);                       \
  } else {                                                                        \
    long tiles = ((B) + 7) / 8;                                                   \
    r0 = 8 * (tiles * (id) / (active)), r1 = 8 * (tiles * ((id) + 1) / (active)); \
    if (r0 > (B)) r0 = (B);                                                       \
    if (r1 > (B)) r1 = (B);                                                       \
  }

/* A thread's share of a chain: by rows (where chain_by_rows), its rows and every
   panel and column, and the threads never meet, since a row's chain reads only its own rows;
   else every row and its panels and columns [j0, j1), and the threads meet (`meet`) where a
   step reads what another thread wrote. */
#define SHARE(by_rows, B, n, id, active)                                          \
  SPLIT(n, id, active)                                                            \
  ROWS(B, id, active)                                                             \
  if (by_rows) { p0 = 0; p1 = panels; j0 = 0; j1 = (n); } else { r0 = 0; r1 = (B); } \
  int meet = !(by_rows);                                                          \
  long M = r1 - r0;

/* Whether a chain over B rows on `threads` threads is split by rows: where each thread gets a
   whole tile of 8 but the last, which gets 4 rows or more (batch 12 on 2 threads, 8 and 4, ran
   4-18 % faster than split by columns; 11, 8 and 3, slower for the RNN); and its units of work. */
static int chain_by_rows(long B, long threads) { return B >= 8 * threads - 4; }
static long chain_units(int by_rows, long B, long n) {
  return by_rows ? (B + 7) / 8 : (n + NR - 1) / NR;
}

typedef struct {
  float* gates; float* Hs; float* Cs; float* tc; const float* W; const long* X; const float* U;
  float* dH; float* dC; float* dA;
  long T, B, n;
  int by_rows;
} Lstm;

#define SIGF(x) (1.0f / (1.0f + expf(-(x))))

/* Each thread owns rows (SHARE), or hidden units [j0, j1): their columns in all four gate
   blocks, so that a step's element-wise work reads only what the thread's own products wrote. */
static void lstm_forward_work(const void* arg, int id, int active) {
  const Lstm* c = arg;
  long n = c->n, B = c->B, n4 = 4 * n;
  SHARE(c->by_rows, B, n, id, active)
  long wblock = panels * n * NR;
  for (long t = 0; t < c->T; t++) {
    float* g = c->gates + t * B * n4;
    for (int k = 0; k < 4; k++)
      chain_product(c->Hs + (t * B + r0) * n, n, c->W + k * wblock, g + r0 * n4 + k * n, n4, M,
                    n, n, p0, p1, 0);
    for (long b = r0; b < r1; b++) {
      float* a = g + b * n4;
      const float* u = c->U + c->X[t * B + b] * n4;
      const float* cp = c->Cs + (t * B + b) * n;
      float* cc = c->Cs + ((t + 1) * B + b) * n;
      float* tc = c->tc + (t * B + b) * n;
      float* h = c->Hs + ((t + 1) * B + b) * n;
      #pragma omp simd
      for (long j = j0; j < j1; j++) {
        float o = SIGF(a[j] + u[j]), i = SIGF(a[n + j] + u[n + j]);
        float f = SIGF(a[2 * n + j] + u[2 * n + j]), ct = tanhf(a[3 * n + j] + u[3 * n + j]);
        a[j] = o; a[n + j] = i; a[2 * n + j] = f; a[3 * n + j] = ct;
        float cj = f * cp[j] + i * ct;
        cc[j] = cj;
        float tj = tanhf(cj);
        tc[j] = tj;
        h[j] = o * tj;
      }
    }
    if (meet) chain_barrier(active);
  }
}

static void lstm_backward_work(const void* arg, int id, int active) {
  const Lstm* c = arg;
  long n = c->n, B = c->B, n4 = 4 * n;
  SHARE(c->by_rows, B, n, id, active)
  for (long t = c->T - 1; t >= 0; t--) {
    const float* g = c->gates + t * B * n4;
    float* da = c->dA + t * B * n4;
    for (long b = r0; b < r1; b++)
      lstm_bwd_row(c->dH + ((t + 1) * B + b) * n, g + b * n4, c->Cs + (t * B + b) * n,
                   c->tc + (t * B + b) * n, c->dC + b * n, da + b * n4, n, j0, j1);
    if (meet) chain_barrier(active);  /* dA_t whole: each product below reads all of it */
    chain_product(da + r0 * n4, n4, c->W, c->dH + (t * B + r0) * n, n, M, n4, n, p0, p1, 1);
  }
}

/* The LSTM's forward (d2l §9.2), gates ordered O, I, F, C̃: for t = 0..T-1,
   gates_t = H_t W + U[X_t], activated in place; C_{t+1}, tanh C_{t+1} (tc_t) and H_{t+1}.
   Hs, Cs (T + 1, B, n) with H_0, C_0 given; W = W_h (n x 4n) packed as four n x n blocks of
   panels; U (V, 4n) = W_x + b; X (T, B) ids in [0, V). */
void lstm_chain_forward(float* gates, float* Hs, float* Cs, float* tc, const float* W,
                        const long* X, const float* U, long T, long B, long n, long threads) {
  Lstm c = {gates, Hs, Cs, tc, W, X, U, 0, 0, 0, T, B, n, chain_by_rows(B, threads)};
  chain_parallel(lstm_forward_work, &c, chain_units(c.by_rows, B, n), threads);
}

/* Its BPTT: for t = T-1..0, dA_t from dH_{t+1} (dH (T + 1, B, n): the outputs' gradients,
   dH_0 = 0), dC (B, n, updated in place) and the forward's gates, Cs and tc; then
   dH_t += dA_t W with W = W_hᵀ (4n x n) packed. */
void lstm_chain_backward(float* dH, float* dC, float* dA, const float* gates, const float* Cs,
                         const float* tc, const float* W, long T, long B, long n, long threads) {
  Lstm c = {(float*)gates, 0, (float*)Cs, (float*)tc, W, 0, 0, dH, dC, dA, T, B, n,
            chain_by_rows(B, threads)};
  chain_parallel(lstm_backward_work, &c, chain_units(c.by_rows, B, n), threads);
}

typedef struct {
  float* ZR; float* cand; float* RH; float* Hs; const float* Wzr; const float* Wh;
  const long* X; const float* Uzr; const float* Uh;
  float* dH; float* dA; float* dB; float* dRH;
  long T, B, n;
  int by_rows;
} Gru;

/* The GRU (d2l §9.1), each thread owning a range of hidden units: their columns of Z and R
   and of H̃, meeting twice a step: R ⊙ H_{t-1} whole before its product, H_t whole after;
   or each thread its rows (SHARE), the threads never meeting. */
static void gru_forward_work(const void* arg, int id, int active) {
  const Gru* c = arg;
  long n = c->n, B = c->B, n2 = 2 * n;
  SHARE(c->by_rows, B, n, id, active)
  long wblock = panels * n * NR;
  for (long t = 0; t < c->T; t++) {
    float* zr = c->ZR + t * B * n2;
    float* rh = c->RH + t * B * n;
    float* h = c->cand + t * B * n;
    const float* H = c->Hs + t * B * n;
    for (int k = 0; k < 2; k++)
      chain_product(H + r0 * n, n, c->Wzr + k * wblock, zr + r0 * n2 + k * n, n2, M, n, n, p0,
                    p1, 0);
    for (long b = r0; b < r1; b++) {
      float* g = zr + b * n2; const float* u = c->Uzr + c->X[t * B + b] * n2;
      const float* hb = H + b * n; float* o = rh + b * n;
      #pragma omp simd
      for (long j = j0; j < j1; j++) {
        float z = SIGF(g[j] + u[j]), r = SIGF(g[n + j] + u[n + j]);
        g[j] = z; g[n + j] = r;
        o[j] = r * hb[j];
      }
    }
    if (meet) chain_barrier(active);
    chain_product(rh + r0 * n, n, c->Wh, h + r0 * n, n, M, n, n, p0, p1, 0);
    for (long b = r0; b < r1; b++) {
      float* cr = h + b * n; const float* u = c->Uh + c->X[t * B + b] * n;
      const float* hb = H + b * n; const float* z = zr + b * n2;
      float* o = c->Hs + ((t + 1) * B + b) * n;
      #pragma omp simd
      for (long j = j0; j < j1; j++) {
        float v = tanhf(cr[j] + u[j]);
        cr[j] = v;
        o[j] = v + z[j] * (hb[j] - v);
      }
    }
    if (meet) chain_barrier(active);
  }
}

/* Its BPTT (GRURecurrence's equations): dB_t and dA_t[Z] from dH_t; then dRH = dB_t W_hhᵀ
   once dB_t is whole; dA_t[R] and dH_{t-1}'s element-wise terms; then, once dA_t is whole,
   dH_{t-1} += dA_t W_hzrᵀ. */
static void gru_backward_work(const void* arg, int id, int active) {
  const Gru* c = arg;
  long n = c->n, B = c->B, n2 = 2 * n;
  SHARE(c->by_rows, B, n, id, active)
  for (long t = c->T - 1; t >= 0; t--) {
    const float* zr = c->ZR + t * B * n2;
    const float* cand = c->cand + t * B * n;
    const float* Hp = c->Hs + t * B * n;
    float* dh = c->dH + (t + 1) * B * n;
    float* prev = c->dH + t * B * n;
    float* da = c->dA + t * B * n2;
    float* db = c->dB + t * B * n;
    for (long b = r0; b < r1; b++)
      gru_bwd_a_row(dh + b * n, zr + b * n2, cand + b * n, Hp + b * n, db + b * n, da + b * n2,
                    j0, j1);
    if (meet) chain_barrier(active);
    chain_product(db + r0 * n, n, c->Wh, c->dRH + r0 * n, n, M, n, n, p0, p1, 0);
    for (long b = r0; b < r1; b++)
      gru_bwd_b_row(c->dRH + b * n, zr + b * n2, Hp + b * n, dh + b * n, prev + b * n,
                    da + b * n2 + n, n, j0, j1);
    if (meet) chain_barrier(active);
    chain_product(da + r0 * n2, n2, c->Wzr, prev + r0 * n, n, M, n2, n, p0, p1, 1);
  }
}

/* The GRU's forward: ZR (T, B, 2n) = σ([Z | R]), cand (T, B, n) = H̃, RH = R ⊙ H_{t-1},
   Hs (T + 1, B, n) with H_0 given; Wzr = [W_hz | W_hr] (n x 2n) packed as two n x n blocks,
   Wh = W_hh packed; Uzr (V, 2n) and Uh (V, n) the input tables; X (T, B) ids in [0, V). */
void gru_chain_forward(float* ZR, float* cand, float* RH, float* Hs, const float* Wzr,
                       const float* Wh, const long* X, const float* Uzr, const float* Uh, long T,
                       long B, long n, long threads) {
  Gru c = {ZR, cand, RH, Hs, Wzr, Wh, X, Uzr, Uh, 0, 0, 0, 0, T, B, n, chain_by_rows(B, threads)};
  chain_parallel(gru_forward_work, &c, chain_units(c.by_rows, B, n), threads);
}

/* Its BPTT: dH (T + 1, B, n) with the outputs' gradients in rows 1..T and zeros in row 0;
   fills dA (T, B, 2n), dB (T, B, n) and dH_0, using dRH (B, n) as scratch; Wzr = W_hzrᵀ
   (2n x n) and Wh = W_hhᵀ packed. */
void gru_chain_backward(float* dH, float* dA, float* dB, float* dRH, const float* ZR,
                        const float* cand, const float* Hs, const float* Wzr, const float* Wh,
                        long T, long B, long n, long threads) {
  Gru c = {(float*)ZR, (float*)cand, 0, (float*)Hs, Wzr, Wh, 0, 0, 0, dH, dA, dB, dRH, T, B, n,
           chain_by_rows(B, threads)};
  chain_parallel(gru_backward_work, &c, chain_units(c.by_rows, B, n), threads);
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
