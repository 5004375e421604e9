"""The minibatch update's two passes over the parameters as C loops (built by fused_steps).

d2l's grad_clipping then its SGD step (§8.5, §3.2), for float32 tensors on the CPU:

    ‖g‖ = √(Σ g²) over all gradients;   g ← min(1, θ/‖g‖) g;   θ_p ← θ_p − η g

as torch's kernels these are a dozen dispatches (per-tensor norms, their norm, the clamp, the
scaling, the update), 0.58 ms of a scratch RNN's 10 ms step at hidden 512 on a 2-core Xeon,
where one pass summing the squares and one scaling and updating take 0.15 ms. The sums of
squares are taken in float32 lanes and added in double: ‖g‖ to float32 rounding, as torch's.
"""

from __future__ import annotations

SOURCE = r"""
/* A thread's share [j0, j1) of m entries, in whole vectors of 16 but for the last thread. */
static void update_share(long m, int id, int active, long* j0, long* j1) {
  *j0 = (m * id / active) & ~15L;
  *j1 = id == active - 1 ? m : (m * (id + 1) / active) & ~15L;
}

/* Σ x² over `count` tensors x[i] of sizes[i] floats each. */
double update_sum_squares(float** x, const long* sizes, long count, long threads) {
  double total = 0.0;
#ifdef _OPENMP
  #pragma omp parallel num_threads(threads > 1 ? threads : 1) reduction(+:total)
#endif
  {
    int id = 0, active = 1;
#ifdef _OPENMP
    id = omp_get_thread_num();
    active = omp_get_num_threads();
#endif
    for (long i = 0; i < count; i++) {
      const float* v = x[i];
      long j0, j1;
      update_share(sizes[i], id, active, &j0, &j1);
      float lanes[16] = {0};
      long j = j0;
      for (; j + 16 <= j1; j += 16) {
        #pragma omp simd
        for (int l = 0; l < 16; l++) lanes[l] += v[j + l] * v[j + l];
      }
      double sum = 0.0;
      for (int l = 0; l < 16; l++) sum += lanes[l];
      for (; j < j1; j++) sum += (double)v[j] * v[j];
      total += sum;
    }
  }
  return total;
}

/* g[i] <- coef g[i];  p[i] <- p[i] − lr g[i], the clipped gradient. */
void update_scale_step(float** g, float** p, const long* sizes, long count, float coef,
                       float lr, long threads) {
#ifdef _OPENMP
  #pragma omp parallel num_threads(threads > 1 ? threads : 1)
#endif
  {
    int id = 0, active = 1;
#ifdef _OPENMP
    id = omp_get_thread_num();
    active = omp_get_num_threads();
#endif
    for (long i = 0; i < count; i++) {
      float* x = g[i];
      float* w = p[i];
      long j0, j1;
      update_share(sizes[i], id, active, &j0, &j1);
      #pragma omp simd
      for (long j = j0; j < j1; j++) {
        float v = x[j] * coef;
        x[j] = v;
        w[j] -= lr * v;
      }
    }
  }
}
"""

__all__ = ["SOURCE"]
