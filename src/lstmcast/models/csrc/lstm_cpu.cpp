// One LSTM layer (one direction) over a whole sequence on the CPU: forward and backward.
//
// The same math as lstmcast.reference and lstmcast.models.kernels._TorchLayer, arranged for speed:
//   - all input projections x_t @ W_ih^T (+ both biases) are one GEMM before the time loop;
//   - the batch is cut into one slice per thread; each thread runs the whole time loop for its
//     slice (per step: one small GEMM h_{t-1} @ W_hh^T into the gate rows, then one fused pass of
//     the gate math), so threads meet once per layer, not once per operation;
//   - the backward sweeps time in reverse computing only the gate gradients (and dh through
//     W_hh); the weight and input gradients are single large GEMMs after the sweep.
// Gate order is torch's: i, f, g, o. relu replaces tanh for g and for squashing c.
// Per-step GEMMs call the BLAS that libtorch_cpu exports (sgemm_/dgemm_), single-threaded.

#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" {
void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*,
            const float*, const int*, const float*, const int*, const float*, float*,
            const int*) __attribute__((weak));
void dgemm_(const char*, const char*, const int*, const int*, const int*, const double*,
            const double*, const int*, const double*, const int*, const double*, double*,
            const int*) __attribute__((weak));
int MKL_Set_Num_Threads_Local(int) __attribute__((weak));
}

namespace {

// C (m x n, column-major, ldc) = alpha * op(A) op(B) + beta * C, Fortran BLAS conventions.
inline void gemm(char ta, char tb, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) {
  sgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}
inline void gemm(char ta, char tb, int m, int n, int k, double alpha, const double* a, int lda,
                 const double* b, int ldb, double beta, double* c, int ldc) {
  dgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}

// Row-major C (rows x G) += A (rows x H) @ W^T, W row-major (G x H): the recurrent product.
template <typename T>
inline void add_h_wt(const T* h, int rows, int H, const T* w, int G, T* c) {
  gemm('T', 'N', G, rows, H, T(1), w, H, h, H, T(1), c, G);
}

// Row-major D (rows x H) = beta * D + dG (rows x G) @ W, W row-major (G x H): dh_{t-1}.
template <typename T>
inline void dg_w(const T* dg, int rows, int G, const T* w, int H, T beta, T* d) {
  gemm('N', 'N', H, rows, G, T(1), w, H, dg, G, beta, d, H);
}

// exp for float: Cephes' polynomial after range reduction by ln 2; ~1 ulp, vectorisable.
inline float exp_f(float x) {
  x = std::min(std::max(x, -87.3f), 88.3f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp_f(-x)); }
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline float tanh_(float x) { return 2.0f / (1.0f + exp_f(-2.0f * x)) - 1.0f; }
inline double tanh_(double x) { return std::tanh(x); }
template <typename T>
inline T act(T x, bool relu) { return relu ? std::max(x, T(0)) : tanh_(x); }

// Gate math of one step for `rows` rows: z holds pre-activations (rows x 4H), activated in place.
template <typename T>
void cell_forward(T* __restrict z, const T* __restrict c_prev, T* __restrict c, T* __restrict tc,
                  T* __restrict h, int rows, int H, bool relu) {
  const int G = 4 * H;
  for (int r = 0; r < rows; ++r) {
    T* zi = z + r * G;
    T* zf = zi + H;
    T* zg = zi + 2 * H;
    T* zo = zi + 3 * H;
    const T* cp = c_prev + r * H;
    T* cr = c + r * H;
    T* tr = tc + r * H;
    T* hr = h + r * H;
    if (relu) {
#pragma GCC ivdep
      for (int j = 0; j < H; ++j) {
        const T i = sigmoid(zi[j]), f = sigmoid(zf[j]), o = sigmoid(zo[j]);
        const T g = std::max(zg[j], T(0));
        const T cv = f * cp[j] + i * g;
        const T t = std::max(cv, T(0));
        zi[j] = i, zf[j] = f, zg[j] = g, zo[j] = o;
        cr[j] = cv, tr[j] = t, hr[j] = o * t;
      }
    } else {
#pragma GCC ivdep
      for (int j = 0; j < H; ++j) {
        const T i = sigmoid(zi[j]), f = sigmoid(zf[j]), o = sigmoid(zo[j]);
        const T g = tanh_(zg[j]);
        const T cv = f * cp[j] + i * g;
        const T t = tanh_(cv);
        zi[j] = i, zf[j] = f, zg[j] = g, zo[j] = o;
        cr[j] = cv, tr[j] = t, hr[j] = o * t;
      }
    }
  }
}

// Gate gradients of one step. dh: dL/dh_t (rows x H); dc: dL/dc_t from step t+1, updated in
// place to dL/dc_{t-1}; dz receives dL/d(pre-activations) (rows x 4H).
template <typename T>
void cell_backward(const T* __restrict z, const T* __restrict c_prev, const T* __restrict c,
                   const T* __restrict tc, const T* __restrict dh, T* __restrict dc,
                   T* __restrict dz, int rows, int H, bool relu) {
  const int G = 4 * H;
  for (int r = 0; r < rows; ++r) {
    const T* zi = z + r * G;
    const T* zf = zi + H;
    const T* zg = zi + 2 * H;
    const T* zo = zi + 3 * H;
    T* di = dz + r * G;
    T* df = di + H;
    T* dg = di + 2 * H;
    T* d_o = di + 3 * H;
    const T* cp = c_prev + r * H;
    const T* cr = c + r * H;
    const T* tr = tc + r * H;
    const T* dhr = dh + r * H;
    T* dcr = dc + r * H;
#pragma GCC ivdep
    for (int j = 0; j < H; ++j) {
      const T i = zi[j], f = zf[j], g = zg[j], o = zo[j], t = tr[j], d = dhr[j];
      const T dt = relu ? (cr[j] > T(0) ? T(1) : T(0)) : T(1) - t * t;
      const T dgg = relu ? (g > T(0) ? T(1) : T(0)) : T(1) - g * g;
      const T dcv = dcr[j] + d * o * dt;
      d_o[j] = d * t * o * (T(1) - o);
      di[j] = dcv * g * i * (T(1) - i);
      df[j] = dcv * cp[j] * f * (T(1) - f);
      dg[j] = dcv * i * dgg;
      dcr[j] = dcv * f;
    }
  }
}

// Batch slices: one per thread when each gets at least 32 rows, else one.
int64_t slices_for(int64_t B) {
  return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), B / 32));
}

// Run fn(begin_row, end_row) over the batch; one thread per slice, BLAS single-threaded inside.
template <typename Fn>
void over_batch(int64_t B, const Fn& fn) {
  const int64_t slices = slices_for(B);
  auto run = [&](int64_t s0, int64_t s1) {
    int previous = MKL_Set_Num_Threads_Local ? MKL_Set_Num_Threads_Local(1) : 0;
    for (int64_t s = s0; s < s1; ++s) fn(B * s / slices, B * (s + 1) / slices);
    if (MKL_Set_Num_Threads_Local) MKL_Set_Num_Threads_Local(previous);
  };
  if (slices == 1) {
    run(0, 1);
  } else {
    at::parallel_for(0, slices, 1, run);
  }
}

template <typename T>
std::vector<at::Tensor> forward_impl(const at::Tensor& x, const at::Tensor& h0,
                                     const at::Tensor& c0, const at::Tensor& w_ih,
                                     const at::Tensor& w_hh, const at::Tensor& bias, bool relu,
                                     bool reverse) {
  const int64_t T_ = x.size(0), B = x.size(1), I = x.size(2), H = w_hh.size(1), G = 4 * H;
  auto gates = at::empty({T_, B, G}, x.options());  // (T, B, 4H)
  auto x2 = x.view({T_ * B, I});
  auto gates2 = gates.view({T_ * B, G});
  if (bias.defined()) {
    at::addmm_out(gates2, bias, x2, w_ih.t());
  } else {
    at::mm_out(gates2, x2, w_ih.t());
  }
  auto out = at::empty({T_, B, H}, x.options());    // h_t
  auto cells = at::empty({T_, B, H}, x.options());  // c_t
  auto tcells = at::empty({T_, B, H}, x.options()); // act(c_t), reused by the backward
  T* zp = gates.data_ptr<T>();
  T* hp = out.data_ptr<T>();
  T* cp = cells.data_ptr<T>();
  T* tp = tcells.data_ptr<T>();
  const T* h0p = h0.data_ptr<T>();
  const T* c0p = c0.data_ptr<T>();
  const T* whh = w_hh.data_ptr<T>();
  over_batch(B, [&](int64_t b0, int64_t b1) {
    const int rows = static_cast<int>(b1 - b0);
    const T* h_prev = h0p + b0 * H;
    const T* c_prev = c0p + b0 * H;
    for (int64_t s = 0; s < T_; ++s) {
      const int64_t t = reverse ? T_ - 1 - s : s;
      T* z = zp + (t * B + b0) * G;
      add_h_wt(h_prev, rows, static_cast<int>(H), whh, static_cast<int>(G), z);
      T* h = hp + (t * B + b0) * H;
      T* c = cp + (t * B + b0) * H;
      cell_forward(z, c_prev, c, tp + (t * B + b0) * H, h, rows, static_cast<int>(H), relu);
      h_prev = h;
      c_prev = c;
    }
  });
  const int64_t last = reverse ? 0 : T_ - 1;
  return {out, out[last].clone(), cells[last].clone(), gates, cells, tcells};
}

template <typename T>
std::vector<at::Tensor> backward_impl(const at::Tensor& d_out, const at::Tensor& d_hn,
                                      const at::Tensor& d_cn, const at::Tensor& x,
                                      const at::Tensor& h0, const at::Tensor& c0,
                                      const at::Tensor& w_ih, const at::Tensor& w_hh,
                                      const at::Tensor& gates, const at::Tensor& cells,
                                      const at::Tensor& tcells, const at::Tensor& out, bool relu,
                                      bool reverse, bool need_x, bool need_bias) {
  const int64_t T_ = x.size(0), B = x.size(1), I = x.size(2), H = w_hh.size(1), G = 4 * H;
  auto d_gates = at::empty({T_, B, G}, x.options());  // dL/d(pre-activations)
  auto dh0 = d_hn.defined() ? d_hn.clone() : at::zeros({B, H}, x.options());
  auto dc0 = d_cn.defined() ? d_cn.clone() : at::zeros({B, H}, x.options());
  const T* dop = d_out.defined() ? d_out.data_ptr<T>() : nullptr;
  const T* zp = gates.data_ptr<T>();
  const T* cp = cells.data_ptr<T>();
  const T* tp = tcells.data_ptr<T>();
  const T* c0p = c0.data_ptr<T>();
  const T* whh = w_hh.data_ptr<T>();
  T* dzp = d_gates.data_ptr<T>();
  T* dhp = dh0.data_ptr<T>();  // running dL/dh, ends as dL/dh0
  T* dcp = dc0.data_ptr<T>();  // running dL/dc, ends as dL/dc0
  over_batch(B, [&](int64_t b0, int64_t b1) {
    const int rows = static_cast<int>(b1 - b0);
    T* dh = dhp + b0 * H;
    T* dc = dcp + b0 * H;
    for (int64_t s = T_ - 1; s >= 0; --s) {
      const int64_t t = reverse ? T_ - 1 - s : s;
      const int64_t t_prev = reverse ? t + 1 : t - 1;  // the step read before t
      if (dop) {
        const T* d = dop + (t * B + b0) * H;
        for (int64_t j = 0; j < rows * H; ++j) dh[j] += d[j];
      }
      const T* c_prev = s > 0 ? cp + (t_prev * B + b0) * H : c0p + b0 * H;
      T* dz = dzp + (t * B + b0) * G;
      cell_backward(zp + (t * B + b0) * G, c_prev, cp + (t * B + b0) * H,
                    tp + (t * B + b0) * H, dh, dc, dz, rows, static_cast<int>(H), relu);
      dg_w(dz, rows, static_cast<int>(G), whh, static_cast<int>(H), T(0), dh);
    }
  });
  auto dg2 = d_gates.view({T_ * B, G});
  auto dx = need_x ? at::mm(dg2, w_ih).view({T_, B, I}) : at::Tensor();
  auto dw_ih = at::mm(dg2.t(), x.view({T_ * B, I}));
  // dW_hh = sum_t dG_t^T h_{t-1}: h_{t-1} is out at the step read before t, h0 for the first
  at::Tensor dw_hh;
  if (reverse) {
    dw_hh = at::mm(d_gates[T_ - 1].t(), h0);
    if (T_ > 1)
      dw_hh.addmm_(d_gates.narrow(0, 0, T_ - 1).reshape({(T_ - 1) * B, G}).t(),
                   out.narrow(0, 1, T_ - 1).reshape({(T_ - 1) * B, H}));
  } else {
    dw_hh = at::mm(d_gates[0].t(), h0);
    if (T_ > 1)
      dw_hh.addmm_(d_gates.narrow(0, 1, T_ - 1).reshape({(T_ - 1) * B, G}).t(),
                   out.narrow(0, 0, T_ - 1).reshape({(T_ - 1) * B, H}));
  }
  auto db = need_bias ? dg2.sum(0) : at::Tensor();
  return {dx, dh0, dc0, dw_ih, dw_hh, db};
}

void check(const std::vector<at::Tensor>& ts) {
  for (const auto& t : ts) {
    if (!t.defined()) continue;
    TORCH_CHECK(t.device().is_cpu(), "lstmcast kernel: CPU tensors only");
    TORCH_CHECK(t.is_contiguous(), "lstmcast kernel: contiguous tensors only");
  }
}

std::vector<at::Tensor> forward(const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0,
                                const at::Tensor& w_ih, const at::Tensor& w_hh,
                                const c10::optional<at::Tensor>& bias, bool relu, bool reverse) {
  const at::Tensor b = bias.has_value() ? *bias : at::Tensor();
  check({x, h0, c0, w_ih, w_hh, b});
  at::NoGradGuard no_grad;
  if (x.scalar_type() == at::kDouble)
    return forward_impl<double>(x, h0, c0, w_ih, w_hh, b, relu, reverse);
  TORCH_CHECK(x.scalar_type() == at::kFloat, "lstmcast kernel: float32 or float64 only");
  return forward_impl<float>(x, h0, c0, w_ih, w_hh, b, relu, reverse);
}

std::vector<at::Tensor> backward(const c10::optional<at::Tensor>& d_out,
                                 const c10::optional<at::Tensor>& d_hn,
                                 const c10::optional<at::Tensor>& d_cn, const at::Tensor& x,
                                 const at::Tensor& h0, const at::Tensor& c0,
                                 const at::Tensor& w_ih, const at::Tensor& w_hh,
                                 const at::Tensor& gates, const at::Tensor& cells,
                                 const at::Tensor& tcells, const at::Tensor& out, bool relu,
                                 bool reverse, bool need_x, bool need_bias) {
  const at::Tensor d_o = d_out.has_value() ? d_out->contiguous() : at::Tensor();
  const at::Tensor d_h = d_hn.has_value() ? d_hn->contiguous() : at::Tensor();
  const at::Tensor d_c = d_cn.has_value() ? d_cn->contiguous() : at::Tensor();
  check({d_o, d_h, d_c, x, h0, c0, w_ih, w_hh, gates, cells, tcells, out});
  at::NoGradGuard no_grad;
  if (x.scalar_type() == at::kDouble)
    return backward_impl<double>(d_o, d_h, d_c, x, h0, c0, w_ih, w_hh, gates, cells, tcells, out,
                                 relu, reverse, need_x, need_bias);
  return backward_impl<float>(d_o, d_h, d_c, x, h0, c0, w_ih, w_hh, gates, cells, tcells, out,
                              relu, reverse, need_x, need_bias);
}

bool has_blas() { return sgemm_ != nullptr && dgemm_ != nullptr; }

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "LSTM layer forward: out, h_n, c_n, gates, cells, act(cells)");
  m.def("backward", &backward, "LSTM layer backward: dx, dh0, dc0, dW_ih, dW_hh, db");
  m.def("has_blas", &has_blas, "whether libtorch exports the BLAS gemm this kernel calls");
}
