# The layer order (core <- kernels <- backend <- pipeline; weights_tools on core; programs on pcavs.h):
# every project #include checked against it.
add_test(NAME test_layering COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/check_layers.py ${CMAKE_SOURCE_DIR})
