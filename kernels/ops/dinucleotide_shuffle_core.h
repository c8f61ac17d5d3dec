#pragma once
// The dinucleotide shuffle of one sequence, written once for the host and the device: the
// CPU kernel (kernels/cpu/dinucleotide_shuffle_kernel.cpp) and its CUDA twin call these
// same functions, so their results are identical bit for bit. Plain C arrays, no std::
// containers or recursion, so that nvcc compiles it for the device.
//
// Altschul-Erickson Euler-path shuffle: each shuffle keeps the first and last base and the
// exact count of every dinucleotide, and is drawn uniformly from all sequences that do
// (random last-exit arborescence by Wilson's algorithm, then uniformly ordered remaining
// exits). N, an all-zero column, is a fifth letter: dinucleotides with N ("AN", "NN", ...)
// are kept like any other, so a shuffle has as many N as its input; their columns stay
// all-zero.
//
// A sequence is a (4, L) uint8 one-hot, channel-major (one_hot[c * L + l]); a column with
// several ones reads as its last one (as an all-zero column reads as N).
#include <c10/macros/Macros.h>

#include <cstdint>

namespace seqattr::ops::shuffle {

constexpr int kLetters = 5;  // A, C, G, T, N
constexpr int kN = 4;

// SplitMix64: a small counter-based generator, identical on every platform and build.
struct SplitMix64 {
  uint64_t state;

  C10_HOST_DEVICE uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0, without modulo bias.
  C10_HOST_DEVICE uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = next(); while (r >= limit);
    return r % n;
  }
};

C10_HOST_DEVICE inline uint64_t mix(uint64_t a, uint64_t b) {
  return SplitMix64{a ^ (b * 0xd1342543de82ef95ULL)}.next();
}

// The generator of shuffle j of sequence `sequence_index`.
C10_HOST_DEVICE inline SplitMix64 shuffle_stream(uint64_t seed, uint64_t sequence_index, uint64_t j) {
  return SplitMix64{mix(mix(seed, sequence_index), j)};
}

C10_HOST_DEVICE inline int letter_at(const uint8_t* one_hot, int64_t length, int64_t l) {
  int letter = kN;
  for (int c = 0; c < 4; ++c) {
    if (one_hot[c * length + l]) letter = c;
  }
  return letter;
}

template <typename T>
C10_HOST_DEVICE void swap_values(T& a, T& b) {
  const T t = a;
  a = b;
  b = t;
}

// Orderings of a multiset of letters, capped at 2 (all we need to know is "one or more").
C10_HOST_DEVICE inline int orderings_capped(const int64_t* counts) {
  int distinct = 0;
  for (int w = 0; w < kLetters; ++w) distinct += counts[w] > 0;
  return distinct > 1 ? 2 : 1;
}

// Whether exactly one sequence has these dinucleotide counts (counts[v][w]: how often w
// follows v) and ends in `root`: the sum over last-exit choices that form an arborescence
// into `root` of the product of orderings of the remaining exits (BEST theorem), counted by
// an odometer over the choices (at most 5^4).
C10_HOST_DEVICE inline bool only_one_shuffle(const int64_t (&counts)[kLetters][kLetters], int root) {
  int sources[kLetters];
  int n_sources = 0;
  for (int v = 0; v < kLetters; ++v) {
    int64_t exits = 0;
    for (int w = 0; w < kLetters; ++w) exits += counts[v][w];
    if (v != root && exits > 0) sources[n_sources++] = v;
  }
  // choice[v]: v's last exit. Start each source at its first letter with an exit.
  int choice[kLetters] = {0, 0, 0, 0, 0};
  for (int k = 0; k < n_sources; ++k) {
    const int v = sources[k];
    while (counts[v][choice[v]] == 0) ++choice[v];
  }
  int total = 0;
  while (true) {
    bool tree = true;  // every source reaches the root along its choices
    for (int k = 0; k < n_sources && tree; ++k) {
      int u = sources[k], steps = 0;
      while (u != root && steps++ <= kLetters) u = choice[u];
      tree = u == root;
    }
    if (tree) {
      int product = orderings_capped(counts[root]);
      for (int k = 0; k < n_sources; ++k) {
        const int v = sources[k];
        int64_t remaining[kLetters];
        for (int w = 0; w < kLetters; ++w) remaining[w] = counts[v][w];
        --remaining[choice[v]];
        product *= orderings_capped(remaining);
      }
      total += product;
      if (total > 1) return false;
    }
    // Next choice, the first source's digit turning fastest.
    int k = 0;
    for (; k < n_sources; ++k) {
      const int v = sources[k];
      int w = choice[v] + 1;
      while (w < kLetters && counts[v][w] == 0) ++w;
      if (w < kLetters) {
        choice[v] = w;
        break;
      }
      w = 0;
      while (counts[v][w] == 0) ++w;
      choice[v] = w;
    }
    if (k == n_sources) break;
  }
  return total == 1;
}

// Whether the sequence has no shuffle but itself (a periodic repeat, one base repeated,
// length <= 2, ...). True for length 0.
C10_HOST_DEVICE inline bool has_only_one_shuffle(const uint8_t* one_hot, int64_t length) {
  if (length == 0) return true;
  int64_t counts[kLetters][kLetters] = {};
  int previous = letter_at(one_hot, length, 0);
  for (int64_t l = 1; l < length; ++l) {
    const int letter = letter_at(one_hot, length, l);
    ++counts[previous][letter];
    previous = letter;
  }
  return only_one_shuffle(counts, previous);
}

// Writes one shuffle of `one_hot` into `out` ((4, L), all zeros on entry), drawing from
// `rng`; with `only_one` writes the sequence itself and draws nothing. `scratch` holds
// L - 1 bytes: the exits (letters following each letter), grouped by letter in position
// order, then put in the shuffle's order in place.
C10_HOST_DEVICE inline void shuffle_into(const uint8_t* one_hot, int64_t length, bool only_one,
                                         SplitMix64 rng, uint8_t* scratch, uint8_t* out) {
  if (length == 0) return;
  if (only_one) {
    for (int64_t l = 0; l < length; ++l) {
      const int letter = letter_at(one_hot, length, l);
      if (letter != kN) out[letter * length + l] = 1;
    }
    return;
  }
  // Exits of v: scratch[begin[v] .. begin[v + 1]), by a counting sort of the dinucleotides.
  int64_t begin[kLetters + 1] = {0, 0, 0, 0, 0, 0};
  const int first = letter_at(one_hot, length, 0);
  int root = first;  // the last letter, once the loop is done
  for (int64_t l = 1; l < length; ++l) {
    ++begin[root + 1];
    root = letter_at(one_hot, length, l);
  }
  for (int v = 0; v < kLetters; ++v) begin[v + 1] += begin[v];
  int64_t filled[kLetters];
  for (int v = 0; v < kLetters; ++v) filled[v] = begin[v];
  int previous = first;
  for (int64_t l = 1; l < length; ++l) {
    const int letter = letter_at(one_hot, length, l);
    scratch[filled[previous]++] = static_cast<uint8_t>(letter);
    previous = letter;
  }
  uint64_t size[kLetters];
  for (int v = 0; v < kLetters; ++v) size[v] = static_cast<uint64_t>(begin[v + 1] - begin[v]);

  // Wilson's algorithm: a uniformly random arborescence of last exits into the root.
  bool in_tree[kLetters] = {false, false, false, false, false};
  uint64_t last[kLetters] = {0, 0, 0, 0, 0};
  in_tree[root] = true;
  for (int v = 0; v < kLetters; ++v) {
    if (size[v] == 0) continue;
    for (int u = v; !in_tree[u]; u = scratch[begin[u] + last[u]]) last[u] = rng.below(size[u]);
    for (int u = v; !in_tree[u]; u = scratch[begin[u] + last[u]]) in_tree[u] = true;
  }
  // Each letter's chosen last exit goes to the end; the others are shuffled (Fisher-Yates).
  for (int v = 0; v < kLetters; ++v) {
    uint8_t* exits = scratch + begin[v];
    uint64_t free_count = size[v];
    if (free_count == 0) continue;
    if (v != root) {
      swap_values(exits[last[v]], exits[free_count - 1]);
      --free_count;
    }
    for (uint64_t i = free_count; i > 1; --i) swap_values(exits[i - 1], exits[rng.below(i)]);
  }
  // The Euler path: from the first letter, each letter's exits in their shuffled order.
  uint64_t used[kLetters] = {0, 0, 0, 0, 0};
  int letter = first;
  for (int64_t l = 0; l < length; ++l) {
    if (l > 0) {
      letter = scratch[begin[letter] + used[letter]++];
    }
    if (letter != kN) out[letter * length + l] = 1;
  }
}

}  // namespace seqattr::ops::shuffle
