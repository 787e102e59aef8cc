// index.html of the report: one self-contained page rendered from report.json.
//
// Layout: the verdict first (id "verdict", with the two kinds of claim kept apart: "proved to
// bound" and "held on N runs"), then one section per kind of evidence, then how to reproduce.
// Plots are inline SVG drawn here (no script, no network, no external font). Every string taken
// from the report goes through HtmlEscape.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tools/report.h"

namespace tearproof::tools {
namespace {

using json = nlohmann::json;

std::string E(const json& v) {
  if (v.is_null()) return "";
  return HtmlEscape(v.is_string() ? v.get<std::string>() : v.dump());
}
std::string E(const std::string& s) { return HtmlEscape(s); }
std::string E(const char* s) { return HtmlEscape(s); }

// 1234567 -> "1 234 567" (thin spaces keep big counts readable in any locale).
std::string Group(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += "&#8201;";
    out += digits[i];
  }
  return out;
}

std::string Num(const json& v) {
  if (v.is_null()) return "&mdash;";
  if (v.is_number_unsigned() || v.is_number_integer()) return Group(v.get<uint64_t>());
  if (v.is_number_float()) return fmt::format("{:.2f}", v.get<double>());
  return E(v);
}

std::string Seconds(const json& v) { return fmt::format("{:.1f}&#8201;s", v.get<double>()); }

const char* kCss = R"css(
:root { --ok: #1a7f37; --bad: #b42318; --warn: #b54708; --muted: #667085; --line: #d0d5dd; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #101828; margin: 0 auto; max-width: 1100px; padding: 0 20px 40px; }
h1 { font-size: 22px; margin: 20px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 16px 0 6px; }
.meta, .note { color: var(--muted); font-size: 13px; }
.verdict { border-radius: 8px; padding: 14px 18px; color: #fff; margin: 14px 0; }
.verdict h2 { border: 0; margin: 0 0 6px; font-size: 24px; color: #fff; }
.verdict p { margin: 4px 0; }
.verdict-holds { background: var(--ok); }
.verdict-violation { background: var(--bad); }
.verdict-evidence-failed { background: var(--warn); }
.verdict-error { background: #475467; }
.claims { display: flex; gap: 14px; flex-wrap: wrap; margin-top: 10px; }
.claim { background: rgba(255,255,255,.14); border-radius: 6px; padding: 8px 12px; flex: 1 1 420px; }
.claim h3 { margin: 0 0 4px; color: #fff; font-size: 15px; }
.claim ul { margin: 0; padding-left: 18px; }
nav { font-size: 13px; margin: 8px 0; }
nav a { margin-right: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.passed, .killed, .exercised, .UNSAT, .reachable { color: var(--ok); font-weight: 600; }
.failed, .error, .survived, .SAT, .not-exercised, .UNKNOWN, .ERROR { color: var(--bad); font-weight: 600; }
.skipped, .not-seeded, .not-run { color: var(--muted); }
tr.flag td { background: #fef3f2; }
code, pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: #f2f4f7;
            border-radius: 4px; }
code { padding: 1px 4px; }
pre { padding: 8px; overflow-x: auto; white-space: pre-wrap; }
.violation { border-left: 4px solid var(--bad); padding: 4px 12px; margin: 10px 0; background: #fffbfa; }
svg { max-width: 100%; height: auto; }
svg text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #101828; }
@media print {
  body { max-width: none; font-size: 11px; }
  nav { display: none; }
  .verdict { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section { break-inside: avoid-page; }
  pre { white-space: pre-wrap; }
}
)css";

// A horizontal bar chart: one row per label, one bar per series in each row.
struct Series {
  std::string name;
  std::string color;
};
std::string BarChart(const std::string& title, const std::vector<std::string>& labels,
                     const std::vector<Series>& series,
                     const std::vector<std::vector<double>>& values, bool log_scale,
                     const std::string& unit) {
  constexpr double kLabelW = 230, kBarW = 430, kBarH = 9, kGap = 6;
  const double row_h = series.size() * kBarH + kGap;
  double max = 0;
  for (const auto& row : values) {
    for (double v : row) max = std::max(max, v);
  }
  auto scale = [&](double v) {
    if (max <= 0) return 0.0;
    return log_scale ? std::log10(v + 1) / std::log10(max + 1) * kBarW : v / max * kBarW;
  };
  const double height = 40 + labels.size() * row_h + 24;
  std::string svg = fmt::format(
      "<svg role=\"img\" aria-label=\"{0}\" viewBox=\"0 0 780 {1:.0f}\" width=\"780\" "
      "height=\"{1:.0f}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{0}</title>",
      E(title), height);
  // Legend.
  double x = kLabelW;
  for (const Series& s : series) {
    svg += fmt::format(
        "<rect x=\"{:.0f}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{}\"/>"
        "<text x=\"{:.0f}\" y=\"15\">{}</text>",
        x, s.color, x + 14, E(s.name));
    x += 20 + 7.0 * s.name.size();
  }
  svg += fmt::format("<text x=\"{:.0f}\" y=\"15\" fill=\"#667085\">{}</text>", x + 10,
                     E(log_scale ? "(log scale)" : ""));
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = 30 + i * row_h;
    svg += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" text-anchor=\"end\">{}</text>", kLabelW - 6,
                       y + row_h / 2, E(labels[i]));
    for (size_t s = 0; s < series.size(); ++s) {
      const double v = values[i][s];
      const double w = scale(v);
      const double by = y + s * kBarH;
      svg += fmt::format(
          "<rect x=\"{:.0f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.0f}\" fill=\"{}\">"
          "<title>{}: {} {}</title></rect>",
          kLabelW, by, std::max(w, 0.5), kBarH - 1, series[s].color, E(labels[i]),
          E(series[s].name), E(fmt::format("{:g} {}", v, unit)));
      svg += fmt::format("<text x=\"{:.0f}\" y=\"{:.1f}\" fill=\"#475467\">{:g}</text>",
                         kLabelW + w + 4, by + kBarH - 1.5, v);
    }
  }
  svg += fmt::format(
      "<line x1=\"{0:.0f}\" y1=\"26\" x2=\"{0:.0f}\" y2=\"{1:.0f}\" "
      "stroke=\"#98a2b3\"/>",
      kLabelW, height - 20);
  svg += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" fill=\"#667085\">{}</text></svg>", kLabelW,
                     height - 6, E(unit));
  return svg;
}

// "linux 512 B px86 nfree 1", prefixed by the explore matrix part when the row has one.
std::string ConfigLabel(const json& c) {
  return fmt::format("{}{} {} B {} nfree {}",
                     c.contains("part") ? c["part"].get<std::string>() + " " : "",
                     c["profile"].get<std::string>(),
                     c["sector_size"].get<uint64_t>(), c["model"].get<std::string>(),
                     c["nfree"].get<uint64_t>());
}

// The opening of a report section: an anchor for the navigation bar and its heading.
std::string SectionStart(const char* id, const char* title) {
  return fmt::format("<section id=\"{}\"><h2>{}</h2>", id, title);
}
// The body of a section whose phase did not run (the phases table says why).
const char* kNotRun = "<p class=\"skipped\">Not run (see the phases table).</p></section>";

std::string Timeline(const json& lines) {
  std::string text;
  for (const json& line : lines) text += E(line) + "\n";
  return "<pre>" + text + "</pre>";
}

std::string StatusSpan(const json& status) {
  return fmt::format("<span class=\"{0}\">{0}</span>", E(status));
}

std::string VerdictSection(const json& r) {
  const json& v = r["verdict"];
  const std::string status = v["status"];
  const char* title = status == "holds"             ? "ALL EVIDENCE HOLDS"
                      : status == "violation"       ? "VIOLATION FOUND"
                      : status == "evidence-failed" ? "EVIDENCE DOES NOT HOLD"
                                                    : "CAMPAIGN ERROR";
  std::string h = fmt::format(
      "<section id=\"verdict\" class=\"verdict verdict-{0}\" data-status=\"{0}\">"
      "<h2>Verdict: {1}</h2><p>{2}</p><p>Exit status {3}.</p><div class=\"claims\">",
      E(status), title, E(v["headline"]), v["exit_code"].get<int>());
  h += "<div class=\"claim\" id=\"proved\"><h3>Proved to bound (exhaustive within the "
       "bound)</h3><ul>";
  for (const json& c : v["proved_to_bound"]) {
    h += "<li>" + E(c["subject"]) + ": " + E(c["bound"]) + "</li>";
  }
  if (v["proved_to_bound"].empty()) h += "<li>nothing</li>";
  h += "</ul></div><div class=\"claim\" id=\"held\"><h3>Held on N runs (sampling, not a "
       "proof)</h3><ul>";
  for (const json& c : v["held_on_runs"]) {
    h += fmt::format("<li>{}: held on {} runs, {} violations</li>", E(c["subject"]),
                     Group(c["runs"].get<uint64_t>()), Group(c["violations"].get<uint64_t>()));
  }
  if (v["held_on_runs"].empty()) h += "<li>nothing</li>";
  h += "</ul></div></div>";
  if (!v["failures"].empty()) {
    h += "<p><strong>What does not hold:</strong></p><ul>";
    for (const json& f : v["failures"]) h += "<li>" + E(f) + "</li>";
    h += "</ul>";
  }
  return h + "</section>";
}

std::string PhasesSection(const json& r) {
  std::string h =
      "<section id=\"phases\"><h2>Phases</h2><table><tr><th>phase</th><th>status</th>"
      "<th>time</th><th>summary</th></tr>";
  for (const json& p : r["phases"]) {
    std::string summary;
    for (const json& line : p["summary"]) summary += E(line) + "<br>";
    if (!p["reason"].get<std::string>().empty())
      summary = "<em>" + E(p["reason"]) + "</em><br>" + summary;
    h += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                     E(p["name"]), StatusSpan(p["status"]), Seconds(p["seconds"]), summary);
  }
  return h + "</table></section>";
}

// The per-configuration statistics table of the explore and deep phases.
std::string ConfigTable(const json& configurations, bool deep) {
  std::string h = fmt::format(
      "<table><tr>{}<th>profile</th><th>sector</th><th>model</th><th>nfree</th><th>{}</th>"
      "<th>crash points</th><th>medium events</th><th>points saved by fence dominance</th>"
      "<th>states judged</th><th>eager states (brute force at the same points)</th>"
      "<th>states saved by lazy branching</th><th>crashes inside recovery</th>"
      "<th>incomplete points</th><th>violations</th>{}</tr>",
      deep ? "" : "<th>part</th>", deep ? "runs (ops)" : "workloads",
      deep ? "" : "<th>time</th>");
  for (const json& c : configurations) {
    const bool flag =
        c["violations"].get<uint64_t>() > 0 || c["incomplete_points"].get<uint64_t>() > 0;
    h += fmt::format(
        "<tr{}>{}<td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td>{}</tr>",
        flag ? " class=\"flag\"" : "", deep ? "" : "<td>" + E(c["part"]) + "</td>", E(c["profile"]), Num(c["sector_size"]), E(c["model"]),
        Num(c["nfree"]), deep ? Num(c["runs"]) + " (" + Num(c["ops"]) + ")" : Num(c["workloads"]),
        Num(c["crash_points"]), Num(c["events"]), Num(c["crash_points_saved_by_fence_dominance"]),
        Num(c["states_checked"]),
        c["eager_states_saturated"].get<bool>() ? "&gt; 2<sup>64</sup>" : Num(c["eager_states"]),
        c["eager_states_saturated"].get<bool>() ? "&gt; 2<sup>64</sup>"
                                                : Num(c["states_saved_by_lazy_branching"]),
        Num(c["recovery_crash_states"]), Num(c["incomplete_points"]), Num(c["violations"]),
        deep ? "" : "<td class=\"n\">" + Seconds(c["seconds"]) + "</td>");
  }
  return h + "</table>";
}

std::string StatesPlot(const json& configurations, const std::string& title) {
  std::vector<std::string> labels;
  std::vector<std::vector<double>> values;
  for (const json& c : configurations) {
    labels.push_back(ConfigLabel(c));
    const double points = static_cast<double>(c["crash_points"].get<uint64_t>());
    const double states = static_cast<double>(c["states_checked"].get<uint64_t>());
    values.push_back({points, states, points > 0 ? states / points : 0});
  }
  return BarChart(title, labels,
                  {{"crash points", "#84adea"},
                   {"crash states judged", "#1d4ed8"},
                   {"states per crash point", "#f79009"}},
                  values, true, "count (log scale)");
}

std::string ExploreSection(const json& r) {
  const json& e = r["explore"];
  std::string h = SectionStart("explore", "Exhaustive crash exploration (production core)");
  if (!e.is_object()) return h + kNotRun;
  const json& t = e["totals"];
  h += fmt::format(
      "<p>Bound: {}. Every crash point (fence dominance) and every resolution of the words "
      "recovery reads (lazy branching) is judged by the full oracle (ORACLE-RECOVER, "
      "ORACLE-RO-EQUALS-RW, ORACLE-ATOMIC, ORACLE-CHECK, ORACLE-IDEMPOTENT).</p>"
      "<p>Totals: {} explorations, {} crash points for {} medium events, {} crash states judged "
      "(+{} crashes inside recovery), {} violations, {} incomplete points.</p>",
      E(e["bound"]["description"]), Num(t["workloads"]), Num(t["crash_points"]), Num(t["events"]),
      Num(t["states_checked"]), Num(t["recovery_crash_states"]), Num(t["violations"]),
      Num(t["incomplete_points"]));
  h += "<table><tr><th>part</th><th>explorations</th><th>executions (schedules)</th>"
       "<th>crash points</th><th>repeated (judged once)</th><th>crash states judged</th>"
       "<th>crashes inside recovery</th><th>incomplete points</th><th>violations</th></tr>";
  for (const json& p : e["parts"]) {
    const bool flag =
        p["violations"].get<uint64_t>() > 0 || p["incomplete_points"].get<uint64_t>() > 0;
    h += fmt::format(
        "<tr{}><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
        flag ? " class=\"flag\"" : "", E(p["part"]), Num(p["workloads"]), Num(p["executions"]),
        Num(p["crash_points"]), Num(p["crash_points_repeated"]), Num(p["states_checked"]),
        Num(p["recovery_crash_states"]), Num(p["incomplete_points"]), Num(p["violations"]));
  }
  h += "</table>";
  h += StatesPlot(e["configurations"], "Crash points and crash states judged per configuration");
  h += ConfigTable(e["configurations"], false);
  return h + "</section>";
}

std::string DeepSection(const json& r) {
  const json& d = r["deep"];
  std::string h = SectionStart("deep", "Random deep runs (held on N runs, not a proof)");
  if (!d.is_object()) return h + kNotRun;
  const json& g = d["generator"];
  const json& t = d["totals"];
  h += fmt::format(
      "<p>{} seeded runs (campaign seed {}): {}..{} ops over {}..{} LBAs, nfree {}..{}, every "
      "profile, sector size and model; at most {} crash states per crash point. {}</p>"
      "<p>Totals: {} ops, {} crash points, {} crash states judged (+{} inside recovery), "
      "{} runs with a violation, {} incomplete points; longest workload {} ops, up to {} LBAs; "
      "{} runs wrap a flog sequence number.</p>",
      Num(g["runs"]), Num(g["seed"]), Num(g["ops"][0]), Num(g["ops"][1]), Num(g["lbas"][0]),
      Num(g["lbas"][1]), Num(g["nfree"][0]), Num(g["nfree"][1]), Num(g["max_states_per_point"]),
      E(g["description"]), Num(t["ops"]), Num(t["crash_points"]), Num(t["states_checked"]),
      Num(t["recovery_crash_states"]), Num(t["violations"]), Num(t["incomplete_points"]),
      Num(t["longest_workload_ops"]), Num(t["most_lbas"]), Num(t["runs_with_flog_wrap"]));
  h += ConfigTable(d["configurations"], true);
  return h + "</section>";
}

// The concurrent phase: the exhaustive part (proved to bound) and the sampled part (held on N
// runs) in separate columns, never summed.
std::string ConcurrentSection(const json& r) {
  const json& c = r["concurrent"];
  std::string h = SectionStart("concurrent", "Interleaved lanes (production core, no crash)");
  if (!c.is_object()) return h + kNotRun;
  const json& s = c["sampling"];
  h += fmt::format(
      "<p>Proved to bound: {}{}. Held on N runs: {} PCT and {} random seeds per workload ({}; "
      "seed base {}). Oracle: every read returns a whole sector some linearization allows, the "
      "final contents are linearizable, Btt::Check is clean, every run completes.</p>",
      E(c["bound"]["description"]),
      c["bound"]["complete"].get<bool>() ? "" : " <strong>(enumeration incomplete)</strong>",
      Num(s["pct_seeds"]), Num(s["random_seeds"]), E(s["description"]), Num(s["seed_base"]));
  h += "<table><tr><th>workload</th><th>lanes</th><th>exhaustive schedules</th><th>with "
       "contention</th><th>violations</th><th>sampled runs</th><th>with contention</th>"
       "<th>max preemptions</th><th>violations</th><th>errors</th></tr>";
  auto row = [](const std::string& name, const json& lanes, const json& x, const json& y) {
    const bool flag = x["violations"].get<uint64_t>() + y["violations"].get<uint64_t>() +
                          x["errors"].get<uint64_t>() + y["errors"].get<uint64_t>() >
                      0;
    return fmt::format(
        "<tr{}><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td></tr>",
        flag ? " class=\"flag\"" : "", name, lanes.is_null() ? "" : Num(lanes), Num(x["runs"]),
        Num(x["runs_with_contention"]), Num(x["violations"]), Num(y["runs"]),
        Num(y["runs_with_contention"]), Num(y["preemptions_max"]), Num(y["violations"]),
        Num(x["errors"].get<uint64_t>() + y["errors"].get<uint64_t>()));
  };
  for (const json& w : c["workloads"]) {
    h += row(E(w["workload"]), w["lanes"], w["exhaustive"], w["sampled"]);
  }
  h += row("total", nullptr, c["exhaustive"], c["sampled"]);
  return h + "</table></section>";
}

std::string ControlsSection(const json& r) {
  std::string h = SectionStart("controls", "Controls: the harness catches a torn sector") +
                  "<p>A control must fail: it shows that the oracle can see the bug it is "
                  "looking for.</p>";
  if (!r["control"].is_object()) return h + kNotRun;
  h += "<table><tr><th>control</th><th>model</th><th>workload</th><th>caught</th><th>first "
       "violation</th><th>replay</th></tr>";
  std::string timelines;
  for (const json& c : r["control"]["controls"]) {
    h += fmt::format(
        "<tr{}><td>{}<br><span class=\"note\">{}</span></td><td>{}</td><td><code>{}</code></td>"
        "<td class=\"{}\">{}</td><td>{}: {}</td><td><code>{}</code></td></tr>",
        c["caught"].get<bool>() ? "" : " class=\"flag\"", E(c["name"]), E(c["description"]),
        E(c["model"]), E(c["workload"]), c["caught"].get<bool>() ? "passed" : "failed",
        c["caught"].get<bool>() ? "yes" : "NO", E(c["check"]), E(c["detail"]), E(c["replay"]));
    if (c["timeline"].is_array()) {
      timelines += fmt::format("<h3>{} under {}: the minimized trace <code>{}</code></h3>",
                               E(c["name"]), E(c["model"]), E(c["trace"])) +
                   Timeline(c["timeline"]);
    }
  }
  return h + "</table>" + timelines + "</section>";
}

std::string BmcSection(const json& r) {
  const json& b = r["bmc"];
  std::string h = SectionStart("bmc", "Z3 bounded model checks (protocol)");
  if (!b.is_object()) return h + kNotRun;
  h += "<p>UNSAT = every property (INV-SECTOR-ATOMIC, INV-SECTOR-DURABLE, INV-MAP-BIJECTION, "
       "INV-FLOG-SEQ, INV-RECOVERY-IDEMPOTENT) holds for every interleaving of the lanes' "
       "8-byte stores and persists, every crash and one crash inside recovery, within the "
       "bound. A proof under word8 also holds under px86 and eadr.</p>";
  h += "<table><tr><th>model</th><th>lanes</th><th>ops/lane</th><th>LBAs</th><th>nfree</th>"
       "<th>verdict</th><th>Z3 time</th><th>encode time</th><th>assertions</th><th>variables</th>"
       "<th>formula nodes</th></tr>";
  std::vector<std::string> labels;
  std::vector<std::vector<double>> times;
  for (const json& p : b["proofs"]) {
    h += fmt::format(
        "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"{}\">{}{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td></tr>",
        E(p["model"]), Num(p["lanes"]), Num(p["ops_per_lane"]), Num(p["lbas"]), Num(p["nfree"]),
        E(p["verdict"]), E(p["verdict"]),
        p["reason"].get<std::string>().empty() ? "" : " (" + E(p["reason"]) + ")",
        Seconds(p["solve_seconds"]), Seconds(p["encode_seconds"]), Num(p["assertions"]),
        Num(p["variables"]), Num(p["formula_nodes"]));
    labels.push_back(fmt::format("{} {}x{}x{}", p["model"].get<std::string>(),
                                 p["lanes"].get<int>(), p["ops_per_lane"].get<int>(),
                                 p["lbas"].get<int>()));
    times.push_back({std::round(p["solve_seconds"].get<double>() * 100) / 100});
  }
  h += "</table>";
  h += BarChart("Z3 time per bound (lanes x ops x LBAs)", labels, {{"Z3 solve time", "#7a5af8"}},
                times, false, "seconds");
  h += "<h3>Coverage witnesses (the proofs are not vacuous)</h3><table><tr><th>witness</th>"
       "<th>bound</th><th>verdict</th><th>reachable</th><th>Z3 time</th></tr>";
  for (const json& w : b["witnesses"]) {
    h += fmt::format(
        "<tr><td>{}</td><td>{} {}x{}x{}</td><td>{}</td><td class=\"{}\">{}</td>"
        "<td class=\"n\">{}</td></tr>",
        E(w["witness"]), E(w["model"]), Num(w["lanes"]), Num(w["ops_per_lane"]), Num(w["lbas"]),
        E(w["verdict"]), w["reachable"].get<bool>() ? "reachable" : "failed",
        w["reachable"].get<bool>() ? "yes" : "NO", Seconds(w["solve_seconds"]));
  }
  return h + "</table></section>";
}

const char* CellColor(const std::string& status) {
  if (status == "killed") return "#12b76a";
  if (status == "survived") return "#f04438";
  if (status == "not-run") return "#eaecf0";
  return "#f9fafb";  // not-seeded
}

std::string ShortCheck(const json& by) {
  if (!by.is_string()) return "";
  std::string s = by.get<std::string>();
  for (const char* prefix : {"ORACLE-", "INV-", "properties: "}) {
    if (s.rfind(prefix, 0) == 0) s = s.substr(std::string(prefix).size());
  }
  return s;
}

// What fits in a heat-map cell (110 px at 11 px type): a list "a, b, c" becomes "a +2", and at
// most 16 characters.
std::string CellText(const std::string& by) {
  std::string text = by;
  const size_t comma = by.find(", ");
  if (comma != std::string::npos) {
    const size_t more = static_cast<size_t>(std::count(by.begin(), by.end(), ','));
    text = by.substr(0, comma) + " +" + std::to_string(more);
  }
  return text.size() > 16 ? text.substr(0, 15) + "~" : text;
}

std::string KillHeatMap(const json& m) {
  static const char* kFamilies[] = {"explorer", "properties", "concurrency", "z3"};
  constexpr size_t kColumns = std::size(kFamilies);
  constexpr double kLabelW = 330, kCellW = 110, kCellH = 20;
  const double height = 50 + m["rows"].size() * kCellH + 30;
  std::string svg = fmt::format(
      "<svg role=\"img\" aria-label=\"Mutant kill matrix\" viewBox=\"0 0 780 {0:.0f}\" "
      "width=\"780\" height=\"{0:.0f}\" xmlns=\"http://www.w3.org/2000/svg\">"
      "<title>Mutant kill matrix (bug class x family)</title>",
      height);
  for (size_t f = 0; f < kColumns; ++f) {
    svg += fmt::format(
        "<text x=\"{:.0f}\" y=\"40\" text-anchor=\"middle\" "
        "font-weight=\"bold\">{}</text>",
        kLabelW + f * kCellW + kCellW / 2, kFamilies[f]);
  }
  double y = 48;
  for (const json& row : m["rows"]) {
    svg += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" text-anchor=\"end\">{}</text>", kLabelW - 6,
                       y + 14, E(row["bug"]));
    for (size_t f = 0; f < kColumns; ++f) {
      const json& cell = row[kFamilies[f]];
      const std::string status = cell["status"];
      const double x = kLabelW + f * kCellW;
      const std::string text = status == "killed" ? CellText(ShortCheck(cell["by"])) : status;
      svg += fmt::format(
          "<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"{:.0f}\" height=\"{:.0f}\" fill=\"{}\" "
          "stroke=\"#fff\"><title>{}: {}{}</title></rect><text x=\"{:.0f}\" y=\"{:.0f}\" "
          "text-anchor=\"middle\"{}>{}</text>",
          x, y, kCellW, kCellH, CellColor(status), E(kFamilies[f]), E(status),
          cell["mutant"].is_string() ? " (" + E(cell["mutant"]) + ")" : "", x + kCellW / 2, y + 14,
          status == "killed" || status == "survived" ? " fill=\"#fff\"" : "", E(text));
    }
    y += kCellH;
  }
  double lx = kLabelW;
  for (const char* s : {"killed", "survived", "not-seeded", "not-run"}) {
    svg += fmt::format(
        "<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"10\" height=\"10\" fill=\"{}\" "
        "stroke=\"#98a2b3\"/><text x=\"{:.0f}\" y=\"{:.0f}\">{}</text>",
        lx, y + 12, CellColor(s), lx + 14, y + 21, s);
    lx += 100;
  }
  return svg + "</svg>";
}

std::string MutantsSection(const json& r) {
  const json& m = r["mutants"];
  std::string h = SectionStart("mutants", "Mutant kill matrix");
  if (!m.is_object()) return h + kNotRun;
  h += "<p>Each row is a classic way a BTT breaks, seeded as a mutant in each family that can "
       "express it: the crash explorer, the RapidCheck property families and the concurrent search "
       "(interleaved lanes, no crash) run mutants of the production core (the mutant build, "
       "tearproof-kill-matrix), Z3 runs mutants of the "
       "protocol model. A kill names the check that caught "
       "it.</p><table><tr><th>family</th><th>status</th><th>killed</th><th>note</th>"
       "</tr>";
  for (const json& f : m["families"]) {
    std::string note = f["reason"].is_string() ? E(f["reason"]) : "";
    if (f.contains("unmutated_clean") && f["unmutated_clean"].is_boolean()) {
      note += f["unmutated_clean"].get<bool>() ? "the unmutated core passes the same search"
                                               : "THE UNMUTATED CORE FAILS THE SAME SEARCH";
    }
    if (f.contains("kills_by_family") && f["kills_by_family"].is_object()) {
      note += fmt::format("; {} cases per RapidCheck family; kills per family:",
                          f["cases"].get<uint64_t>());
      for (const auto& [family, kills] : f["kills_by_family"].items()) {
        note += " " + E(family) + " " + Num(kills);
      }
    }
    h += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{} / {}</td><td>{}</td></tr>",
                     E(f["family"]), StatusSpan(f["status"]), Num(f["killed"]), Num(f["mutants"]),
                     note);
  }
  h += "</table>" + KillHeatMap(m);
  h += "<table><tr><th>bug</th><th>family</th><th>mutant</th><th>status</th><th>killed by</th>"
       "<th>where</th><th>rerun</th></tr>";
  for (const json& row : m["rows"]) {
    for (const char* family : {"explorer", "properties", "concurrency", "z3"}) {
      const json& cell = row[family];
      if (cell["status"] == "not-seeded" || cell["status"] == "not-run") continue;
      h += fmt::format(
          "<tr{}><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td></tr>",
          cell["status"] == "survived" ? " class=\"flag\"" : "", E(row["bug"]), family,
          cell["mutant"].is_string() ? E(cell["mutant"]) : "", StatusSpan(cell["status"]),
          cell["by"].is_string() ? E(cell["by"]) : "",
          cell["where"].is_string() ? E(cell["where"]) : "",
          cell["replay"].is_string() ? "<code>" + E(cell["replay"]) + "</code>" : "");
    }
  }
  return h + "</table></section>";
}

std::string CoverageSection(const json& r) {
  std::string h =
      "<section id=\"coverage\"><h2>Coverage marks (rare paths)</h2><p>A mark is claimed only "
      "from a number the campaign measured; a path never exercised is flagged.</p><table><tr>"
      "<th>mark</th><th>path</th><th>status</th><th>evidence</th></tr>";
  for (const json& m : r["coverage"]) {
    h += fmt::format("<tr{}><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                     m["status"] == "not-exercised" ? " class=\"flag\"" : "", E(m["id"]),
                     E(m["path"]), StatusSpan(m["status"]), E(m["evidence"]));
  }
  return h + "</table></section>";
}

std::string InteropSection(const json& r) {
  const json& i = r["interop"];
  std::string h = SectionStart("interop", "Interoperability (PMDK, ndctl)");
  if (!i.is_object()) return h + kNotRun;
  h += "<table><tr><th>check</th><th>tool</th><th>status</th><th>detail</th><th>command</th></tr>";
  for (const json& c : i["checks"]) {
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                     E(c["name"]), E(c["tool"]), StatusSpan(c["status"]), E(c["detail"]),
                     c["command"].is_string() ? "<code>" + E(c["command"]) + "</code>" : "");
  }
  return h + "</table></section>";
}

std::string ViolationsSection(const json& r) {
  std::string h = "<section id=\"violations\"><h2>Violations</h2>";
  if (r["violations"].empty()) {
    return h +
           "<p class=\"passed\">None: no check failed on the real core or protocol.</p>"
           "</section>";
  }
  for (const json& v : r["violations"]) {
    h += fmt::format("<div class=\"violation\"><h3>{} in {} ({})</h3><p>{}</p>", E(v["check"]),
                     E(v["configuration"]), E(v["phase"]), E(v["detail"]));
    if (v["workload"].is_string()) {
      h += fmt::format("<p>Workload <code>{}</code>, crash point {}, op in flight {}.</p>",
                       E(v["workload"]), Num(v["crash_point"]), Num(v["op_in_flight"]));
    }
    if (v["crash_state"].is_string() && !v["crash_state"].get<std::string>().empty()) {
      h += "<p>Crash state (word:candidate/count): <code>" + E(v["crash_state"]) + "</code></p>";
    }
    if (v["timeline"].is_array()) h += "<p>Timeline:</p>" + Timeline(v["timeline"]);
    h += fmt::format("<p>Trace: {}</p><p>Replay: <code>{}</code></p></div>",
                     v["trace"].is_string() ? "<code>" + E(v["trace"]) + "</code>" : "not recorded",
                     E(v["replay"]));
  }
  return h + "</section>";
}

std::string ReproduceSection(const json& r) {
  const json& g = r["generator"];
  const json& c = r["campaign"];
  std::string h = fmt::format(
      "<section id=\"reproduce\"><h2>Reproduce</h2><table>"
      "<tr><th>command</th><td><code>{}</code></td></tr>"
      "<tr><th>seed</th><td>{}</td></tr><tr><th>budget</th><td>{:g}</td></tr>"
      "<tr><th>config file</th><td>{}</td></tr>"
      "<tr><th>tearproof</th><td>{} (commit {})</td></tr>"
      "<tr><th>compiler</th><td>{}, {} build, sanitizers {}</td></tr>"
      "<tr><th>Z3</th><td>{}</td></tr><tr><th>host cores</th><td>{}</td></tr>"
      "<tr><th>campaign time</th><td>{}</td></tr>"
      "<tr><th>report schema</th><td>version {} (docs/report.md)</td></tr></table>",
      E(c["command"]), Num(c["seed"]), c["budget"].get<double>(),
      c["config_file"].is_string() ? E(c["config_file"]) : "none (embedded default)",
      E(g["version"]), E(g["commit"]), E(g["compiler"]), E(g["build_type"]), E(g["sanitizers"]),
      E(g["z3_version"]), Num(g["host_cores"]), Seconds(c["seconds"]), Num(r["schema_version"]));
  h += "<h3>Effective campaign configuration</h3><pre>" + E(c["config"].dump(2)) + "</pre>";
  return h + "</section>";
}

}  // namespace

std::string RenderHtml(const json& r) {
  const json& g = r["generator"];
  std::string h = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>tearproof report: {}</title><style>{}</style></head><body>"
      "<h1>tearproof: proof-of-atomicity report</h1>"
      "<p class=\"meta\">tearproof {} (commit {}), seed {}, budget {:g}, campaign time {}</p>",
      E(r["verdict"]["status"]), kCss, E(g["version"]), E(g["commit"]), Num(r["campaign"]["seed"]),
      r["campaign"]["budget"].get<double>(), Seconds(r["campaign"]["seconds"]));
  h += VerdictSection(r);
  h += "<nav><a href=\"#phases\">phases</a><a href=\"#explore\">exploration</a>"
       "<a href=\"#deep\">deep runs</a><a href=\"#controls\">controls</a><a href=\"#bmc\">Z3</a>"
       "<a href=\"#mutants\">mutants</a><a href=\"#coverage\">coverage</a>"
       "<a href=\"#interop\">interop</a><a href=\"#violations\">violations</a>"
       "<a href=\"#reproduce\">reproduce</a></nav>";
  h += PhasesSection(r) + ExploreSection(r) + DeepSection(r) + ConcurrentSection(r) +
       ControlsSection(r) + BmcSection(r) + MutantsSection(r) + CoverageSection(r) +
       InteropSection(r) + ViolationsSection(r) + ReproduceSection(r);
  return h + "</body></html>\n";
}

}  // namespace tearproof::tools
