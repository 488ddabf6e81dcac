# otakit's app libraries as a CMake package (otakit::app, what `otakit build` links an ESP-IDF
# project's app program with) and a pkg-config file, usable from the build tree and after
# `make install`; the install also carries the otakit command, the headers and the ESP-IDF build
# files (share/otakit/idf).
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

add_library(otakit_app INTERFACE)
target_link_libraries(otakit_app INTERFACE otakit_runtime)
set_target_properties(otakit_app PROPERTIES EXPORT_NAME app)
set_target_properties(otakit_runtime PROPERTIES EXPORT_NAME runtime)
foreach(lib core host esp)
    set_target_properties(otakit_${lib}_app PROPERTIES EXPORT_NAME ${lib})
endforeach()
set(OTAKIT_APP_TARGETS otakit_app otakit_runtime otakit_esp_app otakit_host_app otakit_core_app)

set(OTAKIT_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/otakit)
export(TARGETS ${OTAKIT_APP_TARGETS} NAMESPACE otakit:: FILE ${CMAKE_BINARY_DIR}/otakitTargets.cmake)
set(OTAKIT_CONFIG_TOOL "${CMAKE_BINARY_DIR}/otakit")
configure_file(${CMAKE_SOURCE_DIR}/cmake/otakitConfig.cmake.in
               ${CMAKE_BINARY_DIR}/otakitConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/otakitConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
# The installed config finds the command relative to itself (lib/cmake/otakit -> bin).
set(OTAKIT_CONFIG_TOOL "\${CMAKE_CURRENT_LIST_DIR}/../../../${CMAKE_INSTALL_BINDIR}/otakit")
configure_file(${CMAKE_SOURCE_DIR}/cmake/otakitConfig.cmake.in
               ${CMAKE_BINARY_DIR}/install/otakitConfig.cmake @ONLY)
configure_file(${CMAKE_SOURCE_DIR}/cmake/otakit.pc.in ${CMAKE_BINARY_DIR}/otakit.pc @ONLY)

install(TARGETS otakit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${OTAKIT_APP_TARGETS} EXPORT otakitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT otakitTargets NAMESPACE otakit:: DESTINATION ${OTAKIT_CMAKE_INSTALL_DIR})
install(FILES ${CMAKE_BINARY_DIR}/install/otakitConfig.cmake
        ${CMAKE_BINARY_DIR}/otakitConfigVersion.cmake DESTINATION ${OTAKIT_CMAKE_INSTALL_DIR})
install(FILES ${CMAKE_BINARY_DIR}/otakit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/otakit)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/idf/ DESTINATION ${CMAKE_INSTALL_DATADIR}/otakit/idf
        USE_SOURCE_PERMISSIONS)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/otakit)
