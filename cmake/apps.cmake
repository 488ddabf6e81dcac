# Apps: each example (and each test app) is a host program linked with the app runtime and the
# ESP-IDF layer, then packed with its sdkconfig into an ESP-IDF app image under images/. The
# simulated board runs that program from the image's bytes in flash.
file(GLOB OTAKIT_RUNTIME_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/runtime/*.c)
add_library(otakit_runtime STATIC ${OTAKIT_RUNTIME_SRC})
target_include_directories(otakit_runtime PRIVATE ${CMAKE_SOURCE_DIR}/src/esp
                           ${CMAKE_SOURCE_DIR}/src/core)
target_compile_options(otakit_runtime PRIVATE ${OTAKIT_APP_COMPILE_OPTIONS})
target_link_libraries(otakit_runtime PUBLIC otakit_esp_app otakit_host_app)

set(OTAKIT_IMAGES_DIR ${CMAKE_BINARY_DIR}/images)
set(OTAKIT_APPS_DIR ${CMAKE_BINARY_DIR}/apps)
file(MAKE_DIRECTORY ${OTAKIT_IMAGES_DIR} ${OTAKIT_APPS_DIR})

# otakit_app(NAME DIR dir SOURCES src...): builds apps/NAME and images/NAME.bin from
# DIR/sdkconfig.defaults (version from DIR/version.txt, as ESP-IDF reads it).
function(otakit_app name)
    cmake_parse_arguments(A "" "DIR" "SOURCES" ${ARGN})
    add_executable(${name} ${A_SOURCES})
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${OTAKIT_APPS_DIR})
    target_include_directories(${name} PRIVATE ${A_DIR}/main)
    target_compile_options(${name} PRIVATE ${OTAKIT_APP_COMPILE_OPTIONS})
    target_link_libraries(${name} PRIVATE otakit_runtime)
    # firmware: optimized, unsanitized, unused code dropped and symbols stripped
    target_link_options(${name} PRIVATE -fno-sanitize=all -Wl,--gc-sections -s)
    set(image ${OTAKIT_IMAGES_DIR}/${name}.bin)
    add_custom_command(
        OUTPUT ${image}
        COMMAND otakit image pack --app -o ${image} --payload $<TARGET_FILE:${name}>
                --sdkconfig ${A_DIR}/sdkconfig.defaults --project ${name} --project-dir ${A_DIR}
        DEPENDS ${name} otakit ${A_DIR}/sdkconfig.defaults
        COMMENT "Packing ${name}.bin")
    add_custom_target(${name}_image ALL DEPENDS ${image})
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

# Every directory with a main/ folder of C sources is an app: the examples and the test apps.
file(GLOB OTAKIT_APP_DIRS CONFIGURE_DEPENDS LIST_DIRECTORIES true
     ${CMAKE_SOURCE_DIR}/examples/* ${CMAKE_SOURCE_DIR}/tests/apps/*)
foreach(dir ${OTAKIT_APP_DIRS})
    get_filename_component(name ${dir} NAME)
    file(GLOB srcs CONFIGURE_DEPENDS ${dir}/main/*.c)
    if(srcs)
        otakit_app(${name} DIR ${dir} SOURCES ${srcs})
    endif()
endforeach()
