#pragma once
// The optional JSON file beside a model (M.json for M.pt) that names its outputs and input:
//   {"input_length": 1000, "alphabet": "ACGT", "targets": ["counts", ...],
//    "heads": ["profile", "counts"], "default_head": "counts", "default_reduce": "none",
//    "input_layout": "ncl"}
// With it, --target takes a name, --head a head's name and --length defaults to the input
// length. `targets` name the columns of the explained output (after head and reduction);
// `heads` name the elements of a tuple or list output, in order; the defaults apply when
// --head, --reduce and --input-layout are not given (default_reduce only to default_head).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seqattr {

struct ModelMetadata {
  std::string path;          // the JSON file
  int64_t input_length = 0;  // 0: not given
  std::vector<std::string> targets;
  std::vector<std::string> heads;
  std::string default_head;    // "": none
  std::string default_reduce;  // "": none
  std::string input_layout;    // "": ncl
};

// Where the metadata of `model_path` is looked for: M.json for M.pt (or for M).
std::string metadata_path(const std::string& model_path);

// The metadata beside `model_path`, when that file exists; else, for a Keras HDF5 model, its
// input length and head names as the file gives them. Throws InputError naming the
// JSON file when it is malformed, or its alphabet is not ACGT (seqattr's one-hot order).
std::optional<ModelMetadata> read_model_metadata(const std::string& model_path);

// The output column that `text` names: a non-negative integer, or a name listed in the
// metadata's targets. Throws InputError naming --target otherwise.
int64_t resolve_target(const std::string& text, const std::optional<ModelMetadata>& metadata);

}  // namespace seqattr
