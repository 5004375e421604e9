"""nn.GRU's time loops as one C call each: the C source, built with the other C loops.

torch's GRU (nn.GRU) applies its reset gate after the candidate's recurrent product, where the
seeds' GRU (d2l §9.1, chain_c.py's) applies it before:

    r_t = σ(X_t W_irᵀ + b_ir + H_{t-1} W_hrᵀ + b_hr)
    z_t = σ(X_t W_izᵀ + b_iz + H_{t-1} W_hzᵀ + b_hz)
    n_t = tanh(X_t W_inᵀ + b_in + r_t ⊙ (H_{t-1} W_hnᵀ + b_hn))
    H_t = (1 − z_t) ⊙ n_t + z_t ⊙ H_{t-1}

so a step is one product with all three gate blocks, H_{t-1} [W_hrᵀ | W_hzᵀ | W_hnᵀ], then
element-wise work, as the LSTM's (chain_c.py), whose split it shares: by rows where the batch
allows, else each thread owns a range of hidden units, their columns in all three blocks. BPTT
(d2l §8.7 through these equations), with dh = ∂L/∂H_t:

    dN = dh ⊙ (1 − z) ⊙ (1 − n²)        dZ = dh ⊙ (H_{t-1} − n) ⊙ z(1 − z)
    dR = dN ⊙ (H_{t-1} W_hnᵀ + b_hn) ⊙ r(1 − r)
    ∂L/∂H_{t-1} = dh ⊙ z + [dR, dZ, dN ⊙ r] [W_hrᵀ | W_hzᵀ | W_hnᵀ]ᵀ

The input side's gradient is [dR, dZ, dN], the recurrent side's [dR, dZ, dN ⊙ r]: both kept.
"""

from __future__ import annotations

SOURCE = r"""
typedef struct {
  float* gates; float* HN; float* Hs; const float* W; const long* X; const float* U;
  const float* bn; float* dH; float* dA; float* dR;
  long T, B, n;
  int by_rows;
} TorchGru;

/* gates_t = H_t W (three blocks of panels), then r, z, n in place and HN_t = the recurrent
   product's n block + b_hn, which BPTT needs for dR. */
static void tgru_forward_work(const void* arg, int id, int active) {
  const TorchGru* c = arg;
  long n = c->n, B = c->B, n3 = 3 * n;
  SHARE(c->by_rows, B, n, id, active)
  long wblock = panels * n * NR;
  for (long t = 0; t < c->T; t++) {
    float* g = c->gates + t * B * n3;
    for (int k = 0; k < 3; k++)
      chain_product(c->Hs + (t * B + r0) * n, n, c->W + k * wblock, g + r0 * n3 + k * n, n3, M,
                    n, n, p0, p1, 0);
    for (long b = r0; b < r1; b++) {
      float* a = g + b * n3;
      const float* u = c->U + c->X[t * B + b] * n3;
      const float* hp = c->Hs + (t * B + b) * n;
      float* h = c->Hs + ((t + 1) * B + b) * n;
      float* q = c->HN + (t * B + b) * n;
      #pragma omp simd
      for (long j = j0; j < j1; j++) {
        float r = SIGF(a[j] + u[j]), z = SIGF(a[n + j] + u[n + j]);
        float hn = a[2 * n + j] + c->bn[j];
        float nj = tanhf(u[2 * n + j] + r * hn);
        a[j] = r; a[n + j] = z; a[2 * n + j] = nj; q[j] = hn;
        h[j] = (1.0f - z) * nj + z * hp[j];
      }
    }
    if (meet) chain_barrier(active);
  }
}

static void tgru_backward_work(const void* arg, int id, int active) {
  const TorchGru* c = arg;
  long n = c->n, B = c->B, n3 = 3 * n;
  SHARE(c->by_rows, B, n, id, active)
  for (long t = c->T - 1; t >= 0; t--) {
    const float* g = c->gates + t * B * n3;
    float* da = c->dA + t * B * n3;
    float* dr = c->dR + t * B * n3;
    for (long b = r0; b < r1; b++) {
      const float* o = g + b * n3;
      const float* hp = c->Hs + (t * B + b) * n;
      const float* q = c->HN + (t * B + b) * n;
      const float* dh = c->dH + ((t + 1) * B + b) * n;
      float* prev = c->dH + (t * B + b) * n;
      float* a = da + b * n3;
      float* e = dr + b * n3;
      #pragma omp simd
      for (long j = j0; j < j1; j++) {
        float r = o[j], z = o[n + j], nj = o[2 * n + j], d = dh[j];
        float dN = d * (1.0f - z) * (1.0f - nj * nj);
        float dRj = dN * q[j] * (r * (1.0f - r));
        float dZ = d * (hp[j] - nj) * (z * (1.0f - z));
        a[j] = dRj; a[n + j] = dZ; a[2 * n + j] = dN;
        e[j] = dRj; e[n + j] = dZ; e[2 * n + j] = dN * r;
        prev[j] += d * z;
      }
    }
    if (meet) chain_barrier(active);  /* dR_t whole: each product below reads all of it */
    chain_product(dr + r0 * n3, n3, c->W, c->dH + (t * B + r0) * n, n, M, n3, n, p0, p1, 1);
  }
}

/* nn.GRU's forward, gates ordered r, z, n as torch's: gates (T, B, 3n) written as r, z, n;
   HN (T, B, n); Hs (T + 1, B, n) with H_0 given; W = W_hhᵀ (n x 3n) packed as three n x n
   blocks of panels; U (V, 3n) = the input terms with b_ih and b_hr, b_hz; X (T, B) ids in
   [0, V); bn = b_hn (n). */
void tgru_chain_forward(float* gates, float* HN, float* Hs, const float* W, const long* X,
                        const float* U, const float* bn, long T, long B, long n, long threads) {
  TorchGru c = {gates, HN, Hs, W, X, U, bn, 0, 0, 0, T, B, n, chain_by_rows(B, threads)};
  chain_parallel(tgru_forward_work, &c, chain_units(c.by_rows, B, n), threads);
}

/* Its BPTT: for t = T-1..0, dA_t (input side) and dR_t (recurrent side) from dH_{t+1} (dH
   (T + 1, B, n): the outputs' gradients, dH_0 = 0); then dH_t += dh z + dR_t W with
   W = W_hh (3n x n) packed. */
void tgru_chain_backward(float* dH, float* dA, float* dR, const float* gates, const float* HN,
                         const float* Hs, const float* W, long T, long B, long n, long threads) {
  TorchGru c = {(float*)gates, (float*)HN, (float*)Hs, W, 0, 0, 0, dH, dA, dR, T, B, n,
                chain_by_rows(B, threads)};
  chain_parallel(tgru_backward_work, &c, chain_units(c.by_rows, B, n), threads);
}
"""

__all__ = ["SOURCE"]
