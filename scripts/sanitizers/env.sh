# shellcheck shell=bash
# Runtime options of AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer for the
# sanitized build (build-asan/, `bash scripts/test.sh --sanitize`). Sourced by scripts/test.sh;
# source it yourself to rerun one test by hand:
#   . scripts/sanitizers/env.sh && build-asan/tests/test_io --gtest_filter='Io.*'
# The suppression files beside it hold third-party findings only, each with its reason.
_san_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ASan: stop at the first error (halt_on_error; exit code 1), leaks checked at exit,
# initialisation-order bugs between translation units reported, the same-size-new/delete and
# malloc/delete mismatches reported (alloc_dealloc_mismatch, on by default; said here so that
# nobody turns it off to silence a finding).
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:alloc_dealloc_mismatch=1:detect_stack_use_after_return=1:symbolize=1:suppressions=$_san_dir/asan.supp"
# LSan (runs inside ASan at exit): leaks of third-party libraries' process-lifetime
# singletons are suppressed by name in lsan.supp; anything adgap allocates is reported.
export LSAN_OPTIONS="suppressions=$_san_dir/lsan.supp:print_suppressions=0"
# UBSan: the build uses -fno-sanitize-recover=undefined, so any report aborts the process;
# halt_on_error says the same for the runtime, print_stacktrace gives the whole stack.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$_san_dir/ubsan.supp"
unset _san_dir
