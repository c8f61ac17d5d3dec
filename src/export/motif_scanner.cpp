#include "export/motif_scanner.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace seqattr {
namespace {

constexpr double kScale = 100;         // log-odds (bits) to integers: 0.01-bit resolution
constexpr double kPseudocount = 0.01;  // of the background, mixed into each probability

int base_index(char c) {
  switch (c) {
    case 'A': return 0;
    case 'C': return 1;
    case 'G': return 2;
    case 'T': return 3;
    default: return -1;
  }
}

}  // namespace

MotifScanner::MotifScanner(const MotifDatabase& database) {
  const auto& bg = database.background;
  for (const auto& motif : database.motifs) {
    Scoring s;
    for (const auto& row : motif.probabilities) {
      std::array<int, 4> column{};
      for (int b = 0; b < 4; ++b) {
        const double p = (1 - kPseudocount) * row[static_cast<size_t>(b)] + kPseudocount * bg[static_cast<size_t>(b)];
        column[static_cast<size_t>(b)] = static_cast<int>(std::lround(kScale * std::log2(p / bg[static_cast<size_t>(b)])));
      }
      s.forward.push_back(column);
    }
    for (auto it = s.forward.rbegin(); it != s.forward.rend(); ++it) {
      s.reverse.push_back({(*it)[3], (*it)[2], (*it)[1], (*it)[0]});
    }
    // The score's distribution under the background, column by column.
    std::vector<double> density = {1.0};
    s.minimum = 0;
    for (const auto& column : s.forward) {
      const int low = *std::min_element(column.begin(), column.end());
      const int high = *std::max_element(column.begin(), column.end());
      std::vector<double> next(density.size() + static_cast<size_t>(high - low), 0.0);
      for (size_t k = 0; k < density.size(); ++k) {
        if (density[k] == 0) continue;
        for (int b = 0; b < 4; ++b) {
          next[k + static_cast<size_t>(column[static_cast<size_t>(b)] - low)] += density[k] * bg[static_cast<size_t>(b)];
        }
      }
      density = std::move(next);
      s.minimum += low;
    }
    s.tail.assign(density.size() + 1, 0.0);
    for (size_t k = density.size(); k-- > 0;) s.tail[k] = s.tail[k + 1] + density[k];
    scorings_.push_back(std::move(s));
    names_.push_back(motif.id);  // the BED name column: the identifier, never spaced
  }
}

double MotifScanner::placement_p(const Scoring& s, const std::vector<std::array<int, 4>>& matrix,
                                 const std::string& window, int64_t at) const {
  int score = 0;
  for (size_t j = 0; j < matrix.size(); ++j) {
    const int b = base_index(window[static_cast<size_t>(at) + j]);
    // N scores the column's lowest: a placement never gains from missing sequence.
    score += b >= 0 ? matrix[j][static_cast<size_t>(b)] : *std::min_element(matrix[j].begin(), matrix[j].end());
  }
  const auto k = static_cast<size_t>(std::clamp<int64_t>(score - s.minimum, 0, static_cast<int64_t>(s.tail.size()) - 1));
  return s.tail[k];
}

MotifMatch MotifScanner::best(const std::string& window, int64_t start, int64_t end) const {
  MotifMatch best;
  const int64_t middle = (start + end - 1) / 2;
  const auto length = static_cast<int64_t>(window.size());
  for (size_t m = 0; m < scorings_.size(); ++m) {
    const Scoring& s = scorings_[m];
    const auto width = static_cast<int64_t>(s.forward.size());
    const int64_t first = std::max<int64_t>(0, middle - width + 1);
    const int64_t last = std::min<int64_t>(middle, length - width);
    if (last < first) continue;
    double p = 1;
    char strand = '.';
    for (int64_t at = first; at <= last; ++at) {
      for (const char which : {'+', '-'}) {
        const double q = placement_p(s, which == '+' ? s.forward : s.reverse, window, at);
        if (q < p) {
          p = q;
          strand = which;
        }
      }
    }
    const double tried = 2.0 * static_cast<double>(last - first + 1);
    const double corrected = -std::expm1(tried * std::log1p(-std::min(p, 1.0 - 1e-16)));
    if (corrected < best.p_value || best.motif < 0) best = {static_cast<int64_t>(m), strand, corrected};
  }
  return best;
}

std::vector<double> bh_q_values(const std::vector<double>& p) {
  const size_t n = p.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> q(n, 1.0);
  double running = 1.0;
  for (size_t r = n; r-- > 0;) {
    running = std::min(running, p[order[r]] * static_cast<double>(n) / static_cast<double>(r + 1));
    q[order[r]] = running;
  }
  return q;
}

}  // namespace seqattr
