#include "core/keras/keras_graph.h"

#include <openssl/evp.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/errors.h"

namespace seqattr::keras {
namespace {

using nlohmann::json;

const char* const kSupported =
    "InputLayer, Conv1D, Cropping1D, Add, Flatten, GlobalAveragePooling1D, Dense, Concatenate, "
    "Activation, chrombpnet's logsumexp Lambda and nested Functional models";

// Builds the flat graph; one instance per file.
class Parser {
 public:
  explicit Parser(std::string path) : path_(std::move(path)) {}

  Graph parse(const json& config) {
    const auto outputs = model(config, "", "", {});
    graph_.outputs = outputs;
    for (const size_t o : outputs) graph_.heads.push_back(head_name(graph_.layers[o].name));
    for (size_t i = 0; i < graph_.heads.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (graph_.heads[i] == graph_.heads[j]) {  // two "profile"s: keep the layers' names
          for (size_t k = 0; k < outputs.size(); ++k) graph_.heads[k] = graph_.layers[outputs[k]].name;
          return graph_;
        }
      }
    }
    return graph_;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError("--model '" + path_ + "': " + what);
  }
  [[noreturn]] void fail(const Layer& layer, const std::string& what) const {
    fail("layer '" + layer.name + "' (" + layer.class_name + "): " + what);
  }

  static std::string head_name(const std::string& layer) {
    if (layer.find("profile") != std::string::npos) return "profile";
    if (layer.find("count") != std::string::npos) return "counts";
    return layer;
  }

  // A (nested) Functional model. `scope` prefixes its layer names; `group` is the top-level
  // layer whose HDF5 group holds its weights ("" at the top); `bound` gives the tensors its
  // input layers stand for (empty at the top). Returns its outputs.
  std::vector<size_t> model(const json& config, const std::string& scope, const std::string& group,
                            const std::vector<size_t>& bound) {
    const auto& body = config.at("config");
    std::map<std::string, std::vector<size_t>> produced;  // layer name -> its output tensors
    size_t next_input = 0;
    for (const auto& entry : body.at("layers")) {
      const std::string cls = entry.at("class_name").get<std::string>();
      const std::string name = entry.at("name").get<std::string>();
      if (cls == "InputLayer") {
        if (scope.empty()) {
          produced[name] = {input(entry)};
        } else {
          if (next_input >= bound.size()) fail("nested model '" + scope + "' has more inputs than it is given");
          produced[name] = {bound[next_input++]};
        }
        continue;
      }
      const auto inputs = inbound(entry, scope + name, produced);
      if (cls == "Functional" || cls == "Model") {
        const std::string inner_group = group.empty() ? name : group;
        produced[name] = model(entry, scope + name + "/", inner_group, inputs);
        continue;
      }
      Layer layer;
      layer.name = scope + name;
      layer.class_name = cls;
      layer.inputs = inputs;
      layer.weights = (group.empty() ? name : group) + "/" + name + "/";
      build(layer, entry.at("config"));
      graph_.layers.push_back(std::move(layer));
      produced[name] = {graph_.layers.size() - 1};
    }
    if (graph_.layers.empty() || graph_.layers[0].op != Op::Input) fail("the model has no input layer");
    std::vector<size_t> outputs;
    for (const auto& ref : body.at("output_layers")) {
      outputs.push_back(tensor(ref.at(0).get<std::string>(), ref.at(2).get<size_t>(), scope, produced));
    }
    return outputs;
  }

  size_t input(const json& entry) {
    if (!graph_.layers.empty()) fail("the model has more than one input; seqattr takes models of one sequence input");
    const auto& config = entry.at("config");
    const json shape = config.contains("batch_input_shape") ? config.at("batch_input_shape")
                       : config.contains("batch_shape")     ? config.at("batch_shape")
                                                            : json();
    if (!shape.is_array() || shape.size() != 3 || shape.at(2) != 4) {
      fail("input '" + entry.at("name").get<std::string>() + "' has shape " + shape.dump() +
           "; expected (None, L, 4): one-hot DNA, length last but one");
    }
    Layer layer;
    layer.name = entry.at("name").get<std::string>();
    layer.class_name = "InputLayer";
    layer.shape = {3, 4, shape.at(1).is_null() ? -1 : shape.at(1).get<int64_t>()};
    graph_.input_length = std::max<int64_t>(layer.shape.length, 0);
    graph_.layers.push_back(layer);
    return 0;
  }

  size_t tensor(const std::string& name, size_t index, const std::string& scope,
                const std::map<std::string, std::vector<size_t>>& produced) const {
    const auto found = produced.find(name);
    if (found == produced.end()) fail("layer '" + scope + name + "' is used before it is defined");
    if (index >= found->second.size()) fail("layer '" + scope + name + "' has no output " + std::to_string(index));
    return found->second[index];
  }

  // The tensors a layer is called on. Keras 2 writes inbound_nodes as
  // [[[layer, node, tensor, kwargs], ...]], one list per call.
  std::vector<size_t> inbound(const json& entry, const std::string& name,
                              const std::map<std::string, std::vector<size_t>>& produced) const {
    const auto& nodes = entry.at("inbound_nodes");
    if (nodes.size() != 1) {
      fail("layer '" + name + "' is called " + std::to_string(nodes.size()) +
           " times; shared layers are not supported");
    }
    if (!nodes[0].is_array()) fail("a Keras 3 file; seqattr reads models saved by Keras 2 (tf.keras, tf-keras)");
    std::vector<size_t> inputs;
    const std::string scope = name.substr(0, name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
    for (const auto& ref : nodes[0]) {
      inputs.push_back(tensor(ref.at(0).get<std::string>(), ref.at(2).get<size_t>(), scope, produced));
    }
    return inputs;
  }

  const Shape& shape_of(size_t tensor) const { return graph_.layers[tensor].shape; }

  Shape one_input(const Layer& layer, int rank) const {
    if (layer.inputs.size() != 1) fail(layer, "expected one input");
    const Shape& in = shape_of(layer.inputs[0]);
    if (in.rank != rank) {
      fail(layer, "applied to a tensor of rank " + std::to_string(in.rank) + "; expected rank " +
                      std::to_string(rank));
    }
    return in;
  }

  bool relu_activation(const Layer& layer, const json& config) const {
    const auto activation = config.value("activation", std::string("linear"));
    if (activation != "relu" && activation != "linear") {
      fail(layer, "activation '" + activation + "' is not supported (relu or linear)");
    }
    return activation == "relu";
  }

  void channels_last(const Layer& layer, const json& config) const {
    if (config.value("data_format", std::string("channels_last")) != "channels_last") {
      fail(layer, "data_format must be channels_last");
    }
  }

  void build(Layer& layer, const json& config) {
    const auto& cls = layer.class_name;
    if (cls == "Conv1D") return conv(layer, config);
    if (cls == "Dense") {
      const Shape in = one_input(layer, 2);
      layer.op = Op::Dense;
      layer.relu = relu_activation(layer, config);
      layer.use_bias = config.value("use_bias", true);
      layer.shape = {2, config.at("units").get<int64_t>(), -1};
      (void)in;
      return;
    }
    if (cls == "Cropping1D") {
      Shape in = one_input(layer, 3);
      const auto& crop = config.at("cropping");
      layer.op = Op::Cropping1D;
      layer.crop_left = crop.is_array() ? crop.at(0).get<int64_t>() : crop.get<int64_t>();
      layer.crop_right = crop.is_array() ? crop.at(1).get<int64_t>() : crop.get<int64_t>();
      if (in.length >= 0) in.length -= layer.crop_left + layer.crop_right;
      if (in.length == 0 || in.length < -1) fail(layer, "crops the whole input");
      layer.shape = in;
      return;
    }
    if (cls == "Add") {
      if (layer.inputs.size() < 2) fail(layer, "expected two or more inputs");
      const Shape first = shape_of(layer.inputs[0]);
      for (const size_t t : layer.inputs) {
        const Shape& s = shape_of(t);
        if (s.rank != first.rank || s.channels != first.channels || s.length != first.length) {
          fail(layer, "adds tensors of different shapes");
        }
      }
      layer.op = Op::Add;
      layer.shape = first;
      return;
    }
    if (cls == "Flatten") {
      channels_last(layer, config);
      const Shape in = one_input(layer, 3);
      layer.op = Op::Flatten;
      layer.shape = {2, in.length < 0 ? -1 : in.channels * in.length, -1};
      return;
    }
    if (cls == "GlobalAveragePooling1D") {
      channels_last(layer, config);
      if (config.value("keepdims", false)) fail(layer, "keepdims=True is not supported");
      const Shape in = one_input(layer, 3);
      layer.op = Op::GlobalAveragePooling1D;
      layer.shape = {2, in.channels, -1};
      return;
    }
    if (cls == "Concatenate") return concatenate(layer, config);
    if (cls == "Activation") {
      if (layer.inputs.size() != 1) fail(layer, "expected one input");
      layer.op = Op::Activation;
      layer.relu = relu_activation(layer, config);
      layer.shape = shape_of(layer.inputs[0]);
      return;
    }
    if (cls == "Lambda") return lambda(layer, config);
    fail("layer '" + layer.name + "' is a " + cls + ", which seqattr does not read from Keras "
         "files (it reads " + kSupported + ")");
  }

  void conv(Layer& layer, const json& config) {
    channels_last(layer, config);
    Shape in = one_input(layer, 3);
    layer.op = Op::Conv1D;
    layer.width = config.at("kernel_size").at(0).get<int64_t>();
    layer.dilation = config.value("dilation_rate", json::array({1})).at(0).get<int64_t>();
    if (config.value("strides", json::array({1})).at(0).get<int64_t>() != 1) fail(layer, "strides other than 1 are not supported");
    if (config.value("groups", 1) != 1) fail(layer, "groups other than 1 are not supported");
    const auto padding = config.value("padding", std::string("valid"));
    const int64_t span = layer.dilation * (layer.width - 1);
    if (padding == "same") {
      // Keras pads an odd span's extra base on the right; TorchScript's conv1d pads both sides
      // equally, so only even spans are built.
      if (span % 2 != 0) fail(layer, "padding='same' with an even kernel span is not supported");
      layer.padding = span / 2;
    } else if (padding == "valid") {
      if (in.length >= 0) in.length -= span;
      if (in.length == 0 || in.length < -1) fail(layer, "its input is shorter than the kernel");
    } else {
      fail(layer, "padding '" + padding + "' is not supported (valid or same)");
    }
    layer.relu = relu_activation(layer, config);
    layer.use_bias = config.value("use_bias", true);
    in.channels = config.at("filters").get<int64_t>();
    layer.shape = in;
  }

  void concatenate(Layer& layer, const json& config) {
    if (layer.inputs.empty()) fail(layer, "expected inputs");
    Shape out = shape_of(layer.inputs[0]);
    const int64_t axis = config.value("axis", int64_t{-1});
    // Keras's last axis is channels (rank 3, channels_last) or features (rank 2).
    if (axis != -1 && axis != out.rank - 1) fail(layer, "only the last axis is supported");
    for (size_t i = 1; i < layer.inputs.size(); ++i) {
      const Shape& s = shape_of(layer.inputs[i]);
      if (s.rank != out.rank || s.length != out.length) fail(layer, "concatenates tensors of different shapes");
      out.channels += s.channels;
    }
    layer.op = Op::Concatenate;
    layer.shape = out;
  }

  // A Lambda holds marshalled Python bytecode, which cannot be run here. chrombpnet's one
  // (count heads combined) is recognised by the names its code uses; any other is refused.
  void lambda(Layer& layer, const json& config) {
    const json& function = config.value("function", json());
    const std::string encoded = function.is_array() && !function.empty() && function[0].is_string()
                                    ? function[0].get<std::string>()
                                    : function.is_string() ? function.get<std::string>() : "";
    const std::string code = decode_base64(encoded);
    const bool logsumexp = code.find("reduce_logsumexp") != std::string::npos &&
                           code.find("keepdims") != std::string::npos &&
                           config.value("arguments", json::object()).empty();
    if (!logsumexp) {
      fail(layer, "a Lambda layer other than chrombpnet's reduce_logsumexp(x, axis=-1, "
                  "keepdims=True) of the count heads is not supported");
    }
    const Shape in = one_input(layer, 2);
    (void)in;
    layer.op = Op::LogSumExp;
    layer.shape = {2, 1, -1};
  }

  static std::string decode_base64(std::string text) {
    text.erase(std::remove_if(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
               text.end());
    if (text.empty() || text.size() % 4 != 0) return "";
    std::string out(text.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return "";
    out.resize(static_cast<size_t>(n));
    return out;
  }

  std::string path_;
  Graph graph_;
};

}  // namespace

Graph parse_graph(const std::string& model_config, const std::string& path) {
  json config;
  try {
    config = json::parse(model_config);
  } catch (const json::exception& e) {
    throw InputError("--model '" + path + "': model_config is not JSON (" + first_line(e.what()) + ")");
  }
  const auto cls = config.value("class_name", std::string());
  if (cls != "Functional" && cls != "Model") {
    throw InputError("--model '" + path + "': a Keras " + (cls.empty() ? "model" : cls) +
                     "; seqattr reads Functional models (as chrombpnet builds them)");
  }
  try {
    return Parser(path).parse(config);
  } catch (const json::exception& e) {
    throw InputError("--model '" + path + "': unexpected model_config (" + first_line(e.what()) + ")");
  }
}

}  // namespace seqattr::keras
