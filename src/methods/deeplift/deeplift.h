#pragma once
// DeepLIFT and DeepLIFT-SHAP over (sequence, reference) pairs. Each batch is laid out as
// [the chunk's sequences once; one row per pair's reference] (pair_layout.h): the input's
// own activations are computed once per sequence, not once per pair.
#include <torch/torch.h>

#include <functional>
#include <set>
#include <string>

#include "core/attribution_block.h"
#include "core/model.h"
#include "methods/deeplift/graph_rewrite.h"

namespace seqattr::deeplift {

// References of sequences [first, first + count): (count, R, 4, L) float32 on the CPU.
using ReferenceSource = std::function<torch::Tensor(int64_t first, int64_t count)>;

struct Plan {
  int64_t references = 1;  // R per sequence
  ReferenceSource make_references;
  // DeepLIFT-SHAP reports the largest |delta| over a sequence's references; DeepLIFT
  // (R = 1) the signed delta.
  bool largest_absolute_delta = false;
};

// The model with DeepLIFT's rules in its graph.
struct RuledModel {
  Model model;
  std::set<std::string> unruled_ops;
  // The dtype passes run in: float32, or float64 for ill-conditioned rules
  // (graph_rewrite.h). Results are float32 either way.
  torch::ScalarType dtype = torch::kFloat32;
  bool carries_delta = false;  // secants from Δ (delta_graph.h)
  std::string secants_note;
};
RuledModel prepare_model(const Model& model, Secants secants = Secants::Auto);

// Hypothetical attributions are the mean over references of
//   hyp_k[i] = sum_c (e_i - r_k)_c m_k,c,
// attributions are hyp x one-hot, predictions are f(x). At most `batch_pairs` pairs a pass.
void run_deeplift(RuledModel& ruled, const torch::Tensor& one_hot, const Plan& plan,
                  int64_t target, int64_t outputs, int64_t batch_pairs, const BlockSink& sink,
                  const ProgressCallback& progress);

}  // namespace seqattr::deeplift
