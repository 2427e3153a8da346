# tests/cuda_emu/tests.cmake: the CUDA backend run on the host emulation of tests/cuda_emu (issue 22).
# In the normal build: one ctest test, cuda_emu, that configures and builds a second tree
# (${CMAKE_BINARY_DIR}/cuda-emu, -DPCAVS_CUDA_EMU=ON, no toolkit, no GPU) and runs in it the
# emulation's self-test, test_cuda_ops (every CUDA operator against _ref) and the planted bugs.
# In that emulated tree: the programs only present there (the self-test, the planted bugs).
if(PCAVS_CUDA_EMU)
  add_executable(test_cuda_emu ${CMAKE_CURRENT_LIST_DIR}/test_cuda_emu.cu)
  pcavs_cuda_emu_sources(${CMAKE_CURRENT_LIST_DIR}/test_cuda_emu.cu)
  target_link_libraries(test_cuda_emu PRIVATE pcavs_testutil)
  include(${CMAKE_CURRENT_LIST_DIR}/planted.cmake)
else()
  add_test(NAME cuda_emu COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_cuda_emu.sh ${CMAKE_SOURCE_DIR}
    ${CMAKE_BINARY_DIR}/cuda-emu ${PCAVS_FIXTURES} test_cuda_emu test_cuda_ops test_cuda_planted)
  set_tests_properties(cuda_emu PROPERTIES TIMEOUT 900 PROCESSORS 2
    ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE;CMAKE=${CMAKE_COMMAND}")
endif()

# What the emulation cannot run (warp intrinsics, atomics, fences, dynamic shared memory) does not
# compile against it, with a message naming the feature; a control kernel does (no tree needed).
if(NOT PCAVS_CUDA_EMU)
  find_program(PCAVS_CXX_FOR_EMU NAMES g++ c++)
  if(PCAVS_CXX_FOR_EMU)
    add_test(NAME cuda_emu_refusals COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check_refusals.sh ${CMAKE_CURRENT_LIST_DIR}
      ${PCAVS_CXX_FOR_EMU})
  endif()
endif()
