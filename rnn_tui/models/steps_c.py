"""The C source of the scratch GRU's and LSTM's element-wise steps (built by fused_steps).

GRU (d2l §9.1): σ of both gates and R_t ⊙ H_{t-1}; tanh of H̃_t and the blend
H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t; their BPTT in two loops. LSTM (d2l §9.2): gates, C_t,
tanh C_t and H_t in one loop forward, one backward. The BPTT loops' bodies are row functions
over a range of columns, which the time-loop chains (chain_c.py) call on their own columns.
"""

from __future__ import annotations

# Each loop reads a step's rows as contiguous (B, k·n) float32 blocks. The simd attribute on
# expf/tanhf (what glibc's math.h declares under -ffast-math) lets the compiler call libmvec's
# vectorised versions without -ffast-math, which would also assume that no value is NaN: a
# diverging run must still see its NaN loss.
SOURCE = r"""
float expf(float) __attribute__((simd("notinbranch")));
float tanhf(float) __attribute__((simd("notinbranch")));
#define SIG(x) (1.0f / (1.0f + expf(-(x))))

/* GRU forward, after zr += H W_hzr:  zr <- σ(zr);  rh <- R ⊙ H. */
void gru_fwd_a(float* zr, const float* H, float* rh, long B, long n) {
  for (long b = 0; b < B; b++) {
    float* g = zr + b * 2 * n; const float* h = H + b * n; float* o = rh + b * n;
    #pragma omp simd
    for (long j = 0; j < 2 * n; j++) g[j] = SIG(g[j]);
    #pragma omp simd
    for (long j = 0; j < n; j++) o[j] = g[n + j] * h[j];
  }
}
/* GRU forward, after c += RH W_hh:  c <- tanh(c);  Hn <- Z ⊙ H + (1 − Z) ⊙ c. */
void gru_fwd_b(float* c, const float* H, const float* zr, float* Hn, long B, long n) {
  for (long b = 0; b < B; b++) {
    float* cr = c + b * n; const float* h = H + b * n; const float* z = zr + b * 2 * n;
    float* o = Hn + b * n;
    #pragma omp simd
    for (long j = 0; j < n; j++) {
      float t = tanhf(cr[j]);
      cr[j] = t;
      o[j] = t + z[j] * (h[j] - t);
    }
  }
}
/* GRU BPTT:  dB <- dH ⊙ (1 − Z) ⊙ (1 − H̃²);  dA[Z] <- dH ⊙ (H_prev − H̃) ⊙ Z(1 − Z).
   One batch row's columns [j0, j1) (the time-loop chains call it on their own columns). */
static inline void gru_bwd_a_row(const float* g, const float* z, const float* cr, const float* h,
                                 float* o, float* a, long j0, long j1) {
  #pragma omp simd
  for (long j = j0; j < j1; j++) {
    float zz = z[j], cc = cr[j];
    o[j] = g[j] * (1.0f - zz) * (1.0f - cc * cc);
    a[j] = g[j] * (h[j] - cc) * (zz * (1.0f - zz));
  }
}
void gru_bwd_a(const float* dH, const float* zr, const float* c, const float* Hp, float* db,
               float* da, long B, long n) {
  for (long b = 0; b < B; b++)
    gru_bwd_a_row(dH + b * n, zr + b * 2 * n, c + b * n, Hp + b * n, db + b * n,
                  da + b * 2 * n, 0, n);
}
/* GRU BPTT, after dRH = dB W_hhᵀ:  dA[R] <- dRH ⊙ H_prev ⊙ R(1 − R);
   prev += dH ⊙ Z + dRH ⊙ R. One row's columns [j0, j1): z is the row of [Z | R], a of dA[R]. */
static inline void gru_bwd_b_row(const float* d, const float* z, const float* h, const float* g,
                                 float* p, float* a, long n, long j0, long j1) {
  const float* r = z + n;
  #pragma omp simd
  for (long j = j0; j < j1; j++) {
    float rr = r[j];
    a[j] = d[j] * h[j] * (rr * (1.0f - rr));
    p[j] += g[j] * z[j] + d[j] * rr;
  }
}
void gru_bwd_b(const float* dRH, const float* zr, const float* Hp, const float* dH, float* prev,
               float* da, long B, long n) {
  for (long b = 0; b < B; b++)
    gru_bwd_b_row(dRH + b * n, zr + b * 2 * n, Hp + b * n, dH + b * n, prev + b * n,
                  da + b * 2 * n + n, n, 0, n);
}
/* LSTM forward, after gates += H W_h (columns O, I, F, C̃): σ(O, I, F), tanh(C̃) in place;
   C <- F ⊙ C_prev + I ⊙ C̃;  tc <- tanh(C);  Hn <- O ⊙ tc. */
void lstm_fwd(float* gates, const float* Cp, float* C, float* tc, float* Hn, long B, long n) {
  for (long b = 0; b < B; b++) {
    float* g = gates + b * 4 * n; const float* cp = Cp + b * n; float* c = C + b * n;
    float* t = tc + b * n; float* h = Hn + b * n;
    #pragma omp simd
    for (long j = 0; j < 3 * n; j++) g[j] = SIG(g[j]);
    #pragma omp simd
    for (long j = 0; j < n; j++) {
      float ct = tanhf(g[3 * n + j]);
      g[3 * n + j] = ct;
      float cj = g[2 * n + j] * cp[j] + g[n + j] * ct;
      c[j] = cj;
      float tj = tanhf(cj);
      t[j] = tj;
      h[j] = g[j] * tj;
    }
  }
}
/* LSTM BPTT: dA[O] <- dH ⊙ tanh C ⊙ O(1 − O);  dC += dH ⊙ O ⊙ (1 − tanh² C);
   dA[I] <- dC ⊙ C̃ ⊙ I(1 − I);  dA[F] <- dC ⊙ C_prev ⊙ F(1 − F);  dA[C̃] <- dC ⊙ I ⊙ (1 − C̃²);
   dC <- dC ⊙ F. One row's columns [j0, j1): o is the row of the gates (O, I, F, C̃), a of dA. */
static inline void lstm_bwd_row(const float* g, const float* o, const float* cp, const float* t,
                                float* dc, float* a, long n, long j0, long j1) {
  const float* i = o + n; const float* f = o + 2 * n; const float* ct = o + 3 * n;
  #pragma omp simd
  for (long j = j0; j < j1; j++) {
    float oj = o[j], ij = i[j], fj = f[j], cj = ct[j], tj = t[j];
    a[j] = g[j] * tj * (oj * (1.0f - oj));
    float d = dc[j] + g[j] * oj * (1.0f - tj * tj);
    a[n + j] = d * cj * (ij * (1.0f - ij));
    a[2 * n + j] = d * cp[j] * (fj * (1.0f - fj));
    a[3 * n + j] = d * ij * (1.0f - cj * cj);
    dc[j] = d * fj;
  }
}
void lstm_bwd(const float* dH, const float* gates, const float* Cp, const float* tc, float* dC,
              float* da, long B, long n) {
  for (long b = 0; b < B; b++)
    lstm_bwd_row(dH + b * n, gates + b * 4 * n, Cp + b * n, tc + b * n, dC + b * n,
                 da + b * 4 * n, n, 0, n);
}
"""

__all__ = ["SOURCE"]
