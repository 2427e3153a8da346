# cuda_emu.cmake: included by kernels/CMakeLists.txt when PCAVS_CUDA_EMU=ON (a test build).
# Builds the host emulation of the CUDA runtime and cuBLAS (pcavs_cuda_emu) and compiles the CUDA
# backend's kernels/*.cu as host C++ against it: the emulation's headers (cuda_runtime.h,
# cuda_runtime_api.h, cublas_v2.h) first on the include path, pcavs_cuda_emu_device.h
# force-included into every .cu. pcavs_backend_cuda() (backend/backend_cuda.c) then returns the
# emulated table. The top-level CMakeLists.txt enables CXX for this build.
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
find_package(OpenMP REQUIRED COMPONENTS CXX)

set(PCAVS_CUDA_EMU_DIR ${CMAKE_CURRENT_LIST_DIR} CACHE INTERNAL "tests/cuda_emu (seen by tests/ too)")
add_library(pcavs_cuda_emu STATIC ${PCAVS_CUDA_EMU_DIR}/src/cuda_emu_runtime.cpp ${PCAVS_CUDA_EMU_DIR}/src/cuda_emu_launch.cpp
                                  ${PCAVS_CUDA_EMU_DIR}/src/cuda_emu_cublas.cpp)
target_include_directories(pcavs_cuda_emu BEFORE PUBLIC ${PCAVS_CUDA_EMU_DIR}/include
                           PRIVATE ${PCAVS_CUDA_EMU_DIR}/src)
target_compile_options(pcavs_cuda_emu PRIVATE -Wall -Wextra -Wno-unused-parameter)
target_link_libraries(pcavs_cuda_emu PUBLIC PkgConfig::OPENBLAS OpenMP::OpenMP_CXX ${MATH_LIB})
set_target_properties(pcavs_cuda_emu PROPERTIES POSITION_INDEPENDENT_CODE ON)

# .cu files compiled by g++ as host C++ with the device header forced in.
function(pcavs_cuda_emu_sources)
  set_source_files_properties(${ARGN} PROPERTIES LANGUAGE CXX COMPILE_OPTIONS
    "-xc++;-include;${PCAVS_CUDA_EMU_DIR}/include/pcavs_cuda_emu_device.h;-Wall;-Wno-unused-parameter;-Wno-unused-function")
endfunction()
pcavs_cuda_emu_sources(${PCAVS_KERNEL_CU})

target_link_libraries(pcavs_kernels PUBLIC pcavs_cuda_emu)
target_compile_definitions(pcavs_kernels PUBLIC PCAVS_HAVE_CUDA=1 PCAVS_CUDA_EMU=1)
