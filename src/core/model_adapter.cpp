#include "core/model_adapter.h"

#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/library.h>

#include <algorithm>
#include <sstream>

#include "common/errors.h"

namespace seqattr {
namespace {

// bpnet-lite's _ProfileLogitScaling, z * softmax(z) over the last axis, as one operation, so
// that DeepLIFT can give it one rescale rule as bpnet-lite does (methods/deeplift). Composite:
// autograd differentiates the expression.
torch::Tensor profile_logit_scaling(const torch::Tensor& logits) {
  return logits * torch::softmax(logits, -1);
}

TORCH_LIBRARY_FRAGMENT(seqattr, m) {
  m.def("profile_logit_scaling(Tensor logits) -> Tensor", &profile_logit_scaling);
}

// TorchScript names: `torch` as usual, and `seqattr` for the seqattr:: operators.
struct AdapterResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name,
                                                         torch::jit::GraphFunction& function,
                                                         const torch::jit::SourceRange& loc) override {
    if (name == "seqattr") return std::make_shared<torch::jit::BuiltinModule>("seqattr");
    return torch::jit::nativeResolver()->resolveValue(name, function, loc);
  }
};


// An input of forward beyond the sequence, with the shape its zeros take.
struct ExtraInput {
  std::string name;
  // Per dimension: -1 the batch, -2 the sequence length, else a fixed size.
  std::vector<int64_t> shape;
};

// Forward's inputs beyond the sequence that have no default.
std::vector<ExtraInput> extra_inputs(torch::jit::Module& module, const std::string& path) {
  const auto& arguments = module.get_method("forward").function().getSchema().arguments();
  if (arguments.size() < 2) {
    throw InputError("--model '" + path + "': forward takes no input besides self");
  }
  std::vector<ExtraInput> extras;
  for (size_t i = 2; i < arguments.size(); ++i) {
    if (!arguments[i].default_value()) extras.push_back({arguments[i].name(), {}});
  }
  return extras;
}

std::string extras_text(const std::vector<ExtraInput>& extras) {
  std::string text;
  for (const auto& e : extras) text += (text.empty() ? "" : ", ") + e.name;
  return text;
}

std::vector<int64_t> concrete(const std::vector<int64_t>& shape, int64_t batch, int64_t length) {
  std::vector<int64_t> out;
  for (int64_t d : shape) out.push_back(d == -1 ? batch : d == -2 ? length : d);
  return out;
}

torch::Tensor sequence_zeros(const std::string& layout, int64_t length, const torch::Device& device) {
  auto x = torch::zeros({2, 4, length}, torch::TensorOptions().device(device));
  return layout == "nlc" ? x.permute({0, 2, 1}) : x;
}

// A saved TorchScript model records no shapes for its inputs, so the zeros' shape is the
// first the forward accepts: (N, c, L) for c = 1, 2, ..., then (N, c), the same for every
// extra input (bpnet-lite's control tracks: (N, n_control_tracks, L)).
void find_extra_shapes(torch::jit::Module& module, const std::string& path,
                       const std::string& layout, std::vector<ExtraInput>& extras,
                       int64_t length, const torch::Device& device) {
  constexpr int64_t kMostChannels = 64;
  torch::NoGradGuard no_grad;
  for (const bool with_length : {true, false}) {
    for (int64_t c = 1; c <= kMostChannels; ++c) {
      const std::vector<int64_t> shape = with_length ? std::vector<int64_t>{-1, c, -2}
                                                     : std::vector<int64_t>{-1, c};
      std::vector<c10::IValue> inputs = {sequence_zeros(layout, length, device)};
      for (size_t i = 0; i < extras.size(); ++i) {
        inputs.push_back(torch::zeros(concrete(shape, 2, length), torch::TensorOptions().device(device)));
      }
      try {
        module.forward(inputs);
      } catch (const std::exception&) {
        continue;
      }
      for (auto& e : extras) e.shape = shape;
      return;
    }
  }
  throw InputError("--extra-inputs zeros: model '" + path + "' accepts no zeros of shape " +
                   "(N, c, L) or (N, c), c <= " + std::to_string(kMostChannels) + ", for " +
                   extras_text(extras));
}

// The model's output on zeros of `length` bases (two rows: a batch of one takes another
// kernel path in places), with the extra inputs as zeros.
c10::IValue probe(torch::jit::Module& module, const std::string& path, const std::string& layout,
                  const std::vector<ExtraInput>& extras, int64_t length, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  std::vector<c10::IValue> inputs = {sequence_zeros(layout, length, device)};
  for (const auto& e : extras) {
    inputs.push_back(torch::zeros(concrete(e.shape, 2, length), torch::TensorOptions().device(device)));
  }
  try {
    return module.forward(inputs);
  } catch (const std::exception& e) {
    throw InputError("--model '" + path + "': forward failed on zeros of shape " +
                     (layout == "nlc" ? "(2, " + std::to_string(length) + ", 4)"
                                      : "(2, 4, " + std::to_string(length) + ")") +
                     (layout == "ncl" ? " (if it takes (N, L, 4), give --input-layout nlc)" : "") +
                     ": " + forward_error_cause(e));
  }
}

// Without names from MODEL.json, a pair (N, S, L), (N, 1) is BPNet's and ChromBPNet's
// (profile logits, log counts), in bpnet-lite's and chrombpnet's order: name them so.
void name_bpnet_heads(std::vector<HeadInfo>& heads, const std::optional<ModelMetadata>& metadata) {
  if ((metadata && !metadata->heads.empty()) || heads.size() != 2 || heads[0].key != "0") return;
  const auto& profile = heads[0].shape;
  const auto& counts = heads[1].shape;
  if (profile.size() == 3 && counts.size() == 2 && counts[1] == 1) {
    heads[0].name = "profile";
    heads[1].name = "counts";
  }
}

std::vector<HeadInfo> heads_of(const c10::IValue& output, const std::string& path,
                               const std::optional<ModelMetadata>& metadata) {
  const auto head = [&](std::string key, const c10::IValue& value, size_t index) {
    if (!value.isTensor()) {
      throw InputError("--model '" + path + "': output " + key + " is a " + value.tagKind() +
                       "; seqattr explains tensor outputs (a tensor, or a tuple, list or dict "
                       "of tensors)");
    }
    HeadInfo info{key, key, value.toTensor().sizes().vec()};
    if (metadata && index < metadata->heads.size() && !output.isGenericDict()) {
      info.name = metadata->heads[index];
    }
    return info;
  };
  std::vector<HeadInfo> heads;
  if (output.isTensor()) {
    heads.push_back(head("", output, 0));
  } else if (output.isTuple() || output.isList()) {
    const auto elements = output.isTuple() ? output.toTupleRef().elements().vec()
                                           : output.toListRef().vec();
    for (size_t i = 0; i < elements.size(); ++i) heads.push_back(head(std::to_string(i), elements[i], i));
  } else if (output.isGenericDict()) {
    size_t i = 0;
    for (const auto& item : output.toGenericDict()) {
      if (!item.key().isString()) {
        throw InputError("--model '" + path + "': its output dict has keys that are not strings");
      }
      heads.push_back(head(item.key().toStringRef(), item.value(), i++));
    }
  } else {
    throw InputError("--model '" + path + "': output is a " + output.tagKind() +
                     "; expected a tensor, or a tuple, list or dict of tensors");
  }
  name_bpnet_heads(heads, metadata);
  return heads;
}

std::string heads_text(const std::vector<HeadInfo>& heads) {
  std::string text;
  for (const auto& h : heads) {
    text += (text.empty() ? "" : "; ") + h.key;
    if (h.name != h.key) text += " '" + h.name + "'";
    text += " " + shape_text(h.shape, true);
  }
  return text;
}

const HeadInfo& choose_head(const std::vector<HeadInfo>& heads, const std::string& wanted,
                            const std::string& path) {
  if (wanted.empty()) {
    if (heads.size() == 1) return heads.front();
    throw InputError("--model '" + path + "': returns " + std::to_string(heads.size()) +
                     " outputs (" + heads_text(heads) + "); choose one with --head");
  }
  for (const auto& h : heads) {
    if (h.key == wanted || h.name == wanted) return h;
  }
  throw InputError("--head '" + wanted + "': not an output of model '" + path + "', which " +
                   (heads.size() == 1 && heads.front().key.empty()
                        ? "returns one tensor " + shape_text(heads.front().shape, true)
                        : "returns " + heads_text(heads)));
}

// The head's rank is what the reduction needs; throws InputError naming --reduce.
void check_rank(const HeadInfo& head, Reduction reduce) {
  const auto rank = head.shape.size();
  const std::string name = head.key.empty() ? "the output" : "head '" + head.name + "'";
  if (reduce == Reduction::None && rank > 2) {
    throw InputError(name + " has shape " + shape_text(head.shape, true) + ", with a length axis; "
                     "give --reduce sum, mean, chrombpnet-profile or bpnet-lite-profile");
  }
  if (reduce != Reduction::None && (rank < 2 || rank > 3)) {
    throw InputError("--reduce " + reduction_name(reduce) + ": " + name + " has shape " +
                     shape_text(head.shape, true) + "; a reduction takes (N, L) or (N, S, L)");
  }
}

bool is_profile(Reduction r) {
  return r == Reduction::ChromBPNetProfile || r == Reduction::BPNetLiteProfile;
}

// The profile reductions' track: --target picks one before the reduction (a number, or a
// name from MODEL.json's targets); none: the whole head, flattened.
std::optional<int64_t> profile_track(const HeadInfo& head, const std::string& target,
                                     const std::optional<ModelMetadata>& metadata) {
  if (target.empty()) return std::nullopt;
  const int64_t track = resolve_target(target, metadata);
  const int64_t tracks = head.shape.size() == 3 ? head.shape[1] : 1;
  if (track >= tracks) {
    throw InputError("--target " + target + ": out of range; head '" + head.name + "' " +
                     shape_text(head.shape, true) + " has " + std::to_string(tracks) +
                     " track(s), so the target must be in 0.." + std::to_string(tracks - 1));
  }
  return track;
}

std::string python_string(const std::string& text) { return nlohmann::json(text).dump(); }

struct SourcePlan {
  std::string layout;
  std::vector<ExtraInput> extras;
  bool tensor_output = true;
  bool dict_output = false;
  HeadInfo head;
  Reduction reduce = Reduction::None;
  std::optional<int64_t> track;
};

std::string size_expression(int64_t d) {
  return d == -1 ? "n" : d == -2 ? "length" : std::to_string(d);
}

// The adapter's forward, (N, 4, L) -> (N, T).
std::string adapter_source(const SourcePlan& p) {
  std::ostringstream s;
  s << "def forward(self, x):\n"
    << "    n = x.size(0)\n"
    << "    length = x.size(2)\n";
  if (p.layout == "nlc") s << "    x = x.permute(0, 2, 1)\n";
  s << "    out = self.model.forward(x";
  for (const auto& e : p.extras) {
    s << ", torch.zeros([";
    for (size_t d = 0; d < e.shape.size(); ++d) s << (d ? ", " : "") << size_expression(e.shape[d]);
    s << "], dtype=x.dtype, device=x.device)";
  }
  s << ")\n";
  if (p.tensor_output) {
    s << "    h = out\n";
  } else if (p.dict_output) {
    s << "    h = out[" << python_string(p.head.key) << "]\n";
  } else {
    s << "    h = out[" << p.head.key << "]\n";
  }
  const bool rank3 = p.head.shape.size() == 3;
  switch (p.reduce) {
    case Reduction::None:
      if (p.head.shape.size() == 1) s << "    h = h.unsqueeze(1)\n";
      break;
    case Reduction::Sum:
    case Reduction::Mean: {
      const std::string op = p.reduce == Reduction::Sum ? "sum" : "mean";
      s << "    h = h." << op << "(-1" << (rank3 ? "" : ", keepdim=True") << ")\n";
      break;
    }
    case Reduction::ChromBPNetProfile:
    case Reduction::BPNetLiteProfile:
      if (rank3 && p.track) {
        s << "    z = h[:, " << *p.track << ", :]\n";
      } else if (rank3) {
        s << "    z = h.flatten(1)\n";
      } else {
        s << "    z = h\n";
      }
      s << "    z = z - z.mean(-1, keepdim=True)\n";
      if (p.reduce == Reduction::ChromBPNetProfile) {
        s << "    w = torch.softmax(z, -1).detach()\n"
          << "    h = (w * z).sum(-1, keepdim=True)\n";
      } else {
        s << "    h = seqattr.profile_logit_scaling(z).sum(-1, keepdim=True)\n";
      }
      break;
    case Reduction::Flatten: s << "    h = h.flatten(1)\n"; break;
  }
  s << "    return h\n";
  return s.str();
}

torch::jit::Module compile_adapter(const torch::jit::Module& model, const std::string& source,
                                   const std::string& path) {
  torch::jit::Module adapter("__torch__.seqattr.ModelAdapter");
  adapter.register_attribute("training", c10::BoolType::get(), false);
  adapter.register_module("model", model);
  try {
    adapter.define(source, std::make_shared<AdapterResolver>());
  } catch (const c10::Error& e) {
    throw InputError("--model '" + path + "': cannot adapt it (" +
                     first_line(e.what_without_backtrace()) + ")");
  } catch (const std::exception& e) {  // the compiler's errors start with a blank line
    std::string message = e.what();
    message.erase(0, message.find_first_not_of('\n'));
    throw InputError("--model '" + path + "': cannot adapt it (" + first_line(message) + ")");
  }
  adapter.eval();
  return adapter;
}

}  // namespace

const std::vector<std::string>& reduction_names() {
  static const std::vector<std::string> names = {"none", "sum", "mean", "chrombpnet-profile",
                                                 "bpnet-lite-profile", "flatten"};
  return names;
}

Reduction parse_reduction(const std::string& name) {
  const auto& names = reduction_names();
  const auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end()) {
    throw InputError("--reduce '" + name + "': expected none, sum, mean, chrombpnet-profile, "
                     "bpnet-lite-profile or flatten");
  }
  return static_cast<Reduction>(found - names.begin());
}

std::string reduction_name(Reduction reduction) {
  return reduction_names().at(static_cast<size_t>(reduction));
}

AdaptedModel load_adapted_model(const std::string& path, const ModelInterface& interface,
                                const std::optional<ModelMetadata>& metadata, int64_t length,
                                const torch::Device& device) {
  return adapt_model(Model::load(path, device), interface, metadata, length, device);
}

AdaptedModel adapt_model(const Model& raw, const ModelInterface& interface,
                         const std::optional<ModelMetadata>& metadata, int64_t length,
                         const torch::Device& device) {
  const std::string& path = raw.path();
  auto module = raw.module();  // a handle: shares the loaded module
  SourcePlan plan;
  plan.layout = !interface.input_layout.empty()         ? interface.input_layout
                : metadata && !metadata->input_layout.empty() ? metadata->input_layout
                                                              : "ncl";
  if (plan.layout != "ncl" && plan.layout != "nlc") {
    throw InputError("--input-layout '" + plan.layout + "': expected ncl (N, 4, L) or nlc (N, L, 4)");
  }
  if (!interface.extra_inputs.empty() && interface.extra_inputs != "zeros") {
    throw InputError("--extra-inputs '" + interface.extra_inputs + "': expected zeros");
  }
  plan.extras = extra_inputs(module, path);
  if (!plan.extras.empty() && interface.extra_inputs != "zeros") {
    throw InputError("--model '" + path + "': forward takes inputs besides the sequence (" +
                     extras_text(plan.extras) + "); give --extra-inputs zeros to pass zeros");
  }
  if (!plan.extras.empty()) find_extra_shapes(module, path, plan.layout, plan.extras, length, device);
  const auto output = probe(module, path, plan.layout, plan.extras, length, device);
  AdaptedModel adapted{raw, 0, false, {}, Reduction::None, std::nullopt, "ncl", {}, {}, {}, 0};
  adapted.heads = heads_of(output, path, metadata);
  adapted.input_layout = plan.layout;
  for (const auto& e : plan.extras) adapted.extra_inputs.push_back(e.name);

  const std::string wanted_head = !interface.head.empty() ? interface.head
                                  : metadata                ? metadata->default_head
                                                            : "";
  plan.head = choose_head(adapted.heads, wanted_head, path);
  plan.tensor_output = output.isTensor();
  plan.dict_output = output.isGenericDict();
  const bool default_head = metadata && (metadata->default_head.empty() ||
                                         metadata->default_head == plan.head.key ||
                                         metadata->default_head == plan.head.name);
  const std::string reduce = !interface.reduce.empty() ? interface.reduce
                             : default_head && !metadata->default_reduce.empty()
                                 ? metadata->default_reduce
                                 : "none";
  plan.reduce = parse_reduction(reduce);
  check_rank(plan.head, plan.reduce);
  if (is_profile(plan.reduce)) {
    plan.track = profile_track(plan.head, interface.target, metadata);
  } else {
    adapted.target = resolve_target(interface.target.empty() ? "0" : interface.target, metadata);
  }
  adapted.head = plan.head.name;
  adapted.reduce = plan.reduce;
  adapted.track = plan.track;

  const bool as_is = plan.tensor_output && plan.layout == "ncl" && plan.extras.empty() &&
                     plan.reduce == Reduction::None && plan.head.shape.size() == 2;
  if (as_is) {
    adapted.outputs = check_target(adapted.model, plan.head.shape[1], adapted.target);
    return adapted;
  }
  adapted.adapted = true;
  adapted.source = adapter_source(plan);
  adapted.model = Model::from_module(compile_adapter(module, adapted.source, path), path, device);
  // After a reduction the head's shape does not say T; the adapter's own output does.
  const int64_t outputs = predict(adapted.model, torch::zeros({1, 4, length}), 1).size(1);
  adapted.outputs = check_target(adapted.model, outputs, adapted.target);
  return adapted;
}

nlohmann::json adapter_notes(const AdaptedModel& adapted) {
  nlohmann::json notes = {{"head_used", adapted.head},
                          {"reduce_used", reduction_name(adapted.reduce)},
                          {"input_layout_used", adapted.input_layout},
                          {"extra_inputs_used", adapted.extra_inputs}};
  if (is_profile(adapted.reduce)) {
    notes["profile_track"] = adapted.track ? nlohmann::json(*adapted.track) : nlohmann::json("all");
  }
  return notes;
}

}  // namespace seqattr
