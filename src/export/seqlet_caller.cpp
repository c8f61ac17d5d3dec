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

namespace {

// out[j] += scale * x[j]: the null's convolutions, nearly all of its time. Built for AVX2 too
// (chosen at run time where the CPU has it); without FMA, so every product and sum rounds as
// in the baseline build and the results are the same bits on any CPU.
__attribute__((target_clones("avx2", "default"))) void add_scaled(double* out, const double* x,
                                                                  double scale, size_t count) {
  for (size_t j = 0; j < count; ++j) out[j] += scale * x[j];
}

}  // namespace

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
  // Attributions bunch near zero: f is nonzero on a narrow run of bins [first, last], and
  // density[k - 1] on a run k - 1 times as wide. Each convolution is then one dense
  // multiply-add of that run of f per nonzero entry (vectorised; the zeros of f inside the
  // run add exact zeros, so sums are those of the sparse loop, in the same order).
  const auto nonzero = [](const std::vector<double>& v, size_t end) {
    size_t first = 0, last = 0;
    while (first < end && v[first] == 0) ++first;
    for (size_t i = first; i < end; ++i) {
      if (v[i] != 0) last = i;
    }
    return std::pair<size_t, size_t>{first, first < end ? last + 1 : first};
  };
  const auto [f_first, f_end] = nonzero(f, bins);
  const size_t f_width = f_end - f_first;
  for (size_t k = 2; k <= longest; ++k) {
    const auto [first, end] = nonzero(density[k - 1], bins * (k - 1));
    const double* fj = f.data() + f_first;
    for (size_t i = first; i < end; ++i) {
      const double d = density[k - 1][i];
      if (d == 0) continue;
      add_scaled(density[k].data() + i + f_first, fj, d, f_width);
    }
    for (size_t i = 1; i < bins * k; ++i) {
      upper_[k][i] = std::max(upper_[k][i - 1] - density[k][i], 0.0);
    }
  }
}

double SeqletNull::p_value(int64_t length, double sum) const {
  // floor, then clamped at 0 below: truncation is the same for what the clamp keeps.
  const double position = (sum - static_cast<double>(min_) * static_cast<double>(length)) / width_;
  const auto bin = position > 0 ? static_cast<int64_t>(position) : int64_t{0};
  const auto& tail = upper_[static_cast<size_t>(length)];
  return tail[static_cast<size_t>(std::clamp<int64_t>(bin, 0, static_cast<int64_t>(tail.size()) - 1))];
}

std::vector<Seqlet> call_seqlets(const float* values, int64_t length, int64_t row,
                                 const SeqletNull& null, const SeqletOptions& o) {
  SEQATTR_ASSERT(o.min_length >= 1 && o.max_length >= o.min_length);
  const auto n = static_cast<size_t>(length);
  std::vector<double> prefix(n + 1, 0.0);
  for (size_t j = 0; j < n; ++j) prefix[j + 1] = prefix[j] + (std::isfinite(values[j]) ? values[j] : 0.0);
  const auto sum = [&](int64_t a, int64_t b) { return prefix[static_cast<size_t>(b)] - prefix[static_cast<size_t>(a)]; };
  // P(k, s): the running maximum over lengths min_length..k of the p-values of spans at s
  // (tangermeme's table): 0 at lengths below min_length, 1 where a span does not fit, at
  // column length - min_length (tangermeme sets it so at every length) and at positions taken
  // by a seqlet. Only whether an entry is below the threshold matters once it is not
  // (candidates and the sub-span check compare with the threshold; a kept seqlet's own p-value
  // is below it), so a start stops being looked up at the first length where it fails
  // (limit[s]) and reads as 1 from there: most fail at the shortest length, and the table is
  // neither filled nor read beyond.
  thread_local std::vector<double> table;
  const auto rows = static_cast<size_t>(o.max_length) + 1;
  if (table.size() < rows * n) table.resize(rows * n);
  const auto stored = [&](int64_t k, int64_t s) -> double& {
    return table[static_cast<size_t>(k) * n + static_cast<size_t>(s)];
  };
  std::vector<int64_t> limit(n, o.min_length);  // lengths [min_length, limit) are stored
  std::vector<char> taken(n, 0);
  const int64_t fixed_column = length - o.min_length;  // 1 at every length, as tangermeme
  if (fixed_column >= 0) taken[static_cast<size_t>(fixed_column)] = 1;
  const auto P = [&](int64_t k, int64_t s) -> double {
    if (taken[static_cast<size_t>(s)]) return 1.0;
    if (k < o.min_length) return 0.0;
    return k < limit[static_cast<size_t>(s)] ? stored(k, s) : 1.0;
  };
  std::vector<std::vector<int64_t>> candidates(rows);  // per length: starts below the threshold
  std::vector<int64_t> active;
  for (int64_t s = 0; s + o.min_length <= length; ++s) {
    if (!taken[static_cast<size_t>(s)]) active.push_back(s);
  }
  for (int64_t k = o.min_length; k <= o.max_length && !active.empty(); ++k) {
    size_t kept = 0;
    for (const int64_t s : active) {
      if (s + k > length) continue;
      const double value = std::max(null.p_value(k, sum(s, s + k)), P(k - 1, s));
      if (value >= o.threshold) continue;
      stored(k, s) = value;
      limit[static_cast<size_t>(s)] = k + 1;
      candidates[static_cast<size_t>(k)].push_back(s);
      active[kept++] = s;
    }
    active.resize(kept);
  }
  std::vector<Seqlet> seqlets;
  for (int64_t k = o.max_length; k >= o.min_length; --k) {
    // tangermeme takes the smallest p-value left (the first of equals) until none is below
    // the threshold, setting taken positions to 1. Values only ever rise to 1, so the spans
    // below the threshold come up in the order of (p-value, start) as sorted now; a span
    // whose value has been set to 1 since is skipped.
    auto& order = candidates[static_cast<size_t>(k)];
    // Those taken by a longer seqlet are 1 by now.
    order.erase(std::remove_if(order.begin(), order.end(), [&](int64_t s) { return P(k, s) >= o.threshold; }),
                order.end());
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      const double pa = stored(k, a), pb = stored(k, b);
      return pa != pb ? pa < pb : a < b;
    });
    std::vector<double> sorted_p(order.size());
    for (size_t i = 0; i < order.size(); ++i) sorted_p[i] = stored(k, order[i]);
    for (size_t candidate = 0; candidate < order.size(); ++candidate) {
      const int64_t start = order[candidate];
      if (P(k, start) != sorted_p[candidate]) continue;  // taken since
      const double p_value = sorted_p[candidate];
      stored(k, start) = 1.0;
      bool inner = true;
      for (int64_t d = 1; d < k && inner; ++d) inner = P(k - d, start + d) < o.threshold;
      if (!inner) continue;
      // As tangermeme: the seqlet's positions are taken at every length (up to the row's last
      // position, which it never takes), and its end stops at length - 1.
      for (int64_t e = start; e < std::min(start + k, length - 1); ++e) taken[static_cast<size_t>(e)] = 1;
      const int64_t end = std::min(start + k + o.flank, length - 1);
      const int64_t first = std::max<int64_t>(start - o.flank, 0);
      seqlets.push_back({row, first, end, sum(first, end), p_value});
    }
  }
  return seqlets;
}

}  // namespace seqattr
