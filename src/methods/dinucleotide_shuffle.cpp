#include "methods/dinucleotide_shuffle.h"

#include <array>
#include <functional>
#include <vector>

namespace seqattr {
namespace {

constexpr int kLetters = 5;  // A, C, G, T, N
constexpr int kN = 4;

// SplitMix64: a small counter-based generator, identical on every platform and build.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), without modulo bias.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = next(); while (r >= limit);
    return r % n;
  }

 private:
  uint64_t state_;
};

uint64_t mix(uint64_t a, uint64_t b) { return SplitMix64(a ^ (b * 0xd1342543de82ef95ULL)).next(); }

std::vector<int> tokens_of(const torch::Tensor& one_hot) {
  const auto acc = one_hot.accessor<uint8_t, 2>();
  std::vector<int> tokens(one_hot.size(1), kN);
  for (int64_t l = 0; l < one_hot.size(1); ++l) {
    for (int c = 0; c < 4; ++c) {
      if (acc[c][l]) tokens[l] = c;
    }
  }
  return tokens;
}

using Exits = std::array<std::vector<int>, kLetters>;  // exits[v]: letters following v, in order

Exits exits_of(const std::vector<int>& tokens) {
  Exits exits;
  for (size_t p = 0; p + 1 < tokens.size(); ++p) exits[tokens[p]].push_back(tokens[p + 1]);
  return exits;
}

// Orderings of a multiset of letters, capped at 2 (all we need to know is "one or more").
int orderings_capped(const std::array<int, kLetters>& counts) {
  int distinct = 0;
  for (int c : counts) distinct += c > 0;
  return distinct > 1 ? 2 : 1;
}

// Whether exactly one sequence has these dinucleotide counts, first and last letter: sum over
// last-exit choices that form an arborescence into `root` of the product of orderings of
// the remaining exits (BEST theorem, counted by enumeration: at most 5^4 choices).
bool only_one_shuffle(const Exits& exits, int root) {
  std::array<std::array<int, kLetters>, kLetters> counts{};
  std::vector<int> sources;
  for (int v = 0; v < kLetters; ++v) {
    for (int w : exits[v]) ++counts[v][w];
    if (v != root && !exits[v].empty()) sources.push_back(v);
  }
  int total = 0;
  std::array<int, kLetters> choice{};
  // Odometer over choice[v] for v in sources.
  std::function<void(size_t)> visit = [&](size_t k) {
    if (total > 1) return;
    if (k == sources.size()) {
      for (int v : sources) {  // every source reaches the root along its choices
        int u = v, steps = 0;
        while (u != root && steps++ <= kLetters) u = choice[u];
        if (u != root) return;
      }
      int product = orderings_capped(counts[root]);
      for (int v : sources) {
        auto remaining = counts[v];
        --remaining[choice[v]];
        product *= orderings_capped(remaining);
      }
      total += product;
      return;
    }
    const int v = sources[k];
    for (int w = 0; w < kLetters; ++w) {
      if (counts[v][w] == 0) continue;
      choice[v] = w;
      visit(k + 1);
    }
  };
  visit(0);
  return total == 1;
}

std::vector<int> shuffle_once(const std::vector<int>& tokens, const Exits& exits, int root,
                              SplitMix64& rng) {
  // Wilson's algorithm: a uniformly random arborescence of last exits into the root.
  std::array<bool, kLetters> in_tree{};
  std::array<size_t, kLetters> last{};
  in_tree[root] = true;
  for (int v = 0; v < kLetters; ++v) {
    if (exits[v].empty()) continue;
    for (int u = v; !in_tree[u]; u = exits[u][last[u]]) last[u] = rng.below(exits[u].size());
    for (int u = v; !in_tree[u]; u = exits[u][last[u]]) in_tree[u] = true;
  }
  Exits order = exits;
  for (int v = 0; v < kLetters; ++v) {
    auto& out = order[v];
    if (out.empty()) continue;
    size_t free_count = out.size();
    if (v != root) {  // the chosen last exit goes to the end, the others are shuffled
      std::swap(out[last[v]], out.back());
      --free_count;
    }
    for (size_t i = free_count; i > 1; --i) std::swap(out[i - 1], out[rng.below(i)]);
  }
  std::vector<int> result(tokens.size());
  std::array<size_t, kLetters> used{};
  result[0] = tokens[0];
  for (size_t j = 1; j < tokens.size(); ++j) {
    const int u = result[j - 1];
    result[j] = order[u][used[u]++];
  }
  return result;
}

}  // namespace

torch::Tensor dinucleotide_shuffles(const torch::Tensor& one_hot, int64_t count, uint64_t seed,
                                    uint64_t sequence_index, bool* only_one) {
  TORCH_INTERNAL_ASSERT(one_hot.dim() == 2 && one_hot.size(0) == 4 &&
                        one_hot.scalar_type() == torch::kUInt8 && count >= 0);
  const auto tokens = tokens_of(one_hot.contiguous());
  const int64_t length = static_cast<int64_t>(tokens.size());
  auto out = torch::zeros({count, 4, length}, torch::kUInt8);
  if (length == 0) {
    *only_one = true;
    return out;
  }
  const auto exits = exits_of(tokens);
  const int root = tokens.back();
  *only_one = only_one_shuffle(exits, root);
  auto acc = out.accessor<uint8_t, 3>();
  for (int64_t j = 0; j < count; ++j) {
    SplitMix64 rng(mix(mix(seed, sequence_index), static_cast<uint64_t>(j)));
    const auto shuffled = *only_one ? tokens : shuffle_once(tokens, exits, root, rng);
    for (int64_t l = 0; l < length; ++l) {
      if (shuffled[l] != kN) acc[j][shuffled[l]][l] = 1;
    }
  }
  return out;
}

}  // namespace seqattr
