# The `prop;slow` deep run: properties_test with every family at TEARPROOF_PROP_SCALE times its
# default case count and shrinking off, seeded like the default run (rc_seed.cmake).
# Usage: cmake -DBINARY=<properties_test> -DSOURCE_DIR=<repo> -DSCALE=<n> -P run_deep.cmake
include(${CMAKE_CURRENT_LIST_DIR}/rc_seed.cmake)
tp_rc_params(rc_params "${SOURCE_DIR}")
message(STATUS "deep run: RC_PARAMS=\"${rc_params} noshrink=1\" TEARPROOF_PROP_SCALE=${SCALE}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "RC_PARAMS=${rc_params} noshrink=1"
          "TEARPROOF_PROP_SCALE=${SCALE}" "${BINARY}" --gtest_filter=BttProp.*
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "properties_test failed (${status})")
endif()
