# Runs one fuzz target for ctest (tests/fuzz/CMakeLists.txt):
#   cmake -DFUZZER=... -DNAME=... -DSOURCE_DIR=tests/fuzz -DWORK_DIR=...
#         -DCOPY_CORPUS=ON|OFF -DARGS=flags... -P run_fuzzer.cmake
# With COPY_CORPUS (libFuzzer, which writes new inputs into its first corpus
# folder) the committed corpus is copied to WORK_DIR/corpus/NAME first and the
# fuzzer runs on the copy; the committed regressions folder, when there is
# one, is read only. Crashes go to WORK_DIR/artifacts/NAME/. A fuzzer that
# exits non-zero (a crash, a leak, a timeout) fails the test.
set(corpus ${SOURCE_DIR}/corpus/${NAME})
set(regressions ${SOURCE_DIR}/regressions/${NAME})
set(artifacts ${WORK_DIR}/artifacts/${NAME}/)
set(scratch ${WORK_DIR}/tmp/${NAME})
file(MAKE_DIRECTORY ${artifacts} ${scratch})
if(COPY_CORPUS)
  set(copy ${WORK_DIR}/corpus/${NAME})
  file(REMOVE_RECURSE ${copy})
  file(MAKE_DIRECTORY ${copy})
  file(GLOB seeds ${corpus}/*)
  file(COPY ${seeds} DESTINATION ${copy})
  set(corpus ${copy})
endif()
set(dirs ${corpus})
if(IS_DIRECTORY ${regressions})
  list(APPEND dirs ${regressions})
endif()
separate_arguments(ARGS)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env TMPDIR=${scratch}
          ${FUZZER} ${ARGS} -artifact_prefix=${artifacts} ${dirs}
  WORKING_DIRECTORY ${artifacts}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${NAME}_fuzzer failed (${result}); the input is in ${artifacts}")
endif()
