#include "engine/attribute_job.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "common/errors.h"
#include "common/log.h"
#include "engine/device.h"
#include "engine/model.h"
#include "engine/progress.h"
#include "io/atomic_output.h"
#include "io/attribution_file.h"
#include "io/fasta.h"
#include "io/file_hash.h"
#include "io/one_hot.h"
#include "methods/baseline.h"
#include "methods/deeplift/deeplift.h"
#include "methods/deeplift/references.h"
#include "methods/ig_rules.h"
#include "methods/ism.h"
#include "methods/method.h"
#include "methods/path_attribution.h"

namespace seqattr {
namespace {

bool is_deeplift(Method method) {
  return method == Method::DeepLift || method == Method::DeepLiftShap;
}

// The number of model outputs T, from one forward pass on the first sequence; checks the
// target against it.
int64_t probe_outputs(Model& model, const torch::Tensor& one_hot, int64_t target) {
  const int64_t outputs = predict(model, one_hot.slice(0, 0, 1), 1).size(1);
  if (target >= outputs) {
    throw InputError("--target " + std::to_string(target) + ": out of range; model '" +
                     model.path() + "' has " + std::to_string(outputs) +
                     " output(s), so the target must be in 0.." + std::to_string(outputs - 1));
  }
  return outputs;
}

// A method ready to run: whether it reports convergence deltas, how many references it
// stores, and the call that streams its blocks.
struct PreparedMethod {
  bool convergence_delta = false;
  bool ism_delta = false;
  deeplift::ReferenceSource references;  // set when --save-references
  int64_t references_per_sequence = 0;
  std::function<void(const BlockSink&, const ProgressCallback&)> run;
  nlohmann::json notes = nlohmann::json::object();  // added to the output's parameters
};

PreparedMethod prepare_path_method(const AttributeOptions& o, Method method, Model& model,
                                   const torch::Tensor& one_hot) {
  const auto plan = method == Method::IntegratedGradients
                        ? integrated_gradients_plan(parse_ig_rule(o.ig_rule), o.n_steps,
                                                    parse_baseline(o.baseline))
                        : gradient_plan();
  PreparedMethod prepared;
  prepared.convergence_delta = plan.convergence_delta;
  prepared.run = [&model, &one_hot, plan, &o](const BlockSink& sink, const ProgressCallback& progress) {
    run_path_attribution(model, one_hot, plan, o.target, o.batch_size, sink, progress);
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

PreparedMethod prepare_ism(const AttributeOptions& o, Model& model, const torch::Tensor& one_hot,
                           int64_t outputs) {
  const auto window = ism_window(o, one_hot.size(2));
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
  prepared.run = [&model, &one_hot, window, &o, outputs, fast](const BlockSink& sink,
                                                                const ProgressCallback& progress) {
    run_ism(model, one_hot, window, o.target, outputs, o.batch_size, fast.get(), sink, progress);
  };
  return prepared;
}

deeplift::Plan deeplift_plan(const AttributeOptions& o, Method method, const torch::Tensor& one_hot,
                             const std::shared_ptr<std::vector<bool>>& only_one) {
  deeplift::Plan plan;
  plan.largest_absolute_delta = method == Method::DeepLiftShap;
  const int64_t length = one_hot.size(2);
  if (!o.references.empty()) {
    plan.make_references =
        deeplift::file_references(o.references, one_hot.size(0), length, &plan.references);
    if (method == Method::DeepLift && plan.references != 1) {
      throw InputError("--references '" + o.references + "': deeplift takes one reference per "
                       "sequence, the file has " + std::to_string(plan.references) +
                       "; use --method deeplift_shap");
    }
  } else if (method == Method::DeepLiftShap || parse_baseline(o.baseline) == Baseline::DinucShuffle) {
    plan.references = method == Method::DeepLiftShap ? o.n_shuffles : 1;
    plan.make_references = deeplift::shuffled_references(one_hot, plan.references, o.seed, only_one);
  } else {
    plan.make_references = deeplift::constant_references(baseline_value(parse_baseline(o.baseline)), length);
  }
  return plan;
}

PreparedMethod prepare_deeplift(const AttributeOptions& o, Method method, const Model& model,
                                const torch::Tensor& one_hot, int64_t outputs) {
  auto only_one = std::make_shared<std::vector<bool>>();
  const auto plan = deeplift_plan(o, method, one_hot, only_one);
  auto ruled = std::make_shared<deeplift::RuledModel>(deeplift::prepare_model(model));
  PreparedMethod prepared;
  prepared.convergence_delta = true;
  prepared.notes["deeplift_unruled_ops"] = ruled->unruled_ops;
  prepared.notes["references_per_sequence"] = plan.references;
  if (!ruled->unruled_ops.empty()) {
    std::string names;
    for (const auto& op : ruled->unruled_ops) names += (names.empty() ? "" : ", ") + op;
    log::warn("no DeepLIFT rule for " + names + " in model '" + model.path() +
              "': gradients pass through them, so summation-to-delta may not hold");
  }
  if (o.save_references) {
    prepared.references = plan.make_references;
    prepared.references_per_sequence = plan.references;
  }
  prepared.run = [ruled, &one_hot, plan, &o, outputs, only_one](const BlockSink& sink,
                                                                 const ProgressCallback& progress) {
    int64_t over_threshold = 0;
    float largest = 0.0f;
    const BlockSink checked = [&](const AttributionBlock& block) {
      const auto magnitude = block.convergence_delta.abs();
      over_threshold += (magnitude > o.delta_warning).sum().item<int64_t>();
      largest = std::max(largest, magnitude.max().item<float>());
      sink(block);
    };
    deeplift::run_deeplift(*ruled, one_hot, plan, o.target, outputs, o.batch_size, checked, progress);
    const auto single = std::count(only_one->begin(), only_one->end(), true);
    if (single > 0) {
      log::warn(std::to_string(single) + " sequence(s) have only one possible "
                "dinucleotide shuffle (themselves); their references are copies of it");
    }
    if (over_threshold > 0) {
      std::ostringstream text;
      text << over_threshold << " sequence(s) have |convergence delta| above --delta-warning "
           << o.delta_warning << " (largest " << largest << ")";
      log::warn(text.str());
    }
  };
  return prepared;
}

}  // namespace

nlohmann::json to_json(const AttributeOptions& o) {
  return {{"model", o.model},
          {"fasta", o.fasta},
          {"output", o.output},
          {"method", o.method},
          {"target", o.target},
          {"batch_size", o.batch_size},
          {"device", o.device},
          {"threads", o.threads},
          {"n_steps", o.n_steps},
          {"ig_rule", o.ig_rule},
          {"baseline", o.baseline},
          {"references", o.references},
          {"n_shuffles", o.n_shuffles},
          {"seed", o.seed},
          {"delta_warning", o.delta_warning},
          {"save_references", o.save_references},
          {"ism_start", o.ism_start},
          {"ism_end", o.ism_end},
          {"ism_mode", o.ism_mode},
          {"quiet", o.quiet},
          {"verbose", o.verbose}};
}

void validate(const AttributeOptions& o) {
  const Method method = parse_method(o.method);
  parse_ig_rule(o.ig_rule);
  const Baseline baseline = parse_baseline(o.baseline);
  if (o.target < 0) throw InputError("--target " + std::to_string(o.target) + ": must be >= 0");
  if (o.batch_size < 1) {
    throw InputError("--batch-size " + std::to_string(o.batch_size) + ": must be >= 1");
  }
  if (o.threads < 0) throw InputError("--threads " + std::to_string(o.threads) + ": must be >= 0");
  ig_quadrature(parse_ig_rule(o.ig_rule), o.n_steps);  // checks --n-steps for the rule
  if (o.quiet && o.verbose) throw InputError("--quiet and --verbose: choose one");
  if (baseline == Baseline::DinucShuffle && method != Method::DeepLift) {
    throw InputError("--baseline dinuc_shuffle: only --method deeplift takes it");
  }
  if (!o.references.empty() && !is_deeplift(method)) {
    throw InputError("--references: only the deeplift methods take references");
  }
  if (o.n_shuffles < 1) {
    throw InputError("--n-shuffles " + std::to_string(o.n_shuffles) + ": must be >= 1");
  }
  if (!(o.delta_warning >= 0)) throw InputError("--delta-warning: must be >= 0");
  if ((o.ism_start != 0 || o.ism_end != -1) && method != Method::Ism) {
    throw InputError("--ism-start/--ism-end: only --method ism takes a window");
  }
  if (o.ism_mode != "naive" && o.ism_mode != "fast" && o.ism_mode != "auto") {
    throw InputError("--ism-mode '" + o.ism_mode + "': expected naive, fast or auto");
  }
  if (o.save_references && !is_deeplift(method)) {
    throw InputError("--save-references: only the deeplift methods have references");
  }
}

JobSummary run_attribute(const AttributeOptions& options, const std::string& command_line) {
  const auto start = std::chrono::steady_clock::now();
  validate(options);
  const Method method = parse_method(options.method);
  const int threads = options.threads > 0 ? options.threads
                                          : static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(std::max(1, threads));
  const auto device = resolve_device(options.device);

  const auto records = read_fasta(options.fasta);
  const int64_t length = common_length(records, options.fasta);
  const auto one_hot = one_hot_encode(records, length);
  std::vector<std::string> names;
  for (const auto& r : records) names.push_back(r.name);

  auto model = Model::load(options.model, device);
  const auto model_sha256 = sha256_of_file(options.model, "--model");
  const int64_t outputs = probe_outputs(model, one_hot, options.target);
  const auto prepared = method == Method::Ism ? prepare_ism(options, model, one_hot, outputs)
                        : is_deeplift(method)
                            ? prepare_deeplift(options, method, model, one_hot, outputs)
                            : prepare_path_method(options, method, model, one_hot);

  AtomicOutput output(options.output);
  AttributionFile file(output.temp_path(), {one_hot.size(0), length, outputs,
                                            prepared.convergence_delta,
                                            prepared.references_per_sequence,
                                            prepared.ism_delta});
  file.write_inputs(names, one_hot);

  log::info(c10::str(options.method, ": ", one_hot.size(0), " sequences of ", length,
                     " bp, target ", options.target, ", ", options.batch_size,
                     " model rows per pass on ", device.str(), " (", threads, " threads)"));
  ProgressBar bar(options.method, one_hot.size(0), ProgressBar::wanted(options.quiet));
  prepared.run(
      [&](const AttributionBlock& block) {
        file.write_block(block);
        if (prepared.references) {
          file.write_references(block.first,
                                prepared.references(block.first, block.hypothetical.size(0)));
        }
      },
      [&](int64_t finished) { bar.update(finished); });
  bar.finish();

  auto parameters = to_json(options);
  parameters.update(prepared.notes);
  file.write_description(
      {options.method, options.target, model_sha256, parameters.dump(), command_line});
  file.close();
  output.commit();

  JobSummary summary;
  summary.method = options.method;
  summary.device = device.str();
  summary.sequences = one_hot.size(0);
  summary.length = length;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.output = options.output;
  return summary;
}

}  // namespace seqattr
