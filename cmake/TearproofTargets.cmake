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
# A GoogleTest binary; each TEST becomes a ctest test carrying every one of LABELS (unit, prop,
# bmc, interop, slow, ...).
function(tearproof_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE tearproof_flags ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  # Labels are set by a CTest include file that runs after the discovered tests exist:
  # gtest_discover_tests() flattens a LABELS list into its PROPERTIES list, so a second label
  # would turn into a property key.
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${labels_file}
    "foreach(t IN LISTS ${name}_TESTS)\n"
    "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${ARG_LABELS}\")\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
endfunction()
