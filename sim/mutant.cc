#include "sim/mutant.h"

#include <cstdlib>

#include "util/assert.h"

namespace tearproof::sim {

namespace {
constexpr Mutant kAllMutants[] = {Mutant::kNone,         Mutant::kClflushUnordered,
                                  Mutant::kPx86NoPrefix, Mutant::kNtDurable,
                                  Mutant::kWideStoreAtomic, Mutant::kSfenceAllLanes};
}  // namespace

const char* MutantName(Mutant mutant) {
  switch (mutant) {
    case Mutant::kNone: return "none";
    case Mutant::kClflushUnordered: return "clflush-unordered";
    case Mutant::kPx86NoPrefix: return "px86-no-prefix";
    case Mutant::kNtDurable: return "nt-durable";
    case Mutant::kWideStoreAtomic: return "wide-store-atomic";
    case Mutant::kSfenceAllLanes: return "sfence-all-lanes";
  }
  return "unknown";
}

std::optional<Mutant> ParseMutant(std::string_view name) {
  for (Mutant m : kAllMutants) {
    if (name == MutantName(m)) return m;
  }
  return std::nullopt;
}

Mutant ActiveMutant() {
  static const Mutant mutant = [] {
    const char* env = std::getenv("TEARPROOF_SIM_MUTANT");
    if (env == nullptr || *env == '\0') return Mutant::kNone;
    const std::optional<Mutant> parsed = ParseMutant(env);
    TP_ASSERT(parsed.has_value(), "INV-SIM-MUTANT-NAME");
    return *parsed;
  }();
  return mutant;
}

}  // namespace tearproof::sim
