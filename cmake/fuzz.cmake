# Fuzz targets: every tests/fuzz/fuzz_NAME.c defines LLVMFuzzerTestOneInput. With OTAKIT_FUZZ
# (clang) each links with libFuzzer and `make fuzz` runs it (tests/fuzz/run.sh); in the test build
# each links with tests/fuzz/replay.c and CTest runs it once over its seed corpus
# (tests/fuzz/corpus/NAME, which also holds the reproducers of past findings) and the shared
# vectors listed in tests/fuzz/seeds.txt.
file(GLOB OTAKIT_FUZZ_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
set(OTAKIT_FUZZ_TARGETS)
foreach(src ${OTAKIT_FUZZ_SRC})
    get_filename_component(name ${src} NAME_WE)
    if(OTAKIT_FUZZ)
        add_executable(${name} ${src})
        target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    else()
        add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c)
    endif()
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/fuzz
                               ${CMAKE_SOURCE_DIR}/src/core ${CMAKE_SOURCE_DIR}/src/host
                               ${CMAKE_SOURCE_DIR}/src/esp ${CMAKE_SOURCE_DIR}/src/server)
    target_link_libraries(${name} PRIVATE otakit_esp otakit_server otakit_host)
    list(APPEND OTAKIT_FUZZ_TARGETS ${name})
    if(OTAKIT_TESTS AND NOT OTAKIT_FUZZ)
        string(REGEX REPLACE "^fuzz_" "" short ${name})
        add_test(NAME fuzz_${short}
                 COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh replay ${CMAKE_BINARY_DIR}
                         ${short})
        set_tests_properties(fuzz_${short} PROPERTIES ENVIRONMENT "${OTAKIT_TEST_ENV}"
                             TIMEOUT 300)
    endif()
endforeach()
add_custom_target(fuzz-targets DEPENDS ${OTAKIT_FUZZ_TARGETS})
