// What every `tearproof` subcommand shares: exit statuses and the names of BTT profiles.
#pragma once

#include <map>
#include <string>

#include "btt/layout.h"

namespace tearproof::tools {

// 0 success / no violation; 1 a violation, an inconsistent or corrupt image, failed I/O;
// 2 a usage or environment error.
inline constexpr int kExitViolation = 1;
inline constexpr int kExitUsage = 2;

// --profile values, as ProfileName() spells them.
inline const std::map<std::string, btt::Profile>& ProfilesByName() {
  static const std::map<std::string, btt::Profile> profiles = {
      {"linux", btt::Profile::kLinux},
      {"uefi", btt::Profile::kUefi},
      {"pmemblk", btt::Profile::kPmemblk}};
  return profiles;
}

}  // namespace tearproof::tools
