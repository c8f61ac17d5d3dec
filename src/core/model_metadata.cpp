#include "core/model_metadata.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "common/errors.h"
#include "core/keras/keras_file.h"
#include "core/keras/keras_graph.h"

namespace seqattr {
namespace {

bool is_index(const std::string& text) {
  return !text.empty() && text.size() < 19 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// A Keras file describes itself: its input length and output names are the metadata.
ModelMetadata keras_metadata(const std::string& model_path) {
  const auto graph = keras::parse_graph(keras::read_file(model_path, false).model_config, model_path);
  ModelMetadata metadata;
  metadata.path = model_path;
  metadata.input_length = graph.input_length;
  metadata.heads = graph.heads;
  return metadata;
}

}  // namespace

std::string metadata_path(const std::string& model_path) {
  const auto slash = model_path.rfind('/');
  const auto dot = model_path.rfind('.');
  const bool has_extension = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return (has_extension ? model_path.substr(0, dot) : model_path) + ".json";
}

std::optional<ModelMetadata> read_model_metadata(const std::string& model_path) {
  ModelMetadata metadata;
  metadata.path = metadata_path(model_path);
  std::ifstream in(metadata.path);
  if (!in && keras::is_hdf5(model_path)) return keras_metadata(model_path);
  if (!in) return std::nullopt;
  try {
    const auto json = nlohmann::json::parse(in);
    metadata.input_length = json.value("input_length", int64_t{0});
    metadata.targets = json.value("targets", std::vector<std::string>{});
    metadata.heads = json.value("heads", std::vector<std::string>{});
    metadata.default_head = json.value("default_head", std::string());
    metadata.default_reduce = json.value("default_reduce", std::string());
    metadata.input_layout = json.value("input_layout", std::string());
    const auto alphabet = json.value("alphabet", std::string("ACGT"));
    if (alphabet != "ACGT") {
      throw InputError("model metadata '" + metadata.path + "': alphabet '" + alphabet +
                       "' is not supported; seqattr's one-hot channels are A, C, G, T in order");
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError("model metadata '" + metadata.path + "': not valid JSON of the expected form (" +
                     first_line(e.what()) + ")");
  }
  return metadata;
}

int64_t resolve_target(const std::string& text, const std::optional<ModelMetadata>& metadata) {
  if (is_index(text)) return std::stoll(text);
  if (!metadata) {
    throw InputError("--target '" + text + "': not a column number, and the model has no "
                     "metadata file naming its outputs (MODEL.json beside MODEL.pt)");
  }
  const auto& names = metadata->targets;
  const auto found = std::find(names.begin(), names.end(), text);
  if (found == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw InputError("--target '" + text + "': not a target of the model; '" + metadata->path +
                     "' names " + (known.empty() ? std::string("none") : known));
  }
  return found - names.begin();
}

}  // namespace seqattr
