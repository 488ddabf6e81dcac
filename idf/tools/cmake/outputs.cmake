# The app program and ESP-IDF's build directory layout: <project>.elf (the host program the board
# runs), <project>.bin, bootloader/bootloader.bin, partition_table/partition-table.bin,
# ota_data_initial.bin, flasher_args.json, flash_args and project_description.json.
include_guard(GLOBAL)

# The components linked into the app: COMPONENTS when the project sets it, else every component
# of the project (those otakit provides come in through otakit::app).
function(__otakit_linked_components out)
    set(linked)
    if(COMPONENTS)
        set(linked ${COMPONENTS})
    else()
        get_property(all GLOBAL PROPERTY __OTAKIT_PROJECT_COMPONENTS)
        set(linked ${all})
    endif()
    set(${out} "${linked}" PARENT_SCOPE)
endfunction()

function(__otakit_app_executable name)
    set(src "${CMAKE_BINARY_DIR}/project_elf_src_${IDF_TARGET}.c")
    if(NOT EXISTS "${src}")
        file(WRITE "${src}" "")
    endif()
    add_executable(${name}.elf "${src}")
    set_target_properties(${name}.elf PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
                          SUFFIX "")
    __otakit_linked_components(linked)
    foreach(c ${linked})
        if(NOT TARGET __idf_${c})
            message(FATAL_ERROR "COMPONENTS names '${c}', which is not a component of the build")
        endif()
        get_property(whole GLOBAL PROPERTY __OTAKIT_COMPONENT_${c}_WHOLE_ARCHIVE)
        if(whole)
            target_link_libraries(${name}.elf PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,__idf_${c}>")
        else()
            target_link_libraries(${name}.elf PRIVATE __idf_${c})
        endif()
    endforeach()
    # app_main is called by otakit's runtime, which the linker reaches after the components.
    target_link_libraries(${name}.elf PRIVATE otakit::app)
    target_link_options(${name}.elf PRIVATE -Wl,-u,app_main -Wl,--gc-sections -s)
endfunction()

# The partition table CSV the configuration selects: a built-in one or the project's file.
function(__otakit_partition_csv out)
    set(file "${CONFIG_PARTITION_TABLE_FILENAME}")
    if(CONFIG_PARTITION_TABLE_CUSTOM)
        get_filename_component(file "${file}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
        if(NOT EXISTS "${file}")
            message(FATAL_ERROR "Partition table CSV ${file} does not exist "
                    "(CONFIG_PARTITION_TABLE_CUSTOM_FILENAME)")
        endif()
        set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                     "${file}")
        set(${out} "${file}" PARENT_SCOPE)
        return()
    endif()
    string(REGEX REPLACE "^partitions_(.*)\\.csv$" "\\1" builtin "${file}")
    set(csv "${CMAKE_BINARY_DIR}/partition_table/${file}")
    execute_process(COMMAND ${OTAKIT_TOOL} partition-table --print-builtin ${builtin}
                    OUTPUT_FILE "${csv}" RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "partition table ${file}: ${err}")
    endif()
    set(${out} "${csv}" PARENT_SCOPE)
endfunction()

# Builds the partition table at configure time, as ESP-IDF reads partition offsets then too, and
# sets <prefix>_<name>_OFFSET / _SIZE for each partition and <prefix>_APP (the partition the
# bootloader boots by default: factory, else the first OTA slot).
function(__otakit_partition_table prefix)
    set(dir "${CMAKE_BINARY_DIR}/partition_table")
    file(MAKE_DIRECTORY "${dir}")
    __otakit_partition_csv(csv)
    # as ESP-IDF's build: a "bootloader, primary" row with offset N/A sits at the bootloader
    set(opts --offset ${CONFIG_PARTITION_TABLE_OFFSET} --flash-size ${CONFIG_ESPTOOLPY_FLASHSIZE}
             --primary-bootloader-offset ${CONFIG_BOOTLOADER_OFFSET_IN_FLASH})
    if(NOT CONFIG_PARTITION_TABLE_MD5)
        list(APPEND opts --disable-md5sum)
    endif()
    execute_process(COMMAND ${OTAKIT_TOOL} partition-table ${opts} "${csv}"
                            "${dir}/partition-table.bin"
                    COMMAND_ERROR_IS_FATAL ANY)
    execute_process(COMMAND ${OTAKIT_TOOL} partition-table ${opts} "${dir}/partition-table.bin"
                    OUTPUT_VARIABLE table COMMAND_ERROR_IS_FATAL ANY)
    string(REPLACE "\n" ";" rows "${table}")
    set(app "")
    foreach(row ${rows})
        if(row MATCHES "^#" OR row STREQUAL "")
            continue()
        endif()
        string(REPLACE " " "" row "${row}")
        string(REPLACE "," ";" f "${row}")
        list(GET f 0 pname)
        list(GET f 1 ptype)
        list(GET f 2 psub)
        list(GET f 3 poff)
        list(GET f 4 psize)
        set(${prefix}_${pname}_OFFSET ${poff} PARENT_SCOPE)
        set(${prefix}_${pname}_SIZE ${psize} PARENT_SCOPE)
        if(ptype STREQUAL "data" AND psub STREQUAL "ota")
            set(${prefix}_OTADATA ${pname} PARENT_SCOPE)
            set(otadata_size ${psize})
        endif()
        if(ptype STREQUAL "app" AND (psub STREQUAL "factory" OR app STREQUAL ""))
            if(NOT app_is_factory)
                set(app ${poff})
            endif()
            if(psub STREQUAL "factory")
                set(app_is_factory TRUE)
            endif()
        endif()
    endforeach()
    set(${prefix}_APP ${app} PARENT_SCOPE)
endfunction()

# "24K", "1M", "0x2000" or "8192" as a number of bytes.
function(__otakit_size_bytes out text)
    if(text MATCHES "^([0-9]+)[Kk]$")
        math(EXPR v "${CMAKE_MATCH_1} * 1024")
    elseif(text MATCHES "^([0-9]+)[Mm]$")
        math(EXPR v "${CMAKE_MATCH_1} * 1048576")
    else()
        math(EXPR v "${text}")
    endif()
    set(${out} ${v} PARENT_SCOPE)
endfunction()

# flasher_args.json and flash_args, as ESP-IDF writes them for esptool and pytest-embedded-idf.
# files: "offset=path" pairs, paths relative to the build directory.
function(__otakit_flasher_args name files)
    set(mode ${CONFIG_ESPTOOLPY_FLASHMODE})
    set(freq ${CONFIG_ESPTOOLPY_FLASHFREQ})
    set(size ${CONFIG_ESPTOOLPY_FLASHSIZE})
    set(flash_args "--flash_mode ${mode} --flash_freq ${freq} --flash_size ${size}\n")
    set(entries "")
    set(sep "")
    foreach(f ${files})
        __otakit_split("${f}" off path)
        string(APPEND flash_args "${off} ${path}\n")
        string(APPEND entries "${sep}        \"${off}\" : \"${path}\"")
        set(sep ",\n")
    endforeach()
    file(WRITE "${CMAKE_BINARY_DIR}/flash_args" "${flash_args}")
    string(CONCAT json "{\n    \"write_flash_args\" : [ \"--flash_mode\", \"${mode}\",\n"
             "                           \"--flash_size\", \"${size}\",\n"
             "                           \"--flash_freq\", \"${freq}\" ],\n"
             "    \"flash_settings\" : {\n        \"flash_mode\": \"${mode}\",\n"
             "        \"flash_size\": \"${size}\",\n        \"flash_freq\": \"${freq}\"\n    },\n"
             "    \"flash_files\" : {\n${entries}\n    },\n")
    # With flash encryption (development mode) ESP-IDF flashes these encrypted.
    set(encrypted "false")
    if(CONFIG_SECURE_FLASH_ENC_ENABLED AND CONFIG_SECURE_FLASH_ENCRYPTION_MODE_DEVELOPMENT)
        set(encrypted "true")
    endif()
    foreach(part ${ARGN})
        __otakit_split("${part}" key rest)
        __otakit_split("${rest}" off path)
        string(APPEND json "    \"${key}\" : { \"offset\" : \"${off}\", \"file\" : \"${path}\", "
                           "\"encrypted\" : \"${encrypted}\" },\n")
    endforeach()
    string(APPEND json "    \"extra_esptool_args\" : {\n        \"after\"  : "
                       "\"${CONFIG_ESPTOOLPY_AFTER}\",\n        \"before\" : "
                       "\"${CONFIG_ESPTOOLPY_BEFORE}\",\n        \"stub\"   : true,\n"
                       "        \"chip\"   : \"${IDF_TARGET}\"\n    }\n}\n")
    file(WRITE "${CMAKE_BINARY_DIR}/flasher_args.json" "${json}")
endfunction()

# project_description.json: what tools that read an ESP-IDF build look up.
function(__otakit_project_description name)
    get_property(comps GLOBAL PROPERTY __OTAKIT_PROJECT_COMPONENTS)
    set(list "")
    set(sep "")
    foreach(c ${comps})
        string(APPEND list "${sep}\"${c}\"")
        set(sep ", ")
    endforeach()
    set(ver "${PROJECT_VER}")
    file(WRITE "${CMAKE_BINARY_DIR}/project_description.json"
         "{\n    \"version\": \"1.2\",\n    \"project_name\": \"${name}\",\n"
         "    \"project_version\": \"${ver}\",\n    \"project_path\": \"${CMAKE_SOURCE_DIR}\",\n"
         "    \"idf_path\": \"${OTAKIT_IDF_DIR}\",\n    \"build_dir\": \"${CMAKE_BINARY_DIR}\",\n"
         "    \"config_file\": \"${SDKCONFIG}\",\n    \"config_defaults\": \"${SDKCONFIG_DEFAULTS}\",\n"
         "    \"bootloader_elf\": \"${CMAKE_BINARY_DIR}/bootloader/bootloader.elf\",\n"
         "    \"app_elf\": \"${name}.elf\",\n    \"app_bin\": \"${name}.bin\",\n"
         "    \"build_type\": \"flash_app\",\n    \"git_revision\": \"${IDF_VER}\",\n"
         "    \"target\": \"${IDF_TARGET}\",\n    \"c_compiler\": \"${CMAKE_C_COMPILER}\",\n"
         "    \"build_components\": [${list}]\n}\n")
endfunction()

# Signed apps (CONFIG_SECURE_SIGNED_APPS with CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES), as
# ESP-IDF's esptool_py does: the app packed with --secure-pad-v2 (V2 schemes) or --secure-pad
# (V1 ECDSA) into NAME-unsigned.bin, then signed with CONFIG_SECURE_BOOT_SIGNING_KEY (relative
# to the project) into NAME.bin. V1 apps carry signature_verification_key.bin, derived from the
# key (or CONFIG_SECURE_BOOT_VERIFICATION_KEY when the build does not sign).
function(__otakit_signing pack_var cmd_var deps_var app_bin name)
    set(pack)
    set(cmd)
    set(deps)
    if(CONFIG_SECURE_SIGNED_APPS)
        set(version 2)
        list(APPEND pack --secure-pad-v2)
        if(CONFIG_SECURE_SIGNED_APPS_ECDSA_SCHEME)
            set(version 1)
            set(pack --secure-pad)
        endif()
        set(vkey "${CMAKE_BINARY_DIR}/signature_verification_key.bin")
        if(CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES)
            get_filename_component(key "${CONFIG_SECURE_BOOT_SIGNING_KEY}" ABSOLUTE
                                   BASE_DIR "${CMAKE_SOURCE_DIR}")
            if(NOT EXISTS "${key}")
                message(FATAL_ERROR "Secure Boot Signing Key Not found.\n"
                        "${key} (CONFIG_SECURE_BOOT_SIGNING_KEY) does not exist.")
            endif()
            set(cmd COMMAND ${OTAKIT_TOOL} image sign --version ${version} --keyfile "${key}"
                    -o "${app_bin}" "${CMAKE_BINARY_DIR}/${name}-unsigned.bin")
            set(deps "${key}")
            if(version EQUAL 1)
                execute_process(COMMAND ${OTAKIT_TOOL} image public-key --keyfile "${key}"
                                -o "${vkey}" COMMAND_ERROR_IS_FATAL ANY)
            endif()
        elseif(version EQUAL 1)
            get_filename_component(vkey "${CONFIG_SECURE_BOOT_VERIFICATION_KEY}" ABSOLUTE
                                   BASE_DIR "${CMAKE_SOURCE_DIR}")
        endif()
        if(version EQUAL 1)
            list(APPEND pack --embed "signature_verification_key.bin=${vkey}")
            list(APPEND deps "${vkey}")
        endif()
    endif()
    set(${pack_var} ${pack} PARENT_SCOPE)
    set(${cmd_var} ${cmd} PARENT_SCOPE)
    set(${deps_var} ${deps} PARENT_SCOPE)
endfunction()

function(__otakit_outputs name)
    __otakit_partition_table(PT)
    set(app_bin "${CMAKE_BINARY_DIR}/${name}.bin")
    set(ver_args)
    if(DEFINED PROJECT_VER)
        list(APPEND ver_args --project-ver "${PROJECT_VER}")
    endif()
    if(CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE AND CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH)
        # ESP-IDF builds these certificates into the bundle; the app runtime adds them to it.
        get_filename_component(bundle "${CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH}" ABSOLUTE
                               BASE_DIR "${CMAKE_SOURCE_DIR}")
        list(APPEND ver_args --embed "x509_crt_bundle.pem=${bundle}")
    endif()
    __otakit_signing(sign_pack sign_cmd sign_deps "${app_bin}" "${name}")
    list(APPEND ver_args ${sign_pack})
    set(pack_out "${app_bin}")
    if(sign_cmd)
        set(pack_out "${CMAKE_BINARY_DIR}/${name}-unsigned.bin")
    endif()
    add_custom_command(
        OUTPUT "${app_bin}"
        COMMAND ${OTAKIT_TOOL} image pack --app -o "${pack_out}" --payload $<TARGET_FILE:${name}.elf>
                --sdkconfig "${SDKCONFIG}" --project ${name} --project-dir "${CMAKE_SOURCE_DIR}"
                --chip ${IDF_TARGET} --idf-ver ${IDF_VER} ${ver_args}
        ${sign_cmd}
        DEPENDS ${name}.elf "${SDKCONFIG}" ${bundle} ${sign_deps}
        COMMENT "Generating binary image from built executable")
    add_custom_target(app ALL DEPENDS "${app_bin}")
    file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/bootloader")
    set(bl "${CMAKE_BINARY_DIR}/bootloader/bootloader.bin")
    # With Secure Boot V2 the bootloader is signed too (its signature sector follows the image,
    # padded to 4 KiB, as espsecure sign_data writes it).
    set(bl_out "${bl}")
    set(bl_sign)
    set(bl_deps)
    if(CONFIG_SECURE_BOOT_V2_ENABLED AND CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES)
        get_filename_component(key "${CONFIG_SECURE_BOOT_SIGNING_KEY}" ABSOLUTE
                               BASE_DIR "${CMAKE_SOURCE_DIR}")
        set(bl_out "${CMAKE_BINARY_DIR}/bootloader/bootloader-unsigned.bin")
        set(bl_sign COMMAND ${OTAKIT_TOOL} image sign --version 2 --keyfile "${key}" -o "${bl}"
                    "${bl_out}")
        set(bl_deps "${key}")
    endif()
    add_custom_command(
        OUTPUT "${bl}"
        COMMAND ${OTAKIT_TOOL} image pack --bootloader -o "${bl_out}" --sdkconfig "${SDKCONFIG}"
                --chip ${IDF_TARGET} --idf-ver ${IDF_VER}
        ${bl_sign}
        DEPENDS "${SDKCONFIG}" ${bl_deps}
        COMMENT "Generating bootloader image")
    add_custom_target(bootloader ALL DEPENDS "${bl}")
    set(files "${PT_APP}=${name}.bin"
              "${CONFIG_PARTITION_TABLE_OFFSET}=partition_table/partition-table.bin")
    set(parts "app=${PT_APP}=${name}.bin"
              "partition-table=${CONFIG_PARTITION_TABLE_OFFSET}=partition_table/partition-table.bin")
    # With secure boot ESP-IDF's `idf.py flash` leaves the bootloader out (flashed once with
    # `idf.py bootloader-flash`) unless CONFIG_SECURE_BOOT_FLASH_BOOTLOADER_DEFAULT.
    if(NOT CONFIG_SECURE_BOOT OR CONFIG_SECURE_BOOT_FLASH_BOOTLOADER_DEFAULT)
        list(INSERT files 0 "${CONFIG_BOOTLOADER_OFFSET_IN_FLASH}=bootloader/bootloader.bin")
        list(INSERT parts 0 "bootloader=${CONFIG_BOOTLOADER_OFFSET_IN_FLASH}=bootloader/bootloader.bin")
    endif()
    if(PT_OTADATA)
        # ESP-IDF's initial otadata: both entries erased, so the bootloader boots the default app.
        __otakit_size_bytes(n "${PT_${PT_OTADATA}_SIZE}")
        execute_process(COMMAND ${OTAKIT_PYTHON} -c
            "import sys; open(sys.argv[1], 'wb').write(b'\\xff' * int(sys.argv[2]))"
            "${CMAKE_BINARY_DIR}/ota_data_initial.bin" ${n} COMMAND_ERROR_IS_FATAL ANY)
        list(APPEND files "${PT_${PT_OTADATA}_OFFSET}=ota_data_initial.bin")
        list(APPEND parts "otadata=${PT_${PT_OTADATA}_OFFSET}=ota_data_initial.bin")
    endif()
    __otakit_flasher_args(${name} "${files}" ${parts})
    __otakit_project_description(${name})
endfunction()
