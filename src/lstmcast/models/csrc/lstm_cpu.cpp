// One LSTM layer (one direction) over a whole sequence on the CPU: forward and backward.
//
// The same math as lstmcast.reference and lstmcast.models.kernels._TorchLayer, arranged for speed:
//   - the batch is cut into one slice per thread (at least 16 rows each), and each thread runs
//     the whole layer for its slice, so threads meet once per layer, not once per operation;
//   - each step is one GEMM [x_t | h_prev] @ [W_ih | W_hh]^T into the gate rows, then one fused
//     pass of the gate math (AVX-512 activations where the CPU has them);
//   - the backward sweeps time in reverse; at each step the gate gradients dz (rows x 4H) go
//     into a small per-thread buffer and feed three GEMMs while they are still in cache:
//     dh_prev = dz @ W_hh, dW += dz^T @ [x_t | h_prev], and dx_t = dz @ W_ih straight into the
//     time-major rows. (Keeping every step's dz for one large weight-gradient GEMM after the
//     sweep, as the pure-torch engine does, writes and re-reads 4H floats per row and step
//     through main memory: measured 3-5 % slower on the P1 step, benchmarks/ab_engine.py.)
// Gate order is torch's: i, f, g, o. relu replaces tanh for g and for squashing c.
// Saved buffers are slice-major: slice k (rows b0..b1) owns T * rows consecutive rows, step s
// (reading order: s = t forwards, s = T-1-t backwards) then row r.
// GEMMs: oneDNN's brgemm through torch (cpublas::brgemm) where it runs, else the BLAS that
// libtorch_cpu exports (sgemm_/dgemm_); single-threaded inside each thread.

#include <torch/extension.h>

#include <ATen/Parallel.h>
#include <ATen/native/CPUBlas.h>

#include <algorithm>
#if defined(__SSE__)
#include <immintrin.h>
#endif
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <type_traits>
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

// Row-major C (m x n, ldc) = alpha op(A) op(B) + beta C, through column-major BLAS.
inline void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) {
  const char ca = ta ? 'T' : 'N', cb = tb ? 'T' : 'N';
  sgemm_(&cb, &ca, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}
inline void gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double* a, int lda,
                 const double* b, int ldb, double beta, double* c, int ldc) {
  const char ca = ta ? 'T' : 'N', cb = tb ? 'T' : 'N';
  dgemm_(&cb, &ca, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}

// Whether torch's oneDNN batch-reduce GEMM (cpublas::brgemm) runs here; probed once at load.
bool g_brgemm = false;

// Row-major C (m x n, ldc) = A (m x k, lda) @ B (k x n, ldb) (+ C when accumulate).
inline void mm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
               int ldc, bool accumulate) {
  if (g_brgemm) {
    at::native::cpublas::brgemm(m, n, k, lda, ldb, ldc, accumulate, a, b, c, false);
  } else {
    gemm(false, false, m, n, k, 1.0f, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
  }
}
inline void mm(int m, int n, int k, const double* a, int lda, const double* b, int ldb,
               double* c, int ldc, bool accumulate) {
  gemm(false, false, m, n, k, 1.0, a, lda, b, ldb, accumulate ? 1.0 : 0.0, c, ldc);
}

// x limited to [lo, hi], NaN kept (every comparison with NaN is false): a NaN pre-activation
// must give NaN out, as in torch, so that training notices a broken weight.
template <typename T>
inline T clamp_keep_nan(T x, T lo, T hi) { return x < lo ? lo : (x > hi ? hi : x); }

// exp for float: Cephes' polynomial after range reduction by ln 2; ~1 ulp, vectorisable.
// NaN in, NaN out (the polynomial of NaN is NaN, whatever the scale bits hold).
inline float exp_f(float x) {
  x = clamp_keep_nan(x, -87.3f, 88.3f);
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

// tanh for float: Eigen's rational approximation x P(x^2) / Q(x^2) (degrees 13 and 6), within a
// few ulp of tanh in relative terms everywhere, near 0 too (2 sigmoid(2x) - 1 is not: its
// absolute error ~6e-8 is a relative error of 1e-4 at x = 1e-3). Beyond |x| = kTanhClamp the
// fraction would pass 1, so x is clamped there, where it gives exactly 1.
constexpr float kTanhClamp = 7.99881172180175781f;
constexpr float kTanhP[7] = {4.89352455891786e-03f, 6.37261928875436e-04f,  1.48572235717979e-05f,
                             5.12229709037114e-08f, -8.60467152213735e-11f, 2.00018790482477e-13f,
                             -2.76076847742355e-16f};  // P's coefficients of x^0, x^2, ... x^12
constexpr float kTanhQ[4] = {4.89352518554385e-03f, 2.26843463243900e-03f, 1.18534705686654e-04f,
                             1.19825839466702e-06f};  // Q's coefficients of x^0, x^2, ... x^6
inline float tanh_(float x) {
  x = clamp_keep_nan(x, -kTanhClamp, kTanhClamp);
  const float x2 = x * x;
  float p = kTanhP[6];
  for (int k = 5; k >= 0; --k) p = p * x2 + kTanhP[k];
  float q = kTanhQ[3];
  for (int k = 2; k >= 0; --k) q = q * x2 + kTanhQ[k];
  return x * p / q;
}
inline double tanh_(double x) { return std::tanh(x); }
template <typename T>
inline T act(T x, bool relu) { return relu ? std::max(x, T(0)) : tanh_(x); }

#if defined(__AVX512F__)
// The same activations, 16 floats at a time, written for few instructions (the forward gate
// math is bound by their count).
// sigmoid(x) = 1 / (1 + e^(-x)) with e^(-x) = 2^n e^r, n = round(-x log2 e), r = -(x + n ln2)
// = -v, and e^r from a degree-5 polynomial in v (a minimax fit of e^r on |r| <= ln2 / 2,
// relative error 1.3e-7, the signs (-1)^k folded into its coefficients); 1/d from rcp14 and one
// Newton step (~4e-9). tanh as tanh_ above, 1/Q from rcp14 and one Newton step. Both within
// 3e-7 of the exact values; tanh within a few ulp relative, near 0 too.
// NaN in must give NaN out, as in torch (else a NaN weight trains on silently): max_ps/min_ps
// return their SECOND operand when either is NaN, so x goes second below.
// relu(x) = max(0, x), NaN kept.
inline __m512 relu16(__m512 x) { return _mm512_max_ps(_mm512_setzero_ps(), x); }

inline __m512 sigmoid16(__m512 x) {
  constexpr float c0 = 1.0000001192092896f, c1 = 0.9999997019767761f, c2 = 0.49998894333839417f;
  constexpr float c3 = 0.16667574644088745f, c4 = 0.04191538318991661f, c5 = 0.008297654800117016f;
  // x < -87.3: e^(-x) overflows, the result is 0 (as torch's sigmoid(-inf)), set at the end
  // through the mask `kept` (x >= -87.3, or NaN); x > 87.3: clamped (the result is 1).
  const __mmask16 kept = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_NLT_UQ);
  x = _mm512_min_ps(_mm512_set1_ps(87.3f), x);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(-1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 v = _mm512_fmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  v = _mm512_fmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), v);
  __m512 q = _mm512_set1_ps(-c5);
  q = _mm512_fmadd_ps(q, v, _mm512_set1_ps(c4));
  q = _mm512_fmadd_ps(q, v, _mm512_set1_ps(-c3));
  q = _mm512_fmadd_ps(q, v, _mm512_set1_ps(c2));
  q = _mm512_fmadd_ps(q, v, _mm512_set1_ps(-c1));
  q = _mm512_fmadd_ps(q, v, _mm512_set1_ps(c0));
  const __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_scalef_ps(q, n));
  const __m512 r = _mm512_rcp14_ps(d);
  return _mm512_maskz_mul_ps(kept, r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}
inline __m512 tanh16(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(kTanhClamp), _mm512_max_ps(_mm512_set1_ps(-kTanhClamp), x));
  const __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(kTanhP[6]);
  for (int k = 5; k >= 0; --k) p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(kTanhP[k]));
  __m512 q = _mm512_set1_ps(kTanhQ[3]);
  for (int k = 2; k >= 0; --k) q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(kTanhQ[k]));
  p = _mm512_mul_ps(x, p);
  // p / q = y + y e with y = p r, r ~ 1/q (rcp14), e = 1 - q r
  const __m512 r = _mm512_rcp14_ps(q);
  const __m512 y = _mm512_mul_ps(p, r);
  return _mm512_fmadd_ps(y, _mm512_fnmadd_ps(q, r, _mm512_set1_ps(1.0f)), y);
}

// The gate math of cell_forward for j = 0, 16, ... while 16 fit; returns the first j left.
template <bool kRelu>
inline int cell_forward16(float* zi, float* zf, float* zg, float* zo, const float* bi,
                          const float* bf, const float* bg, const float* bo, const float* cp,
                          float* cr, float* tr, float* hr, int H) {
  int j = 0;
  for (; j + 16 <= H; j += 16) {
    const __m512 i = sigmoid16(_mm512_add_ps(_mm512_loadu_ps(zi + j), _mm512_loadu_ps(bi + j)));
    const __m512 f = sigmoid16(_mm512_add_ps(_mm512_loadu_ps(zf + j), _mm512_loadu_ps(bf + j)));
    const __m512 o = sigmoid16(_mm512_add_ps(_mm512_loadu_ps(zo + j), _mm512_loadu_ps(bo + j)));
    const __m512 zgj = _mm512_add_ps(_mm512_loadu_ps(zg + j), _mm512_loadu_ps(bg + j));
    const __m512 g = kRelu ? relu16(zgj) : tanh16(zgj);
    const __m512 c = _mm512_fmadd_ps(f, _mm512_loadu_ps(cp + j), _mm512_mul_ps(i, g));
    const __m512 t = kRelu ? relu16(c) : tanh16(c);
    _mm512_storeu_ps(zi + j, i);
    _mm512_storeu_ps(zf + j, f);
    _mm512_storeu_ps(zg + j, g);
    _mm512_storeu_ps(zo + j, o);
    _mm512_storeu_ps(cr + j, c);
    _mm512_storeu_ps(tr + j, t);
    _mm512_storeu_ps(hr + j, _mm512_mul_ps(o, t));
  }
  return j;
}
#endif

constexpr int kAhead = 4;  // rows of software prefetch in the backward gate math

// Gate math of one step for `rows` rows. z: (rows x 4H) pre-activations without the bias,
// activated in place; writes c_t, act(c_t), h_t, and h_t again into the next step's [x | h]
// rows (h_next, leading dimension ld) when there is a next step.
template <typename T>
void cell_forward(T* __restrict z, const T* __restrict bias, const T* __restrict c_prev,
                  T* __restrict c, T* __restrict tc, T* __restrict h, T* __restrict h_next,
                  int ld, int rows, int H, bool relu) {
  const int G = 4 * H;
  const T* bi = bias;
  const T* bf = bias + H;
  const T* bg = bias + 2 * H;
  const T* bo = bias + 3 * H;
  for (int r = 0; r < rows; ++r) {
    T* zi = z + r * G;
    T* zf = zi + H;
    T* zg = zi + 2 * H;
    T* zo = zi + 3 * H;
    const T* cp = c_prev + r * H;
    T* cr = c + r * H;
    T* tr = tc + r * H;
    T* hr = h + r * H;
    int j0 = 0;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
      j0 = relu ? cell_forward16<true>(zi, zf, zg, zo, bi, bf, bg, bo, cp, cr, tr, hr, H)
                : cell_forward16<false>(zi, zf, zg, zo, bi, bf, bg, bo, cp, cr, tr, hr, H);
    }
#endif
    if (relu) {
#pragma GCC ivdep
      for (int j = j0; j < H; ++j) {
        const T i = sigmoid(zi[j] + bi[j]), f = sigmoid(zf[j] + bf[j]);
        const T o = sigmoid(zo[j] + bo[j]), g = std::max(zg[j] + bg[j], T(0));
        const T cv = f * cp[j] + i * g;
        const T t = std::max(cv, T(0));
        zi[j] = i, zf[j] = f, zg[j] = g, zo[j] = o;
        cr[j] = cv, tr[j] = t, hr[j] = o * t;
      }
    } else {
#pragma GCC ivdep
      for (int j = j0; j < H; ++j) {
        const T i = sigmoid(zi[j] + bi[j]), f = sigmoid(zf[j] + bf[j]);
        const T o = sigmoid(zo[j] + bo[j]), g = tanh_(zg[j] + bg[j]);
        const T cv = f * cp[j] + i * g;
        const T t = tanh_(cv);
        zi[j] = i, zf[j] = f, zg[j] = g, zo[j] = o;
        cr[j] = cv, tr[j] = t, hr[j] = o * t;
      }
    }
    if (h_next) std::memcpy(h_next + r * ld, hr, H * sizeof(T));
  }
}

// Gate gradients of one step. dh: dL/dh_t (rows x H); dc: dL/dc_t from the later step, updated
// in place to dL/dc_{t-1}; dz receives dL/d(pre-activations) (rows x 4H), db accumulates them.
template <bool kRelu, typename T>
void cell_backward_rows(const T* __restrict z, const T* __restrict c_prev,
                        const T* __restrict c, const T* __restrict tc, const T* __restrict dh,
                        T* __restrict dc, T* __restrict dz, T* __restrict db, int rows, int H) {
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
    if (r + kAhead < rows) {  // the saved buffers come from memory: ask for them early
      const char* next = reinterpret_cast<const char*>(zi + kAhead * G);
      for (size_t k = 0; k < G * sizeof(T); k += 64) __builtin_prefetch(next + k);
      const size_t row = H * sizeof(T);
      for (size_t k = 0; k < row; k += 64) {
        __builtin_prefetch(reinterpret_cast<const char*>(cr + kAhead * H) + k);
        __builtin_prefetch(reinterpret_cast<const char*>(tr + kAhead * H) + k);
      }
    }
#pragma GCC ivdep
    for (int j = 0; j < H; ++j) {
      const T i = zi[j], f = zf[j], g = zg[j], o = zo[j], t = tr[j], d = dhr[j];
      const T dt = kRelu ? (cr[j] > T(0) ? T(1) : T(0)) : T(1) - t * t;
      const T dgg = kRelu ? (g > T(0) ? T(1) : T(0)) : T(1) - g * g;
      const T dcv = dcr[j] + d * o * dt;
      d_o[j] = d * t * o * (T(1) - o);
      di[j] = dcv * g * i * (T(1) - i);
      df[j] = dcv * cp[j] * f * (T(1) - f);
      dg[j] = dcv * i * dgg;
      dcr[j] = dcv * f;
    }
#pragma GCC ivdep
    for (int k = 0; k < G; ++k) db[k] += di[k];
  }
}

template <typename T>
void cell_backward(const T* z, const T* c_prev, const T* c, const T* tc, const T* dh, T* dc,
                   T* dz, T* db, int rows, int H, bool relu) {
  if (relu) {
    cell_backward_rows<true>(z, c_prev, c, tc, dh, dc, dz, db, rows, H);
  } else {
    cell_backward_rows<false>(z, c_prev, c, tc, dh, dc, dz, db, rows, H);
  }
}

// Batch slices: one per thread when each gets at least 16 rows, else one.
int64_t slices_for(int64_t B) {
  return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), B / 16));
}

// Run fn(slice, begin_row, end_row) for each batch slice, one thread per slice; the BLAS runs
// single-threaded inside (threads meet once, at the end).
// While alive, this thread flushes denormal floats to zero (as TensorFlow's threads do): relu
// cells drive values into the denormal range, where x86 CPUs compute ~100x slower.
struct FlushDenormals {
#if defined(__SSE__)
  unsigned int saved = _mm_getcsr();
  FlushDenormals() { _mm_setcsr(saved | 0x8040); }  // FTZ | DAZ
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

template <typename Fn>
void over_batch(int64_t B, int64_t slices, const Fn& fn) {
  auto run = [&](int64_t s0, int64_t s1) {
    const FlushDenormals flush;
    int previous = MKL_Set_Num_Threads_Local ? MKL_Set_Num_Threads_Local(1) : 0;
    for (int64_t s = s0; s < s1; ++s) fn(s, B * s / slices, B * (s + 1) / slices);
    if (MKL_Set_Num_Threads_Local) MKL_Set_Num_Threads_Local(previous);
    if (g_brgemm) at::native::cpublas::brgemm_release(false);
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
  const int64_t T_ = x.size(0), B = x.size(1), I = x.size(2), H = w_hh.size(1);
  const int64_t G = 4 * H, K = I + H;
  const int64_t slices = slices_for(B);
  const auto opts = x.options();
  auto b = bias.defined() ? bias.contiguous() : at::zeros({G}, opts);  // (4H,) b_ih + b_hh
  auto w_t = at::empty({K, G}, opts);                                  // (I+H, 4H)
  w_t.narrow(0, 0, I).copy_(w_ih.t());
  w_t.narrow(0, I, H).copy_(w_hh.t());
  auto xh = at::empty({T_ * B, K}, opts);      // [x_t | h_prev] per slice, step, row
  auto gates = at::empty({T_ * B, G}, opts);   // activated i, f, g, o
  auto cells = at::empty({T_ * B, H}, opts);   // c
  auto tcells = at::empty({T_ * B, H}, opts);  // act(c)
  auto out = at::empty({T_, B, H}, opts);      // h_t, time-major
  const T* xp = x.data_ptr<T>();  // x may be a strided view, e.g. of a batch-first tensor
  const int64_t sx_t = x.stride(0), sx_b = x.stride(1);
  const T* h0p = h0.data_ptr<T>();
  const T* c0p = c0.data_ptr<T>();
  const T* wtp = w_t.data_ptr<T>();
  const T* bp = b.data_ptr<T>();
  T* xhp = xh.data_ptr<T>();
  T* zp = gates.data_ptr<T>();
  T* cp = cells.data_ptr<T>();
  T* tp = tcells.data_ptr<T>();
  T* op = out.data_ptr<T>();
  over_batch(B, slices, [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t n = b1 - b0;
    const int rows = static_cast<int>(n);
    T* xh_s = xhp + T_ * b0 * K;  // this slice's (T * rows, K) block
    T* z_s = zp + T_ * b0 * G;
    T* c_s = cp + T_ * b0 * H;
    T* t_s = tp + T_ * b0 * H;
    for (int64_t s = 0; s < T_; ++s) {
      const int64_t t = reverse ? T_ - 1 - s : s;
      for (int64_t r = 0; r < n; ++r)
        std::memcpy(xh_s + (s * n + r) * K, xp + t * sx_t + (b0 + r) * sx_b, I * sizeof(T));
    }
    for (int64_t r = 0; r < n; ++r)
      std::memcpy(xh_s + r * K + I, h0p + (b0 + r) * H, H * sizeof(T));
    const T* c_prev = c0p + b0 * H;
    for (int64_t s = 0; s < T_; ++s) {
      const int64_t t = reverse ? T_ - 1 - s : s;
      T* z = z_s + s * n * G;
      // z (rows, 4H) = [x_t | h_prev] (rows, I+H) @ [W_ih | W_hh]^T (I+H, 4H)
      mm(rows, static_cast<int>(G), static_cast<int>(K), xh_s + s * n * K, static_cast<int>(K),
         wtp, static_cast<int>(G), z, static_cast<int>(G), false);
      T* c = c_s + s * n * H;
      T* h_next = s + 1 < T_ ? xh_s + (s + 1) * n * K + I : nullptr;
      cell_forward(z, bp, c_prev, c, t_s + s * n * H, op + (t * B + b0) * H, h_next,
                   static_cast<int>(K), rows, static_cast<int>(H), relu);
      c_prev = c;
    }
  });
  // h_n, c_n: the last step read, of every slice
  auto h_n = out[reverse ? 0 : T_ - 1].clone();
  auto c_n = at::empty({B, H}, opts);
  T* cnp = c_n.data_ptr<T>();
  for (int64_t k = 0; k < slices; ++k) {
    const int64_t b0 = B * k / slices, n = B * (k + 1) / slices - b0;
    std::memcpy(cnp + b0 * H, cp + (T_ * b0 + (T_ - 1) * n) * H, n * H * sizeof(T));
  }
  auto meta = at::tensor({slices}, at::kLong);
  return {out, h_n, c_n, xh, gates, cells, tcells, meta};
}

template <typename T>
std::vector<at::Tensor> backward_impl(const at::Tensor& d_out, const at::Tensor& d_hn,
                                      const at::Tensor& d_cn, const at::Tensor& c0,
                                      const at::Tensor& w_ih, const at::Tensor& w_hh,
                                      const at::Tensor& xh, const at::Tensor& gates,
                                      const at::Tensor& cells, const at::Tensor& tcells,
                                      const at::Tensor& meta, bool relu, bool reverse,
                                      bool need_x, bool need_bias) {
  const int64_t B = c0.size(0), T_ = xh.size(0) / B, I = w_ih.size(1), H = w_hh.size(1);
  const int64_t G = 4 * H, K = I + H;
  const int64_t slices = meta.data_ptr<int64_t>()[0];  // the forward's slicing
  const auto opts = xh.options();
  auto dw = at::empty({slices, G, K}, opts);     // per-slice dL/d[W_ih | W_hh], summed after
  auto db = at::zeros({slices, G}, opts);        // per-slice dL/db
  // dL/d(pre-activations) of one step, per slice: rows x 4H, reused every step (stays in cache)
  const int64_t n_max = (B + slices - 1) / slices;
  auto d_gates = at::empty({slices, n_max, G}, opts);
  auto dx = need_x ? at::empty({T_, B, I}, opts) : at::Tensor();
  auto dh0 = d_hn.defined() ? d_hn.clone() : at::zeros({B, H}, opts);
  auto dc0 = d_cn.defined() ? d_cn.clone() : at::zeros({B, H}, opts);
  const T* dop = d_out.defined() ? d_out.data_ptr<T>() : nullptr;  // may be a strided view
  const int64_t sd_t = d_out.defined() ? d_out.stride(0) : 0;
  const int64_t sd_b = d_out.defined() ? d_out.stride(1) : 0;
  const T* c0p = c0.data_ptr<T>();
  const T* wih = w_ih.data_ptr<T>();
  const T* whh = w_hh.data_ptr<T>();
  const T* xhp = xh.data_ptr<T>();
  const T* zp = gates.data_ptr<T>();
  const T* cp = cells.data_ptr<T>();
  const T* tp = tcells.data_ptr<T>();
  T* dwp = dw.data_ptr<T>();
  T* dbp = db.data_ptr<T>();
  T* dzp = d_gates.data_ptr<T>();
  T* dxp = need_x ? dx.data_ptr<T>() : nullptr;
  T* dhp = dh0.data_ptr<T>();  // running dL/dh, ends as dL/dh0
  T* dcp = dc0.data_ptr<T>();  // running dL/dc, ends as dL/dc0
  over_batch(B, slices, [&](int64_t slice, int64_t b0, int64_t b1) {
    const int64_t n = b1 - b0;
    const int rows = static_cast<int>(n);
    const int g = static_cast<int>(G), k = static_cast<int>(K), h = static_cast<int>(H);
    T* dh = dhp + b0 * H;
    T* dc = dcp + b0 * H;
    T* dz = dzp + slice * n_max * G;
    T* dw_s = dwp + slice * G * K;
    for (int64_t s = T_ - 1; s >= 0; --s) {
      const int64_t t = reverse ? T_ - 1 - s : s;
      if (dop) {
        for (int64_t r = 0; r < n; ++r) {
          const T* d = dop + t * sd_t + (b0 + r) * sd_b;
          T* dhr = dh + r * H;
#pragma GCC ivdep
          for (int64_t j = 0; j < H; ++j) dhr[j] += d[j];
        }
      }
      const T* c_prev = s > 0 ? cp + (T_ * b0 + (s - 1) * n) * H : c0p + b0 * H;
      const int64_t row0 = T_ * b0 + s * n;  // first row of this slice's step s
      cell_backward(zp + row0 * G, c_prev, cp + row0 * H, tp + row0 * H, dh, dc, dz,
                    dbp + slice * G, rows, h, relu);
      // dh_prev (rows, H) = dz (rows, 4H) @ W_hh (4H, H)
      mm(rows, h, g, dz, g, whh, h, dh, h, false);
      // dL/d[W_ih | W_hh] (4H, I+H) += dz^T (4H, rows) @ [x_t | h_prev] (rows, I+H)
      gemm(true, false, g, k, rows, T(1), dz, g, xhp + row0 * K, k, s == T_ - 1 ? T(0) : T(1),
           dw_s, k);
      // dL/dx_t (rows, I) = dz @ W_ih, straight into the time-major rows
      if (need_x)
        mm(rows, static_cast<int>(I), g, dz, g, wih, static_cast<int>(I), dxp + (t * B + b0) * I,
           static_cast<int>(I), false);
    }
  });
  // sum the slices' parts (a plain add: at::sum over the outer dimension is slower)
  auto dw_sum = dw[0];  // (4H, I+H)
  auto db_sum = db[0];
  for (int64_t k = 1; k < slices; ++k) {
    dw_sum.add_(dw[k]);
    db_sum.add_(db[k]);
  }
  auto dw_ih = dw_sum.narrow(1, 0, I).contiguous();
  auto dw_hh = dw_sum.narrow(1, I, H).contiguous();
  if (!need_bias) db_sum = at::Tensor();
  return {dx, dh0, dc0, dw_ih, dw_hh, db_sum};
}

// x and d_out may be strided views (T, B, F) of e.g. batch-first tensors: rows must be contiguous.
at::Tensor rows_contiguous(const at::Tensor& t) { return t.stride(2) == 1 ? t : t.contiguous(); }

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
  check({h0, c0, w_ih, w_hh, b});
  TORCH_CHECK(x.dim() == 3 && x.size(0) > 0 && x.size(1) > 0, "lstmcast kernel: empty input");
  TORCH_CHECK(x.device().is_cpu(), "lstmcast kernel: CPU tensors only");
  const at::Tensor xr = rows_contiguous(x);
  at::NoGradGuard no_grad;
  if (x.scalar_type() == at::kDouble)
    return forward_impl<double>(xr, h0, c0, w_ih, w_hh, b, relu, reverse);
  TORCH_CHECK(x.scalar_type() == at::kFloat, "lstmcast kernel: float32 or float64 only");
  return forward_impl<float>(xr, h0, c0, w_ih, w_hh, b, relu, reverse);
}

std::vector<at::Tensor> backward(const c10::optional<at::Tensor>& d_out,
                                 const c10::optional<at::Tensor>& d_hn,
                                 const c10::optional<at::Tensor>& d_cn, const at::Tensor& c0,
                                 const at::Tensor& w_ih, const at::Tensor& w_hh,
                                 const at::Tensor& xh, const at::Tensor& gates,
                                 const at::Tensor& cells, const at::Tensor& tcells,
                                 const at::Tensor& meta, bool relu, bool reverse, bool need_x,
                                 bool need_bias) {
  const at::Tensor d_o = d_out.has_value() ? rows_contiguous(*d_out) : at::Tensor();
  const at::Tensor d_h = d_hn.has_value() ? d_hn->contiguous() : at::Tensor();
  const at::Tensor d_c = d_cn.has_value() ? d_cn->contiguous() : at::Tensor();
  check({d_h, d_c, c0, w_ih, w_hh, xh, gates, cells, tcells});
  TORCH_CHECK(!d_o.defined() || d_o.device().is_cpu(), "lstmcast kernel: CPU tensors only");
  at::NoGradGuard no_grad;
  if (xh.scalar_type() == at::kDouble)
    return backward_impl<double>(d_o, d_h, d_c, c0, w_ih, w_hh, xh, gates, cells, tcells, meta,
                                 relu, reverse, need_x, need_bias);
  return backward_impl<float>(d_o, d_h, d_c, c0, w_ih, w_hh, xh, gates, cells, tcells, meta,
                              relu, reverse, need_x, need_bias);
}

// A dropout mask of n values, each 1/keep with probability keep, else 0: a counter-based hash
// (splitmix64 of seed + index), so it is reproducible from the seed and vectorisable.
// lstmcast.models.kernels.dropout_mask computes the same bits with torch ops (the fallback).
template <typename T>
void fill_dropout_mask(T* m, int64_t n, double keep, int64_t seed) {
  const uint64_t threshold = static_cast<uint64_t>(keep * 18446744073709551616.0);  // keep 2^64
  const T scale = static_cast<T>(1.0 / keep);  // 1/keep rounded once, to the mask's own dtype
  const uint64_t base = static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t z = base + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    m[i] = z < threshold ? scale : T(0);
  }
}

at::Tensor dropout_mask(int64_t n, double keep, int64_t seed, at::ScalarType dtype) {
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble,
              "lstmcast kernel: float32 or float64 only");
  auto options = at::TensorOptions().dtype(dtype);
  if (keep >= 1.0) return at::ones({n}, options);
  auto mask = at::empty({n}, options);
  if (dtype == at::kDouble) {
    fill_dropout_mask(mask.data_ptr<double>(), n, keep, seed);
  } else {
    fill_dropout_mask(mask.data_ptr<float>(), n, keep, seed);
  }
  return mask;
}

// Whether the BLAS this kernel calls is there; also decides whether oneDNN's brgemm is used.
bool has_blas() {
  if (sgemm_ == nullptr || dgemm_ == nullptr) return false;
  if (std::getenv("LSTMCAST_NO_BRGEMM") == nullptr) {
    try {
      float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, c[4] = {0, 0, 0, 0};
      at::native::cpublas::brgemm(2, 2, 3, 3, 2, 2, false, a, b, c, false);  // [[4,5],[10,11]]
      at::native::cpublas::brgemm_release(false);
      g_brgemm = c[0] == 4 && c[1] == 5 && c[2] == 10 && c[3] == 11;
    } catch (...) {
      g_brgemm = false;
    }
  }
  return true;
}

bool uses_brgemm() { return g_brgemm; }

// How many distinct threads over_batch's parallel_for runs n slices on (at most n). 1 with
// several torch threads means the extension was built without OpenMP: slices run serially.
int64_t slice_threads(int64_t n) {
  std::vector<std::thread::id> ids(n);
  at::parallel_for(0, n, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) ids[s] = std::this_thread::get_id();
  });
  std::sort(ids.begin(), ids.end());
  return std::unique(ids.begin(), ids.end()) - ids.begin();
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "LSTM layer forward: out, h_n, c_n, then the saved xh, gates, cells, act(cells), slices");
  m.def("backward", &backward, "LSTM layer backward: dx, dh0, dc0, dW_ih, dW_hh, db");
  m.def("has_blas", &has_blas, "whether libtorch exports the BLAS gemm this kernel calls");
  m.def("uses_brgemm", &uses_brgemm, "whether the GEMMs go through oneDNN's brgemm");
  m.def("slice_threads", &slice_threads, "distinct threads that run n batch slices");
  m.def("dropout_mask", &dropout_mask, "n values: 1/keep with probability keep, else 0");
}
