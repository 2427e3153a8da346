# tests/packaging: the run-time dispatch capped ($PCAVS_CPU_CAP), so every x86 path runs in CI whatever the
# CI machine's CPU; the aarch64 cross build run under qemu-user; the Python package (sdist, wheel, venv).
# Included by tests/CMakeLists.txt.
set(PCAVS_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})

# GCC 12.2 for aarch64 (Debian 12) stops with an internal error vectorising one of test_convert's loops.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$" AND CMAKE_C_COMPILER_ID STREQUAL "GNU" AND
   CMAKE_C_COMPILER_VERSION VERSION_LESS 12.3)
  set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/test_convert.c PROPERTIES COMPILE_OPTIONS -fno-tree-vectorize)
endif()

# ---- every x86 path: the kernel tests whose operators dispatch on the CPU, and the networks, once per cap
# below AVX-512 (the uncapped runs above are the AVX-512 path on a CPU that has it). Each run first prints and
# checks the paths taken (cpu_paths), then runs the test. OpenBLAS is capped with it (OPENBLAS_CORETYPE).
add_executable(cpu_paths ${PCAVS_PKG_DIR}/cpu_paths.c) # any architecture: what the CPU-feature layer found
target_link_libraries(cpu_paths PRIVATE pcavs_testutil)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(PCAVS_CAP_TESTS test_activation test_sgemm_nn test_winograd test_winograd_up test_conv2d test_modconv
    test_gemm_bf16 test_networks)
  # OpenBLAS's Haswell kernels only where the CPU running the tests has AVX2 (a forced core is not checked).
  set(pcavs_host_avx2 OFF)
  if(EXISTS /proc/cpuinfo)
    file(READ /proc/cpuinfo pcavs_cpuinfo LIMIT 8192)
    if(pcavs_cpuinfo MATCHES "[ \t]avx2[ \t\n]")
      set(pcavs_host_avx2 ON)
    endif()
  endif()
  foreach(cap avx2 baseline)
    if(cap STREQUAL "avx2" AND pcavs_host_avx2)
      set(blas_core Haswell)
    else()
      set(blas_core Prescott)
    endif()
    foreach(name ${PCAVS_CAP_TESTS})
      if(TARGET ${name})
        add_test(NAME ${name}_cap_${cap}
          COMMAND bash -c "\"$0\" ${cap} && exec \"$1\"" $<TARGET_FILE:cpu_paths> $<TARGET_FILE:${name}>)
        set_tests_properties(${name}_cap_${cap} PROPERTIES FIXTURES_REQUIRED pcavs_fixtures ENVIRONMENT
          "OMP_WAIT_POLICY=PASSIVE;PCAVS_CPU_CAP=${cap};OPENBLAS_CORETYPE=${blas_core};PCAVS_FIXTURES=${PCAVS_FIXTURES};PCAVS_SOURCE_DIR=${CMAKE_SOURCE_DIR};PCAVS_BINARY_DIR=${CMAKE_BINARY_DIR}")
      endif()
    endforeach()
  endforeach()
endif()

# ---- aarch64: cross-built with Debian's toolchain, a set of C tests run under qemu-user on the host's fixtures.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME test_aarch64_qemu COMMAND bash ${PCAVS_PKG_DIR}/test_aarch64_qemu.sh ${CMAKE_SOURCE_DIR}
    ${CMAKE_BINARY_DIR}/aarch64 ${PCAVS_FIXTURES})
  set_tests_properties(test_aarch64_qemu PROPERTIES FIXTURES_REQUIRED pcavs_fixtures TIMEOUT 1200
    SKIP_REGULAR_EXPRESSION "SKIPPED test_aarch64_qemu: ")
endif()

# ---- the Python package: sdist + wheel (scikit-build-core), installed into fresh venvs and tested there.
add_test(NAME test_python_package
  COMMAND bash ${PCAVS_PKG_DIR}/test_python_package.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/python_package)
set_tests_properties(test_python_package PROPERTIES TIMEOUT 1200 SKIP_REGULAR_EXPRESSION "SKIPPED test_python_package: "
  ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE;CMAKE_BUILD_PARALLEL_LEVEL=2")
