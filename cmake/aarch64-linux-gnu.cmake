# aarch64-linux-gnu.cmake: cross-compiles pcavs for 64-bit Arm Linux with Debian's cross toolchain
# (gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu) and the arm64 builds of its libraries installed through
# multiarch (dpkg --add-architecture arm64; libopenblas-dev:arm64 libcjson-dev:arm64 ...). Use:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DPCAVS_CUDA=OFF
# The programs run under qemu-user with the multiarch root as the guest's root: qemu-aarch64 -L / build-arm64/tests/test_conv2d
# (the arm64 dynamic loader and libc of libc6:arm64; -L /usr/aarch64-linux-gnu would pair the cross package's
# loader with libc6:arm64's libc when their versions differ, and the guest hangs in its first pthread_create).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(PCAVS_CROSS_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${PCAVS_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${PCAVS_CROSS_TRIPLE}-g++)
# Libraries and headers: the cross sysroot (/usr/aarch64-linux-gnu) and Debian's multiarch paths.
set(CMAKE_FIND_ROOT_PATH /usr/${PCAVS_CROSS_TRIPLE})
set(CMAKE_LIBRARY_ARCHITECTURE ${PCAVS_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config: the arm64 .pc files only (the host's would hand out x86-64 libraries).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${PCAVS_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# Test programs run through qemu-user where CMake or ctest runs them itself (try_run, add_test of a target).
find_program(PCAVS_QEMU_AARCH64 qemu-aarch64)
if(PCAVS_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${PCAVS_QEMU_AARCH64};-L;/)
endif()
