#include "sim/self_check.h"

#include <algorithm>
#include <set>
#include <vector>

#include "sim/medium.h"
#include "sim/program.h"
#include "sim/reference_model.h"
#include "util/prng.h"

namespace tearproof::sim {

namespace {

constexpr uint64_t kRegionBytes = 192;
constexpr uint64_t kMaxStates = uint64_t{1} << 16;

int ModelSlot(PersistencyModel m) {
  switch (m) {
    case PersistencyModel::kPx86: return 0;
    case PersistencyModel::kWord8: return 1;
    case PersistencyModel::kEadr: return 2;
  }
  return 0;
}

std::string ProgramText(const std::vector<Event>& program) {
  std::string out;
  for (const Event& e : program) out += "    " + e.ToString() + "\n";
  return out;
}

}  // namespace

std::string SelfCheckSummary::ToString() const {
  std::string s = "sim self-check: " + std::to_string(programs_run) + " programs (" +
                  std::to_string(programs_skipped) + " skipped as too large), crash states " +
                  "compared px86 " + std::to_string(crash_states_compared[0]) + ", word8 " +
                  std::to_string(crash_states_compared[1]) + ", eadr " +
                  std::to_string(crash_states_compared[2]) + "; lazy runs " +
                  std::to_string(lazy_runs) + "; inclusion checks " +
                  std::to_string(inclusion_checks) + "; mismatches " + std::to_string(mismatches);
  if (!first_mismatch.empty()) s += "\nfirst mismatch: " + first_mismatch;
  return s;
}

SelfCheckSummary RunSelfCheck(const SelfCheckOptions& options) {
  SelfCheckSummary summary;
  Prng root(options.seed);
  ProgramOptions program_options;
  program_options.max_stores = options.max_stores;
  program_options.lanes = std::max<uint32_t>(options.lanes, 1);
  program_options.region_bytes = kRegionBytes;

  auto mismatch = [&](uint32_t index, const std::vector<Event>& program, const std::string& what) {
    if (summary.mismatches++ == 0) {
      summary.first_mismatch = "seed " + std::to_string(options.seed) + " program " +
                               std::to_string(index) + ": " + what + "\n" + ProgramText(program);
    }
  };

  for (uint32_t index = 0; index < options.programs; ++index) {
    if (options.stop_at_first_mismatch && summary.mismatches > 0) break;
    Prng prng = root.Fork(index);
    const std::vector<Event> program = RandomProgram(prng, program_options);
    std::vector<uint64_t> word_order(kRegionBytes / kWordBytes);
    for (size_t i = 0; i < word_order.size(); ++i) word_order[i] = i;
    for (size_t i = word_order.size(); i > 1; --i) {
      std::swap(word_order[i - 1], word_order[prng.Below(i)]);
    }

    std::set<CrashImage> by_model[3];
    bool skipped = false;
    for (PersistencyModel model : kAllPersistencyModels) {
      const std::string name = PersistencyModelName(model);
      ReferenceLimits limits;
      limits.max_states = kMaxStates;  // the same bound as the medium's enumeration below
      Result<std::set<CrashImage>> reference =
          ReferenceCrashStates(program, model, kRegionBytes, limits);
      if (!reference.ok()) {
        skipped = true;
        break;
      }
      Result<Medium> created = Medium::Create({kRegionBytes, model, true});
      TP_ASSERT(created.ok(), "INV-SIM-SELF-CHECK-CREATE");
      Medium medium = std::move(created).value();
      if (Status s = RunProgram(medium, program); !s.ok()) {
        mismatch(index, program, name + ": program failed: " + s.ToString());
        continue;
      }
      // The event log must be the program itself (with sequence numbers).
      bool log_ok = medium.events().size() == program.size();
      for (size_t i = 0; log_ok && i < program.size(); ++i) {
        Event expected = program[i];
        expected.seq = i;
        log_ok = medium.events()[i] == expected;
      }
      if (!log_ok) mismatch(index, program, name + ": event log differs from the program");

      Result<std::set<CrashImage>> eager = EagerCrashImages(medium, kRegionBytes, kMaxStates);
      if (!eager.ok()) {
        mismatch(index, program, name + ": eager enumeration: " + eager.status().ToString());
        continue;
      }
      uint64_t runs = 0;
      Result<std::set<CrashImage>> lazy =
          LazyCrashImages(medium, kRegionBytes, word_order, kMaxStates, &runs);
      summary.lazy_runs += runs;
      const CrashSpaceSize space = medium.CrashSpace();
      if (*eager != *reference) {
        mismatch(index, program, name + ": medium has " + std::to_string(eager->size()) +
                                     " crash states, reference " +
                                     std::to_string(reference->size()));
      } else if (!lazy.ok() || *lazy != *eager) {
        mismatch(index, program, name + ": lazy resolutions differ from eager enumeration");
      } else if (!space.exact || space.count != eager->size()) {
        mismatch(index, program, name + ": CrashSpace() says " + std::to_string(space.count) +
                                     ", enumeration found " + std::to_string(eager->size()));
      }
      summary.crash_states_compared[ModelSlot(model)] += reference->size();
      by_model[ModelSlot(model)] = std::move(eager).value();
    }
    if (skipped) {
      ++summary.programs_skipped;
      continue;
    }
    ++summary.programs_run;
    auto includes = [](const std::set<CrashImage>& big, const std::set<CrashImage>& small) {
      return std::includes(big.begin(), big.end(), small.begin(), small.end());
    };
    summary.inclusion_checks += 2;
    if (!includes(by_model[0], by_model[2])) mismatch(index, program, "eadr not within px86");
    if (!includes(by_model[1], by_model[0])) mismatch(index, program, "px86 not within word8");
  }
  return summary;
}

}  // namespace tearproof::sim
