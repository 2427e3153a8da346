# version_and_package.cmake: one version number. project(pcavs VERSION ...) in CMakeLists.txt is the source
# (pyproject.toml reads it for the Python package); include/pcavs.h's PCAVS_VERSION_* (what pcavs_version()
# returns) must agree, checked here at configure time. With PCAVS_PYTHON_PACKAGE (set by pyproject.toml) the
# install is laid out for the wheel: libpcavs unversioned (a wheel keeps no symlinks, so one file, not three).

file(STRINGS ${PROJECT_SOURCE_DIR}/include/pcavs.h pcavs_h_version REGEX "^#define PCAVS_VERSION_(MAJOR|MINOR|PATCH) ")
set(pcavs_h_parts "")
foreach(part MAJOR MINOR PATCH)
  string(REGEX MATCH "PCAVS_VERSION_${part} ([0-9]+)" m "${pcavs_h_version}")
  list(APPEND pcavs_h_parts "${CMAKE_MATCH_1}")
endforeach()
list(JOIN pcavs_h_parts "." pcavs_h_version)
if(NOT pcavs_h_version STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "version mismatch: CMakeLists.txt project VERSION ${PROJECT_VERSION}, include/pcavs.h "
    "PCAVS_VERSION_* ${pcavs_h_version}: change both")
endif()

if(PCAVS_PYTHON_PACKAGE AND TARGET pcavs)
  set_property(TARGET pcavs PROPERTY VERSION)
  set_property(TARGET pcavs PROPERTY SOVERSION)
  message(STATUS "pcavs: Python package layout (libpcavs.so unversioned, installed under the package)")
endif()
