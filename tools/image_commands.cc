#include "tools/image_commands.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "btt/btt.h"
#include "btt/file_namespace.h"
#include "tools/cli_common.h"

namespace tearproof::tools {
namespace {

constexpr int kExitFailure = kExitViolation;

struct ImageArgs {
  std::string image;
  std::string profile;  // empty: detect
  uint64_t offset = 0;  // where the BTT's namespace starts inside IMAGE
  bool json = false;
  // format
  uint64_t size_bytes = 0;
  uint32_t lbasize = 4096;
  uint32_t nfree = btt::kDefaultNfree;
  std::string uuid;
  // check
  bool repair = false;
  // read/write/zero
  uint64_t lba = 0;
  uint64_t count = 1;
  bool salvage = false;  // read: open a damaged image with OpenOptions::salvage
};

int Fail(const char* command, const Status& status) {
  std::fprintf(stderr, "tearproof %s: %s\n", command, status.ToString().c_str());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

Result<btt::Uuid> ParseUuid(const std::string& text) {
  btt::Uuid uuid{};
  std::string hex;
  for (char c : text) {
    if (c != '-') hex += c;
  }
  if (hex.size() != 32) return InvalidArgument("--uuid: expected 32 hex digits");
  for (size_t i = 0; i < 16; ++i) {
    unsigned value = 0;
    if (std::sscanf(hex.substr(2 * i, 2).c_str(), "%2x", &value) != 1) {
      return InvalidArgument("--uuid: not hexadecimal");
    }
    uuid[i] = static_cast<uint8_t>(value);
  }
  return uuid;
}

// A random (version 4) UUID for a new BTT: the CLI is outside the deterministic core.
btt::Uuid RandomUuid() {
  std::random_device rd;
  btt::Uuid uuid;
  for (auto& b : uuid) b = static_cast<uint8_t>(rd());
  uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0F) | 0x40);
  uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3F) | 0x80);
  return uuid;
}

struct Opened {
  std::unique_ptr<btt::FileNamespace> ns;
  std::unique_ptr<btt::Btt> btt;
};

// `salvage` opens an unrecoverable flog's arena in the ERROR state (OpenOptions::salvage): I/O
// writes are refused, but unless `read_only`, Check(repair) may rebuild the flog.
Result<Opened> OpenImage(const ImageArgs& args, bool read_only, bool salvage = false) {
  Opened o;
  TP_ASSIGN_OR_RETURN(o.ns, btt::FileNamespace::Open(args.image, read_only, args.offset));
  btt::OpenOptions options;
  options.read_only = read_only;
  options.salvage = salvage;
  if (!args.profile.empty()) options.profile = ProfilesByName().at(args.profile);
  auto opened = btt::Btt::Open(*o.ns, options);
  if (opened.status().code() == StatusCode::kNotFound) {
    // Detection looks where the profiles put a BTT relative to the namespace start; say which
    // start that was, and how to name another.
    return NotFound(opened.status().message() +
                    (args.offset == 0 ? " (looked from the start of the file; if the BTT's "
                                        "namespace starts further in, name it with --offset BYTES)"
                                      : fmt::format(" (looked from --offset {})", args.offset)));
  }
  TP_ASSIGN_OR_RETURN(o.btt, std::move(opened));
  return o;
}

int RunFormat(const ImageArgs& args) {
  btt::FormatOptions options;
  options.profile = ProfilesByName().at(args.profile.empty() ? "linux" : args.profile);
  options.external_lbasize = args.lbasize;
  options.nfree = args.nfree;
  if (!args.uuid.empty()) {
    auto uuid = ParseUuid(args.uuid);
    if (!uuid.ok()) return Fail("format", uuid.status());
    options.uuid = *uuid;
  } else {
    options.uuid = RandomUuid();
  }
  options.parent_uuid = options.profile == btt::Profile::kPmemblk ? RandomUuid() : btt::Uuid{};
  options.pool_part_uuid = RandomUuid();
  options.pool_crtime = static_cast<uint64_t>(std::time(nullptr));
  std::unique_ptr<btt::FileNamespace> ns;
  if (args.size_bytes != 0) {
    if (access(args.image.c_str(), F_OK) == 0) {
      return Fail("format", InvalidArgument(args.image + " exists; --size only creates new "
                                                         "images (omit it to format in place)"));
    }
    auto created = btt::FileNamespace::Create(args.image, args.size_bytes, args.offset);
    if (!created.ok()) return Fail("format", created.status());
    ns = std::move(*created);
    options.medium_is_zeroed = true;
  } else {
    auto opened = btt::FileNamespace::Open(args.image, /*read_only=*/false, args.offset);
    if (!opened.ok()) return Fail("format", opened.status());
    ns = std::move(*opened);
  }
  const Status status = btt::Btt::Format(*ns, options);
  if (!status.ok()) return Fail("format", status);
  std::printf("formatted %s%s: profile %s, %u-byte sectors, nfree %u\n", args.image.c_str(),
              args.offset == 0 ? "" : fmt::format(" from offset {}", args.offset).c_str(),
              btt::ProfileName(options.profile), args.lbasize, args.nfree);
  return 0;
}

// The diagnostic commands (info, check) describe a damaged image rather than refuse it: when
// the open fails on an inconsistent flog, they reopen it with OpenOptions::salvage (the damaged
// arenas in the ERROR state; writable only for check --repair, which may rebuild the flog) and
// say so.
Result<Opened> OpenForDiagnosis(const ImageArgs& args, bool read_only) {
  auto opened = OpenImage(args, read_only);
  if (opened.ok() || opened.status().code() != StatusCode::kCorruption) return opened;
  auto salvaged = OpenImage(args, read_only, /*salvage=*/true);
  if (!salvaged.ok()) return opened.status();  // the first error is the one to report
  return salvaged;
}

void PrintSalvaged(const btt::Btt& b) {
  for (const std::string& failure : b.open_report().salvaged) {
    std::fprintf(stderr, "salvaged (arena opened in ERROR, writes refused): %s\n", failure.c_str());
  }
}

int RunInfo(const ImageArgs& args) {
  auto o = OpenForDiagnosis(args, /*read_only=*/true);
  if (!o.ok()) return Fail("info", o.status());
  btt::Btt& b = *o->btt;
  nlohmann::json arenas = nlohmann::json::array();
  for (size_t i = 0; i < b.ArenaCount(); ++i) {
    const auto idx = b.FlogIndices(i);
    arenas.push_back({{"arena", i}, {"flog_slots", {idx[0], idx[1]}}});
  }
  nlohmann::json info = {{"image", args.image},
                         {"offset", args.offset},
                         {"profile", btt::ProfileName(b.profile())},
                         {"external_lbasize", b.ExternalLbaSize()},
                         {"internal_lbasize", b.InternalLbaSize()},
                         {"external_nlba", b.ExternalNlba()},
                         {"nfree", b.Nfree()},
                         {"arenas", arenas},
                         {"primaries_from_backup", b.open_report().primaries_from_backup},
                         {"lanes_needing_roll_forward", b.open_report().lanes_rolled_forward},
                         {"salvaged", b.open_report().salvaged}};
  if (args.json) {
    std::printf("%s\n", info.dump(2).c_str());
    return 0;
  }
  std::printf("profile %s\nsectors %llu x %u bytes (internal %u)\nnfree %u\narenas %zu\n",
              btt::ProfileName(b.profile()), static_cast<unsigned long long>(b.ExternalNlba()),
              b.ExternalLbaSize(), b.InternalLbaSize(), b.Nfree(), b.ArenaCount());
  for (size_t i = 0; i < b.ArenaCount(); ++i) {
    const auto idx = b.FlogIndices(i);
    std::printf("arena %zu: flog slots (%u,%u)\n", i, idx[0], idx[1]);
  }
  std::printf("lanes needing roll-forward: %u, primaries read from backup: %u\n",
              b.open_report().lanes_rolled_forward, b.open_report().primaries_from_backup);
  PrintSalvaged(b);
  return 0;
}

int RunCheck(const ImageArgs& args) {
  auto o = OpenForDiagnosis(args, /*read_only=*/!args.repair);
  if (!o.ok()) return Fail("check", o.status());
  PrintSalvaged(*o->btt);
  // With --repair a salvaged arena's flog is rebuilt from its map when the map is consistent;
  // otherwise the map's finding says why not (unrepaired, so the exit status is 1).
  const bool repair = args.repair;
  auto report = o->btt->Check(repair);
  if (!report.ok()) return Fail("check", report.status());
  bool all_repaired = true;
  for (const auto& f : report->findings) all_repaired = all_repaired && f.repaired;
  if (args.json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : report->findings) {
      findings.push_back({{"invariant", f.invariant},
                          {"arena", f.arena},
                          {"detail", f.detail},
                          {"repaired", f.repaired}});
    }
    std::printf(
        "%s\n",
        nlohmann::json({{"clean", report->Clean()}, {"findings", findings}}).dump(2).c_str());
  } else {
    std::printf("%s", report->ToString().c_str());
  }
  return report->Clean() || (repair && all_repaired) ? 0 : kExitFailure;
}

Status CheckRange(const btt::Btt& b, const ImageArgs& args) {
  if (args.count == 0 || args.lba >= b.ExternalNlba() || args.count > b.ExternalNlba() - args.lba) {
    return InvalidArgument(fmt::format("LBA range {}+{} outside the {} sectors of the image",
                                       args.lba, args.count, b.ExternalNlba()));
  }
  return Status::Ok();
}

int RunRead(const ImageArgs& args) {
  auto o = OpenImage(args, /*read_only=*/true, args.salvage);
  if (!o.ok()) {
    if (o.status().code() == StatusCode::kCorruption && !args.salvage) {
      return Fail("read", Status(o.status().code(),
                                 o.status().message() + " (--salvage reads what is still intact)"));
    }
    return Fail("read", o.status());
  }
  btt::Btt& b = *o->btt;
  PrintSalvaged(b);
  if (Status s = CheckRange(b, args); !s.ok()) return Fail("read", s);
  std::vector<std::byte> sector(b.ExternalLbaSize());
  for (uint64_t i = 0; i < args.count; ++i) {
    const Status s = b.Read(btt::ExternalLba(args.lba + i), sector);
    if (!s.ok()) return Fail("read", s.Annotate(fmt::format("lba {}: ", args.lba + i)));
    if (std::fwrite(sector.data(), 1, sector.size(), stdout) != sector.size()) {
      return Fail("read", IoError("short write to stdout"));
    }
  }
  return std::fflush(stdout) == 0 ? 0 : Fail("read", IoError("stdout"));
}

int RunWrite(const ImageArgs& args) {
  auto o = OpenImage(args, /*read_only=*/false);
  if (!o.ok()) return Fail("write", o.status());
  btt::Btt& b = *o->btt;
  if (Status s = CheckRange(b, args); !s.ok()) return Fail("write", s);
  std::vector<std::byte> sector(b.ExternalLbaSize());
  for (uint64_t i = 0; i < args.count; ++i) {
    // A short input is refused before the sector is written: no partial sector ever lands.
    if (std::fread(sector.data(), 1, sector.size(), stdin) != sector.size()) {
      return Fail("write", InvalidArgument(fmt::format(
                               "stdin ended before sector {} ({} bytes each); {} written",
                               args.lba + i, sector.size(), i)));
    }
    const Status s = b.Write(btt::ExternalLba(args.lba + i), sector);
    if (!s.ok()) return Fail("write", s.Annotate(fmt::format("lba {}: ", args.lba + i)));
  }
  return 0;
}

int RunZero(const ImageArgs& args) {
  auto o = OpenImage(args, /*read_only=*/false);
  if (!o.ok()) return Fail("zero", o.status());
  btt::Btt& b = *o->btt;
  if (Status s = CheckRange(b, args); !s.ok()) return Fail("zero", s);
  for (uint64_t i = 0; i < args.count; ++i) {
    const Status s = b.Zero(btt::ExternalLba(args.lba + i));
    if (!s.ok()) return Fail("zero", s.Annotate(fmt::format("lba {}: ", args.lba + i)));
  }
  return 0;
}

}  // namespace

std::function<int()> AddImageCommands(CLI::App& app) {
  auto args = std::make_shared<ImageArgs>();
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("IMAGE", args->image, "BTT image file")->required();
    cmd->add_option("--profile", args->profile, "linux, uefi or pmemblk (default: detect)")
        ->check(CLI::IsMember({"linux", "uefi", "pmemblk"}));
    cmd->add_option("--offset", args->offset,
                    "bytes into IMAGE where the BTT's namespace (Linux or UEFI namespace, or "
                    "pmemblk pool) starts; a multiple of 4096 (default 0). With format --size, "
                    "the new file is offset + size bytes");
  };
  auto* format = app.add_subcommand("format", "lay out a new BTT on an image file");
  add_common(format);
  format->add_option("--size", args->size_bytes, "create a new image of this many bytes");
  format->add_option("--lbasize", args->lbasize, "external sector size");
  format->add_option("--nfree", args->nfree, "free blocks (lanes)")->check(CLI::Range(1, 4096));
  format->add_option("--uuid", args->uuid, "BTT UUID (32 hex digits; default random)");

  auto* info = app.add_subcommand("info", "describe the BTT on an image (read-only)");
  add_common(info);
  info->add_flag("--json", args->json);

  auto* check =
      app.add_subcommand("check", "check every BTT invariant; --repair fixes what is safe");
  add_common(check);
  check->add_flag("--repair", args->repair);
  check->add_flag("--json", args->json);

  std::vector<CLI::App*> io;
  for (const char* name : {"read", "write", "zero"}) {
    auto* cmd = app.add_subcommand(name, std::string(name) + " sectors (raw bytes on stdio)");
    add_common(cmd);
    cmd->add_option("LBA", args->lba)->required();
    cmd->add_option("COUNT", args->count, "sectors (default 1)");
    io.push_back(cmd);
  }
  io[0]->add_flag("--salvage", args->salvage,
                  "read a damaged image: an arena whose flog cannot be recovered opens in the "
                  "ERROR state (read-only) instead of failing");
  return [=]() -> int {
    if (*format) return RunFormat(*args);
    if (*info) return RunInfo(*args);
    if (*check) return RunCheck(*args);
    if (*io[0]) return RunRead(*args);
    if (*io[1]) return RunWrite(*args);
    if (*io[2]) return RunZero(*args);
    return -1;
  };
}

}  // namespace tearproof::tools
