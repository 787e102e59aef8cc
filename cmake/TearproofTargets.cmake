# Shared compile flags and helpers for tearproof targets.

add_library(tearproof_flags INTERFACE)
target_compile_options(tearproof_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
target_include_directories(tearproof_flags INTERFACE ${PROJECT_SOURCE_DIR})
if(TEARPROOF_WERROR)
  target_compile_options(tearproof_flags INTERFACE -Werror)
endif()
if(TEARPROOF_SANITIZE)
  # -fno-sanitize-recover makes UBSan findings fatal, so ctest sees them as failures.
  set(_tp_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_compile_options(tearproof_flags INTERFACE ${_tp_san})
  target_link_options(tearproof_flags INTERFACE ${_tp_san})
  target_compile_definitions(tearproof_flags INTERFACE TEARPROOF_SANITIZE=1)
endif()

# tearproof_library(NAME SOURCES... DEPS...)
function(tearproof_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC tearproof_flags ${ARG_DEPS})
endfunction()

# tearproof_test(NAME SOURCES... DEPS... LABELS... [TIMEOUT s])
# A GoogleTest binary; each TEST becomes a ctest test carrying LABELS (unit, prop, slow, ...).
function(tearproof_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE tearproof_flags ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
