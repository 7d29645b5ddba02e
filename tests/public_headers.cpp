// The public API must not need LibTorch's or OpenCV's headers: this file is compiled with only
// include/ on the include path (tests/CMakeLists.txt), and fails to build when a public header
// pulls one of them in (their macros give them away even where /usr/include holds them).
#include "adgap/adgap.h"
#include "adgap/batch.h"

#if defined(C10_MACROS_MACROS_H_) || defined(TORCH_API) || defined(AT_ERROR) || \
    defined(TORCH_CHECK)
#error "a public adgap header includes LibTorch"
#endif
#if defined(CV_VERSION) || defined(OPENCV_CORE_HPP)
#error "a public adgap header includes OpenCV"
#endif

namespace {
[[maybe_unused]] const adgap::Options kDefaults{};
[[maybe_unused]] const adgap::BatchOptions kBatch{};
}  // namespace
