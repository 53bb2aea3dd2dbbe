# appwire_add_proto_library(NAME PROTOS file.proto... [IMPORT_DIRS dir...]
#                           [MESSAGES target])
#
# Compiles .proto files into two static libraries (docs/stubs.md, section 2):
#
#   NAME          the protobuf messages (protoc's --cpp_out) and appwire's
#                 typed client stubs (protoc-gen-appwire); links appwire::client.
#                 For `service Inventory` in package `inventory`:
#                 #include "inventory.appwire.h", inventory::Inventory::Stub.
#   NAME_service  the server base classes; links NAME and appwire::server.
#                 #include "inventory.appwire_service.h",
#                 inventory::Inventory::Service. EXCLUDE_FROM_ALL: it is
#                 built only for a target that links it, so a client-only
#                 app never compiles server code.
#
# Both are STATIC and position-independent (they can go into a shared
# library of the app's own); whether appwire::client is a static or a shared
# library is appwire's choice (BUILD_SHARED_LIBS when appwire was built),
# not this function's.
#
# IMPORT_DIRS default to the folder of the calling CMakeLists.txt; each
# .proto must lie under the first one, and its path below it is the include
# path ("examples/notes.proto" -> "examples/notes.appwire.h"). The files are
# generated in ${CMAKE_CURRENT_BINARY_DIR}/NAME.generated/, NAME's PUBLIC
# include folder (as a BUILD_INTERFACE, so NAME may be exported).
#
# MESSAGES names a library that already holds the messages of these files
# (protobuf refuses to register one .proto twice in a process): only the
# stubs are generated then, and NAME links that library.
#
# The same file serves appwire's own tree and the installed package
# (lib/cmake/appwire/, included by appwireConfig.cmake after
# find_dependency(Protobuf)): it names only targets that exist in both,
# appwire::client, appwire::server, appwire::protoc-gen-appwire,
# protobuf::protoc and protobuf::libprotobuf. The files are generated again
# when a .proto file, protoc-gen-appwire or protoc changes, and when a file
# it imports does (protoc's dependency file: Ninja, or any generator with
# CMake 3.21).
function(appwire_add_proto_library name)
  cmake_parse_arguments(ARG "" "MESSAGES" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "appwire_add_proto_library(${name}): unknown arguments "
                        "\"${ARG_UNPARSED_ARGUMENTS}\"; it takes PROTOS, IMPORT_DIRS and MESSAGES")
  endif()
  if(NOT ARG_PROTOS)
    message(FATAL_ERROR "appwire_add_proto_library(${name}): give PROTOS")
  endif()
  foreach(needed appwire::protoc-gen-appwire protobuf::protoc appwire::client appwire::server)
    if(NOT TARGET ${needed})
      message(FATAL_ERROR "appwire_add_proto_library(${name}): there is no target ${needed}; "
                          "call it after find_package(appwire CONFIG) (or, in appwire's own "
                          "tree, after tools/ and appwire/ are added), with protoc installed")
    endif()
  endforeach()
  if(NOT ARG_IMPORT_DIRS)
    set(ARG_IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  list(GET ARG_IMPORT_DIRS 0 root)
  get_filename_component(root ${root} ABSOLUTE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}.generated)
  file(MAKE_DIRECTORY ${out})
  set(include_args)
  foreach(dir ${ARG_IMPORT_DIRS})
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND include_args -I${dir})
  endforeach()
  set(client_sources)
  set(service_sources)
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${root} ${abs})
    if(rel MATCHES "^\\.\\.")
      message(FATAL_ERROR "appwire_add_proto_library(${name}): ${proto} is not under ${root}")
    endif()
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    get_filename_component(base_dir ${out}/${base} DIRECTORY)
    file(MAKE_DIRECTORY ${base_dir})
    set(outputs ${out}/${base}.appwire.h ${out}/${base}.appwire.cc
                ${out}/${base}.appwire_service.h ${out}/${base}.appwire_service.cc)
    set(cpp_out)
    if(NOT ARG_MESSAGES)
      list(APPEND outputs ${out}/${base}.pb.h ${out}/${base}.pb.cc)
      set(cpp_out --cpp_out=${out})
      list(APPEND client_sources ${out}/${base}.pb.cc)
    endif()
    # protoc's dependency file names every .proto this one imports, so that
    # a change to an imported file regenerates this one's code too (where
    # the generator supports DEPFILE: Ninja, or any with CMake 3.21).
    set(depfile_args)
    set(dependency_out)
    if(CMAKE_GENERATOR MATCHES "Ninja" OR CMAKE_VERSION VERSION_GREATER_EQUAL 3.21)
      string(MAKE_C_IDENTIFIER ${base} depfile)
      set(dependency_out --dependency_out=${out}/${depfile}.d)
      set(depfile_args DEPFILE ${out}/${depfile}.d)
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND protobuf::protoc
              --plugin=protoc-gen-appwire=$<TARGET_FILE:appwire::protoc-gen-appwire>
              ${cpp_out} --appwire_out=${out} ${dependency_out}
              ${include_args} ${abs}
      DEPENDS ${abs} appwire::protoc-gen-appwire protobuf::protoc
      ${depfile_args}
      COMMENT "appwire: messages and stubs for ${rel}"
      VERBATIM)
    list(APPEND client_sources ${out}/${base}.appwire.cc)
    list(APPEND service_sources ${out}/${base}.appwire_service.cc)
  endforeach()

  add_library(${name} STATIC ${client_sources})
  target_include_directories(${name} PUBLIC $<BUILD_INTERFACE:${out}>)
  target_link_libraries(${name} PUBLIC appwire::client protobuf::libprotobuf ${ARG_MESSAGES})
  target_compile_features(${name} PUBLIC cxx_std_17)
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)

  add_library(${name}_service STATIC EXCLUDE_FROM_ALL ${service_sources})
  target_link_libraries(${name}_service PUBLIC ${name} appwire::server)
  set_target_properties(${name}_service PROPERTIES POSITION_INDEPENDENT_CODE ON)

  # Where the generated files are, for whoever wants to read or install them
  # (tests/generated_includes_test.cc reads the client headers).
  set_target_properties(${name} ${name}_service PROPERTIES APPWIRE_GENERATED_DIR ${out})
endfunction()
