# Test registration: every tests/unit/test_*.c is a cmocka program, every tests/e2e/*.sh a
# script that drives the real binaries. Both run under CTest.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

get_filename_component(OTAKIT_VECTORS ${CMAKE_SOURCE_DIR}/../shared/vectors ABSOLUTE)
set(OTAKIT_TEST_ENV
    "OTAKIT_VECTORS=${OTAKIT_VECTORS}"
    "OTAKIT=$<TARGET_FILE:otakit>"
    "OTAKIT_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
    "OTAKIT_BUILD_DIR=${CMAKE_BINARY_DIR}"
    "OTAKIT_CC=${CMAKE_C_COMPILER}"
    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

# Programs whose power-loss sweeps run as CTest entries of their own (OTAKIT_TEST_ONLY, a cmocka
# glob; the program's entry skips them), so that -j overlaps them: NAME|GLOB...
set(OTAKIT_UNIT_SPLITS
    "test_idfnvs|test_power_loss_sweep|test_power_loss_repair_cut")
file(GLOB OTAKIT_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${OTAKIT_UNIT_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit
                               ${CMAKE_SOURCE_DIR}/src/core ${CMAKE_SOURCE_DIR}/src/host
                               ${CMAKE_SOURCE_DIR}/src/esp ${CMAKE_SOURCE_DIR}/src/server
                               ${CMAKE_SOURCE_DIR}/src/board)
    target_link_libraries(${name} PRIVATE otakit_board otakit_esp otakit_server otakit_host
                          PkgConfig::CMOCKA PkgConfig::MHD)
    add_test(NAME unit_${name} COMMAND ${name})
    # 77: a program of vector tests without the shared vectors reports itself skipped
    set_tests_properties(unit_${name} PROPERTIES ENVIRONMENT "${OTAKIT_TEST_ENV}" TIMEOUT 300
                         SKIP_RETURN_CODE 77)
    foreach(split ${OTAKIT_UNIT_SPLITS})
        string(REPLACE "|" ";" globs "${split}")
        list(POP_FRONT globs program)
        if(program STREQUAL name)
            set_property(TEST unit_${name} APPEND PROPERTY ENVIRONMENT
                         "OTAKIT_TEST_SKIP=test_power_loss_*")
            foreach(glob ${globs})
                string(REGEX REPLACE "^test_power_loss_|[*]" "" part "${glob}")
                add_test(NAME unit_${name}_${part} COMMAND ${name})
                set_tests_properties(unit_${name}_${part} PROPERTIES ENVIRONMENT
                                     "${OTAKIT_TEST_ENV};OTAKIT_TEST_ONLY=${glob}" TIMEOUT 600)
            endforeach()
        endif()
    endforeach()
endforeach()

file(GLOB OTAKIT_E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/e2e/*.sh)
foreach(script ${OTAKIT_E2E_TESTS})
    get_filename_component(name ${script} NAME_WE)
    # a long script names its parts ("# ctest-parts: A B", tests/e2e/parts.bash): one entry each
    file(STRINGS ${script} parts_line REGEX "^# ctest-parts: " LIMIT_COUNT 1)
    string(REPLACE "# ctest-parts: " "" parts "${parts_line}")
    separate_arguments(parts)
    if(NOT parts)
        add_test(NAME e2e_${name} COMMAND bash ${script})
        set_tests_properties(e2e_${name} PROPERTIES ENVIRONMENT "${OTAKIT_TEST_ENV}" TIMEOUT 600
                             SKIP_RETURN_CODE 77)
    endif()
    foreach(part ${parts})
        add_test(NAME e2e_${name}_${part} COMMAND bash ${script})
        set_tests_properties(e2e_${name}_${part} PROPERTIES ENVIRONMENT
                             "${OTAKIT_TEST_ENV};OTAKIT_PART=${part}" TIMEOUT 600
                             SKIP_RETURN_CODE 77)
    endforeach()
endforeach()

# Power-loss sweeps: tests/powerloss/sweep_*.c, each a program over the sweep harness. CTest runs
# them bounded (every operation, before/after/torn with one seed; sweep_partitions one entry per
# scenario so that -j overlaps them), plus a fixed set of multi-cut sequences (up to 5 cuts, the
# later ones in the recovery from the one before) and the flash-fault cases; `make sweep` runs
# them in full.
file(GLOB OTAKIT_SWEEPS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/powerloss/sweep_*.c)
set(OTAKIT_SWEEP_TARGETS)
set(OTAKIT_PARTITION_SCENARIOS bootloader bootloader_recovery bootloader_recovery_idf ptable_idf
    ptable_safe storage)
foreach(src ${OTAKIT_SWEEPS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/powerloss/sweep.c
                   ${CMAKE_SOURCE_DIR}/tests/powerloss/stress.c)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/powerloss
                               ${CMAKE_SOURCE_DIR}/src/esp ${CMAKE_SOURCE_DIR}/src/core)
    target_link_libraries(${name} PRIVATE otakit_esp otakit_host)
    set(entries "${name}=")
    if(name STREQUAL "sweep_partitions")
        set(entries)
        foreach(sc ${OTAKIT_PARTITION_SCENARIOS})
            list(APPEND entries "${name}_${sc}=--scenario|${sc}")
        endforeach()
    endif()
    list(APPEND entries "${name}_multi=--multi|60" "${name}_faults=--faults")
    foreach(entry ${entries})
        string(REGEX REPLACE "[=|]" ";" parts "${entry}")
        list(POP_FRONT parts test)
        add_test(NAME powerloss_${test} COMMAND ${name} ${parts})
        set_tests_properties(powerloss_${test} PROPERTIES ENVIRONMENT "${OTAKIT_TEST_ENV}"
                             TIMEOUT 900)
    endforeach()
    list(APPEND OTAKIT_SWEEP_TARGETS ${name})
endforeach()
if(TARGET sweep_app)
    # The checks have teeth: with the otadata write order flipped (test-only switch) the sweeps
    # must find boards that boot neither the old nor the new app.
    add_test(NAME powerloss_sweep_app_flipped_order COMMAND sweep_app --flip --expect-failure)
    add_test(NAME powerloss_sweep_app_multi_flipped_order
             COMMAND sweep_app --flip --multi 200 --expect-failure)
    set_tests_properties(powerloss_sweep_app_flipped_order powerloss_sweep_app_multi_flipped_order
                         PROPERTIES TIMEOUT 900)
endif()
if(TARGET sweep_serial)
    # the writes go through the board's serial protocol (src/board/rom_serial.c)
    target_link_libraries(sweep_serial PRIVATE otakit_board)
endif()
add_custom_target(sweep-full DEPENDS ${OTAKIT_SWEEP_TARGETS})
foreach(name ${OTAKIT_SWEEP_TARGETS})
    add_custom_command(TARGET sweep-full POST_BUILD COMMAND ${name} --full
                       COMMAND ${name} --multi 2000 COMMAND ${name} --faults --full
                       WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endforeach()

# The pytest-embedded service and ESP-IDF's own pytest files on the board. `pyenv` makes the
# Python environment (tools/pyenv.sh; nothing without ../shared/conformance). The conformance
# entries run one at a time (a resource lock; other tests overlap them): ESP-IDF's tests bind
# fixed ports.
add_custom_target(pyenv ALL COMMAND ${CMAKE_SOURCE_DIR}/tools/pyenv.sh ${CMAKE_SOURCE_DIR}
                  ${CMAKE_BINARY_DIR}/pyenv VERBATIM)
add_test(NAME pytest_service COMMAND bash ${CMAKE_SOURCE_DIR}/tests/pytest/run_service.sh)
set_tests_properties(pytest_service PROPERTIES ENVIRONMENT "${OTAKIT_TEST_ENV}" TIMEOUT 600
                     SKIP_RETURN_CODE 77)
set(OTAKIT_CONFORMANCE_TESTS
    hello_world=examples/get-started/hello_world/pytest_hello_world.py
    native_ota=examples/system/ota/native_ota_example/pytest_native_ota.py
    simple_ota=examples/system/ota/simple_ota_example/pytest_simple_ota.py
    advanced_ota=examples/system/ota/advanced_https_ota/pytest_advanced_ota.py
    partitions_ota=examples/system/ota/partitions_ota/pytest_partitions_ota.py
    otatool=examples/system/ota/otatool/pytest_otatool.py=esp32=--otakit-serial=esptool
    "app_update=components/app_update/test_apps/test_app_update/pytest_app_update_ut.py=esp32=-k=not with_rollback and not xip_psram"
    # the same cases on a board with PSRAM (CONFIG_SPIRAM), with and without the ROM's esp_flash
    app_update_psram=components/app_update/test_apps/test_app_update/pytest_app_update_ut.py=esp32=-k=xip_psram
    app_update_rollback=components/app_update/test_apps/test_app_update/pytest_app_update_ut.py=esp32=-k=with_rollback
    # The recovery bootloader needs a chip whose ROM has it; the file's other tests on that chip
    # repeat what the esp32 entry runs.
    app_update_esp32c5=components/app_update/test_apps/test_app_update/pytest_app_update_ut.py=esp32c5=-k=test_recovery_bootloader_update)
# The fixed ports each file's servers bind (the others bind none): files sharing a port take
# turns, the rest overlap.
set(OTAKIT_CONFORMANCE_PORTS native_ota=8070,8002 advanced_ota=8070,8001,8081 simple_ota=8000
    partitions_ota=8000)
# name=file[=target[=pytest arguments...]]
foreach(entry ${OTAKIT_CONFORMANCE_TESTS})
    string(REPLACE "=" ";" parts "${entry}")
    list(GET parts 0 name)
    list(SUBLIST parts 1 -1 args)
    add_test(NAME conformance_${name}
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/conformance/run.sh ${args})
    # COST: they run at a chip's pace, mostly waiting, so they start first and overlap the rest
    set_tests_properties(conformance_${name} PROPERTIES ENVIRONMENT "${OTAKIT_TEST_ENV}"
                         TIMEOUT 1200 SKIP_RETURN_CODE 77 COST 1000)
    set(locks)
    foreach(ports ${OTAKIT_CONFORMANCE_PORTS})
        if(ports MATCHES "^${name}=(.*)$")
            string(REGEX REPLACE "([0-9]+)" "port_\\1" locks "${CMAKE_MATCH_1}")
            string(REPLACE "," ";" locks "${locks}")
        endif()
    endforeach()
    if(locks)
        set_tests_properties(conformance_${name} PROPERTIES RESOURCE_LOCK "${locks}")
    endif()
endforeach()
