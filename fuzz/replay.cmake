# Runs every fuzz seed (fuzz/corpus/<target>) and regression input (fuzz/regressions/<target>)
# through the fuzz targets' entry points in the normal test suite, without libFuzzer or
# sanitizers: one executable per target (fuzz/replay.cpp + fuzz/<target>.cpp), one ctest test
# each (fuzz_replay_<target>). Included from tests/CMakeLists.txt inside the main build, where
# the library target is `adgap`. Tests run from the repository root: the annotation seeds name
# photos by paths relative to it.
set(ADGAP_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(ADGAP_FUZZ_REPLAY_TARGETS idx image model checkpoint weights_json annotations jsonl)
foreach(t IN LISTS ADGAP_FUZZ_REPLAY_TARGETS)
  add_executable(fuzz_replay_${t} ${ADGAP_FUZZ_DIR}/replay.cpp ${ADGAP_FUZZ_DIR}/${t}.cpp)
  target_link_libraries(fuzz_replay_${t} PRIVATE adgap::adgap ZLIB::ZLIB)
  target_include_directories(fuzz_replay_${t} PRIVATE ${OpenCV_INCLUDE_DIRS})
  target_compile_options(fuzz_replay_${t} PRIVATE -Wall -Wextra)
  if(ADGAP_USE_PCH)
    target_precompile_headers(fuzz_replay_${t} REUSE_FROM adgap)
  endif()
  add_test(NAME fuzz_replay_${t}
           COMMAND fuzz_replay_${t} ${ADGAP_FUZZ_DIR}/corpus/${t} ${ADGAP_FUZZ_DIR}/regressions/${t}
           WORKING_DIRECTORY ${ADGAP_FUZZ_DIR}/..)
  set_tests_properties(fuzz_replay_${t} PROPERTIES TIMEOUT 300)
endforeach()
