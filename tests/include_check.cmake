# cmake -DROOT=DIR "-DDIRS=a;b" -DFORBIDDEN=x -P include_check.cmake
#
# Fails, naming each file and line, when a .h or .cc under ROOT/DIRS
# includes a header under ROOT/FORBIDDEN/: the layering rule that a folder
# must not depend on another (folders missing from the tree are skipped).
set(offences "")
foreach(dir IN LISTS DIRS)
  if(NOT IS_DIRECTORY "${ROOT}/${dir}")
    continue()
  endif()
  file(GLOB_RECURSE sources RELATIVE "${ROOT}" "${ROOT}/${dir}/*.h" "${ROOT}/${dir}/*.cc")
  foreach(source IN LISTS sources)
    file(STRINGS "${ROOT}/${source}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]${FORBIDDEN}/")
    foreach(line IN LISTS lines)
      string(APPEND offences "  ${source}: ${line}\n")
    endforeach()
  endforeach()
endforeach()
if(offences)
  message(FATAL_ERROR "${DIRS} must not include ${FORBIDDEN}/ headers:\n${offences}")
endif()
message(STATUS "no file under ${DIRS} includes ${FORBIDDEN}/")
