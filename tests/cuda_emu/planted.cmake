# planted.cmake (emulated tree only): copies of production CUDA sources with one bug planted each,
# generated at configure time by exact text replacement (configure fails, naming the file, when a
# pattern no longer matches the source: update the pattern), linked into test_cuda_planted.
# Each copy's exported function and kernels are renamed with a suffix so it links beside the original.
set(PCAVS_PLANTED_DIR ${CMAKE_CURRENT_BINARY_DIR}/planted)
set(PCAVS_PLANTED_SRC)
# pcavs_plant(<tag> <source> <from> <to> <exported function>...)
function(pcavs_plant tag src from to)
  set(path ${CMAKE_SOURCE_DIR}/${src})
  file(READ ${path} text)
  string(FIND "${text}" "${from}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "planted bug ${tag}: the text '${from}' is no longer in ${src}: update tests/cuda_emu/planted.cmake")
  endif()
  string(REPLACE "${from}" "${to}" text "${text}")
  set(head "/* GENERATED from ${src} with a planted bug (${tag}): '${from}' -> '${to}' */\n")
  string(REGEX MATCHALL "__global__ void (k_[A-Za-z0-9_]+)" kernels "${text}")
  foreach(k ${kernels} ${ARGN})
    string(REGEX REPLACE "__global__ void " "" k "${k}")
    string(APPEND head "#define ${k} ${k}_planted_${tag}\n")
  endforeach()
  get_filename_component(ext ${src} EXT)
  file(WRITE ${PCAVS_PLANTED_DIR}/${tag}${ext}.tmp "${head}${text}")
  configure_file(${PCAVS_PLANTED_DIR}/${tag}${ext}.tmp ${PCAVS_PLANTED_DIR}/${tag}${ext} COPYONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
  if(ext STREQUAL ".cu")
    pcavs_cuda_emu_sources(${PCAVS_PLANTED_DIR}/${tag}${ext})
  endif()
  set(PCAVS_PLANTED_SRC ${PCAVS_PLANTED_SRC} ${PCAVS_PLANTED_DIR}/${tag}${ext} PARENT_SCOPE)
endfunction()

# an off-by-one loop bound: one element written past the end of y
pcavs_plant(offbyone_bound kernels/batchnorm_cuda.cu "i < total; i +=" "i <= total; i +=" pcavs_batchnorm_cuda)
# an off-by-one index: the last row's lower neighbour read from the next plane
pcavs_plant(offbyone_index kernels/bilinear_cuda.cu "h1p = h1 < h - 1 ? 1 : 0" "h1p = h1 < h ? 1 : 0" pcavs_bilinear_cuda)
# a swapped GEMM transpose: w read as [in, out] instead of [out, in]
pcavs_plant(swapped_transpose kernels/linear_cuda.cu "cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, out, rows, in"
  "cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, out, rows, in" pcavs_linear_cuda)
# a wrong leading dimension of C
pcavs_plant(wrong_ldc kernels/linear_cuda.cu "x, in, &one, y, out);" "x, in, &one, y, out + 1);" pcavs_linear_cuda)
# a wrong leading dimension of the weights in the 1x1 convolution's GEMM
pcavs_plant(wrong_ldw kernels/conv2d_cuda.cu "w + (size_t)gi * cog * cig, cig, xb" "w + (size_t)gi * cog * cig, cig + 1, xb"
  pcavs_conv2d_cuda)
# a missing stream synchronisation: the device -> host copy read before it has run
pcavs_plant(missing_sync backend/backend_cuda.c
  "    CUDA_TRY(cudaStreamSynchronize(s), \"cudaStreamSynchronize after device->host copy\");\n" ""
  pcavs_backend_cuda)

add_executable(test_cuda_planted ${CMAKE_CURRENT_LIST_DIR}/test_cuda_planted.c ${PCAVS_PLANTED_SRC})
target_include_directories(test_cuda_planted PRIVATE ${CMAKE_SOURCE_DIR}/backend ${CMAKE_SOURCE_DIR}/kernels)
target_link_libraries(test_cuda_planted PRIVATE pcavs_testutil)
