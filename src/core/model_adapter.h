#pragma once
// The models users hold, as seqattr's methods need them: one-hot (N, 4, L) in, (N, T) out.
//
// A model may take (N, L, 4) (converted from Keras), take more inputs than the sequence
// (bpnet-lite's control tracks), and return a tuple, list or dict of heads, some with a
// length axis (BPNet's profile logits (N, S, L_out) beside its log counts (N, 1)). The
// adapter wraps such a model in a TorchScript module compiled in memory, whose forward
// permutes the input, passes zeros for the extra inputs, picks the head and reduces it. So
// every method works on plain graph operations (DeepLIFT's rules, fast ISM's windows, FLOP
// counts) without knowing the model was adapted. A model that needs none of it is used as is.
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <optional>
#include <string>

#include "core/model.h"
#include "core/model_interface.h"
#include "core/model_metadata.h"

namespace seqattr {

// One output head of the model, as found by running it once.
struct HeadInfo {
  std::string key;   // "0", "1", ... for tuples and lists; the key for dicts; "" for a tensor
  std::string name;  // MODEL.json's name, else the key
  std::vector<int64_t> shape;
};

struct AdaptedModel {
  Model model;            // (N, 4, L) -> (N, T)
  int64_t target = 0;     // the column of the adapted output to explain
  bool adapted = false;   // false: the model is used as loaded
  std::string head;       // the head's name ("" for a single tensor)
  Reduction reduce = Reduction::None;
  std::optional<int64_t> track;  // profile reductions: the track --target picked (none: all)
  std::string input_layout = "ncl";
  std::vector<std::string> extra_inputs;  // names of the inputs given zeros
  std::vector<HeadInfo> heads;            // every head of the raw model
  std::string source;                     // the adapter's TorchScript source ("" if none)
  // T of the adapted (N, T) output: the raw probe's head shape for a model used as is, else
  // one forward pass of the adapter on zeros. `target` is below it (checked at adaptation).
  int64_t outputs = 0;
};

// Loads `path`, runs it once on zeros of `length` bases to learn its inputs and outputs,
// and adapts it as `interface` (and the metadata's defaults) say. Throws InputError naming
// the option at fault: several heads and no --head (listing them), a head with a length
// axis and no --reduce, unknown heads, layouts and reductions, extra inputs without
// --extra-inputs zeros (naming them), and targets out of range.
AdaptedModel load_adapted_model(const std::string& path, const ModelInterface& interface,
                                const std::optional<ModelMetadata>& metadata, int64_t length,
                                const torch::Device& device);

// The same for a model already loaded (one file adapted two ways shares its weights).
AdaptedModel adapt_model(const Model& raw, const ModelInterface& interface,
                         const std::optional<ModelMetadata>& metadata, int64_t length,
                         const torch::Device& device);

// What the output's parameters record of the adapted model: head, reduce, input_layout,
// extra_inputs and, for the profile reductions, profile_track (a track or "all").
nlohmann::json adapter_notes(const AdaptedModel& adapted);

}  // namespace seqattr
