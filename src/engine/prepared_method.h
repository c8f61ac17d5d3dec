#pragma once
// A method made ready once per run (model analysed, rules inserted, plans built) and then
// run on each part of the sequences.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>

#include "engine/attribute_job.h"
#include "engine/attribution_block.h"
#include "engine/model.h"

namespace seqattr {

struct PreparedMethod {
  bool convergence_delta = false;
  bool ism_delta = false;
  int64_t references_per_sequence = 0;  // > 0 when the references are stored (--save-references)
  // Explains `one_hot` (S, 4, L) uint8, sequences [first, first + S) of the whole run.
  // Blocks carry `first` relative to the part. Sets *references to the stored references
  // (S, R, 4, L) when references_per_sequence > 0.
  std::function<void(const torch::Tensor& one_hot, int64_t first, const BlockSink&,
                     const ProgressCallback&, torch::Tensor* references)>
      run;
  // Called once after the last part: warnings that summarise the whole run.
  std::function<void()> finish = [] {};
  nlohmann::json notes = nlohmann::json::object();  // added to the output's parameters
};

// `sequences` and `length` describe the whole run (for --references files); `target` is
// the output column --target named.
PreparedMethod prepare_method(const AttributeOptions& options, Model& model, int64_t target,
                              int64_t outputs, int64_t sequences, int64_t length);

}  // namespace seqattr
