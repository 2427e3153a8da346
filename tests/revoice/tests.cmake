# tests/revoice: re-voicing paste-back (issue 28): masks from the landmarks, feather and multiband blends,
# the C API and pcavs-infer --paste-mask / --blend. Needs no PyTorch fixture; the dlib parts skip without
# libdlib-dev / libdlib-data, the end-to-end part without ffmpeg or the programs.
add_executable(test_revoice ${CMAKE_CURRENT_LIST_DIR}/test_revoice.c)
target_link_libraries(test_revoice PRIVATE pcavs_testutil pcavs_pipeline)
add_test(NAME test_revoice COMMAND test_revoice)
set_tests_properties(test_revoice PROPERTIES TIMEOUT 300 ENVIRONMENT
  "OMP_WAIT_POLICY=PASSIVE;PCAVS_SOURCE_DIR=${CMAKE_SOURCE_DIR};PCAVS_BINARY_DIR=${CMAKE_BINARY_DIR}")
