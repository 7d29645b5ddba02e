// Force-included (-include) into the library sources of the fuzz build only: clang has no
// GCC's __builtin_shuffle(a, b, mask) with a mask held in a variable, which adgap's own
// convolution kernels use (src/model/conv1_pool.h, src/train/train_step.cpp). This is its
// documented meaning, element by element: lane i of the result is lane mask[i] mod 2n of the
// concatenation (a, b). Slower than GCC's, and correct; the fuzz targets do not run those
// kernels on the hot path anyway (they run only on AVX-512 CPUs or with ADGAP_KERNELS=own).
#pragma once

#if defined(__clang__)
namespace adgap_fuzz_compat {

template <class V, class M>
inline V shuffle2(V a, V b, M mask) {
  constexpr int n = sizeof(V) / sizeof(a[0]);
  V r;
  for (int i = 0; i < n; ++i) {
    const int k = static_cast<int>(mask[i]) & (2 * n - 1);
    r[i] = k < n ? a[k] : b[k - n];
  }
  return r;
}

}  // namespace adgap_fuzz_compat
#define __builtin_shuffle(a, b, mask) ::adgap_fuzz_compat::shuffle2((a), (b), (mask))
#endif
