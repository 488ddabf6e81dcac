# otakit's ESP-IDF build system for host builds.
#
# An ESP-IDF project's top-level CMakeLists.txt includes $ENV{IDF_PATH}/tools/cmake/project.cmake
# and calls project(NAME). `otakit build` points IDF_PATH at this directory tree, so the project's
# own CMake files are read as they are: project() here finds the components (main/, components/,
# EXTRA_COMPONENT_DIRS, main/idf_component.yml path dependencies), runs Kconfig, adds each
# component (idf_component_register in component.cmake), links the app program with otakit's app
# runtime and lays out the build directory as ESP-IDF does (outputs.cmake).
#
# Variables otakit build passes: OTAKIT_ESP_IDF (a user's ESP-IDF checkout, for components otakit
# does not provide, such as unity and test_utils; may be empty), otakit_DIR (otakit's CMake
# package), OTAKIT_TOOL (the otakit command), IDF_TARGET, SDKCONFIG_DEFAULTS, SDKCONFIG.
include_guard(GLOBAL)

get_filename_component(OTAKIT_IDF_DIR "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(IDF_PATH "${OTAKIT_IDF_DIR}")
set(IDF_VER "v5.5.5")
set(OTAKIT_ESP_IDF "${OTAKIT_ESP_IDF}" CACHE PATH
    "An ESP-IDF checkout, for the components otakit does not provide (unity, test_utils)")
set(OTAKIT_PYTHON "/usr/bin/python3" CACHE FILEPATH "Python with Debian's kconfiglib and yaml")

include(${CMAKE_CURRENT_LIST_DIR}/build_props.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/component.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/discover.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/kconfig.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/outputs.cmake)

# The target chip: -DIDF_TARGET, else $ENV{IDF_TARGET}, else esp32 (as idf.py without set-target).
if(NOT IDF_TARGET)
    if(DEFINED ENV{IDF_TARGET} AND NOT "$ENV{IDF_TARGET}" STREQUAL "")
        set(IDF_TARGET "$ENV{IDF_TARGET}")
    else()
        set(IDF_TARGET esp32)
    endif()
endif()
set(IDF_TARGET "${IDF_TARGET}" CACHE STRING "Target chip" FORCE)

# ESP-IDF's project(): components, configuration, the app program and its images.
# A macro, as ESP-IDF's: project() and the configuration's CONFIG_* variables stay visible to the
# rest of the top-level CMakeLists.txt.
macro(project __otakit_name)
    # CMake's own project() (the built-in stays reachable as _project once redefined).
    _project(${__otakit_name} C CXX ASM)
    find_package(otakit CONFIG REQUIRED)
    __otakit_build_init(${__otakit_name})
    # ESP-IDF's project() leaves project_dir set for the components' CMakeLists.txt files (some
    # examples embed ${project_dir}/server_certs/... without asking for it).
    idf_build_get_property(project_dir PROJECT_DIR)
    __otakit_discover_components(__otakit_components)
    __otakit_kconfig("${__otakit_components}")
    include(${CMAKE_BINARY_DIR}/config/sdkconfig.cmake)
    __otakit_add_components("${__otakit_components}")
    __otakit_app_executable(${__otakit_name})
    __otakit_outputs(${__otakit_name})
endmacro()
