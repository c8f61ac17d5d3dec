#pragma once
// How the user asks for a model to be read (core/model_adapter.h does it): heads,
// reductions, layouts. Torch-free: the command line lists the names from here.
#include <string>
#include <vector>

namespace seqattr {

// How a head with a length axis, (N, S, L) or (N, L), becomes values per sequence.
enum class Reduction {
  None,               // the head is already (N, T)
  Sum,                // over length: (N, S), or (N, 1) for (N, L)
  Mean,               // likewise
  ChromBPNetProfile,  // sum_j w_j z_j, z = logits - mean(logits), w = softmax(z) held constant
  BPNetLiteProfile,   // the same value; z -> z * softmax(z) is one nonlinearity (bpnet-lite)
  Flatten,            // (N, S, L) -> (N, S * L): every track and position a column
};

// Throws InputError naming --reduce for an unknown name.
Reduction parse_reduction(const std::string& name);
std::string reduction_name(Reduction reduction);
const std::vector<std::string>& reduction_names();

// How the user asked for the model to be read. Empty strings: MODEL.json's default, else
// the built-in one.
struct ModelInterface {
  std::string head;          // a tuple/list index, or a dict key or MODEL.json head name
  std::string reduce;        // reduction_names()
  std::string input_layout;  // ncl | nlc
  std::string extra_inputs;  // "" (refuse a model with more inputs) | zeros
  std::string target;        // --target: "" for the default (column 0; whole head for profiles)
};

}  // namespace seqattr
