#include "engine/prepared_method.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "common/errors.h"
#include "common/log.h"
#include "methods/baseline.h"
#include "methods/deeplift/deeplift.h"
#include "methods/deeplift/references.h"
#include "methods/ig_rules.h"
#include "methods/ism.h"
#include "methods/method.h"
#include "methods/path_attribution.h"

namespace seqattr {
namespace {

PreparedMethod prepare_path_method(const AttributeOptions& o, Method method, Model& model,
                                   int64_t target) {
  const auto plan = method == Method::IntegratedGradients
                        ? integrated_gradients_plan(parse_ig_rule(o.ig_rule), o.n_steps,
                                                    parse_baseline(o.baseline))
                        : gradient_plan();
  PreparedMethod prepared;
  prepared.convergence_delta = plan.convergence_delta;
  prepared.run = [&model, plan, &o, target](const torch::Tensor& one_hot, int64_t,
                                            const BlockSink& sink, const ProgressCallback& progress,
                                            torch::Tensor*) {
    run_path_attribution(model, one_hot, plan, target, o.batch_size, sink, progress);
  };
  return prepared;
}

IsmWindow ism_window(const AttributeOptions& o, int64_t length) {
  const IsmWindow window{o.ism_start, o.ism_end < 0 ? length : o.ism_end};
  if (window.start < 0 || window.start >= window.end || window.end > length) {
    throw InputError("--ism-start " + std::to_string(o.ism_start) + " --ism-end " +
                     std::to_string(o.ism_end) + ": the window must satisfy 0 <= start < end <= " +
                     std::to_string(length) + " (the sequence length)");
  }
  return window;
}

PreparedMethod prepare_ism(const AttributeOptions& o, Model& model, int64_t target, int64_t outputs,
                           int64_t length) {
  const auto window = ism_window(o, length);
  std::shared_ptr<FastIsmPlan> fast;
  if (o.ism_mode != "naive") {
    fast = std::make_shared<FastIsmPlan>(FastIsmPlan::analyse(model));
    if (!fast->qualifies()) {
      if (o.ism_mode == "fast") {
        throw InputError("--ism-mode fast: model '" + model.path() + "' does not qualify: " +
                         fast->reason());
      }
      log::debug("fast ISM does not apply, running naive ISM: " + fast->reason());
      fast.reset();
    }
  }
  PreparedMethod prepared;
  prepared.ism_delta = true;
  prepared.notes["ism_mode_used"] = fast ? "fast" : "naive";
  prepared.run = [&model, window, &o, target, outputs, fast](const torch::Tensor& one_hot, int64_t,
                                                     const BlockSink& sink,
                                                     const ProgressCallback& progress,
                                                     torch::Tensor*) {
    run_ism(model, one_hot, window, target, outputs, o.batch_size, fast.get(), sink, progress);
  };
  return prepared;
}

// Per run: what the DeepLIFT warnings summarise.
struct DeepLiftTally {
  int64_t over_threshold = 0;
  float largest = 0.0f;
  int64_t single_shuffle = 0;
};

// References of a part's sequences, which are [first, first + S) of the run.
deeplift::ReferenceSource part_references(const AttributeOptions& o, Method method,
                                          const torch::Tensor& one_hot, int64_t first,
                                          int64_t references,
                                          const deeplift::ReferenceSource& file,
                                          const std::shared_ptr<std::vector<bool>>& only_one) {
  if (file) {
    return [file, first](int64_t i, int64_t count) { return file(first + i, count); };
  }
  if (method == Method::DeepLiftShap || parse_baseline(o.baseline) == Baseline::DinucShuffle) {
    return deeplift::shuffled_references(one_hot, references, o.seed, first, only_one);
  }
  return deeplift::constant_references(baseline_value(parse_baseline(o.baseline)), one_hot.size(2));
}

PreparedMethod prepare_deeplift(const AttributeOptions& o, Method method, const Model& model,
                                int64_t target, int64_t outputs, int64_t sequences,
                                int64_t length) {
  int64_t references = method == Method::DeepLiftShap ? o.n_shuffles : 1;
  deeplift::ReferenceSource file;
  if (!o.references.empty()) {
    file = deeplift::file_references(o.references, sequences, length, &references);
    if (method == Method::DeepLift && references != 1) {
      throw InputError("--references '" + o.references + "': deeplift takes one reference per "
                       "sequence, the file has " + std::to_string(references) +
                       "; use --method deeplift_shap");
    }
  }
  auto ruled = std::make_shared<deeplift::RuledModel>(deeplift::prepare_model(model));
  auto tally = std::make_shared<DeepLiftTally>();
  PreparedMethod prepared;
  prepared.convergence_delta = true;
  prepared.notes["deeplift_unruled_ops"] = ruled->unruled_ops;
  prepared.notes["deeplift_dtype"] = ruled->dtype == torch::kFloat64 ? "float64" : "float32";
  prepared.notes["references_per_sequence"] = references;
  if (!ruled->unruled_ops.empty()) {
    std::string names;
    for (const auto& op : ruled->unruled_ops) names += (names.empty() ? "" : ", ") + op;
    log::warn("no DeepLIFT rule for " + names + " in model '" + model.path() +
              "': gradients pass through them, so summation-to-delta may not hold");
  }
  if (o.save_references) prepared.references_per_sequence = references;
  prepared.run = [ruled, &o, method, target, outputs, references, file, tally](
                     const torch::Tensor& one_hot, int64_t first, const BlockSink& sink,
                     const ProgressCallback& progress, torch::Tensor* stored) {
    auto only_one = std::make_shared<std::vector<bool>>();
    deeplift::Plan plan;
    plan.largest_absolute_delta = method == Method::DeepLiftShap;
    plan.references = references;
    plan.make_references = part_references(o, method, one_hot, first, references, file, only_one);
    const BlockSink checked = [&](const AttributionBlock& block) {
      const auto magnitude = block.convergence_delta.abs();
      // A NaN delta counts as over the threshold: it cannot be under it.
      tally->over_threshold += (~(magnitude <= o.delta_warning)).sum().item<int64_t>();
      const float largest = magnitude.max().item<float>();
      tally->largest = std::isnan(largest) || std::isnan(tally->largest) ? std::nanf("")
                                                                          : std::max(tally->largest, largest);
      sink(block);
    };
    deeplift::run_deeplift(*ruled, one_hot, plan, target, outputs, o.batch_size, checked, progress);
    tally->single_shuffle += std::count(only_one->begin(), only_one->end(), true);
    if (stored) *stored = plan.make_references(0, one_hot.size(0));
  };
  prepared.finish = [tally, &o] {
    if (tally->single_shuffle > 0) {
      log::warn(std::to_string(tally->single_shuffle) + " sequence(s) have only one possible "
                "dinucleotide shuffle (themselves); their references are copies of it");
    }
    if (tally->over_threshold > 0) {
      std::ostringstream text;
      text << tally->over_threshold << " sequence(s) have |convergence delta| above --delta-warning "
           << o.delta_warning << " (largest " << tally->largest << ")";
      log::warn(text.str());
    }
  };
  return prepared;
}

}  // namespace

PreparedMethod prepare_method(const AttributeOptions& o, Model& model, int64_t target,
                              int64_t outputs, int64_t sequences, int64_t length) {
  const Method method = parse_method(o.method);
  if (method == Method::Ism) return prepare_ism(o, model, target, outputs, length);
  if (method == Method::DeepLift || method == Method::DeepLiftShap) {
    return prepare_deeplift(o, method, model, target, outputs, sequences, length);
  }
  return prepare_path_method(o, method, model, target);
}

}  // namespace seqattr
