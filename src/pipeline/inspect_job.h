#pragma once
// `seqattr inspect`: what a user needs to know about a model before a long run: its input
// layout and length, its output heads and which one is explained, forward FLOPs, which of
// its operations DeepLIFT has a rule for, whether fast ISM applies (and if not, why), and
// its receptive field.
#include <nlohmann/json.hpp>

#include <string>

namespace seqattr {

struct InspectOptions {
  std::string model;
  int64_t length = 0;  // 0: input_length from MODEL.json
  // How the model is read, as `seqattr attribute` takes them (core/model_adapter.h).
  std::string target, head, reduce, input_layout, extra_inputs;
};

// Loads and examines the model on the CPU. Throws InputError as `seqattr attribute` would
// for the same model and options.
nlohmann::ordered_json inspect_model(const InspectOptions& options);

// The report as a few lines of text for a terminal.
std::string inspect_text(const nlohmann::ordered_json& report);

}  // namespace seqattr
