#include "pipeline/attribute_job.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <chrono>
#include <sstream>
#include <thread>

#include "common/atomic_output.h"
#include "common/enum_names.h"
#include "common/errors.h"
#include "common/file_hash.h"
#include "common/input_file.h"
#include "common/log.h"
#include "core/device.h"
#include "core/model.h"
#include "core/model_adapter.h"
#include "core/model_metadata.h"
#include "formats/attribution_file.h"
#include "common/hdf5.h"
#include "formats/references_file.h"
#include "formats/row_files.h"
#include "methods/registry.h"
#include "pipeline/progress.h"
#include "pipeline/run_parts.h"
#include "pipeline/run_plan.h"
#include "pipeline/sequence_source.h"
#include "pipeline/sharding.h"

namespace seqattr {
namespace {

// The registered method, prepared; references given as a file are read here (formats).
PreparedMethod prepare_method(const AttributeSettings& settings, MethodContext context) {
  const MethodSpec& spec = find_method(settings.method);
  const auto& m = settings.method_options;
  if (spec.takes_references && !m.references.empty()) {
    context.references.source = deeplift::file_references(
        m.references, context.sequences, context.length, &context.references.per_sequence);
  }
  return spec.prepare(m, context);
}

// A column number as a number (as before names existed), a name as a string.
nlohmann::json target_json(const std::string& target) {
  const bool number = !target.empty() && target.size() < 19 &&
                      target.find_first_not_of("0123456789") == std::string::npos;
  return number ? nlohmann::json(std::stoll(target)) : nlohmann::json(target);
}

}  // namespace

nlohmann::json to_json(const AttributeOptions& o) {
  return {{"model", o.model},
          {"fasta", o.fasta},
          {"bed", o.bed},
          {"genome", o.genome},
          {"tile", o.tile},
          {"chroms", o.chroms},
          {"length", o.length},
          {"output", o.output},
          {"dtype", o.dtype},
          {"format", o.format},
          {"shard", o.shard},
          {"resume", o.resume},
          {"method", o.method},
          {"target", o.target.empty() ? nlohmann::json(nullptr) : target_json(o.target)},
          {"head", o.head},
          {"reduce", o.reduce},
          {"input_layout", o.input_layout},
          {"extra_inputs", o.extra_inputs},
          {"batch_size", o.batch_size},
          {"device", o.device},
          {"threads", o.threads},
          {"convolutions", o.convolutions},
          {"n_steps", o.n_steps},
          {"ig_rule", o.ig_rule},
          // References given replace the baseline and the shuffles: those are recorded as
          // null, not as values that were not used.
          {"baseline", o.references.empty() ? nlohmann::json(o.baseline) : nullptr},
          {"references", o.references},
          {"n_shuffles", o.references.empty() ? nlohmann::json(o.n_shuffles) : nullptr},
          {"seed", o.references.empty() ? nlohmann::json(o.seed) : nullptr},
          {"delta_warning", o.delta_warning},
          {"save_references", o.save_references},
          {"ism_start", o.ism_start},
          {"ism_end", o.ism_end},
          {"ism_mode", o.ism_mode},
          {"quiet", o.quiet},
          {"verbose", o.verbose}};
}

namespace {

void validate_input(const AttributeOptions& o) {
  const int given = !o.fasta.empty() + !o.bed.empty() + !o.tile.empty();
  if (given != 1) {
    throw InputError(given == 0 ? "no input: give --fasta FILE, --bed FILE --genome FASTA, or "
                                  "--tile W:S --genome FASTA"
                                : "--fasta, --bed and --tile: give exactly one of them");
  }
  if (!o.fasta.empty() && !o.genome.empty()) {
    throw InputError("--genome: only --bed and --tile read a genome; --fasta holds the sequences");
  }
  if (o.fasta.empty() && o.genome.empty()) {
    throw InputError(std::string(o.bed.empty() ? "--tile" : "--bed") +
                     ": needs --genome GENOME.fa (plain or bgzipped FASTA)");
  }
  if (!o.bed.empty() && o.length < 1) {
    throw InputError("--bed: needs --length L, the window each region is resized to (or "
                     "an input_length in the model's JSON file)");
  }
  if (o.length < 0) throw InputError("--length " + std::to_string(o.length) + ": must be >= 1");
  if (!o.chroms.empty() && o.tile.empty()) throw InputError("--chroms: only --tile takes it");
}

const EnumNames<StoredDtype>& dtype_names() {
  static const EnumNames<StoredDtype> table(
      "--dtype", {{StoredDtype::Float32, "float32"}, {StoredDtype::Float16, "float16"}});
  return table;
}

const EnumNames<OutputFormat>& format_names() {
  static const EnumNames<OutputFormat> table(
      "--format", {{OutputFormat::Seqattr, "seqattr"}, {OutputFormat::ChromBpnet, "chrombpnet"}});
  return table;
}

// The method's options, their names parsed; besides those every front end takes, the
// command line's references and warning threshold.
MethodOptions method_options(const AttributeOptions& o) {
  MethodOptions m = parse_method_options(o);
  m.references = o.references;
  m.delta_warning = o.delta_warning;
  m.save_references = o.save_references;
  return m;
}

}  // namespace

AttributeSettings validate(const AttributeOptions& o) {
  validate_input(o);
  AttributeSettings settings;
  settings.dtype = dtype_names().parse(o.dtype);
  settings.format = format_names().parse(o.format);
  const MethodSpec& spec = find_method(o.method);
  settings.method = spec.name;
  settings.method_options = method_options(o);
  if (o.threads < 0) throw InputError("--threads " + std::to_string(o.threads) + ": must be >= 0");
  settings.convolutions = parse_convolution_kernels(o.convolutions);
  if (o.quiet && o.verbose) throw InputError("--quiet and --verbose: choose one");
  validate_common(settings.method_options);
  spec.validate(settings.method_options);
  if (!o.reduce.empty()) parse_reduction(o.reduce);
  if (!o.input_layout.empty() && o.input_layout != "ncl" && o.input_layout != "nlc") {
    throw InputError("--input-layout '" + o.input_layout + "': expected ncl (N, 4, L) or nlc (N, L, 4)");
  }
  if (!o.extra_inputs.empty() && o.extra_inputs != "zeros") {
    throw InputError("--extra-inputs '" + o.extra_inputs + "': expected zeros");
  }
  settings.device = parse_device(o.device);
  return settings;
}


namespace {

// The options that change results, as stored.
nlohmann::json comparable_options(const AttributeOptions& o) {
  auto parameters = to_json(o);
  for (const auto& key : kPresentationOptions) parameters.erase(key);
  return parameters;
}

// What a run computes: the options that change results, the model and the inputs. Shards
// and resumed runs of one computation share it; merge checks it.
nlohmann::json run_identity(const AttributeOptions& o, const std::string& model_sha256,
                            const SequenceSource& source) {
  const auto parameters = comparable_options(o);
  return {{"parameters", parameters},
          {"model_sha256", model_sha256},
          {"inputs", source.identity()},
          {"seqattr_version", SEQATTR_VERSION}};
}

// The stored `parameters` attribute: every option but those naming this process's output
// and shard, so that a merged file's equals a single process's.
nlohmann::json stored_parameters(const AttributeOptions& o, int64_t target,
                                 const nlohmann::json& notes) {
  auto parameters = to_json(o);
  parameters["target_index"] = target;  // the column --target named
  for (const char* key : {"output", "shard", "resume"}) parameters.erase(key);
  parameters.update(notes);
  return parameters;
}

// Wall-clock seconds by stage, for --verbose and the genome-scale benchmark.
struct StageTimes {
  double read = 0, compute = 0, write = 0, assemble = 0;
};

// Sequences whose prediction or attributions hold NaN or infinity: a model that overflows
// (or was given weights that are NaN) would otherwise pass silently.
int64_t non_finite_rows(const AttributionBlock& block) {
  auto bad = ~torch::isfinite(block.predictions).all(1);
  bad = bad | ~torch::isfinite(block.hypothetical.flatten(1)).all(1);
  if (block.ism_delta.defined()) bad = bad | ~torch::isfinite(block.ism_delta.flatten(1)).all(1);
  return bad.sum().item<int64_t>();
}

// Computes part `part` (sequences [first, first + count)) into a part file at `path`.
void compute_part(const std::string& path, const SequenceSource& source, const PreparedMethod& method,
                  OutputLayout layout, int64_t first, int64_t count,
                  const ProgressCallback& progress, StageTimes* times, int64_t* non_finite) {
  Stopwatch clock;
  const auto rows = source.read(first, count);
  times->read += clock.lap();
  layout.sequences = count;
  AttributionFile file(path, layout);
  file.write_inputs(rows.names, rows.one_hot);
  if (layout.regions) {
    file.write_regions({rows.chroms, rows.names, rows.start, rows.end, rows.summit});
  }
  times->write += clock.lap();
  torch::Tensor references;
  method.run(rows.one_hot, first,
             [&](const AttributionBlock& block) {
               times->compute += clock.lap();
               *non_finite += non_finite_rows(block);
               file.write_block(block);
               times->write += clock.lap();
             },
             progress, layout.references > 0 ? &references : nullptr);
  times->compute += clock.lap();
  if (references.defined()) file.write_references(0, references);
  file.close();
  times->write += clock.lap();
}

// An empty shard (more shards than parts) still gets a file with every dataset, 0 rows.
void write_empty(const std::string& path, OutputLayout layout) {
  layout.sequences = 0;
  AttributionFile file(path, layout);
  const std::vector<std::string> none;
  const auto empty = torch::empty({0}, torch::kInt64);
  file.write_inputs(none, torch::empty({0, 4, layout.length}, torch::kUInt8));
  if (layout.regions) file.write_regions({none, none, empty, empty, empty});
  AttributionBlock block;
  block.hypothetical = block.attributions = block.ism_delta = torch::empty({0, 4, layout.length});
  block.predictions = torch::empty({0, layout.outputs});
  block.convergence_delta = torch::empty({0});
  file.write_block(block);
  file.close();
}

}  // namespace

// The options with the model's metadata applied: --length defaulting to the model's input
// length for --bed and --tile.
AttributeOptions with_model_metadata(AttributeOptions o, const std::optional<ModelMetadata>& metadata) {
  if (metadata && metadata->input_length > 0 && o.length == 0 && o.fasta.empty() &&
      o.tile.empty()) {
    o.length = metadata->input_length;
  }
  return o;
}

// Every file the run reads, which its output must not be.
std::vector<NamedPath> named_inputs(const AttributeOptions& o) {
  return {{"--model", o.model},       {"--fasta", o.fasta},
          {"--bed", o.bed},           {"--genome", o.genome},
          {"--genome", o.genome.empty() ? "" : o.genome + ".fai"},
          {"--references", o.references}};
}

ModelInterface model_interface(const AttributeOptions& o) {
  return {o.head, o.reduce, o.input_layout, o.extra_inputs, o.target};
}

namespace {

OutputLayout output_layout(const AttributeSettings& settings, const PreparedMethod& method,
                           int64_t length, int64_t outputs, bool genomic) {
  OutputLayout layout;
  layout.length = length;
  layout.outputs = outputs;
  layout.convergence_delta = method.convergence_delta;
  layout.references = method.references_per_sequence;
  layout.ism_delta = method.ism_delta;
  layout.dtype = settings.dtype == StoredDtype::Float16 ? torch::kHalf : torch::kFloat32;
  layout.chrombpnet = settings.format == OutputFormat::ChromBpnet;
  layout.regions = genomic;
  return layout;
}

// What the parts loop needs besides the plan.
struct PartsJob {
  const AttributeOptions* options = nullptr;
  const SequenceSource* source = nullptr;
  const PreparedMethod* method = nullptr;
  OutputLayout layout;
  std::string device;
  int threads = 0;
};

// Computes the parts of the shard that are not finished yet, with a progress bar; returns
// the paths of all the shard's parts, in order. Counts resumed sequences into *summary.
std::vector<std::string> compute_parts(const PartsJob& job, const RunPlan& plan, PartStore& store,
                                       JobSummary* summary, StageTimes* times) {
  const auto& options = *job.options;
  const int64_t sequences = job.source->size();
  std::vector<std::string> part_paths;
  std::vector<int64_t> todo;
  for (int64_t p = plan.range.first_part; p < plan.range.end_part; ++p) {
    part_paths.push_back(store.path_of(p));
    if (store.has(p)) {
      summary->resumed += std::min(plan.part_size, sequences - p * plan.part_size);
    } else {
      todo.push_back(p);
    }
  }
  log::info(c10::str(options.method, ": ", summary->sequences, " sequences of ", job.layout.length,
                     " bp, target ", options.target.empty() ? std::string("0") : options.target, ", ", options.batch_size,
                     " model rows per pass on ", job.device, " (", job.threads, " threads)"));
  ProgressBar bar(options.method, summary->sequences, ProgressBar::wanted(options.quiet));
  int64_t finished = summary->resumed;
  bar.update(finished);
  int64_t non_finite = 0;
  for (const int64_t p : todo) {
    const int64_t first = p * plan.part_size;
    const int64_t count = std::min(plan.part_size, sequences - first);
    store.add(p, [&](const std::string& path) {
      compute_part(path, *job.source, *job.method, job.layout, first, count,
                   [&](int64_t done) { bar.update(finished + done); }, times, &non_finite);
    });
    finished += count;
  }
  bar.finish();
  job.method->finish();
  if (non_finite > 0) {
    log::warn(std::to_string(non_finite) + " of " + std::to_string(summary->sequences - summary->resumed) +
              " sequence(s) have NaN or infinite predictions or attributions (the model's "
              "output overflows, or its weights are not finite); they are written as they are");
  }
  return part_paths;
}

}  // namespace

JobSummary run_attribute(const AttributeOptions& requested, const std::string& command_line) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& [option, path] : {NamedPath{"--model", requested.model},
                                     NamedPath{"--genome", requested.genome},
                                     NamedPath{"--references", requested.references}}) {
    require_regular_file(option, path);
  }
  const auto metadata = read_model_metadata(requested.model);
  const AttributeOptions options = with_model_metadata(requested, metadata);
  const AttributeSettings settings = validate(options);
  const int threads = effective_threads(options.threads);
  const ScopedThreadCount thread_count(threads);
  const ScopedConvolutionKernels convolutions(settings.convolutions);
  const auto device = resolve_device(settings.device);
  AtomicOutput::check_writable(options.output, named_inputs(options));

  const auto source = open_sequence_source(options);
  const int64_t sequences = source->size(), length = source->length();
  Stopwatch setup_steps;  // where the setup's time goes, for --verbose
  const double options_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto adapted = load_adapted_model(options.model, model_interface(options), metadata, length, device);
  const auto model = std::make_shared<Model>(std::move(adapted.model));
  const int64_t target = adapted.target, outputs = adapted.outputs;
  if (adapted.adapted) log::debug("model adapter of '" + options.model + "':\n" + adapted.source);
  const double load_seconds = setup_steps.lap();
  const auto model_sha256 = sha256_of_file(options.model, "--model");
  const double hash_seconds = setup_steps.lap();
  auto method = prepare_method(settings, {model, target, outputs, sequences, length, {}});
  method.notes.update(adapter_notes(adapted));
  log::debug(c10::str("setup seconds: options and inputs ", options_seconds, ", model load and probe ",
                      load_seconds, ", hash ", hash_seconds, ", method preparation ", setup_steps.lap()));

  auto identity = run_identity(options, model_sha256, *source);
  // On the CPU the thread count changes how reductions are split, and so the last digits:
  // resumed parts and merged shards must have used the same (pin --threads across nodes).
  if (device.is_cpu()) {
    identity["threads_used"] = threads;
    method.notes["threads_used"] = threads;
  }
  const RunPlan plan = make_plan(options.shard, options.batch_size, std::move(identity), sequences);

  JobSummary summary;
  summary.method = options.method;
  summary.device = device.str();
  summary.sequences = plan.range.end - plan.range.first;
  summary.length = length;
  summary.output = options.output;
  summary.shard = plan.shard.whole() ? "" : plan.shard.text();
  if (!plan.shard.whole()) {
    log::info("shard " + plan.shard.text() + " (from " + plan.shard.source + "): sequences " +
              std::to_string(plan.range.first) + ".." + std::to_string(plan.range.end) + " of " +
              std::to_string(sequences));
  }
  if (options.resume && already_complete(options.output, plan)) {
    log::info("--resume: '" + options.output + "' is already complete; nothing to do");
    summary.resumed = summary.sequences;
    return summary;
  }
  if (options.resume) refuse_other_finished_output(options.output, comparable_options(options));

  const PartsJob job{&options, source.get(), &method,
                     output_layout(settings, method, length, outputs, source->genomic()),
                     device.str(), threads};
  PartStore store(parts_directory(options.output), plan.manifest, options.resume);
  if (const int stale = remove_stale_temporaries(options.output); stale > 0) {
    log::info("removed " + std::to_string(stale) + " temporary file(s) of '" + options.output +
              "' left by an interrupted run");
  }
  StageTimes times;
  // Everything before the first batch: metadata, the model's load and adaptation, its hash,
  // the output probe, the method's preparation (graph rewrites), the run plan.
  const double setup = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto part_paths = compute_parts(job, plan, store, &summary, &times);

  Stopwatch assembly;
  assemble_output(options.output, named_inputs(options), plan, part_paths,
                  [&](const std::string& path) { write_empty(path, job.layout); },
                  {options.method, target, model_sha256,
                   stored_parameters(options, target, method.notes).dump(), command_line,
                   plan.run_id},
                  sequences);
  store.remove();
  times.assemble = assembly.lap();
  log::debug(c10::str("seconds by stage: setup before the first batch ", setup, ", read sequences ",
                      times.read, ", compute ", times.compute,
                      ", write parts ", times.write, ", assemble output ", times.assemble));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace seqattr
