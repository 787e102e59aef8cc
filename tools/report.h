// The proof-of-atomicity report: report.json, index.html and report.md of `tearproof prove`.
//
// report.json is the one source of truth (schema: docs/report.schema.json, described in
// docs/report.md); the HTML page, the Markdown summary and the text summary are renderings of it
// and hold no fact that is not in it. The HTML is self-contained: inline CSS and SVG, no script,
// no network, readable without JavaScript and printable. Every string from the report is escaped
// for the format it lands in.
//
// Renderers REQUIRE a document of the current schema_version (they read fields without checking
// their presence); WriteReportFiles checks that much and returns a Status, never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

namespace tearproof::tools {

// Bumped on any change that can break a reader of report.json (docs/report.md, "Versioning").
inline constexpr int kReportSchemaVersion = 2;

// {"tool", "version", "commit", "compiler", "build_type", "sanitizers", "z3_version",
// "host_cores"}.
nlohmann::json GeneratorJson();

// Creates `dir` (and parents) if needed and checks that files can be written in it.
Status PrepareReportDirectory(const std::string& dir);

// Writes dir/report.json, dir/index.html and dir/report.md.
Status WriteReportFiles(const nlohmann::json& report, const std::string& dir);

std::string RenderText(const nlohmann::json& report);      // the terminal summary
std::string RenderMarkdown(const nlohmann::json& report);  // report.md, for a PR comment
std::string RenderHtml(const nlohmann::json& report);      // index.html

std::string HtmlEscape(std::string_view text);

}  // namespace tearproof::tools
