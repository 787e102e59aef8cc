#include "harness/matrix.h"

#include <sstream>

namespace tearproof::harness {

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

Result<MatrixResult> RunStandardMatrix(const MatrixOptions& options,
                                       const std::function<void(uint64_t, uint64_t)>& progress) {
  if (options.shards == 0 || options.shard >= options.shards) {
    return InvalidArgument("shard must be i/N with i < N");
  }
  const auto workloads = AllWorkloads(options.lbas, options.max_ops);
  uint64_t mine = 0;
  for (size_t i = 0; i < workloads.size(); ++i) mine += i % options.shards == options.shard;
  const uint64_t total = mine * options.profiles.size() * options.sector_sizes.size() *
                         options.models.size() * options.nfrees.size();
  MatrixResult result;
  uint64_t done = 0;
  for (btt::Profile profile : options.profiles) {
    for (uint32_t sector_size : options.sector_sizes) {
      for (sim::PersistencyModel model : options.models) {
        for (uint32_t nfree : options.nfrees) {
          MatrixCell cell{profile, sector_size, model, nfree, 0, {}, {}, {}};
          for (size_t i = 0; i < workloads.size(); ++i) {
            if (i % options.shards != options.shard) continue;
            ExploreConfig config;
            config.profile = profile;
            config.external_lbasize = sector_size;
            config.model = model;
            config.nfree = nfree;
            config.ops = workloads[i];
            TP_ASSIGN_OR_RETURN(ExploreResult r, Explore(config));
            ++cell.workloads;
            cell.stats.Add(r.stats);
            result.violations += r.violations.size();
            for (Violation& v : r.violations) {
              if (cell.violations.size() >= 4) break;
              cell.violations.push_back(std::move(v));
              cell.violation_workloads.push_back(WorkloadToString(workloads[i]));
            }
            if (progress) progress(++done, total);
          }
          result.total.Add(cell.stats);
          result.workloads += cell.workloads;
          result.cells.push_back(std::move(cell));
        }
      }
    }
  }
  return result;
}

}  // namespace tearproof::harness
