#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace seqattr::log {

void configure(Level level) {
  auto logger = spdlog::get("seqattr");
  if (!logger) logger = spdlog::stderr_color_mt("seqattr");
  logger->set_pattern("[%H:%M:%S] %^%l%$: %v");
  logger->set_level(level == Level::Debug  ? spdlog::level::debug
                    : level == Level::Info ? spdlog::level::info
                                           : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void debug(const std::string& message) { spdlog::debug(message); }
void info(const std::string& message) { spdlog::info(message); }
void warn(const std::string& message) { spdlog::warn(message); }

}  // namespace seqattr::log
