#pragma once
// Logging to stderr, through spdlog. spdlog is included only by log.cpp, which is built
// without LibTorch's include path: LibTorch 2.x ships its own, newer fmt headers, which
// clash with the fmt Debian's spdlog was built against. Build messages with c10::str.
#include <string>

namespace seqattr::log {

enum class Level { Debug, Info, Warn };

void configure(Level level);
void debug(const std::string& message);
void info(const std::string& message);
void warn(const std::string& message);

}  // namespace seqattr::log
