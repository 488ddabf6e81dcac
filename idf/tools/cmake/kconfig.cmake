# The project's configuration, as ESP-IDF's build makes it: Kconfig (otakit's Kconfig files for the
# components it provides, the project's Kconfig and Kconfig.projbuild files) processed with
# kconfiglib over sdkconfig.defaults, the SDKCONFIG_DEFAULTS list and an existing sdkconfig.
# Outputs: SDKCONFIG (default PROJECT/sdkconfig) and build/config/sdkconfig.{h,json,cmake}.
include_guard(GLOBAL)

if(NOT SDKCONFIG)
    set(SDKCONFIG "${CMAKE_SOURCE_DIR}/sdkconfig")
endif()
get_filename_component(SDKCONFIG "${SDKCONFIG}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")

# The defaults files in the order they apply: each of SDKCONFIG_DEFAULTS (-D or environment;
# default sdkconfig.defaults when present), each followed by its .<target> variant if present.
function(__otakit_defaults_files out)
    set(list "${SDKCONFIG_DEFAULTS}")
    if(NOT list AND DEFINED ENV{SDKCONFIG_DEFAULTS})
        set(list "$ENV{SDKCONFIG_DEFAULTS}")
    endif()
    if(NOT list AND EXISTS "${CMAKE_SOURCE_DIR}/sdkconfig.defaults")
        set(list sdkconfig.defaults)
    endif()
    set(files)
    foreach(f ${list})
        get_filename_component(f "${f}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
        if(NOT EXISTS "${f}")
            message(FATAL_ERROR "SDKCONFIG_DEFAULTS: ${f} does not exist")
        endif()
        list(APPEND files "${f}")
        if(EXISTS "${f}.${IDF_TARGET}")
            list(APPEND files "${f}.${IDF_TARGET}")
        endif()
    endforeach()
    set(${out} "${files}" PARENT_SCOPE)
endfunction()

# The directory holding a component's Kconfig files: otakit's own for provided components.
function(__otakit_kconfig_dir out entry)
    __otakit_split("${entry}" name dir)
    if(dir STREQUAL "")
        set(dir "${OTAKIT_IDF_DIR}/components/${name}")
    endif()
    set(${out} "${dir}" PARENT_SCOPE)
endfunction()

function(__otakit_kconfig components)
    set(cfg "${CMAKE_BINARY_DIR}/config")
    file(MAKE_DIRECTORY "${cfg}")
    set(kconfigs "")
    set(projbuilds "")
    set(deps)
    foreach(entry ${components})
        __otakit_kconfig_dir(dir "${entry}")
        if(EXISTS "${dir}/Kconfig")
            string(APPEND kconfigs "source \"${dir}/Kconfig\"\n")
            list(APPEND deps "${dir}/Kconfig")
        endif()
        if(EXISTS "${dir}/Kconfig.projbuild")
            string(APPEND projbuilds "source \"${dir}/Kconfig.projbuild\"\n")
            list(APPEND deps "${dir}/Kconfig.projbuild")
        endif()
    endforeach()
    file(WRITE "${cfg}/kconfigs.in" "${kconfigs}")
    file(WRITE "${cfg}/kconfigs_projbuild.in" "${projbuilds}")
    __otakit_defaults_files(defaults)
    set(args)
    foreach(d ${defaults})
        list(APPEND args --defaults "${d}")
    endforeach()
    execute_process(
        COMMAND ${CMAKE_COMMAND} -E env "IDF_TARGET=${IDF_TARGET}" "IDF_VERSION=${IDF_VER}"
                "IDF_PATH=${OTAKIT_IDF_DIR}"
                "COMPONENT_KCONFIGS_SOURCE_FILE=${cfg}/kconfigs.in"
                "COMPONENT_KCONFIGS_PROJBUILD_SOURCE_FILE=${cfg}/kconfigs_projbuild.in"
                ${OTAKIT_PYTHON} ${OTAKIT_IDF_DIR}/tools/idf_tool.py kconfig
                --kconfig ${OTAKIT_IDF_DIR}/Kconfig --config "${SDKCONFIG}" --outdir "${cfg}"
                ${args}
        RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "Kconfig failed: ${err}")
    elseif(err)
        message(STATUS "${err}")
    endif()
    set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                 ${deps} ${defaults})
endfunction()
