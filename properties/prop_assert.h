// RapidCheck assertions over the support library's results: turn a Violation or a failed
// Result into a failed test case, with context. Call these only from a property body, after a
// simulation step has returned — never from inside a BTT call or a fence hook, where an
// exception would unwind through the core.
#pragma once

#include <rapidcheck.h>

#include <optional>
#include <string>
#include <utility>

#include "properties/sim_device.h"
#include "util/status.h"

namespace tearproof::properties {

inline void FailIf(const std::optional<Violation>& violation, const std::string& context) {
  if (violation) RC_FAIL(violation->ToString() + " [" + context + "]");
}

template <typename T>
T ValueOrFail(Result<T> result, const std::string& what) {
  if (!result.ok()) RC_FAIL(what + ": " + result.status().ToString());
  return std::move(result).value();
}

// A refusal must be a clear error: a Status that names the broken invariant (INV-*), never
// kInternal (a bug) and never OK.
inline void ExpectClearError(const Status& status, const std::string& context) {
  if (!IsClearError(status)) {
    RC_FAIL("PROP-CLEAR-ERROR: " + context + ": " + status.ToString());
  }
}

inline void OkOrFail(const Status& status, const std::string& what) {
  if (!status.ok()) RC_FAIL(what + ": " + status.ToString());
}

}  // namespace tearproof::properties
