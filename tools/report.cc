#include "tools/report.h"

#include <fmt/core.h>
#include <z3.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tools/build_info.h"  // generated: TEARPROOF_GIT_DESCRIBE

namespace tearproof::tools {
namespace {

using json = nlohmann::json;

Status WriteFile(const std::string& path, const std::string& text) {
  // Written beside the target and renamed over it, so a reader never sees half a report.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return IoError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IoError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

// Markdown table cells: a '|' would end the cell, a newline the row.
std::string MdCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string Str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

json GeneratorJson() {
  unsigned major = 0, minor = 0, build = 0, revision = 0;
  Z3_get_version(&major, &minor, &build, &revision);
#if defined(__clang__)
  const std::string compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  const std::string compiler = std::string("gcc ") + __VERSION__;
#else
  const std::string compiler = "unknown";
#endif
#if defined(TEARPROOF_SANITIZE)
  const char* sanitizers = "address,undefined";
#else
  const char* sanitizers = "none";
#endif
  return {{"tool", "tearproof"},
          {"version", TEARPROOF_VERSION},
          {"commit", TEARPROOF_GIT_DESCRIBE},
          {"compiler", compiler},
          {"build_type", TEARPROOF_BUILD_TYPE},
          {"sanitizers", sanitizers},
          {"z3_version", fmt::format("{}.{}.{}.{}", major, minor, build, revision)},
          {"host_cores", std::thread::hardware_concurrency()}};
}

Status PrepareReportDirectory(const std::string& dir) {
  if (dir.empty()) return InvalidArgument("--out: empty directory name");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create report directory '" + dir + "': " + ec.message());
  return WriteFile(dir + "/.tearproof-write-test", "")
      .Annotate("report directory '" + dir + "' is not writable: ");
}

Status WriteReportFiles(const json& report, const std::string& dir) {
  if (!report.is_object() || report.value("schema_version", 0) != kReportSchemaVersion) {
    return InvalidArgument(fmt::format("not a report of schema version {}", kReportSchemaVersion));
  }
  std::error_code ec;
  std::filesystem::remove(dir + "/.tearproof-write-test", ec);
  std::string html, markdown;
  try {
    html = RenderHtml(report);
    markdown = RenderMarkdown(report);
  } catch (const json::exception& e) {
    // Only a report that does not match the schema gets here: a bug in tearproof.
    return InternalError(std::string("rendering the report: ") + e.what());
  }
  TP_RETURN_IF_ERROR(WriteFile(dir + "/report.json", report.dump(2) + "\n"));
  TP_RETURN_IF_ERROR(WriteFile(dir + "/index.html", html));
  return WriteFile(dir + "/report.md", markdown);
}

std::string RenderText(const json& report) {
  std::string out = fmt::format("tearproof prove (seed {}, budget {})\n",
                                report["campaign"]["seed"].get<uint64_t>(),
                                report["campaign"]["budget"].get<double>());
  for (const json& p : report["phases"]) {
    if (p["status"] == "skipped" && p["summary"].empty()) {
      out += fmt::format("\n== {}: skipped ({})\n", Str(p["name"]), Str(p["reason"]));
      continue;
    }
    out += fmt::format("\n== {}: {} ({:.1f}s){}\n", Str(p["name"]), Str(p["status"]),
                       p["seconds"].get<double>(),
                       p["reason"].get<std::string>().empty() ? "" : ": " + Str(p["reason"]));
    for (const json& line : p["summary"]) out += "  " + Str(line) + "\n";
  }
  const json& v = report["verdict"];
  out += "\nverdict: " + Str(v["headline"]) + "\n";
  for (const json& c : v["proved_to_bound"]) {
    out += "  proved to bound [" + Str(c["phase"]) + "]: " + Str(c["bound"]) + "\n";
  }
  for (const json& c : v["held_on_runs"]) {
    out += fmt::format("  held on {} runs [{}] (not a proof)\n", c["runs"].get<uint64_t>(),
                       Str(c["phase"]));
  }
  for (const json& viol : report["violations"]) {
    out += "  VIOLATION " + Str(viol["check"]) + " (" + Str(viol["configuration"]) +
           "): replay with: " + Str(viol["replay"]) + "\n";
  }
  return out;
}

std::string RenderMarkdown(const json& report) {
  const json& v = report["verdict"];
  const json& gen = report["generator"];
  const std::string status = v["status"];
  const char* badge = status == "holds" ? "PASS" : status == "error" ? "ERROR" : "FAIL";
  std::string md =
      fmt::format("## tearproof prove: {} ({})\n\n{}\n\n", badge, status, Str(v["headline"]));
  if (!v["proved_to_bound"].empty()) {
    md += "**Proved to bound** (exhaustive within the bound):\n\n";
    for (const json& c : v["proved_to_bound"]) {
      md += "- " + Str(c["subject"]) + ": " + Str(c["bound"]) + "\n";
    }
    md += "\n";
  }
  if (!v["held_on_runs"].empty()) {
    md += "**Held on runs** (random sampling, not a proof):\n\n";
    for (const json& c : v["held_on_runs"]) {
      md += fmt::format("- {}: held on {} runs, {} violations\n", Str(c["subject"]),
                        c["runs"].get<uint64_t>(), c["violations"].get<uint64_t>());
    }
    md += "\n";
  }
  md += "| phase | status | time | note |\n|---|---|---|---|\n";
  for (const json& p : report["phases"]) {
    md += fmt::format("| {} | {} | {:.1f} s | {} |\n", Str(p["name"]), Str(p["status"]),
                      p["seconds"].get<double>(), MdCell(Str(p["reason"])));
  }
  if (report["mutants"].is_object()) {
    md += "\n**Mutant kills:** ";
    std::string sep;
    for (const json& f : report["mutants"]["families"]) {
      md += sep + Str(f["family"]) + " ";
      md += f["status"] == "ran"
                ? fmt::format("{}/{}", f["killed"].get<uint64_t>(), f["mutants"].get<uint64_t>())
                : "skipped";
      sep = ", ";
    }
    md += "\n";
  }
  std::string unexercised;
  for (const json& m : report["coverage"]) {
    if (m["status"] == "not-exercised")
      unexercised += (unexercised.empty() ? "" : ", ") + Str(m["id"]);
  }
  if (!unexercised.empty()) md += "\n**Not exercised:** " + unexercised + "\n";
  if (!report["violations"].empty()) {
    md += "\n**Violations:**\n\n";
    for (const json& viol : report["violations"]) {
      md += "- " + MdCell(Str(viol["check"])) + " in " + MdCell(Str(viol["configuration"])) + ": " +
            MdCell(Str(viol["detail"])) + "\n  replay: `" + Str(viol["replay"]) + "`\n";
    }
  }
  md += fmt::format("\nReproduce: `{}` at tearproof {} ({}, Z3 {}), seed {}.\n",
                    Str(report["campaign"]["command"]), Str(gen["commit"]), Str(gen["compiler"]),
                    Str(gen["z3_version"]), report["campaign"]["seed"].get<uint64_t>());
  return md;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace tearproof::tools
