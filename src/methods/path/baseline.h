#pragma once
// Torch-free: the command line lists the names.
#include <string>
#include <vector>

namespace seqattr {

// The reference point: all zeros, 0.25 for every base, or (DeepLIFT only) a dinucleotide
// shuffle of the sequence.
enum class Baseline { Zeros, Uniform, DinucShuffle };

Baseline parse_baseline(const std::string& name);  // throws InputError naming --baseline
std::string baseline_name(Baseline baseline);
std::vector<std::string> baseline_names();

// 0 or 0.25: the value of every entry of a constant baseline.
double baseline_value(Baseline baseline);

}  // namespace seqattr
