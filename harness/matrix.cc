#include "harness/matrix.h"

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>

namespace tearproof::harness {

namespace {

constexpr MatrixPart kAllParts[] = {MatrixPart::kSequential, MatrixPart::kConcurrent,
                                    MatrixPart::kFormat};

bool Mutates(const std::vector<WorkloadOp>& ops) {
  for (const WorkloadOp& op : ops) {
    if (op.kind != WorkloadOp::Kind::kRead) return true;
  }
  return false;
}

// Two lanes: lane 0 runs one or two ops, lane 1 one, from {write, zero, read} x {LBA 0 .. lbas-1},
// and something is written or zeroed. Lanes are interchangeable (the BTT lane a fiber gets follows
// acquisition order, the medium treats every lane alike, and renaming the lanes maps the
// schedules within a preemption bound one to one onto the same set), so a workload and its
// lane-swapped twin have the same verdict: the 1-op pairs are taken unordered and the 1 + 2 split
// is left out.
std::vector<MatrixWorkload> ConcurrentWorkloads(uint32_t lbas) {
  std::vector<WorkloadOp> ops;
  for (WorkloadOp::Kind kind :
       {WorkloadOp::Kind::kWrite, WorkloadOp::Kind::kZero, WorkloadOp::Kind::kRead}) {
    for (uint64_t lba = 0; lba < lbas; ++lba) ops.push_back({kind, lba});
  }
  std::vector<MatrixWorkload> out;
  for (size_t a = 0; a < ops.size(); ++a) {
    for (size_t b = a; b < ops.size(); ++b) {
      if (Mutates({ops[a], ops[b]})) out.push_back({{}, {{ops[a]}, {ops[b]}}});
    }
  }
  for (const WorkloadOp& a : ops) {
    for (const WorkloadOp& b : ops) {
      for (const WorkloadOp& c : ops) {
        if (Mutates({a, b, c})) out.push_back({{}, {{a, b}, {c}}});
      }
    }
  }
  return out;
}

// LBAs every exploration of the part judges after a crash (ExploreConfig::track_lbas).
uint32_t TrackedLbas(const MatrixOptions& options, MatrixPart part) {
  switch (part) {
    case MatrixPart::kSequential:
      return options.lbas;
    case MatrixPart::kConcurrent:
      return options.concurrent_lbas;
    case MatrixPart::kFormat:
      return 0;
  }
  return 0;
}

}  // namespace

const char* MatrixPartName(MatrixPart part) {
  switch (part) {
    case MatrixPart::kSequential:
      return "sequential";
    case MatrixPart::kConcurrent:
      return "concurrent";
    case MatrixPart::kFormat:
      return "format";
  }
  return "?";
}

std::optional<MatrixPart> ParseMatrixPart(std::string_view name) {
  for (MatrixPart part : kAllParts) {
    if (name == MatrixPartName(part)) return part;
  }
  return std::nullopt;
}

std::string MatrixWorkloadName(const MatrixWorkload& workload) {
  std::string name;
  if (!workload.setup.empty()) {
    name += '[';
    name += WorkloadToString(workload.setup);
    name += "] ";
  }
  for (size_t i = 0; i < workload.lanes.size(); ++i) {
    if (i > 0) name += " || ";
    name += WorkloadToString(workload.lanes[i]);
  }
  return name;
}

std::vector<std::vector<WorkloadOp>> AllWorkloads(uint32_t lbas, uint32_t max_ops) {
  std::vector<std::vector<WorkloadOp>> all;
  const uint32_t choices = 2 * lbas;  // write or zero of each LBA
  for (uint32_t len = 1; len <= max_ops; ++len) {
    uint64_t count = 1;
    for (uint32_t i = 0; i < len; ++i) count *= choices;
    for (uint64_t code = 0; code < count; ++code) {
      std::vector<WorkloadOp> ops;
      uint64_t c = code;
      for (uint32_t i = 0; i < len; ++i, c /= choices) {
        const uint32_t pick = static_cast<uint32_t>(c % choices);
        ops.push_back(
            {pick < lbas ? WorkloadOp::Kind::kWrite : WorkloadOp::Kind::kZero, pick % lbas});
      }
      all.push_back(std::move(ops));
    }
  }
  return all;
}

std::string WorkloadToString(const std::vector<WorkloadOp>& ops) {
  std::string s;
  for (const WorkloadOp& op : ops) {
    if (!s.empty()) s += ' ';
    switch (op.kind) {
      case WorkloadOp::Kind::kWrite:
        s += 'w';
        break;
      case WorkloadOp::Kind::kZero:
        s += 'z';
        break;
      case WorkloadOp::Kind::kRead:
        s += 'r';
        break;
    }
    s += std::to_string(op.lba);
  }
  return s;
}

Result<std::vector<WorkloadOp>> ParseWorkload(const std::string& text) {
  std::vector<WorkloadOp> ops;
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    // Also accept commas as separators: "w0,w1".
    std::string piece;
    std::istringstream parts(token);
    while (std::getline(parts, piece, ',')) {
      if (piece.empty()) continue;
      if (piece.size() < 2 || (piece[0] != 'w' && piece[0] != 'z' && piece[0] != 'r')) {
        return InvalidArgument("workload op '" + piece +
                               "': expected wN (write), zN (zero) or rN (read)");
      }
      uint64_t lba = 0;
      for (size_t i = 1; i < piece.size(); ++i) {
        if (piece[i] < '0' || piece[i] > '9' || lba > (UINT64_MAX - 9) / 10) {
          return InvalidArgument("workload op '" + piece + "': bad LBA");
        }
        lba = lba * 10 + static_cast<uint64_t>(piece[i] - '0');
      }
      const WorkloadOp::Kind kind = piece[0] == 'w'   ? WorkloadOp::Kind::kWrite
                                    : piece[0] == 'z' ? WorkloadOp::Kind::kZero
                                                      : WorkloadOp::Kind::kRead;
      ops.push_back({kind, lba});
    }
  }
  if (ops.empty()) return InvalidArgument("empty workload");
  return ops;
}

std::vector<MatrixWorkload> MatrixPartWorkloads(const MatrixOptions& options, MatrixPart part) {
  std::vector<MatrixWorkload> out;
  switch (part) {
    case MatrixPart::kSequential:
      for (auto& ops : AllWorkloads(options.lbas, options.max_ops)) {
        out.push_back({{}, {std::move(ops)}});
      }
      break;
    case MatrixPart::kConcurrent:
      out = ConcurrentWorkloads(options.concurrent_lbas);
      out.insert(out.end(), options.concurrent_cases.begin(), options.concurrent_cases.end());
      break;
    case MatrixPart::kFormat:
      out.push_back({{}, {options.format_ops}});
      break;
  }
  return out;
}

ExploreConfig MatrixExploreConfig(const MatrixOptions& options, MatrixPart part,
                                  btt::Profile profile, uint32_t sector_size,
                                  sim::PersistencyModel model, uint32_t nfree,
                                  const MatrixWorkload& workload) {
  ExploreConfig config;
  config.profile = profile;
  config.external_lbasize = sector_size;
  config.model = model;
  config.nfree = nfree;
  config.setup_ops = workload.setup;
  if (!workload.lanes.empty()) config.ops = workload.lanes.front();
  if (workload.lanes.size() > 1) {
    config.other_lanes.assign(workload.lanes.begin() + 1, workload.lanes.end());
    config.preemption_bound = options.preemption_bound;
  }
  config.track_lbas = TrackedLbas(options, part);
  config.count_eager_states = options.count_eager_states;
  config.mutant = options.mutant;
  config.stop_at_first_violation = options.stop_at_first_violation;
  if (part == MatrixPart::kFormat) {
    config.crash_in_format = true;
    config.max_states_per_point = options.format_max_states_per_point;
  }
  return config;
}

namespace {

bool Runs(const MatrixOptions& options, MatrixPart part) {
  return std::find(options.parts.begin(), options.parts.end(), part) != options.parts.end();
}

uint64_t CellsPerPart(const MatrixOptions& options) {
  return options.profiles.size() * options.sector_sizes.size() * options.models.size() *
         options.nfrees.size();
}

}  // namespace

uint64_t MatrixExplorations(const MatrixOptions& options) {
  if (options.shards == 0 || options.shard >= options.shards) return 0;
  uint64_t index = 0, mine = 0;
  for (MatrixPart part : kAllParts) {
    if (!Runs(options, part)) continue;
    const uint64_t count = MatrixPartWorkloads(options, part).size() * CellsPerPart(options);
    for (uint64_t i = 0; i < count; ++i) mine += index++ % options.shards == options.shard;
  }
  return mine;
}

Result<MatrixResult> RunStandardMatrix(const MatrixOptions& options,
                                       const std::function<void(uint64_t, uint64_t)>& progress) {
  if (options.shards == 0 || options.shard >= options.shards) {
    return InvalidArgument("shard must be i/N with i < N");
  }
  const uint64_t total = MatrixExplorations(options);
  MatrixResult result;
  uint64_t done = 0;
  // Explorations are numbered part by part, cell by cell, workload by workload; a shard runs
  // every shards-th one, so each shard gets a like share of every part and cell.
  uint64_t index = 0;
  for (MatrixPart part : kAllParts) {
    if (!Runs(options, part)) continue;
    const std::vector<MatrixWorkload> workloads = MatrixPartWorkloads(options, part);
    for (btt::Profile profile : options.profiles) {
      for (uint32_t sector_size : options.sector_sizes) {
        for (sim::PersistencyModel model : options.models) {
          for (uint32_t nfree : options.nfrees) {
            MatrixCell cell;
            cell.part = part;
            cell.profile = profile;
            cell.sector_size = sector_size;
            cell.model = model;
            cell.nfree = nfree;
            // One memo per medium size (a workload naming a higher LBA gets a larger medium).
            std::map<uint64_t, std::shared_ptr<CrashPointMemo>> memos;
            for (const MatrixWorkload& workload : workloads) {
              if (index++ % options.shards != options.shard) continue;
              ExploreConfig config =
                  MatrixExploreConfig(options, part, profile, sector_size, model, nfree, workload);
              TP_ASSIGN_OR_RETURN(const uint64_t size, ExploreMediumSize(config));
              std::shared_ptr<CrashPointMemo>& memo = memos[size];
              if (memo == nullptr) memo = std::make_shared<CrashPointMemo>();
              config.memo = memo;
              auto r = Explore(config);
              if (!r.ok()) {
                return r.status().Annotate(std::string(MatrixPartName(part)) + " workload '" +
                                           MatrixWorkloadName(workload) + "': ");
              }
              ++cell.workloads;
              cell.stats.Add(r->stats);
              result.violations += r->violations.size();
              cell.violation_count += r->violations.size();
              config.memo = nullptr;  // a replay explores alone
              for (Violation& v : r->violations) {
                if (cell.violations.size() >= 4) break;
                cell.violations.push_back(std::move(v));
                cell.violation_workloads.push_back(MatrixWorkloadName(workload));
                cell.violation_configs.push_back(config);
              }
              if (progress) progress(++done, total);
            }
            if (cell.workloads == 0) continue;  // another shard's
            result.total.Add(cell.stats);
            result.workloads += cell.workloads;
            result.cells.push_back(std::move(cell));
          }
        }
      }
    }
  }
  return result;
}

}  // namespace tearproof::harness
