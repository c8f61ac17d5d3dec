#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace seqattr {

// The reference point of path methods: all zeros, or 0.25 for every base.
enum class Baseline { Zeros, Uniform };

Baseline parse_baseline(const std::string& name);  // throws InputError naming --baseline
std::string baseline_name(Baseline baseline);
std::vector<std::string> baseline_names();

// (count, 4, length) float32 baselines on `device`.
torch::Tensor make_baselines(Baseline baseline, int64_t count, int64_t length,
                             const torch::Device& device);

}  // namespace seqattr
