# cmake --install BUILD [--prefix P] (or make install PREFIX=P): the
# libraries, the public headers under include/appwire/, the .proto files,
# the binaries, the CMake package (lib/cmake/appwire/), the pkg-config files
# and the docs.
#
#   find_package(appwire 0.2 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE appwire::client)
#
# appwire::client and appwire::server are the shared libraries when they
# were built and installed, else the static ones; a project sets
# APPWIRE_USE_STATIC_LIBS=ON before find_package to take the static ones.
# appwire::client_static, ::client_shared (and ::server_...) name a variant.
include(CMakePackageConfigHelpers)

# The public API, and nothing internal beside it (tests/downstream/ compiles
# each of these alone against the installed prefix, and checks the list
# against what the headers include).
set(APPWIRE_PUBLIC_HEADERS
  appwire/c/appwire.h
  appwire/client/backoff.h
  appwire/client/cancellation.h
  appwire/client/channel.h
  appwire/client/client_folder.h
  appwire/client/client_stream.h
  appwire/client/connectivity_state.h
  appwire/common/export.h
  appwire/common/log.h
  appwire/common/metadata.h
  appwire/common/method_kind.h
  appwire/common/parameters.h
  appwire/common/tls_version.h
  appwire/server/call_context.h
  appwire/server/server.h
  appwire/server/server_stream.h
  appwire/server/service_registry.h
  appwire/transport/certificate_info.h
  appwire/transport/tls_session_info.h)
foreach(header ${APPWIRE_PUBLIC_HEADERS})
  get_filename_component(folder ${header} DIRECTORY)
  install(FILES ${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${folder} COMPONENT devel)
endforeach()
install(FILES ${APPWIRE_GENERATED_INCLUDE_DIR}/appwire/common/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/appwire/common COMPONENT devel)
# The messages (<appwire/v1/builtin.pb.h>) and their .proto files beside
# them, so that include/ is also the import path for protoc.
install(FILES ${PROJECT_BINARY_DIR}/proto/appwire/v1/frame.pb.h
              ${PROJECT_BINARY_DIR}/proto/appwire/v1/builtin.pb.h
              ${PROJECT_SOURCE_DIR}/proto/appwire/v1/frame.proto
              ${PROJECT_SOURCE_DIR}/proto/appwire/v1/builtin.proto
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/appwire/v1 COMPONENT devel)

# Names in the package: appwire::proto (the messages) and the internal
# static libraries a static appwire::client needs at link time.
set_target_properties(appwire_proto PROPERTIES EXPORT_NAME proto)
set_target_properties(appwire_common PROPERTIES EXPORT_NAME internal_common)
set_target_properties(appwire_transport PROPERTIES EXPORT_NAME internal_transport)
set_target_properties(appwire_acme PROPERTIES EXPORT_NAME internal_acme)
set_target_properties(appwire_rpc PROPERTIES EXPORT_NAME internal_rpc)
set_target_properties(appwire_wolfssl PROPERTIES EXPORT_NAME internal_wolfssl)
set_target_properties(appwire_client PROPERTIES EXPORT_NAME client_static)
set_target_properties(appwire_server PROPERTIES EXPORT_NAME server_static)
set(_appwire_targets appwire_proto appwire_common appwire_transport appwire_acme appwire_rpc
  appwire_wolfssl appwire_client appwire_server)
if(APPWIRE_SHARED_LIBRARIES)
  set_target_properties(appwire_client_shared PROPERTIES EXPORT_NAME client_shared)
  set_target_properties(appwire_server_shared PROPERTIES EXPORT_NAME server_shared)
  list(APPEND _appwire_targets appwire_client_shared appwire_server_shared)
endif()
install(TARGETS ${_appwire_targets} EXPORT appwireTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT devel
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
if(APPWIRE_WOLFSSL_ARCHIVE)
  install(FILES ${APPWIRE_WOLFSSL_ARCHIVE} DESTINATION ${CMAKE_INSTALL_LIBDIR}/appwire
    COMPONENT devel)
endif()

# The binaries; protoc-gen-appwire is in the package as
# appwire::protoc-gen-appwire, which appwire_add_proto_library() runs.
install(TARGETS appwire-server appwire protoc-gen-appwire EXPORT appwireTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

set(_appwire_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/appwire)
install(EXPORT appwireTargets NAMESPACE appwire:: DESTINATION ${_appwire_cmake_dir}
  COMPONENT devel)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/appwireConfig.cmake.in
  ${PROJECT_BINARY_DIR}/appwireConfig.cmake
  INSTALL_DESTINATION ${_appwire_cmake_dir})
# 0.x: a minor version may change the API, so 0.2 accepts 0.2.* only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/appwireConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/appwireConfig.cmake
              ${PROJECT_BINARY_DIR}/appwireConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/appwire_generate.cmake
  DESTINATION ${_appwire_cmake_dir} COMPONENT devel)

# pkg-config, for builds without CMake. `pkg-config --libs appwire-client`
# links the shared library (the linker prefers it), `--static` adds what
# the static one needs.
# Relocatable: the prefix is found from the .pc file's own folder, so that
# `cmake --install --prefix P` works whatever prefix was configured.
file(RELATIVE_PATH APPWIRE_PC_PREFIX_FROM_PCFILEDIR /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" APPWIRE_PC_PREFIX_FROM_PCFILEDIR "${APPWIRE_PC_PREFIX_FROM_PCFILEDIR}")
foreach(part client server)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/appwire-${part}.pc.in
    ${PROJECT_BINARY_DIR}/appwire-${part}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/appwire-${part}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT devel)
endforeach()

install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT doc)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT doc
  FILES_MATCHING PATTERN "*.md")
