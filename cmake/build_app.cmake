# One app of the tree, built as a user builds an ESP-IDF project:
#   cmake -DSRC=PROJECT -DSTAGE=DIR -DCERT=PEM -DOTAKIT=BIN -DNAME=NAME -DIMAGE=OUT.bin
#         -DPROGRAM=OUT -P build_app.cmake
# copies the project to STAGE/project (file times kept, so an unchanged source is not compiled
# again; no build directory or sdkconfig of a build inside the project), puts CERT there as
# server_certs/ca_cert.pem when the project has that folder, runs `otakit build` into
# STAGE/build, and copies NAME.bin to IMAGE and the program NAME.elf to PROGRAM.
foreach(v SRC STAGE CERT OTAKIT NAME IMAGE PROGRAM)
    if(NOT DEFINED ${v})
        message(FATAL_ERROR "build_app.cmake: -D${v}=... is missing")
    endif()
endforeach()
set(project "${STAGE}/project")
file(REMOVE_RECURSE "${project}")
file(COPY "${SRC}/" DESTINATION "${project}"
     REGEX "^${SRC}/build$" EXCLUDE
     REGEX "^${SRC}/sdkconfig(\\.old)?$" EXCLUDE)
if(IS_DIRECTORY "${project}/server_certs")
    file(COPY_FILE "${CERT}" "${project}/server_certs/ca_cert.pem")
endif()
execute_process(COMMAND "${OTAKIT}" build "${project}" -B "${STAGE}/build" -j 2
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "otakit build ${SRC} failed:\n${out}")
endif()
file(COPY_FILE "${STAGE}/build/${NAME}.bin" "${IMAGE}")
file(COPY_FILE "${STAGE}/build/${NAME}.elf" "${PROGRAM}")
