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

// Keeps large freed buffers in the process's heap for reuse (glibc; elsewhere nothing).
// Detection allocates and frees tensors of tens of megabytes per image and pyramid level; by
// default glibc returns each to the kernel and the next one arrives as fresh pages, whose
// faults took half of the time on a textured 1-megapixel photo (measured: 13.6 s -> 3.5 s).
// Peak memory is unchanged; memory freed after the peak stays with the process. All threads
// share one arena (worker threads' own arenas return large blocks regardless). Called by
// configure_threads and when a detector is made; idempotent.
void configure_allocator();

// Whether adgap's own convolution kernels run (paper-mode maps, the pooled trunk of detection
// and filter importance, the training step) or LibTorch's layers. The kernels work on 16-float
// vectors held in 32 vector registers (AVX-512); on a CPU without AVX-512 their AVX2 build
// spills registers and LibTorch's layers are faster (measured on a 2-core AMD EPYC with AVX2:
// training 2,524 against 6,551 images per second, a 4-megapixel map 5.8 against 1.5 s).
// Default: the kernels where the CPU has AVX-512F; ADGAP_KERNELS=own or ADGAP_KERNELS=libtorch
// in the environment decides instead (read once).
bool own_kernels_enabled();
// One line for logs: which and why.
std::string kernels_description();

}  // namespace adgap
