"""The scratch RNN's time loops (chain_c.py's scheme): the C source, built with the other C loops.

    forward   H_t = tanh(H_{t-1} W_hh + X_t W_xh + b_h)
    BPTT      G_t = ([G_{t+1}, ∂L/∂O_t] [W_hhᵀ; W_hqᵀ]) ⊙ (1 − H_t²)

(d2l §8.5, §8.7). Each chain is one call whose threads first pack the weight into panels of 16
columns, each thread a share (in C: torch's copies of the same layout took 0.2 ms more of a
pass at hidden 512), then run the T steps, split by rows where the batch has 8 rows a thread or
more (the last thread 4 or more), else by columns (chain_c.py says why).
"""

from __future__ import annotations

SOURCE = r"""
/* Panels [p0, p1) of W (K x N, rows ldw apart): P[p][k][j] = W[k][16p + j], zeros past N. */
static void pack_panels(const float* W, long ldw, long K, long N, float* P, long p0, long p1) {
  for (long p = p0; p < p1; p++) {
    long cols = N - p * NR < NR ? N - p * NR : NR;
    float* o = P + p * K * NR;
    const float* w = W + p * NR;
    for (long k = 0; k < K; k++, o += NR, w += ldw) {
      for (long j = 0; j < cols; j++) o[j] = w[j];
      for (long j = cols; j < NR; j++) o[j] = 0.0f;
    }
  }
}

/* Panels [p0, p1) of the K x N matrix [W1ᵀ; W2ᵀ], W1 (N x K1) and W2 (N x (K - K1)) with rows
   ld1 and ld2 apart, zeros past N; in blocks of 16 k, whose rows of W stay in L1. */
static void pack_panels_t(const float* W1, long ld1, long K1, const float* W2, long ld2, long K,
                          long N, float* P, long p0, long p1) {
  for (long p = p0; p < p1; p++) {
    long cols = N - p * NR < NR ? N - p * NR : NR;
    float* o = P + p * K * NR;
    if (cols < NR)
      for (long k = 0; k < K; k++)
        for (long j = cols; j < NR; j++) o[k * NR + j] = 0.0f;
    for (long k0 = 0; k0 < K; k0 += NR) {
      long k1 = k0 + NR < K ? k0 + NR : K, split = k1 < K1 ? k1 : K1;
      for (long j = 0; j < cols; j++) {
        const float* w1 = W1 + (p * NR + j) * ld1;
        const float* w2 = W2 ? W2 + (p * NR + j) * ld2 - K1 : w1;
        for (long k = k0; k < split; k++) o[k * NR + j] = w1[k];
        for (long k = split > k0 ? split : k0; k < k1; k++) o[k * NR + j] = w2[k];
      }
    }
  }
}

typedef struct {
  float* Y; const float* W; const long* X; const float* tab; const float* E; const float* H;
  float* dtab; float* db; const float* zero; float* sink; const float* Wq; float* O;
  long T, B, n, K, V;
  /* The weights as given, row-major, and the buffers their panels are packed into. */
  const float* Wsrc; const float* Wqsrc; float* Wp; float* Wqp;
  /* BPTT split by rows: each thread's own sums [∂L/∂b_h; ∂L/∂W_xh] ((Vx + 1) x n, zeros on
     entry), or NULL to sum after the chain. */
  float* sums; long Vx;
} Rnn;

/* Each thread packs its share of the panels; where `shared`, every thread reads all of them,
   so the threads meet once the packing is done. */
static void rnn_pack(const Rnn* c, int backward, long p0, long p1, long q0, long q1, int active,
                     int shared) {
  long n = c->n;
  if (backward) pack_panels_t(c->Wsrc, n, n, c->Wqsrc, c->K - n, c->K, n, c->Wp, p0, p1);
  else pack_panels(c->Wsrc, n, n, n, c->Wp, p0, p1);
  if (!backward && c->O) pack_panels(c->Wqsrc, c->V, n, c->V, c->Wqp, q0, q1);
  if (shared) chain_barrier(active);
}

static void rnn_forward_work(const void* arg, int id, int active) {
  const Rnn* c = arg;
  long n = c->n, B = c->B, block = B * n;
  SPLIT(n, id, active)
  /* The outputs' panels of W_q this thread multiplies: O_{u-1} = H_{u-1} W_q + b_q is formed
     in step u, from the states all threads finished at the step before. */
  long V = c->V, out_panels = (V + NR - 1) / NR, ldo = c->T * V;
  long q0 = out_panels * id / active, q1 = out_panels * (id + 1) / active;
  rnn_pack(c, 0, p0, p1, q0, q1, active, 0);
  for (long u = 1; u <= c->T; u++) {
    float* cur = c->Y + u * block;
    chain_product(cur - block, n, c->W, cur, n, B, n, n, p0, p1, 0);
    if (c->O && u > 1)
      chain_product(cur - block, n, c->Wq, c->O + (u - 2) * V, ldo, B, n, V, q0, q1, 1);
    for (long b = 0; b < B; b++) {  /* + X_u W_xh + b_h: row x_u of the table */
      float* row = cur + b * n;
      const float* x = c->tab + c->X[(u - 1) * B + b] * n;
      #pragma omp simd
      for (long j = j0; j < j1; j++) row[j] = tanhf(row[j] + x[j]);
    }
    chain_barrier(active);
  }
  if (c->O)
    chain_product(c->Y + c->T * block, n, c->Wq, c->O + (c->T - 1) * V, ldo, B, n, V, q0, q1, 1);
}

/* The same forward with the batch's rows split between threads, where each gets a tile of 8
   or more: a row's chain reads only its own row of the step before, so the threads never meet
   after packing, and no core writes next to another's columns. (Where two cores write halves of
   the same rows, each one's prefetches pull the other's lines away: on a 2-core Xeon the
   element-wise work of a column split ran 2.5 times slower a thread, and the forward chain of
   35 steps of 32 x 512 by 512 x 512 took 3.1 ms against 2.7 ms split by rows.) */
static void rnn_forward_rows(const void* arg, int id, int active) {
  const Rnn* c = arg;
  long n = c->n, B = c->B, block = B * n;
  long panels = (n + NR - 1) / NR, V = c->V, out_panels = (V + NR - 1) / NR, ldo = c->T * V;
  rnn_pack(c, 0, panels * id / active, panels * (id + 1) / active, out_panels * id / active,
           out_panels * (id + 1) / active, active, 1);
  ROWS(B, id, active)
  long M = r1 - r0;
  float* O = c->O ? c->O + r0 * ldo : 0;
  for (long u = 1; u <= c->T && M > 0; u++) {
    float* cur = c->Y + u * block + r0 * n;
    chain_product(cur - block, n, c->W, cur, n, M, n, n, 0, panels, 0);
    if (O && u > 1)
      chain_product(cur - block, n, c->Wq, O + (u - 2) * V, ldo, M, n, V, 0, out_panels, 1);
    for (long b = r0; b < r1; b++) {
      float* row = c->Y + u * block + b * n;
      const float* x = c->tab + c->X[(u - 1) * B + b] * n;
      #pragma omp simd
      for (long j = 0; j < n; j++) row[j] = tanhf(row[j] + x[j]);
    }
  }
  if (O && M > 0)
    chain_product(c->Y + c->T * block + r0 * n, n, c->Wq, O + (c->T - 1) * V, ldo, M, n, V, 0,
                  out_panels, 1);
}

static void rnn_backward_work(const void* arg, int id, int active) {
  const Rnn* c = arg;
  long n = c->n, B = c->B, K = c->K, block = B * n, zblock = B * K;
  SPLIT(n, id, active)
  rnn_pack(c, 1, p0, p1, 0, 0, active, 0);
  for (long u = c->T - 1; u >= 0; u--) {
    float* cur = c->Y + u * zblock;
    /* Z_T's G_{T+1} part is zeros: the first step multiplies only its ∂L/∂O_T. */
    chain_product_from(u == c->T - 1 ? n : 0, cur + zblock, K, c->W, cur, K, B, K, n, p0, p1, 0);
    /* ∂L/∂b_h and ∂L/∂W_xh (row x_u gets G_u's row) are summed as G_u is formed, each column
       by the thread that owns it, so no two threads add into one place; a missing E, db or
       dtab reads or writes a zero row of this thread's own. */
    for (long b = 0; b < B; b++) {
      float* row = cur + b * K;
      const float* h = c->H + u * block + b * n;
      const float* e = c->E ? c->E + u * block + b * n : c->zero;
      float* db = c->db ? c->db : c->sink;
      float* dx = c->dtab ? c->dtab + c->X[u * B + b] * n : c->sink;
      #pragma omp simd
      for (long j = j0; j < j1; j++) {
        float g = (row[j] + e[j]) * (1.0f - h[j] * h[j]);
        row[j] = g;
        db[j] += g;
        dx[j] += g;
      }
    }
    chain_barrier(active);
  }
}

/* BPTT with the rows split as in rnn_forward_rows. ∂L/∂b_h and ∂L/∂W_xh: each thread sums its
   own rows into its own buffer as it forms them, and after the chain adds all threads' buffers
   for its own columns (0.3 ms less of a pass at hidden 512 than reading G again); where the
   buffers would be large (a word vocabulary), each thread sums all rows for its own columns
   after the chain. Either way no two threads add into one place. */
static void rnn_backward_rows(const void* arg, int id, int active) {
  const Rnn* c = arg;
  long n = c->n, B = c->B, K = c->K, block = B * n, zblock = B * K;
  SPLIT(n, id, active)
  rnn_pack(c, 1, p0, p1, 0, 0, active, 1);
  float* mine = c->sums ? c->sums + id * (c->Vx + 1) * n : 0;
  {
    ROWS(B, id, active)
    for (long u = c->T - 1; u >= 0 && r1 > r0; u--) {
      float* cur = c->Y + u * zblock + r0 * K;
      chain_product_from(u == c->T - 1 ? n : 0, cur + zblock, K, c->W, cur, K, r1 - r0, K, n, 0,
                         panels, 0);
      for (long b = r0; b < r1; b++) {
        float* row = c->Y + u * zblock + b * K;
        const float* h = c->H + u * block + b * n;
        const float* e = c->E ? c->E + u * block + b * n : c->zero;
        if (mine) {
          float* sb = mine;
          float* sx = mine + n + c->X[u * B + b] * n;
          #pragma omp simd
          for (long j = 0; j < n; j++) {
            float g = (row[j] + e[j]) * (1.0f - h[j] * h[j]);
            row[j] = g;
            sb[j] += g;
            sx[j] += g;
          }
        } else {
          #pragma omp simd
          for (long j = 0; j < n; j++) row[j] = (row[j] + e[j]) * (1.0f - h[j] * h[j]);
        }
      }
    }
  }
  if (!c->db && !c->dtab) return;
  chain_barrier(active);
  if (c->sums) {  /* each thread adds every thread's sums for its own columns */
    for (int t = 0; t < active; t++) {
      const float* sb = c->sums + t * (c->Vx + 1) * n;
      if (c->db) {
        #pragma omp simd
        for (long j = j0; j < j1; j++) c->db[j] += sb[j];
      }
      for (long v = 0; c->dtab && v < c->Vx; v++) {
        float* dx = c->dtab + v * n;
        const float* sx = sb + n + v * n;
        #pragma omp simd
        for (long j = j0; j < j1; j++) dx[j] += sx[j];
      }
    }
    return;
  }
  for (long u = c->T - 1; u >= 0; u--)
    for (long b = 0; b < B; b++) {
      const float* row = c->Y + u * zblock + b * K;
      float* db = c->db ? c->db : c->sink;
      float* dx = c->dtab ? c->dtab + c->X[u * B + b] * n : c->sink;
      #pragma omp simd
      for (long j = j0; j < j1; j++) { db[j] += row[j]; dx[j] += row[j]; }
    }
}

/* The RNN's forward: Y (T + 1, B, n) with Y_0 = H_0 given;
   Y_u = tanh(Y_{u-1} W + tab[X_u]) for u = 1..T, X (T, B) token ids in [0, V), tab (V, n)
   = W_xh + b_h, W = W_hh (n x n, row-major), packed into Wp (⌈n/16⌉ panels of n x 16) first.
   Where O is given, the outputs too: O (B, T, V) batch-major, holding b_q on entry, gets
   O[b, u-1] += Y_u[b] Wq for u = 1..T, Wq = W_hq (n x V, row-major), packed into Wqp. */
void rnn_chain_forward(float* Y, const float* W, float* Wp, const long* X, const float* tab,
                       const float* Wq, float* Wqp, float* O, long T, long B, long n, long V,
                       long threads) {
  Rnn c = {Y, Wp, X, tab, 0, 0, 0, 0, 0, 0, Wqp, O, T, B, n, n, V, W, Wq, Wp, Wqp};
  if (chain_by_rows(B, threads))
    chain_parallel(rnn_forward_rows, &c, chain_units(1, B, n), threads);
  else chain_parallel(rnn_forward_work, &c, (n + NR - 1) / NR, threads);
}

/* Its BPTT with the output layer's folded in: Z (T + 1, B, K) rows of K = n + V,
   Z_u = [G_{u+1}, ∂L/∂O_u]; every row's last V entries given (Z_T's first n, G_{T+1}, are
   zeros and not read). For u = T-1..0,
   Z_u[:, :n] = (Z_{u+1} W + E_u) ⊙ (1 − H_u²), W = [W_hhᵀ; W_hqᵀ] (K x n), packed into Wp
   from W_hh (n x n) and W_hq (n x V), row-major, so that the product is G_{u+2} W_hhᵀ +
   O_{u+1}'s gradient through W_hq at once; E (T, B, n) the states' other gradients or NULL,
   H = H_1..H_T. Where given, db (n) += each row and dtab (Vx, n) row X_u += it (X (T, B)
   token ids); sums, where given, `threads` buffers of (Vx + 1) x n zeros for the split by
   rows to sum into. */
void rnn_chain_backward(float* Z, const float* E, const float* H, const float* Whh,
                        const float* Whq, float* Wp, const long* X, float* dtab, float* db,
                        float* sums, long T, long B, long n, long K, long Vx, long threads) {
  float spare[2 * n];  /* a zero row to read, and one to write (n floats: on the stack) */
  for (long j = 0; j < 2 * n; j++) spare[j] = 0.0f;
  Rnn c = {Z, Wp, X, 0, E, H, dtab, db, spare, spare + n, 0, 0, T, B, n, K, 0, Whh, Whq, Wp, 0,
           sums, Vx};
  if (chain_by_rows(B, threads))
    chain_parallel(rnn_backward_rows, &c, chain_units(1, B, n), threads);
  else chain_parallel(rnn_backward_work, &c, (n + NR - 1) / NR, threads);
}
"""

__all__ = ["SOURCE"]
