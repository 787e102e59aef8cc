// The image commands of the `tearproof` CLI: format, info, check, read, write, zero.
//
// They run the production BTT core on a file through btt::FileNamespace (libpmem: real flush
// instructions on persistent memory, msync on ordinary files). `read` writes raw sector bytes to
// stdout and `write` takes them from stdin, so the CLI composes with dd, cmp and sha256sum.
// Exit status: 0 success; 1 the image is inconsistent (check findings), corrupt or the I/O
// failed; 2 usage error.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace tearproof::tools {

// Adds the subcommands to `app`; the returned function runs whichever was parsed and returns the
// exit status, or -1 when none of them was.
std::function<int()> AddImageCommands(CLI::App& app);

}  // namespace tearproof::tools
