# appwire_add_proto_library(NAME PROTOS file.proto... [IMPORT_DIRS dir...]
#                           [MESSAGES target])
#
# Compiles .proto files into a static library NAME holding the protobuf
# messages (protoc's --cpp_out) and appwire's typed stubs and server base
# classes (protoc-gen-appwire): for `service Inventory` in package
# `inventory`, include "inventory.appwire.h" and use
# inventory::Inventory::Stub (clients) or inventory::Inventory::Service
# (servers; link appwire_server too).
#
# IMPORT_DIRS default to the folder of this CMakeLists.txt; each .proto
# must lie under the first one, and its path below it is the include path
# ("examples/notes.proto" -> "examples/notes.appwire.h").
#
# MESSAGES names a library that already holds the messages of these files
# (protobuf refuses to register one .proto twice in a process): only the
# stubs are generated then, and NAME links that library.
function(appwire_add_proto_library name)
  cmake_parse_arguments(ARG "" "MESSAGES" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(NOT ARG_PROTOS)
    message(FATAL_ERROR "appwire_add_proto_library(${name}): give PROTOS")
  endif()
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
  set(sources)
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${root} ${abs})
    if(rel MATCHES "^\\.\\.")
      message(FATAL_ERROR "appwire_add_proto_library(${name}): ${proto} is not under ${root}")
    endif()
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    get_filename_component(base_dir ${out}/${base} DIRECTORY)
    file(MAKE_DIRECTORY ${base_dir})
    set(outputs ${out}/${base}.appwire.h ${out}/${base}.appwire.cc)
    set(cpp_out)
    if(NOT ARG_MESSAGES)
      list(APPEND outputs ${out}/${base}.pb.h ${out}/${base}.pb.cc)
      set(cpp_out --cpp_out=${out})
      list(APPEND sources ${out}/${base}.pb.cc)
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND protobuf::protoc
              --plugin=protoc-gen-appwire=$<TARGET_FILE:protoc-gen-appwire>
              ${cpp_out} --appwire_out=${out} ${include_args} ${abs}
      DEPENDS ${abs} protoc-gen-appwire protobuf::protoc
      COMMENT "appwire: messages and stubs for ${rel}"
      VERBATIM)
    list(APPEND sources ${out}/${base}.appwire.cc)
  endforeach()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${out})
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf appwire_client ${ARG_MESSAGES})
endfunction()
