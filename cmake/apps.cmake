# Apps: otakit's examples (examples/*) and test apps (tests/apps/*) are ordinary ESP-IDF projects.
# Each is built with `otakit build` (a copy of the project, with the build's test certificate as
# server_certs/ca_cert.pem, under app_builds/NAME), and its app image and program are copied to
# images/NAME.bin and apps/NAME. The simulated board runs that program from the image's bytes.
file(GLOB OTAKIT_RUNTIME_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/runtime/*.c)
add_library(otakit_runtime STATIC ${OTAKIT_RUNTIME_SRC})
target_include_directories(otakit_runtime PRIVATE ${CMAKE_SOURCE_DIR}/src/esp
                           ${CMAKE_SOURCE_DIR}/src/core)
target_compile_options(otakit_runtime PRIVATE ${OTAKIT_APP_COMPILE_OPTIONS})
target_link_libraries(otakit_runtime PUBLIC otakit_esp_app otakit_host_app)

set(OTAKIT_IMAGES_DIR ${CMAKE_BINARY_DIR}/images)
set(OTAKIT_APPS_DIR ${CMAKE_BINARY_DIR}/apps)
file(MAKE_DIRECTORY ${OTAKIT_IMAGES_DIR} ${OTAKIT_APPS_DIR})

# The test certificate authority of this build: a self-signed certificate for 127.0.0.1 (CN and
# subjectAltName) and its key, made once. The examples built here trust it; a server started
# with `otakit serve DIR --cert test_ca/ca_cert.pem --key test_ca/ca_key.pem` is one they accept.
set(OTAKIT_TEST_CA ${CMAKE_BINARY_DIR}/test_ca/ca_cert.pem)
if(NOT EXISTS ${OTAKIT_TEST_CA})
    find_program(OTAKIT_OPENSSL openssl REQUIRED)
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/test_ca)
    execute_process(
        COMMAND ${OTAKIT_OPENSSL} req -x509 -newkey rsa:2048 -nodes -days 3650
                -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1
                -keyout ${CMAKE_BINARY_DIR}/test_ca/ca_key.pem -out ${OTAKIT_TEST_CA}
        OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "cannot make the test certificate: ${err}")
    endif()
endif()

# What every app build depends on: the otakit command, the app libraries and the ESP-IDF build
# files (idf/).
file(GLOB_RECURSE OTAKIT_IDF_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/idf/*)
set(OTAKIT_APP_BUILD_DEPENDS otakit otakit_runtime otakit_esp_app otakit_host_app otakit_core_app
    ${OTAKIT_IDF_FILES} ${OTAKIT_TEST_CA} ${CMAKE_SOURCE_DIR}/cmake/build_app.cmake)

# otakit_app(NAME DIR dir): images/NAME.bin and apps/NAME from the ESP-IDF project in dir.
function(otakit_app name dir)
    file(GLOB_RECURSE files CONFIGURE_DEPENDS ${dir}/*)
    list(FILTER files EXCLUDE REGEX "^${dir}/(build/|sdkconfig$|sdkconfig\\.old$)")
    set(image ${OTAKIT_IMAGES_DIR}/${name}.bin)
    set(program ${OTAKIT_APPS_DIR}/${name})
    add_custom_command(
        OUTPUT ${image} ${program}
        COMMAND ${CMAKE_COMMAND} -DSRC=${dir} -DSTAGE=${CMAKE_BINARY_DIR}/app_builds/${name}
                -DCERT=${OTAKIT_TEST_CA} -DOTAKIT=$<TARGET_FILE:otakit> -DNAME=${name}
                -DIMAGE=${image} -DPROGRAM=${program}
                -P ${CMAKE_SOURCE_DIR}/cmake/build_app.cmake
        DEPENDS ${OTAKIT_APP_BUILD_DEPENDS} ${files}
        COMMENT "otakit build ${name}")
    add_custom_target(${name}_image ALL DEPENDS ${image} ${program})
endfunction()

# The second-stage bootloader image: its sdkconfig configures the boot chain.
set(OTAKIT_BOOTLOADER_IMAGE ${OTAKIT_IMAGES_DIR}/bootloader.bin)
add_custom_command(
    OUTPUT ${OTAKIT_BOOTLOADER_IMAGE}
    COMMAND otakit image pack --bootloader -o ${OTAKIT_BOOTLOADER_IMAGE}
            --sdkconfig ${CMAKE_SOURCE_DIR}/examples/bootloader/sdkconfig.defaults
    DEPENDS otakit ${CMAKE_SOURCE_DIR}/examples/bootloader/sdkconfig.defaults
    COMMENT "Packing bootloader.bin")
add_custom_target(bootloader_image ALL DEPENDS ${OTAKIT_BOOTLOADER_IMAGE})

# Every directory with a top-level CMakeLists.txt is an app: the examples and the test apps.
file(GLOB OTAKIT_APP_DIRS CONFIGURE_DEPENDS LIST_DIRECTORIES true
     ${CMAKE_SOURCE_DIR}/examples/* ${CMAKE_SOURCE_DIR}/tests/apps/*)
foreach(dir ${OTAKIT_APP_DIRS})
    if(EXISTS ${dir}/CMakeLists.txt)
        get_filename_component(name ${dir} NAME)
        otakit_app(${name} ${dir})
    endif()
endforeach()
