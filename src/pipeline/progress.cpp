#include "pipeline/progress.h"

#include <unistd.h>

#include <cstdio>

namespace seqattr {
namespace {

std::string format_duration(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  }
  return text;
}

}  // namespace

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled,
                         std::chrono::milliseconds delay)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      delay_(delay),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::wanted(bool quiet) { return !quiet && isatty(STDERR_FILENO); }

void ProgressBar::update(int64_t done) {
  if (!enabled_ || total_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < delay_) return;
  if (drawn_ && done < total_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  const double eta = done > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %5.1f%% %.1f/s ETA %s ", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), 100.0 * fraction,
               elapsed > 0 ? done / elapsed : 0.0, format_duration(eta).c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (drawn_) {
    std::fputc('\n', stderr);
    drawn_ = false;
  }
  enabled_ = false;
}

}  // namespace seqattr
