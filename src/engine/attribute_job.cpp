#include "engine/attribute_job.h"

#include <chrono>
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
#include "methods/ig_rules.h"
#include "methods/method.h"
#include "methods/path_attribution.h"

namespace seqattr {
namespace {

PathPlan plan_for(const AttributeOptions& options) {
  if (parse_method(options.method) != Method::IntegratedGradients) return gradient_plan();
  return integrated_gradients_plan(parse_ig_rule(options.ig_rule), options.n_steps,
                                   parse_baseline(options.baseline));
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

}  // namespace

nlohmann::json to_json(const AttributeOptions& o) {
  return {{"model", o.model},       {"fasta", o.fasta},     {"output", o.output},
          {"method", o.method},     {"target", o.target},   {"batch_size", o.batch_size},
          {"device", o.device},     {"threads", o.threads}, {"n_steps", o.n_steps},
          {"ig_rule", o.ig_rule},   {"baseline", o.baseline}, {"quiet", o.quiet},
          {"verbose", o.verbose}};
}

void validate(const AttributeOptions& o) {
  parse_method(o.method);
  parse_ig_rule(o.ig_rule);
  parse_baseline(o.baseline);
  if (o.target < 0) throw InputError("--target " + std::to_string(o.target) + ": must be >= 0");
  if (o.batch_size < 1) {
    throw InputError("--batch-size " + std::to_string(o.batch_size) + ": must be >= 1");
  }
  if (o.threads < 0) throw InputError("--threads " + std::to_string(o.threads) + ": must be >= 0");
  ig_quadrature(parse_ig_rule(o.ig_rule), o.n_steps);  // checks --n-steps for the rule
  if (o.quiet && o.verbose) throw InputError("--quiet and --verbose: choose one");
}

JobSummary run_attribute(const AttributeOptions& options, const std::string& command_line) {
  const auto start = std::chrono::steady_clock::now();
  validate(options);
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
  const auto plan = plan_for(options);

  AtomicOutput output(options.output);
  AttributionFile file(output.temp_path(),
                       {one_hot.size(0), length, outputs, plan.convergence_delta});
  file.write_inputs(names, one_hot);

  log::info(c10::str(options.method, ": ", one_hot.size(0), " sequences of ", length,
                      " bp, target ", options.target, ", ", options.batch_size,
                      " model rows per pass on ", device.str(), " (", threads, " threads)"));
  ProgressBar bar(options.method, one_hot.size(0), ProgressBar::wanted(options.quiet));
  run_path_attribution(
      model, one_hot, plan, options.target, options.batch_size,
      [&](const AttributionBlock& block) { file.write_block(block); },
      [&](int64_t finished) { bar.update(finished); });
  bar.finish();

  file.write_description({options.method, options.target, model_sha256,
                          to_json(options).dump(), command_line});
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
