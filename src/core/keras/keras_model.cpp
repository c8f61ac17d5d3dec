#include "core/keras/keras_model.h"

#include <set>
#include <sstream>

#include "common/errors.h"
#include "core/keras/keras_file.h"
#include "core/keras/keras_graph.h"
#include "core/model.h"

namespace seqattr::keras {
namespace {


// Generates forward's source and registers the parameters it reads.
class Builder {
 public:
  Builder(const File& file, const Graph& graph)
      : file_(file), graph_(graph), module_("__torch__.seqattr.KerasModel") {}

  ImportedModel build() {
    module_.register_attribute("training", c10::BoolType::get(), false);
    source_ << "def forward(self, x):\n";
    for (size_t i = 1; i < graph_.layers.size(); ++i) emit(i);
    std::vector<std::string> outputs;
    for (const size_t o : graph_.outputs) outputs.push_back(whole(o));
    source_ << "    return ";
    if (outputs.size() == 1) {
      source_ << outputs[0] << "\n";
    } else {
      source_ << "(";
      for (size_t i = 0; i < outputs.size(); ++i) source_ << (i ? ", " : "") << outputs[i];
      source_ << ")\n";
    }
    ImportedModel imported{module_, source_.str(), graph_.heads, graph_.input_length};
    imported.module.define(imported.source);
    imported.module.eval();
    return imported;
  }

 private:
  static std::string var(size_t tensor) { return tensor == 0 ? "x" : "t" + std::to_string(tensor); }

  [[noreturn]] void fail(const Layer& layer, const std::string& what) const {
    throw InputError("--model '" + file_.path + "': layer '" + layer.name + "' (" +
                     layer.class_name + "): " + what);
  }

  const Array& weight(const Layer& layer, const std::string& which) const {
    const auto found = file_.weights.find(layer.weights + which);
    if (found == file_.weights.end()) fail(layer, "no weight '" + which + "' in model_weights");
    return found->second;
  }

  // A parameter named after the layer, e.g. "wo_bias_bpnet_1conv_weight".
  std::string parameter(const Layer& layer, const std::string& kind, torch::Tensor value) {
    std::string name;
    for (const char c : layer.name) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    name = "k_" + name + "_" + kind;
    while (!names_.insert(name).second) name += "_";
    module_.register_parameter(name, std::move(value), /*is_buffer=*/false);
    return "self." + name;
  }

  torch::Tensor tensor(const Layer& layer, const std::string& which,
                       const std::vector<int64_t>& expected) const {
    const Array& array = weight(layer, which);
    if (array.shape != expected) {
      fail(layer, which + " has shape " + shape_text(array.shape) + "; expected " + shape_text(expected));
    }
    return torch::from_blob(const_cast<float*>(array.values.data()), array.shape, torch::kFloat32).clone();
  }

  // "kernel:0, bias:0" as (weight, bias) arguments in PyTorch's layout.
  std::string weights(const Layer& layer, const std::vector<int64_t>& kernel_shape,
                      const std::vector<int64_t>& permutation) {
    auto kernel = tensor(layer, "kernel:0", kernel_shape).permute(permutation).contiguous();
    std::string args = parameter(layer, "weight", kernel) + ", ";
    if (!layer.use_bias) return args + "None";
    return args + parameter(layer, "bias", tensor(layer, "bias:0", {layer.shape.channels}));
  }

  // Tensors of rank 3 carry a deferred symmetric crop: the Keras tensor is
  // var(t)[:, :, crop:-crop]. A valid convolution is built as a same-padded one whose crop grows
  // by half its span, a symmetric Cropping1D only grows the crop, and a residual Add of tensors
  // with equal crops adds whole tensors; the crop is applied where a layer needs the tensor
  // itself (pooling, flattening, outputs). Positions outside the crop never reach a kept one,
  // so the outputs are Keras's; and chrombpnet's network becomes the computation bpnet-lite's
  // BPNet performs (same-padded convolutions, one trim at the end), so seqattr's numbers on a
  // Keras file equal its numbers on the bpnet-lite conversion bit for bit.
  std::string whole(size_t t) {
    if (crop_[t] == 0) return var(t);
    const std::string cropped = "c" + std::to_string(t);
    if (materialized_.insert(t).second) {
      source_ << "    " << cropped << " = " << var(t) << "[:, :, " << crop_[t] << ":" << -crop_[t] << "]\n";
    }
    return cropped;
  }

  // The inputs as a list, cropped alike: deferred if all crops are equal, else applied.
  std::pair<std::string, int64_t> aligned(const Layer& layer, const std::string& separator) {
    bool equal = true;
    for (const size_t t : layer.inputs) equal = equal && crop_[t] == crop_[layer.inputs[0]];
    std::string list;
    for (size_t i = 0; i < layer.inputs.size(); ++i) {
      list += (i ? separator : "") + (equal ? var(layer.inputs[i]) : whole(layer.inputs[i]));
    }
    return {list, equal ? crop_[layer.inputs[0]] : 0};
  }

  void emit(size_t index) {
    const Layer& layer = graph_.layers[index];
    const size_t first = layer.inputs.empty() ? 0 : layer.inputs[0];
    const Shape& in_shape = graph_.layers[first].shape;
    const std::string out = var(index);
    int64_t crop = 0;
    std::ostringstream line;
    switch (layer.op) {
      case Op::Input: SEQATTR_ASSERT(false); break;
      case Op::Conv1D: {
        const int64_t span = layer.dilation * (layer.width - 1);
        const bool deferred = layer.padding == 0 && span % 2 == 0;  // valid, symmetric
        const std::string in = deferred ? var(first) : whole(first);
        if (deferred) crop = crop_[first] + span / 2;
        line << "torch.conv1d(" << in << ", "
             << weights(layer, {layer.width, in_shape.channels, layer.shape.channels}, {2, 1, 0})
             << ", [1], [" << (deferred ? span / 2 : layer.padding) << "], [" << layer.dilation << "])";
        break;
      }
      case Op::Dense:
        line << "torch.linear(" << var(first) << ", "
             << weights(layer, {in_shape.channels, layer.shape.channels}, {1, 0}) << ")";
        break;
      case Op::Cropping1D:
        if (layer.crop_left == layer.crop_right) {
          line << var(first);
          crop = crop_[first] + layer.crop_left;
        } else {
          line << whole(first) << "[:, :, " << layer.crop_left << ":"
               << (layer.crop_right ? std::to_string(-layer.crop_right) : "") << "]";
        }
        break;
      case Op::Add: {
        const auto [sum, common] = aligned(layer, " + ");
        line << sum;
        crop = common;
        break;
      }
      case Op::Flatten:
        // Keras flattens (N, L, C) length-major; one channel needs no transpose.
        line << (in_shape.channels == 1 ? "torch.flatten(" + whole(first) + ", 1)"
                                        : "torch.flatten(" + whole(first) + ".transpose(1, 2), 1)");
        break;
      case Op::GlobalAveragePooling1D: line << "torch.mean(" << whole(first) << ", 2)"; break;
      case Op::Concatenate: {
        const auto [list, common] = aligned(layer, ", ");
        line << "torch.cat([" << list << "], 1)";
        crop = in_shape.rank == 3 ? common : 0;
        break;
      }
      case Op::Activation:
        line << (layer.relu ? "torch.relu(" + var(first) + ")" : var(first));
        crop = crop_[first];
        break;
      case Op::LogSumExp:
        // log(sum(exp)): elementwise exp and log keep DeepLIFT's rescale rule and fast ISM's
        // pointwise rules; log counts are far below exp's float32 overflow at 88.
        line << "torch.log(torch.sum(torch.exp(" << var(first) << "), 1, keepdim=True))";
        break;
    }
    source_ << "    " << out << " = " << line.str() << "\n";
    if (layer.relu && layer.op != Op::Activation) source_ << "    " << out << " = torch.relu(" << out << ")\n";
    crop_[index] = crop;
  }

  const File& file_;
  const Graph& graph_;
  torch::jit::Module module_;
  std::ostringstream source_;
  std::set<std::string> names_;
  std::vector<int64_t> crop_ = std::vector<int64_t>(graph_.layers.size(), 0);
  std::set<size_t> materialized_;
};

}  // namespace

ImportedModel import_model(const std::string& path) {
  const File file = read_file(path);
  const Graph graph = parse_graph(file.model_config, path);
  return Builder(file, graph).build();
}

}  // namespace seqattr::keras
