# Chooses the wolfSSL appwire links against: one variable, APPWIRE_WOLFSSL.
#   cache  (default) scripts/build-wolfssl.sh builds Debian's wolfSSL source
#          with assembly into ~/.cache/appwire and we link that (fast crypto).
#   system Debian's binary libwolfssl-dev (no assembly: slow crypto).
#   <path> an install prefix made by scripts/build-wolfssl.sh.
set(APPWIRE_WOLFSSL "cache" CACHE STRING "wolfSSL to use: cache, system, or an install prefix")

add_library(appwire_wolfssl INTERFACE)

if(APPWIRE_WOLFSSL STREQUAL "system")
  find_path(WOLFSSL_INCLUDE_DIR wolfssl/options.h REQUIRED)
  set(APPWIRE_WOLFSSL_ARCHIVE "")
  find_library(WOLFSSL_LIBRARY wolfssl REQUIRED)
  message(WARNING
    "appwire: building with Debian's binary wolfSSL (${WOLFSSL_LIBRARY}). "
    "It has no assembly: AES-GCM runs at about 80 MB/s instead of several "
    "GB/s, and handshakes are several times slower. Use the default "
    "-DAPPWIRE_WOLFSSL=cache for anything but compatibility checks.")
  target_include_directories(appwire_wolfssl INTERFACE ${WOLFSSL_INCLUDE_DIR})
  target_link_libraries(appwire_wolfssl INTERFACE ${WOLFSSL_LIBRARY})
  # Headers and library both come from the package; a version check at run
  # time (internal/wolfssl.h) catches a partial upgrade.
  target_compile_definitions(appwire_wolfssl INTERFACE APPWIRE_WOLFSSL_SYSTEM)
else()
  if(APPWIRE_WOLFSSL STREQUAL "cache")
    execute_process(
      COMMAND ${PROJECT_SOURCE_DIR}/scripts/build-wolfssl.sh
      OUTPUT_VARIABLE _wolfssl_prefix
      OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE _wolfssl_result)
    if(NOT _wolfssl_result EQUAL 0)
      message(FATAL_ERROR "scripts/build-wolfssl.sh failed; see its output above")
    endif()
  else()
    set(_wolfssl_prefix ${APPWIRE_WOLFSSL})
  endif()
  set(_wolfssl_lib ${_wolfssl_prefix}/lib/libwolfssl.a)
  set(_wolfssl_stamp ${_wolfssl_prefix}/include/appwire_wolfssl_build.h)
  if(NOT EXISTS ${_wolfssl_lib} OR NOT EXISTS ${_wolfssl_stamp}
     OR NOT EXISTS ${_wolfssl_prefix}/include/wolfssl/options.h)
    message(FATAL_ERROR
      "appwire: ${_wolfssl_prefix} is not a wolfSSL build made by "
      "scripts/build-wolfssl.sh (needs lib/libwolfssl.a, include/wolfssl/options.h "
      "and include/appwire_wolfssl_build.h). Run the script, or pass "
      "-DAPPWIRE_WOLFSSL=system.")
  endif()
  message(STATUS "appwire: wolfSSL from ${_wolfssl_prefix}")
  set(APPWIRE_WOLFSSL_PREFIX ${_wolfssl_prefix})
  set(APPWIRE_WOLFSSL_ARCHIVE ${_wolfssl_lib})
  # Only appwire's own code includes wolfSSL. A static appwire installed
  # elsewhere carries this archive with it, in lib/appwire/ (cmake/install.cmake),
  # where a program linking the static libraries finds it; the shared
  # libraries hold the parts they use and need nothing of it.
  target_include_directories(appwire_wolfssl INTERFACE $<BUILD_INTERFACE:${_wolfssl_prefix}/include>)
  target_link_libraries(appwire_wolfssl INTERFACE
    $<BUILD_INTERFACE:${_wolfssl_lib}>
    $<INSTALL_INTERFACE:$<INSTALL_PREFIX>/${CMAKE_INSTALL_LIBDIR}/appwire/libwolfssl.a>
    m Threads::Threads ${CMAKE_DL_LIBS})
  # The headers reference a symbol only this build's library defines.
  target_compile_definitions(appwire_wolfssl INTERFACE APPWIRE_WOLFSSL_BUILD_CHECK)
endif()
