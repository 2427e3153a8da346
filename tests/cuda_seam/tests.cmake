# tests/cuda_seam/tests.cmake: the networks and pcavs-infer through the CUDA backend (issue 22), run in the
# emulated CUDA tree that tests/cuda_emu's cuda_emu test configures and builds (${CMAKE_BINARY_DIR}/cuda-emu):
# one ctest test, cuda_seam, after cuda_emu; it builds the three further programs it needs there
# (test_networks, pcavs-infer, pcavs-convert; the emulated pcavs_core is reused) and runs
#   - test_networks with PCAVS_TEST_DEVICE=cuda: V, E, A_sync, G stage by stage and the dataflow against the
#     PyTorch fixtures with the CPU run's bounds, then the tf32 and bf16 fast modes (>= 40 dB PSNR);
#   - test_cuda_infer.sh: pcavs-infer --device cuda on the demo's inputs (a 1 s clip) against --device cpu.
if(NOT PCAVS_CUDA_EMU)
  add_test(NAME cuda_seam COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_cuda_seam.sh ${CMAKE_SOURCE_DIR}
    ${CMAKE_BINARY_DIR}/cuda-emu ${PCAVS_FIXTURES})
  set_tests_properties(cuda_seam PROPERTIES TIMEOUT 900 DEPENDS cuda_emu FIXTURES_REQUIRED pcavs_fixtures
    ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endif()
