#include "export/seqlet_caller.h"

#include <algorithm>
#include <cmath>

#include "common/errors.h"

namespace seqattr {

// The arithmetic mirrors tangermeme's (numba, float32 input): the range and the differences
// from its minimum in float32, the bin width and the divisions in float64; so a value on a bin
// edge falls in the bin it falls in there.
void SeqletNull::range(const float* values, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) continue;
    if (!seen_) min_ = max_ = v;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    seen_ = true;
  }
}

void SeqletNull::add(const float* values, int64_t count) {
  if (histogram_.empty()) {
    histogram_.assign(static_cast<size_t>(options_.bins), 0.0);
    // A constant input has no spread: one bin holds it all.
    width_ = max_ > min_ ? static_cast<double>(max_ - min_) / static_cast<double>(options_.bins - 1) : 1.0;
  }
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) continue;
    const auto bin = static_cast<int64_t>(std::floor(static_cast<double>(values[i] - min_) / width_));
    histogram_[static_cast<size_t>(std::clamp<int64_t>(bin, 0, options_.bins - 1))] += 1;
    total_ += 1;
  }
}

void SeqletNull::finish() {
  const auto bins = static_cast<size_t>(options_.bins);
  const auto longest = static_cast<size_t>(options_.max_length);
  std::vector<double> f(histogram_);
  for (auto& x : f) x /= total_;
  std::vector<std::vector<double>> density(longest + 1, std::vector<double>(bins * longest, 0.0));
  upper_.assign(longest + 1, std::vector<double>(bins * longest, 0.0));
  for (auto& row : upper_) row[0] = 1.0;
  std::copy(f.begin(), f.end(), density[1].begin());
  // Length 1 keeps upper_[1] = {1, 0, 0, ...}, as tangermeme's (never read: min_length >= 1
  // spans of one position use it only when min_length is 1).
  // Attributions bunch near zero: most bins of f are empty, and skipping them makes the
  // max_length convolutions (bins^2 x max_length^2 / 2 products in full) cheap.
  std::vector<size_t> occupied;
  for (size_t j = 0; j < bins; ++j) {
    if (f[j] != 0) occupied.push_back(j);
  }
  for (size_t k = 2; k <= longest; ++k) {
    for (size_t i = 0; i < bins * (k - 1); ++i) {
      if (density[k - 1][i] == 0) continue;
      for (const size_t j : occupied) density[k][i + j] += density[k - 1][i] * f[j];
    }
    for (size_t i = 1; i < bins * k; ++i) {
      upper_[k][i] = std::max(upper_[k][i - 1] - density[k][i], 0.0);
    }
  }
}

double SeqletNull::p_value(int64_t length, double sum) const {
  const auto bin = static_cast<int64_t>(
      std::floor((sum - static_cast<double>(min_) * static_cast<double>(length)) / width_));
  const auto& tail = upper_[static_cast<size_t>(length)];
  return tail[static_cast<size_t>(std::clamp<int64_t>(bin, 0, static_cast<int64_t>(tail.size()) - 1))];
}

std::vector<Seqlet> call_seqlets(const float* values, int64_t length, int64_t row,
                                 const SeqletNull& null, const SeqletOptions& o) {
  SEQATTR_ASSERT(o.min_length >= 1 && o.max_length >= o.min_length);
  std::vector<double> prefix(static_cast<size_t>(length) + 1, 0.0);
  for (int64_t j = 0; j < length; ++j) {
    prefix[static_cast<size_t>(j + 1)] = prefix[static_cast<size_t>(j)] + (std::isfinite(values[j]) ? values[j] : 0.0);
  }
  const auto sum = [&](int64_t a, int64_t b) { return prefix[static_cast<size_t>(b)] - prefix[static_cast<size_t>(a)]; };
  // p[k][s]: the running maximum over lengths min_length..k of the p-values of spans at s;
  // rows below min_length are 0 and positions a span of k does not fit are 1 (tangermeme also
  // sets column length - min_length to 1 at every length).
  std::vector<std::vector<double>> p(static_cast<size_t>(o.max_length) + 1,
                                     std::vector<double>(static_cast<size_t>(length), 1.0));
  for (int64_t k = 0; k < o.min_length; ++k) std::fill(p[static_cast<size_t>(k)].begin(), p[static_cast<size_t>(k)].end(), 0.0);
  if (length >= o.min_length) {
    for (auto& r : p) r[static_cast<size_t>(length - o.min_length)] = 1.0;
  }
  for (int64_t k = o.min_length; k <= o.max_length; ++k) {
    for (int64_t s = 0; s + k <= length; ++s) {
      p[static_cast<size_t>(k)][static_cast<size_t>(s)] =
          std::max(null.p_value(k, sum(s, s + k)), p[static_cast<size_t>(k - 1)][static_cast<size_t>(s)]);
    }
  }
  std::vector<Seqlet> seqlets;
  for (int64_t k = o.max_length; k >= o.min_length; --k) {
    auto& at = p[static_cast<size_t>(k)];
    while (true) {
      const auto best = std::min_element(at.begin(), at.end());
      const int64_t start = best - at.begin();
      const double p_value = *best;
      *best = 1.0;
      if (p_value >= o.threshold) break;
      bool inner = true;
      for (int64_t d = 1; d < k && inner; ++d) {
        inner = p[static_cast<size_t>(k - d)][static_cast<size_t>(start + d)] < o.threshold;
      }
      if (!inner) continue;
      // As tangermeme: the seqlet's positions are taken at every length (up to the row's last
      // position, which it never takes), and its end stops at length - 1.
      for (int64_t e = start; e < std::min(start + k, length - 1); ++e) {
        for (auto& r : p) r[static_cast<size_t>(e)] = 1.0;
      }
      const int64_t end = std::min(start + k + o.flank, length - 1);
      const int64_t first = std::max<int64_t>(start - o.flank, 0);
      seqlets.push_back({row, first, end, sum(first, end), p_value});
    }
  }
  return seqlets;
}

}  // namespace seqattr
