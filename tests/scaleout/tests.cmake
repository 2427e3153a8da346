# Scale-out tests: pcavs-infer --csv over many clips (--shard auto, resume, the per-shard summary), without
# a scheduler and under a real one-node Slurm started by the test (skips, saying why, without Slurm).
if(TARGET pcavs-infer AND TARGET pcavs-convert)
  add_test(NAME test_shard_resume COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_shard_resume.sh
    $<TARGET_FILE:pcavs-infer> $<TARGET_FILE:pcavs-convert> ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_shard_resume PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77
    ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endif()
# A real one-node Slurm (munged, slurmctld, slurmd from scripts/deps/scaleout.optional.txt) started by the
# test on localhost: examples/slurm/render_array.sbatch as a job array, resubmitted, cancelled and resumed.
if(TARGET pcavs-infer AND TARGET pcavs-convert)
  add_test(NAME test_slurm_array COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_slurm_array.sh
    $<TARGET_FILE:pcavs-infer> $<TARGET_FILE:pcavs-convert> ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_slurm_array PROPERTIES TIMEOUT 400 SKIP_RETURN_CODE 77
    ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endif()
