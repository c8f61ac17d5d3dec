// include/seqattr/seqattr.h over the layers: core's model adapter, the method registry, and
// the pipeline's sequence sources. The command line's jobs and this API run methods through
// the same MethodSpec::prepare.
#include "seqattr/seqattr.h"

#include <optional>

#include "common/errors.h"
#include "core/device.h"
#include "core/model_adapter.h"
#include "core/model_metadata.h"
#include "methods/registry.h"
#include "pipeline/sequence_source.h"

namespace seqattr {

struct Explainer::State {
  std::shared_ptr<Model> model;
  int64_t length = 0, outputs = 0, target = 0;
};

namespace {

Sequences read_all(const AttributeOptions& options) {
  const auto source = open_sequence_source(options);
  auto rows = source->read(0, source->size());
  return {std::move(rows.names), std::move(rows.one_hot)};
}

MethodOptions method_options(const MethodSettings& s) {
  const MethodOptions m = parse_method_options(s);
  validate_common(m);
  return m;
}

// The blocks a method produced, one tensor per field, in sequence order.
Attributions concatenate(const std::vector<AttributionBlock>& blocks) {
  std::vector<torch::Tensor> attributions, hypothetical, predictions, deltas, ism;
  for (const auto& b : blocks) {
    attributions.push_back(b.attributions);
    hypothetical.push_back(b.hypothetical);
    predictions.push_back(b.predictions);
    if (b.convergence_delta.defined()) deltas.push_back(b.convergence_delta);
    if (b.ism_delta.defined()) ism.push_back(b.ism_delta);
  }
  Attributions out;
  out.attributions = torch::cat(attributions);
  out.hypothetical = torch::cat(hypothetical);
  out.predictions = torch::cat(predictions);
  if (!deltas.empty()) out.convergence_delta = torch::cat(deltas);
  if (!ism.empty()) out.ism_delta = torch::cat(ism);
  return out;
}

void check_one_hot(const torch::Tensor& one_hot, int64_t length) {
  if (!one_hot.defined() || one_hot.dim() != 3 || one_hot.size(1) != 4 ||
      one_hot.size(2) != length || one_hot.scalar_type() != torch::kUInt8 || one_hot.size(0) < 1) {
    throw InputError("one_hot: expected a (N, 4, " + std::to_string(length) +
                     ") uint8 tensor with N >= 1");
  }
}

}  // namespace

Sequences read_fasta(const std::string& path, int64_t length) {
  AttributeOptions options;
  options.fasta = path;
  options.length = length;
  return read_all(options);
}

Sequences read_bed(const std::string& bed, const std::string& genome, int64_t length) {
  if (length < 1) throw InputError("length: must be >= 1 for BED regions");
  AttributeOptions options;
  options.bed = bed;
  options.genome = genome;
  options.length = length;
  return read_all(options);
}

Explainer::Explainer(std::shared_ptr<State> state) : state_(std::move(state)) {}

Explainer Explainer::load(const std::string& path, const ModelOptions& options, int64_t length) {
  const auto metadata = read_model_metadata(path);
  if (length == 0 && metadata) length = metadata->input_length;
  if (length < 1) {
    throw InputError("length: give the input length (the model's MODEL.json has none)");
  }
  if (!options.reduce.empty()) parse_reduction(options.reduce);
  const auto device = resolve_device(parse_device(options.device));
  auto adapted = load_adapted_model(path,
                                    {options.head, options.reduce, options.input_layout,
                                     options.extra_inputs, options.target},
                                    metadata, length, device);
  auto state = std::make_shared<State>();
  state->model = std::make_shared<Model>(std::move(adapted.model));
  state->length = length;
  state->target = adapted.target;
  state->outputs = adapted.outputs;
  return Explainer(std::move(state));
}

int64_t Explainer::length() const { return state_->length; }
int64_t Explainer::outputs() const { return state_->outputs; }
int64_t Explainer::target() const { return state_->target; }
std::string Explainer::device() const { return state_->model->device().str(); }

Attributions Explainer::explain(const std::string& method, const at::Tensor& one_hot,
                                const MethodSettings& settings) const {
  check_one_hot(one_hot, state_->length);
  if (settings.threads < 0) throw InputError("threads: must be >= 0");
  const MethodSpec& spec = find_method(method);
  const MethodOptions options = method_options(settings);
  spec.validate(options);
  std::optional<ScopedThreadCount> threads;
  if (settings.threads > 0) threads.emplace(settings.threads);
  const auto prepared = spec.prepare(
      options, {state_->model, state_->target, state_->outputs, one_hot.size(0), state_->length, {}});
  std::vector<AttributionBlock> blocks;
  prepared.run(one_hot.contiguous().cpu(), 0,
               [&](const AttributionBlock& block) { blocks.push_back(block); },
               [](int64_t) {}, nullptr);
  prepared.finish();
  return concatenate(blocks);
}

}  // namespace seqattr
