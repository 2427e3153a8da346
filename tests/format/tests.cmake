# The house style: every C, C++ and CUDA source as clang-format writes it (.clang-format).
add_test(NAME test_format COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check_format.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(test_format PROPERTIES SKIP_RETURN_CODE 77)
