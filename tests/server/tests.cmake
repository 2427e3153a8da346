# tests/server/tests.cmake: pcavs-server's tests (included by tests/CMakeLists.txt). They share one
# synthesized model (the server_model fixture) and need no PyTorch fixture.
#   test_render_cancel  the cancel flag of pcavs_context_render (C)
#   test_server         the HTTP API, uploads, cancel, 429, the WebSocket stream vs the C streaming API, SIGTERM
#   test_server_load    20 clients at once against --max-queue 8; files removed; RSS back to idle
#   test_server_page    the embedded page in headless Chromium (skips without chromium/selenium)
#   fuzz_server         libFuzzer on the request parsers (multipart, JSON, WebSocket messages)
#   test_server_parse   the parsers' results on a table of inputs (C)
set(PCAVS_SERVER_TEST_DIR ${CMAKE_BINARY_DIR}/server_test)
set(PCAVS_SERVER_ENV "OMP_WAIT_POLICY=PASSIVE;no_proxy=127.0.0.1,localhost;NO_PROXY=127.0.0.1,localhost")
if(TARGET pcavs-convert)
  add_test(NAME server_model COMMAND ${CMAKE_COMMAND} -E env $<TARGET_FILE:pcavs-convert> --synthesize
    -o ${PCAVS_SERVER_TEST_DIR}/model.safetensors --seed 3)
  set_tests_properties(server_model PROPERTIES FIXTURES_SETUP pcavs_server_model TIMEOUT 120)
  file(MAKE_DIRECTORY ${PCAVS_SERVER_TEST_DIR})

  add_executable(test_render_cancel ${CMAKE_CURRENT_LIST_DIR}/test_render_cancel.c)
  target_link_libraries(test_render_cancel PRIVATE pcavs_testutil pcavs_pipeline)
  add_test(NAME test_render_cancel COMMAND test_render_cancel ${PCAVS_SERVER_TEST_DIR}/model.safetensors
    ${CMAKE_SOURCE_DIR} ${PCAVS_SERVER_TEST_DIR})
  set_tests_properties(test_render_cancel PROPERTIES FIXTURES_REQUIRED pcavs_server_model TIMEOUT 300
    ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endif()

if(TARGET pcavs-server AND TARGET pcavs-convert AND TARGET pcavs-infer)
  add_executable(stream_ref ${CMAKE_CURRENT_LIST_DIR}/stream_ref.c)
  target_link_libraries(stream_ref PRIVATE pcavs)
  add_test(NAME test_server COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/test_server.py
    $<TARGET_FILE:pcavs-server> $<TARGET_FILE:pcavs-infer> $<TARGET_FILE:stream_ref>
    ${PCAVS_SERVER_TEST_DIR}/model.safetensors ${CMAKE_SOURCE_DIR} ${PCAVS_SERVER_TEST_DIR}/api)
  add_test(NAME test_server_load COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/test_server_load.py
    $<TARGET_FILE:pcavs-server> ${PCAVS_SERVER_TEST_DIR}/model.safetensors ${CMAKE_SOURCE_DIR}
    ${PCAVS_SERVER_TEST_DIR}/load)
  add_test(NAME test_server_page COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/test_server_page.py
    $<TARGET_FILE:pcavs-server> ${PCAVS_SERVER_TEST_DIR}/model.safetensors ${CMAKE_SOURCE_DIR}
    ${PCAVS_SERVER_TEST_DIR}/page)
  set_tests_properties(test_server test_server_load test_server_page PROPERTIES FIXTURES_REQUIRED pcavs_server_model
    TIMEOUT 600 ENVIRONMENT "${PCAVS_SERVER_ENV}")
endif()

find_program(PCAVS_SERVER_CLANG14 clang-14)
if(PCAVS_SERVER_CLANG14)
  add_test(NAME fuzz_server COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_fuzz_server.sh 20 ${PCAVS_SERVER_TEST_DIR}/fuzz)
  set_tests_properties(fuzz_server PROPERTIES TIMEOUT 300)
endif()

# The parsers' expected results (the fuzzer above only proves they do not crash).
if(TARGET pcavs_server_parse)
  add_executable(test_server_parse ${CMAKE_CURRENT_LIST_DIR}/test_server_parse.c)
  target_link_libraries(test_server_parse PRIVATE pcavs_server_parse)
  add_test(NAME test_server_parse COMMAND test_server_parse)
endif()
