# tp_rc_params(<out-var> <source-dir>): the RC_PARAMS a property test runs with (docs/testing.md).
# An RC_PARAMS in the environment wins (to reproduce a run); otherwise the seed is the first 15
# hex digits of the checked-out commit (a red CI run is reproducible from its commit), or
# 20261126 outside a git checkout. Used when ctest starts (not at configure time), so the seed
# follows the commit without a re-configure.
function(tp_rc_params out source_dir)
  if(DEFINED ENV{RC_PARAMS})
    set(${out} "$ENV{RC_PARAMS}" PARENT_SCOPE)
    return()
  endif()
  execute_process(COMMAND git -C "${source_dir}" rev-parse HEAD
    OUTPUT_VARIABLE head RESULT_VARIABLE git_status OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  set(seed 20261126)
  if(git_status EQUAL 0 AND head MATCHES "^[0-9a-f]+$")
    string(SUBSTRING "${head}" 0 15 hex)
    math(EXPR seed "0x${hex}")  # 60 bits: inside CMake's signed 64-bit arithmetic
  endif()
  set(${out} "seed=${seed}" PARENT_SCOPE)
endfunction()
