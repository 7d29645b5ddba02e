// Thread configuration for this small network on a few cores.
//
// Measured on the project's 2-core machines: LibTorch intra-op threads = cores and a single
// OpenBLAS thread is fastest (OpenBLAS threads inside LibTorch's parallel regions oversubscribe).
#pragma once

#include <string>

namespace adgap {

// Sets LibTorch's intra-op threads (0: one per core), inter-op threads to 1, and OpenBLAS to
// one thread when OpenBLAS is the loaded BLAS. Returns a one-line description of the result.
std::string configure_threads(int intra_op_threads = 0);

}  // namespace adgap
