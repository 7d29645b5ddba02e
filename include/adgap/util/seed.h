// Seeds LibTorch's default CPU generator for a scope and restores its previous state after, so
// that a library call that needs reproducible random numbers leaves the caller's random stream
// as it found it.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <cstdint>
#include <mutex>

namespace adgap {

class SeedGuard {
 public:
  explicit SeedGuard(uint64_t seed) : gen_(at::detail::getDefaultCPUGenerator()) {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    saved_ = gen_.get_state();
    gen_.set_current_seed(seed);
  }
  ~SeedGuard() {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    gen_.set_state(saved_);
  }
  SeedGuard(const SeedGuard&) = delete;
  SeedGuard& operator=(const SeedGuard&) = delete;

 private:
  at::Generator gen_;
  at::Tensor saved_;
};

}  // namespace adgap
