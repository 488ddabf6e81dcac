# ESP-IDF's component functions for host builds: idf_component_register and its companions.
#
# Each component is a static library __idf_<name> (an INTERFACE library when it has no sources),
# as in ESP-IDF; REQUIRES are public links, PRIV_REQUIRES private ones. Components that otakit
# provides (the ESP-IDF layer: esp_https_ota, nvs_flash, freertos, ...) are INTERFACE targets over
# otakit's app libraries. Every component sees the generated sdkconfig.h.
include_guard(GLOBAL)

# Every ESP-IDF v5.5 component an app may name in REQUIRES that otakit's ESP-IDF layer stands for.
set(OTAKIT_PROVIDED_COMPONENTS
    app_trace app_update bootloader bootloader_support bt cmock console cxx driver efuse
    esp_adc esp_app_format esp_bootloader_format esp_coex esp_common esp_driver_gpio
    esp_driver_gptimer esp_driver_i2c esp_driver_ledc esp_driver_pcnt esp_driver_rmt
    esp_driver_spi esp_driver_uart esp_driver_usb_serial_jtag esp_eth esp_event esp_gdbstub
    esp_hid esp_http_client esp_http_server esp_https_ota esp_https_server esp_hw_support esp_lcd
    esp_local_ctrl esp_mm esp_netif esp_netif_stack esp_partition esp_phy esp_pm esp_psram
    esp_ringbuf esp_rom esp_security esp_system esp_tee esp_timer esp_vfs_console esp_wifi
    espcoredump esptool_py fatfs freertos hal heap http_parser idf_test ieee802154 json log lwip
    mbedtls mqtt newlib nvs_flash nvs_sec_provider openthread partition_table perfmon
    protobuf-c protocomm pthread riscv rt sdmmc soc spi_flash spiffs tcp_transport ulp usb vfs
    wear_levelling wifi_provisioning xtensa
    protocol_examples_common espressif__cjson cjson)

# ESP-IDF components whose portable sources otakit compiles from the user's ESP-IDF checkout.
set(OTAKIT_FROM_CHECKOUT_COMPONENTS unity)

# Compile settings ESP-IDF gives every component, adapted to a host compiler: warnings on (not as
# errors: ESP-IDF code assumes 32-bit types in places), GNU C17, ESP-IDF's platform macros.
set(OTAKIT_COMPONENT_C_OPTIONS -Wall -Wno-unused-parameter -Wno-sign-compare -Wno-format
    -Wno-unused-variable -Wno-unused-function -Wno-int-to-pointer-cast -Wno-pointer-to-int-cast
    -fno-strict-aliasing -ffunction-sections -fdata-sections -Og -g)
set(OTAKIT_COMPONENT_DEFINITIONS ESP_PLATFORM IDF_VER="${IDF_VER}" _GNU_SOURCE)

# The INTERFACE target a provided component stands for.
function(__otakit_provided_component name)
    add_library(__idf_${name} INTERFACE)
    target_link_libraries(__idf_${name} INTERFACE otakit::app)
endfunction()

# Source files of SRC_DIRS (C, C++ and assembly, as ESP-IDF globs them) minus EXCLUDE_SRCS.
function(__otakit_component_sources out dir srcs src_dirs exclude)
    set(result)
    foreach(s ${srcs})
        get_filename_component(s "${s}" ABSOLUTE BASE_DIR "${dir}")
        list(APPEND result "${s}")
    endforeach()
    foreach(d ${src_dirs})
        get_filename_component(d "${d}" ABSOLUTE BASE_DIR "${dir}")
        if(NOT IS_DIRECTORY "${d}")
            message(FATAL_ERROR "SRC_DIRS entry ${d} does not exist")
        endif()
        file(GLOB found "${d}/*.c" "${d}/*.cpp" "${d}/*.S")
        list(APPEND result ${found})
    endforeach()
    foreach(e ${exclude})
        get_filename_component(e "${e}" ABSOLUTE BASE_DIR "${dir}")
        list(REMOVE_ITEM result "${e}")
    endforeach()
    set(${out} "${result}" PARENT_SCOPE)
endfunction()

# ESP-IDF's target_add_binary_data(TARGET FILE BINARY|TEXT [RENAME_TO NAME]): links FILE's bytes
# into TARGET between _binary_<name>_start and _binary_<name>_end (TEXT adds a NUL), with the
# length in <name>_length, <name> being the file name made a C identifier.
function(target_add_binary_data target file kind)
    cmake_parse_arguments(A "" "RENAME_TO" "DEPENDS" ${ARGN})
    get_filename_component(file "${file}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(fname "${file}" NAME)
    if(A_RENAME_TO)
        set(fname "${A_RENAME_TO}")
    endif()
    string(MAKE_C_IDENTIFIER "${fname}" var)
    set(asm "${CMAKE_CURRENT_BINARY_DIR}/${var}.S")
    set(nul "")
    if(kind STREQUAL "TEXT")
        set(nul "    .byte 0\n")
    endif()
    file(WRITE "${asm}.in"
         "/* ${fname}, embedded by the build (${kind}) */\n"
         "    .section .rodata.embedded.${var}, \"a\"\n"
         "    .balign 4\n"
         "    .global _binary_${var}_start\n"
         "    .global _binary_${var}_end\n"
         "    .global ${var}_length\n"
         "_binary_${var}_start:\n"
         "    .incbin \"${file}\"\n"
         "${nul}"
         "_binary_${var}_end:\n"
         "    .balign 4\n"
         "${var}_length:\n"
         "    .long _binary_${var}_end - _binary_${var}_start\n"
         "    .section .note.GNU-stack, \"\", @progbits\n")
    configure_file("${asm}.in" "${asm}" COPYONLY)
    set_source_files_properties("${asm}" PROPERTIES OBJECT_DEPENDS "${file}")
    target_sources(${target} PRIVATE "${asm}")
endfunction()

function(__otakit_link_requirements lib visibility reqs)
    foreach(r ${reqs})
        if(NOT r STREQUAL COMPONENT_NAME)
            set_property(GLOBAL APPEND PROPERTY __OTAKIT_REQUIRED_BY_${r} ${COMPONENT_NAME})
            set_property(GLOBAL APPEND PROPERTY __OTAKIT_ALL_REQUIRES ${r})
            target_link_libraries(${lib} ${visibility} __idf_${r})
        endif()
    endforeach()
endfunction()

# idf_component_register(SRCS ... SRC_DIRS ... EXCLUDE_SRCS ... INCLUDE_DIRS ... PRIV_INCLUDE_DIRS
#     ... REQUIRES ... PRIV_REQUIRES ... EMBED_FILES ... EMBED_TXTFILES ... [WHOLE_ARCHIVE]
#     LDFRAGMENTS ... KCONFIG ... KCONFIG_PROJBUILD ... REQUIRED_IDF_TARGETS ...)
function(idf_component_register)
    cmake_parse_arguments(C "WHOLE_ARCHIVE" "KCONFIG;KCONFIG_PROJBUILD"
        "SRCS;SRC_DIRS;EXCLUDE_SRCS;INCLUDE_DIRS;PRIV_INCLUDE_DIRS;REQUIRES;PRIV_REQUIRES;EMBED_FILES;EMBED_TXTFILES;LDFRAGMENTS;REQUIRED_IDF_TARGETS"
        ${ARGN})
    set(dir "${COMPONENT_DIR}")
    if(C_REQUIRED_IDF_TARGETS AND NOT IDF_TARGET IN_LIST C_REQUIRED_IDF_TARGETS)
        message(FATAL_ERROR
            "Component ${COMPONENT_NAME} only supports targets: ${C_REQUIRED_IDF_TARGETS}")
    endif()
    __otakit_component_sources(srcs "${dir}" "${C_SRCS}" "${C_SRC_DIRS}" "${C_EXCLUDE_SRCS}")
    set(lib ${COMPONENT_LIB})
    if(srcs OR C_EMBED_FILES OR C_EMBED_TXTFILES)
        add_library(${lib} STATIC ${srcs})
        set(vis PUBLIC)
        target_compile_options(${lib} PRIVATE ${OTAKIT_COMPONENT_C_OPTIONS}
                               $<$<COMPILE_LANGUAGE:C>:-std=gnu17>)
        target_compile_definitions(${lib} PRIVATE ${OTAKIT_COMPONENT_DEFINITIONS})
        idf_build_get_property(opts COMPILE_OPTIONS)
        idf_build_get_property(copts C_COMPILE_OPTIONS)
        idf_build_get_property(defs COMPILE_DEFINITIONS)
        target_compile_options(${lib} PRIVATE ${opts} $<$<COMPILE_LANGUAGE:C>:${copts}>)
        target_compile_definitions(${lib} PRIVATE ${defs})
        set_target_properties(${lib} PROPERTIES OUTPUT_NAME ${COMPONENT_NAME}
                              LINK_INTERFACE_MULTIPLICITY 3)
    else()
        add_library(${lib} INTERFACE)
        set(vis INTERFACE)
    endif()
    foreach(i ${C_INCLUDE_DIRS})
        get_filename_component(i "${i}" ABSOLUTE BASE_DIR "${dir}")
        target_include_directories(${lib} ${vis} "${i}")
    endforeach()
    if(srcs)
        foreach(i ${C_PRIV_INCLUDE_DIRS})
            get_filename_component(i "${i}" ABSOLUTE BASE_DIR "${dir}")
            target_include_directories(${lib} PRIVATE "${i}")
        endforeach()
    endif()
    # Every component sees the configuration and otakit's ESP-IDF layer (ESP-IDF's "common
    # requirements": freertos, esp_system, log, newlib...).
    target_link_libraries(${lib} ${vis} otakit::app __otakit_config)
    __otakit_link_requirements(${lib} ${vis} "${C_REQUIRES}")
    if(srcs)
        __otakit_link_requirements(${lib} PRIVATE "${C_PRIV_REQUIRES}")
    else()
        __otakit_link_requirements(${lib} INTERFACE "${C_PRIV_REQUIRES}")
    endif()
    foreach(f ${C_EMBED_FILES})
        target_add_binary_data(${lib} "${f}" BINARY)
    endforeach()
    foreach(f ${C_EMBED_TXTFILES})
        target_add_binary_data(${lib} "${f}" TEXT)
    endforeach()
    set_property(GLOBAL PROPERTY __OTAKIT_COMPONENT_${COMPONENT_NAME}_WHOLE_ARCHIVE
                 ${C_WHOLE_ARCHIVE})
    set_property(GLOBAL PROPERTY __OTAKIT_COMPONENT_${COMPONENT_NAME}_REGISTERED TRUE)
endfunction()

# idf_component_optional_requires(PRIVATE|PUBLIC|INTERFACE components...): linked when present.
function(idf_component_optional_requires visibility)
    foreach(r ${ARGN})
        if(r IN_LIST OTAKIT_PROVIDED_COMPONENTS OR TARGET __idf_${r})
            target_link_libraries(${COMPONENT_LIB} ${visibility} __idf_${r})
        endif()
    endforeach()
endfunction()

# idf_component_get_property(VAR COMPONENT PROP): COMPONENT_LIB, COMPONENT_DIR, COMPONENT_NAME.
function(idf_component_get_property var component prop)
    if(prop STREQUAL "COMPONENT_LIB")
        set(${var} __idf_${component} PARENT_SCOPE)
    else()
        get_property(value GLOBAL PROPERTY __OTAKIT_COMPONENT_${component}_${prop})
        set(${var} "${value}" PARENT_SCOPE)
    endif()
endfunction()

function(idf_component_set_property component prop)
    set_property(GLOBAL PROPERTY __OTAKIT_COMPONENT_${component}_${prop} ${ARGN})
endfunction()

# Adds each component: provided ones as INTERFACE targets, the others from their directories
# (their CMakeLists.txt runs with COMPONENT_NAME, COMPONENT_DIR and COMPONENT_LIB set).
# components: "name=dir" entries; dir is empty for a provided component.
function(__otakit_add_components components)
    add_library(__otakit_config INTERFACE)
    target_include_directories(__otakit_config INTERFACE ${CMAKE_BINARY_DIR}/config)
    foreach(entry ${components})
        __otakit_split("${entry}" name dir)
        if(dir STREQUAL "")
            __otakit_provided_component(${name})
            continue()
        endif()
        if(NOT name IN_LIST OTAKIT_FROM_CHECKOUT_COMPONENTS)
            # The project's own components; checkout ones are built when required.
            set_property(GLOBAL APPEND PROPERTY __OTAKIT_PROJECT_COMPONENTS ${name})
        endif()
        set(COMPONENT_NAME ${name})
        set(COMPONENT_DIR "${dir}")
        set(COMPONENT_PATH "${dir}")
        set(COMPONENT_LIB __idf_${name})
        set(COMPONENT_TARGET __idf_${name})
        idf_component_set_property(${name} COMPONENT_DIR "${dir}")
        add_subdirectory("${dir}" "${CMAKE_BINARY_DIR}/esp-idf/${name}" EXCLUDE_FROM_ALL)
        get_property(registered GLOBAL PROPERTY __OTAKIT_COMPONENT_${name}_REGISTERED)
        if(NOT registered)
            # A directory whose CMakeLists.txt registers nothing is a component with no library.
            add_library(__idf_${name} INTERFACE)
        endif()
    endforeach()
    if(TARGET __idf_unity)
        # ESP-IDF's cmock brings unity.
        target_link_libraries(__idf_cmock INTERFACE __idf_unity)
    endif()
    __otakit_check_requirements("${components}")
endfunction()

# Every name in a REQUIRES list must be a component of the build, as ESP-IDF checks.
function(__otakit_check_requirements components)
    get_property(all GLOBAL PROPERTY __OTAKIT_ALL_REQUIRES)
    list(REMOVE_DUPLICATES all)
    foreach(r ${all})
        if(NOT TARGET __idf_${r})
            get_property(by GLOBAL PROPERTY __OTAKIT_REQUIRED_BY_${r})
            list(GET by 0 first)
            set(hint "")
            if(NOT OTAKIT_ESP_IDF)
                set(hint " (components otakit does not provide come from an ESP-IDF checkout: "
                         "set IDF_PATH or pass --idf-path)")
            endif()
            message(FATAL_ERROR
                "Failed to resolve component '${r}' required by component '${first}'${hint}")
        endif()
    endforeach()
endfunction()
