// deeplift (one reference per sequence: a constant baseline, a dinucleotide shuffle, or a
// file's) and deeplift_shap (n_shuffles dinucleotide shuffles, or a file's references),
// with DeepLIFT's rules inserted in the model's graph once per run (deeplift.h).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/errors.h"
#include "common/log.h"
#include "methods/deeplift/references.h"
#include "methods/registry.h"

namespace seqattr {
namespace {

// Per run: what the DeepLIFT warnings summarise.
struct DeepLiftTally {
  int64_t over_threshold = 0;
  float largest = 0.0f;
  int64_t single_shuffle = 0;
};

// What one run's parts share: options, the ruled model, references given, the tally.
struct DeepLiftRun {
  MethodOptions options;
  bool shap = false;
  int64_t references = 1;  // per sequence
  int64_t target = 0, outputs = 0;
  deeplift::ReferenceSource file;
  std::shared_ptr<deeplift::RuledModel> ruled;
  DeepLiftTally tally;
};

// References of a part's sequences, which are [first, first + S) of the run.
deeplift::ReferenceSource part_references(const DeepLiftRun& r, const torch::Tensor& one_hot,
                                          int64_t first,
                                          const std::shared_ptr<std::vector<bool>>& only_one) {
  if (r.file) {
    return [file = r.file, first](int64_t i, int64_t count) { return file(first + i, count); };
  }
  if (r.shap || r.options.baseline == Baseline::DinucShuffle) {
    return deeplift::shuffled_references(one_hot, r.references, r.options.seed, first, only_one);
  }
  return deeplift::constant_references(baseline_value(r.options.baseline), one_hot.size(2));
}

void run_part(DeepLiftRun& r, const torch::Tensor& one_hot, int64_t first, const BlockSink& sink,
              const ProgressCallback& progress, torch::Tensor* stored) {
  auto only_one = std::make_shared<std::vector<bool>>();
  deeplift::Plan plan;
  plan.largest_absolute_delta = r.shap;
  plan.references = r.references;
  plan.make_references = part_references(r, one_hot, first, only_one);
  const BlockSink checked = [&](const AttributionBlock& block) {
    const auto magnitude = block.convergence_delta.abs();
    // A NaN delta counts as over the threshold: it cannot be under it.
    r.tally.over_threshold += (~(magnitude <= r.options.delta_warning)).sum().item<int64_t>();
    const float largest = magnitude.max().item<float>();
    r.tally.largest = std::isnan(largest) || std::isnan(r.tally.largest)
                          ? std::nanf("")
                          : std::max(r.tally.largest, largest);
    sink(block);
  };
  deeplift::run_deeplift(*r.ruled, one_hot, plan, r.target, r.outputs, r.options.batch_size,
                         checked, progress);
  r.tally.single_shuffle += std::count(only_one->begin(), only_one->end(), true);
  if (stored) *stored = plan.make_references(0, one_hot.size(0));
}

void warn_summary(const DeepLiftRun& r) {
  if (r.tally.single_shuffle > 0) {
    log::warn(std::to_string(r.tally.single_shuffle) + " sequence(s) have only one possible "
              "dinucleotide shuffle (themselves); their references are copies of it");
  }
  if (r.tally.over_threshold > 0) {
    std::ostringstream text;
    text << r.tally.over_threshold << " sequence(s) have |convergence delta| above --delta-warning "
         << r.options.delta_warning << " (largest " << r.tally.largest << ")";
    log::warn(text.str());
  }
}

PreparedMethod prepare(const MethodOptions& o, const MethodContext& c, bool shap) {
  auto r = std::make_shared<DeepLiftRun>();
  r->options = o;
  r->shap = shap;
  r->references = shap ? o.n_shuffles : 1;
  r->target = c.target;
  r->outputs = c.outputs;
  if (c.references.source) {
    r->file = c.references.source;
    r->references = c.references.per_sequence;
    if (!shap && r->references != 1) {
      throw InputError("--references '" + o.references + "': deeplift takes one reference per "
                       "sequence, the file has " + std::to_string(r->references) +
                       "; use --method deeplift_shap");
    }
  }
  r->ruled = std::make_shared<deeplift::RuledModel>(deeplift::prepare_model(*c.model));
  PreparedMethod prepared;
  prepared.convergence_delta = true;
  prepared.notes["deeplift_unruled_ops"] = r->ruled->unruled_ops;
  prepared.notes["deeplift_dtype"] = r->ruled->dtype == torch::kFloat64 ? "float64" : "float32";
  prepared.notes["deeplift_secants"] = r->ruled->carries_delta ? "delta" : "values";
  prepared.notes["references_per_sequence"] = r->references;
  if (!r->ruled->unruled_ops.empty()) {
    std::string names;
    for (const auto& op : r->ruled->unruled_ops) names += (names.empty() ? "" : ", ") + op;
    log::warn("no DeepLIFT rule for " + names + " in model '" + c.model->path() +
              "': gradients pass through them, so summation-to-delta may not hold");
  }
  if (o.save_references) prepared.references_per_sequence = r->references;
  prepared.run = [r](const torch::Tensor& one_hot, int64_t first, const BlockSink& sink,
                     const ProgressCallback& progress, torch::Tensor* stored) {
    run_part(*r, one_hot, first, sink, progress, stored);
  };
  prepared.finish = [r] { warn_summary(*r); };
  return prepared;
}

MethodSpec deeplift_spec(const std::string& name, bool shap) {
  MethodSpec spec;
  spec.name = name;
  spec.takes_references = true;
  spec.validate = [shap](const MethodOptions& o) {
    if (shap) method_checks::no_dinuc_baseline(o);
    method_checks::no_window(o);
  };
  spec.prepare = [shap](const MethodOptions& o, const MethodContext& c) {
    return prepare(o, c, shap);
  };
  spec.cost = [shap](const MethodOptions& o, int64_t, const PreparedMethod&) {
    return shap ? MethodCost{o.n_shuffles + 1, o.n_shuffles + 1,
                             "n_shuffles=" + std::to_string(o.n_shuffles)}
                : MethodCost{2, 2, "baseline=" + baseline_name(o.baseline)};
  };
  return spec;
}

}  // namespace

MethodSpec deeplift_method() { return deeplift_spec("deeplift", false); }
MethodSpec deeplift_shap_method() { return deeplift_spec("deeplift_shap", true); }

}  // namespace seqattr
