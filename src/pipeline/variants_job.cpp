#include "pipeline/variants_job.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <optional>
#include <sstream>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "common/file_hash.h"
#include "common/hdf5.h"
#include "common/input_file.h"
#include "common/log.h"
#include "core/device.h"
#include "core/model.h"
#include "core/model_adapter.h"
#include "core/model_metadata.h"
#include "formats/attribution_file.h"
#include "formats/hdf5_tensor.h"
#include "formats/one_hot.h"
#include "formats/vcf.h"
#include "methods/ism/fast_ism.h"
#include "methods/registry.h"
#include "pipeline/progress.h"
#include "pipeline/run_parts.h"
#include "pipeline/run_plan.h"

namespace seqattr {

nlohmann::json to_json(const VariantsOptions& o) {
  const bool method = o.method != "none";
  const auto when = [&](auto value) { return method ? nlohmann::json(value) : nlohmann::json(); };
  return {{"model", o.model},
          {"vcf", o.vcf},
          {"genome", o.genome},
          {"output", o.output},
          {"length", o.length},
          {"target", o.target},
          {"head", o.head},
          {"reduce", o.reduce},
          {"input_layout", o.input_layout},
          {"extra_inputs", o.extra_inputs},
          {"profile_head", o.profile_head},
          {"method", o.method},
          {"batch_size", o.batch_size},
          // The method's options only where a method ran.
          {"n_steps", when(o.n_steps)},
          {"ig_rule", when(o.ig_rule)},
          {"baseline", when(o.baseline)},
          {"n_shuffles", when(o.n_shuffles)},
          {"seed", when(o.seed)},
          {"ism_start", when(o.ism_start)},
          {"ism_end", when(o.ism_end)},
          {"ism_mode", o.ism_mode},  // also how SNVs' alt predictions are computed
          {"delta_warning", when(o.delta_warning)},
          {"device", o.device},
          {"threads", o.threads},
          {"shard", o.shard},
          {"resume", o.resume},
          {"tsv", o.tsv},
          {"bed_out", o.bed_out},
          {"quiet", o.quiet},
          {"verbose", o.verbose}};
}

namespace {

// Options that name extra outputs of this process: not part of what is computed.
const char* const kExtraOutputs[] = {"tsv", "bed_out"};

nlohmann::json comparable_variant_options(const VariantsOptions& o) {
  auto parameters = to_json(o);
  for (const auto& key : kPresentationOptions) parameters.erase(key);
  for (const char* key : kExtraOutputs) parameters.erase(key);
  return parameters;
}

std::vector<NamedPath> variant_inputs(const VariantsOptions& o) {
  return {{"--model", o.model},
          {"--vcf", o.vcf},
          {"--genome", o.genome},
          {"--genome", o.genome + ".fai"}};
}

void validate_variants(const VariantsOptions& o) {
  if (o.vcf.empty()) throw InputError("--vcf: required");
  if (o.genome.empty()) throw InputError("--genome: required");
  if (o.length < 0) throw InputError("--length " + std::to_string(o.length) + ": must be >= 1");
  if (o.threads < 0) throw InputError("--threads " + std::to_string(o.threads) + ": must be >= 0");
  if (o.quiet && o.verbose) throw InputError("--quiet and --verbose: choose one");
  if (o.method != "none") {
    const MethodSpec& spec = find_method(o.method);
    const MethodOptions m = parse_method_options(o);
    validate_common(m);
    spec.validate(m);
  } else {
    parse_method_options(o);  // the names are checked even when unused
  }
  if (!o.reduce.empty()) parse_reduction(o.reduce);
  const Shard shard = resolve_shard(o.shard);
  if (!shard.whole() && (!o.tsv.empty() || !o.bed_out.empty())) {
    throw InputError("--tsv and --bed-out: not with --shard (they rank the whole run); write "
                     "them from an unsharded run");
  }
  for (const auto& [option, path] : {NamedPath{"--tsv", o.tsv}, NamedPath{"--bed-out", o.bed_out}}) {
    if (!path.empty() && path == o.output) throw InputError(option + " '" + path + "': is --output");
  }
}

// The model as the run reads it: the explained head, and the profile head flattened.
struct Models {
  std::shared_ptr<Model> explained;
  std::shared_ptr<Model> profile;  // null without --profile-head
  int64_t target = 0;
  int64_t outputs = 0;  // T of the explained model
  nlohmann::json notes;
};

Models load_models(const VariantsOptions& o, const std::optional<ModelMetadata>& metadata,
                   int64_t length, const torch::Device& device) {
  Models models;
  const Model raw = Model::load(o.model, device);  // read once, adapted once or twice
  auto adapted = adapt_model(raw, {o.head, o.reduce, o.input_layout, o.extra_inputs, o.target},
                             metadata, length, device);
  models.explained = std::make_shared<Model>(std::move(adapted.model));
  models.target = adapted.target;
  models.outputs = adapted.outputs;
  models.notes = adapter_notes(adapted);
  if (!o.profile_head.empty()) {
    auto profile = adapt_model(raw, {o.profile_head, "flatten", o.input_layout, o.extra_inputs, ""},
                               metadata, length, device);
    models.profile = std::make_shared<Model>(std::move(profile.model));
    models.notes["profile_head_used"] = profile.head;
  }
  return models;
}

// The Jensen-Shannon distance (natural log, scipy.spatial.distance.jensenshannon) between
// the softmax of each row of `a` and of `b`, in float64.
torch::Tensor js_distance(const torch::Tensor& a, const torch::Tensor& b) {
  const auto la = torch::log_softmax(a.to(torch::kFloat64), 1);
  const auto lb = torch::log_softmax(b.to(torch::kFloat64), 1);
  const auto pa = la.exp(), pb = lb.exp();
  const auto lm = (0.5 * (pa + pb)).log();
  // rel_entr(p, m) is 0 where p is 0.
  const auto left = torch::where(pa > 0, pa * (la - lm), torch::zeros_like(pa)).sum(1);
  const auto right = torch::where(pb > 0, pb * (lb - lm), torch::zeros_like(pb)).sum(1);
  return (0.5 * (left + right)).clamp_min(0).sqrt().to(torch::kFloat32);
}

torch::Tensor encode_windows(const std::vector<std::string>& sequences, int64_t length) {
  std::vector<SequenceRecord> records;
  records.reserve(sequences.size());
  for (const auto& s : sequences) records.push_back({"", s});
  return one_hot_encode(records, length);
}

// Hypothetical and actual attributions of `one_hot` (S, 4, L), sequences [first, first + S)
// of the run: ref and alt of a variant are given the same index, so methods seeded per
// sequence (deeplift_shap's shuffles) seed both alike.
std::pair<torch::Tensor, torch::Tensor> explain_windows(const PreparedMethod& method,
                                                const torch::Tensor& one_hot, int64_t first) {
  const auto shape = one_hot.sizes();
  auto hypothetical = torch::empty({shape[0], shape[1], shape[2]});
  auto attributions = torch::empty_like(hypothetical);
  if (shape[0] == 0) return {hypothetical, attributions};
  method.run(one_hot, first,
             [&](const AttributionBlock& block) {
               const int64_t rows = block.hypothetical.size(0);
               hypothetical.narrow(0, block.first, rows).copy_(block.hypothetical);
               attributions.narrow(0, block.first, rows).copy_(block.attributions);
             },
             [](int64_t) {}, nullptr);
  return {hypothetical, attributions};
}

// Sequences a fast ISM batch session holds at once: at most 32 (2,000 SNVs on the default
// model, 2 cores: 3.5 s at 32 or 64, 3.8 s at 16, 4.4 s at 4), and at most as many as keep
// its memory, every activation of each window, under 256 MB (about 3 MB a window on the
// default model at 1,000 bp; bpnet_2114's are larger).
constexpr int64_t kFastBatchRows = 32;
constexpr int64_t kFastBatchBytes = int64_t{256} << 20;

struct VariantPartContext {
  const VariantsOptions* options = nullptr;
  const Genome* genome = nullptr;
  const VariantList* list = nullptr;
  const Models* models = nullptr;
  const PreparedMethod* method = nullptr;  // null: no attributions
  int64_t length = 0;
  int64_t outputs = 0;  // T
  const FastIsmPlan* fast = nullptr;  // SNVs' alt predictions from the ref's activations
  int64_t fast_batch_rows = 0;        // windows a fast ISM session takes at once
};

// kFastBatchRows, or fewer where a window's activations are larger (measured on one window).
int64_t fast_batch_rows(const FastIsmPlan& fast, int64_t length) {
  const int64_t bytes = fast.start_batch(torch::zeros({1, 4, length}, torch::kUInt8)).bytes_per_sequence();
  return std::clamp<int64_t>(kFastBatchBytes / std::max<int64_t>(1, bytes), 1, kFastBatchRows);
}

// A substitution of one base by another: fast ISM scores it from the ref window's activations.
bool is_snv(const Variant& v) {
  return v.ref.size() == 1 && v.alt.size() == 1 && v.ref != "N" && v.alt != "N";
}

struct WindowPredictions {
  torch::Tensor ref, alt;  // (S, T)
  torch::Tensor score;     // (S,): alt - ref on the target
};

// Predictions on the ref windows, and on the alt windows: for SNVs (with a fast ISM plan) the
// ref's plus f(alt) - f(ref) from a fast ISM pass over a batch of ref windows, which computes
// the ref predictions as well and carries the change itself (exact to float32 rounding of the
// change, not of two outputs); for other variants, a forward pass on their alt windows.
WindowPredictions window_predictions(const VariantPartContext& c, int64_t first,
                                     const torch::Tensor& ref, const torch::Tensor& alt) {
  const int64_t count = alt.size(0), target = c.models->target;
  Model& model = *c.models->explained;
  WindowPredictions out;
  if (count == 0) {  // an empty shard's file: every dataset with 0 rows
    out.ref = out.alt = torch::empty({0, c.outputs});
    out.score = torch::empty({0});
    return out;
  }
  std::vector<int64_t> forward_rows;
  if (!c.fast) {
    out.ref = predict(model, ref.to(torch::kFloat32), c.options->batch_size);
    out.alt = out.ref.clone();
    out.score = torch::zeros({count});
    for (int64_t i = 0; i < count; ++i) forward_rows.push_back(i);
  } else {
    out.ref = torch::empty({count, c.outputs});
    out.alt = torch::empty({count, c.outputs});
    out.score = torch::zeros({count});
    for (int64_t begin = 0; begin < count; begin += c.fast_batch_rows) {
      const int64_t rows = std::min(c.fast_batch_rows, count - begin);
      const auto session = c.fast->start_batch(ref.narrow(0, begin, rows));
      // Each window's SNV sits at L/2; other rows substitute nothing (base -1) and get a
      // forward pass below.
      std::vector<int64_t> position(rows, c.length / 2), base(rows, -1);
      for (int64_t i = 0; i < rows; ++i) {
        const Variant& v = c.list->variants[static_cast<size_t>(first + begin + i)];
        if (is_snv(v)) {
          base[i] = static_cast<int64_t>(std::string("ACGT").find(v.alt[0]));
        } else {
          forward_rows.push_back(begin + i);
        }
      }
      const auto reference = session.outputs().to(torch::kFloat32);
      const auto change = session.changes(position, base).to(torch::kFloat64);
      out.ref.narrow(0, begin, rows).copy_(reference);
      out.alt.narrow(0, begin, rows).copy_((reference.to(torch::kFloat64) + change).to(torch::kFloat32));
      out.score.narrow(0, begin, rows).copy_(change.select(1, target));
    }
  }
  if (!forward_rows.empty()) {
    const auto rows = torch::tensor(forward_rows, torch::kInt64);
    const auto forward = predict(model, alt.index_select(0, rows).to(torch::kFloat32), c.options->batch_size);
    out.alt.index_copy_(0, rows, forward);
    out.score.index_copy_(0, rows, forward.select(1, target) - out.ref.index_select(0, rows).select(1, target));
  }
  return out;
}

// Variants [first, first + count) into a part file at `path` (all datasets row-aligned, so
// that parts, shards and merge concatenate them as they do attribute's).
void compute_variant_part(const std::string& path, const VariantPartContext& c, int64_t first, int64_t count) {
  std::vector<std::string> chroms, ids, refs, alts, ref_windows, alt_windows;
  auto pos = torch::empty({count}, torch::kInt64), start = torch::empty({count}, torch::kInt64);
  for (int64_t i = 0; i < count; ++i) {
    const Variant& v = c.list->variants[static_cast<size_t>(first + i)];
    const auto windows = variant_windows(*c.genome, v, c.length);
    chroms.push_back(c.list->chroms[static_cast<size_t>(v.chrom)]);
    ids.push_back(v.id);
    refs.push_back(v.ref);
    alts.push_back(v.alt);
    pos[i] = v.pos;
    start[i] = windows.start;
    ref_windows.push_back(windows.ref);
    alt_windows.push_back(windows.alt);
  }
  const auto ref = encode_windows(ref_windows, c.length), alt = encode_windows(alt_windows, c.length);
  const auto predicted = window_predictions(c, first, ref, alt);
  const auto& predictions_ref = predicted.ref;
  const auto& predictions_alt = predicted.alt;
  const auto& score = predicted.score;

  auto file = h5::create_file(path);
  {
    auto group = h5::create_group(file.get(), "variants");
    h5::write_strings(group.get(), "chrom", chroms);
    h5::write_dataset(group.get(), "pos", pos, H5T_NATIVE_INT64, 64);
    h5::write_strings(group.get(), "id", ids);
    h5::write_strings(group.get(), "ref", refs);
    h5::write_strings(group.get(), "alt", alts);
    h5::write_dataset(group.get(), "window_start", start, H5T_NATIVE_INT64, 64);
  }
  h5::write_dataset(file.get(), "predictions_ref", predictions_ref, H5T_NATIVE_FLOAT, 64);
  h5::write_dataset(file.get(), "predictions_alt", predictions_alt, H5T_NATIVE_FLOAT, 64);
  h5::write_dataset(file.get(), "score", score, H5T_NATIVE_FLOAT, 64);
  if (c.models->profile) {
    // An empty shard's file has every dataset with 0 rows; nothing is run.
    const auto profile = [&](const torch::Tensor& one_hot) {
      return count == 0 ? torch::empty({0, 1})
                        : predict(*c.models->profile, one_hot.to(torch::kFloat32), c.options->batch_size);
    };
    const auto jsd = js_distance(profile(ref), profile(alt));
    h5::write_dataset(file.get(), "jsd", jsd, H5T_NATIVE_FLOAT, 64);
  }
  for (const auto& [name, one_hot] : {std::pair<std::string, torch::Tensor>{"ref", ref}, {"alt", alt}}) {
    auto group = h5::create_group(file.get(), name);
    h5::write_dataset(group.get(), "one_hot", one_hot, H5T_NATIVE_UINT8, 64);
    if (!c.method) continue;
    const auto [hypothetical, attributions] = explain_windows(*c.method, one_hot, first);
    h5::write_dataset(group.get(), "hypothetical_attributions", hypothetical, H5T_NATIVE_FLOAT, 64);
    h5::write_dataset(group.get(), "attributions", attributions, H5T_NATIVE_FLOAT, 64);
  }
  file.close();
}

// An empty shard still gets every dataset, with 0 rows, by running the part writer on none.
void write_empty_variants(const std::string& path, const VariantPartContext& c) { compute_variant_part(path, c, 0, 0); }

nlohmann::json variant_run_identity(const VariantsOptions& o, const std::string& model_sha256,
                            int64_t length, int64_t variants) {
  return {{"parameters", comparable_variant_options(o)},
          {"model_sha256", model_sha256},
          {"inputs", {{"vcf_sha256", sha256_of_file(o.vcf, "--vcf")},
                      {"genome_fai_sha256", sha256_of_file(o.genome + ".fai", "--genome")},
                      {"length", length},
                      {"variants", variants}}},
          {"seqattr_version", SEQATTR_VERSION}};
}

// Variants per block when the tables are written from the assembled output.
constexpr hsize_t kTableRows = 65536;

// Rows of the assembled output, a block at a time (memory flat in the number of variants).
template <typename Visit>
void for_each_variant_block(const std::string& path, Visit visit) {
  auto file = h5::open_file_for_reading(path);
  auto pos = h5::open_dataset(file.get(), "variants/pos");
  const int64_t rows = static_cast<int64_t>(h5::dataset_shape(pos.get())[0]);
  const bool has_jsd = h5::exists(file.get(), "jsd");
  auto score = h5::open_dataset(file.get(), "score");
  for (int64_t first = 0; first < rows; first += static_cast<int64_t>(kTableRows)) {
    const int64_t count = std::min<int64_t>(static_cast<int64_t>(kTableRows), rows - first);
    const auto read_strings = [&](const char* name) {
      auto d = h5::open_dataset(file.get(), std::string("variants/") + name);
      return h5::read_strings(d.get(), static_cast<hsize_t>(first), static_cast<hsize_t>(count));
    };
    torch::Tensor jsd;
    if (has_jsd) {
      auto d = h5::open_dataset(file.get(), "jsd");
      jsd = h5::read_rows(d.get(), static_cast<hsize_t>(first), static_cast<hsize_t>(count), torch::kFloat32);
    }
    const auto at = static_cast<hsize_t>(first), n = static_cast<hsize_t>(count);
    visit(read_strings("chrom"), h5::read_rows(pos.get(), at, n, torch::kInt64),
          read_strings("id"), read_strings("ref"), read_strings("alt"),
          h5::read_rows(score.get(), at, n, torch::kFloat32), jsd);
  }
}

std::string tsv_number(double value) {
  std::ostringstream out;
  out << std::setprecision(7) << value;
  return out.str();
}

// --tsv and --bed-out from the assembled output. BED's column 5 is |score| scaled to 0-1000
// by the largest |score| of the run; its name is id:ref>alt (chrom:pos when the ID is '.').
void write_tables(const VariantsOptions& o) {
  const auto inputs = variant_inputs(o);
  std::optional<AtomicOutput> tsv, bed;
  std::ofstream tsv_out, bed_out;
  if (!o.tsv.empty()) {
    tsv.emplace(o.tsv, inputs);
    tsv_out.open(tsv->temp_path());
  }
  if (!o.bed_out.empty()) {
    bed.emplace(o.bed_out, inputs);
    bed_out.open(bed->temp_path());
  }
  float largest = 0;  // of |score|, for the BED scale: /score alone, read a block at a time
  {
    auto file = h5::open_file_for_reading(o.output);
    auto score = h5::open_dataset(file.get(), "score");
    const hsize_t rows = h5::dataset_shape(score.get())[0];
    for (hsize_t first = 0; first < rows; first += kTableRows) {
      const auto block = h5::read_rows(score.get(), first, std::min(kTableRows, rows - first), torch::kFloat32);
      largest = std::max(largest, block.abs().max().item<float>());
    }
  }
  bool header = true;
  for_each_variant_block(o.output, [&](const std::vector<std::string>& chroms, const torch::Tensor& pos,
                               const std::vector<std::string>& ids, const std::vector<std::string>& refs,
                               const std::vector<std::string>& alts, const torch::Tensor& score,
                               const torch::Tensor& jsd) {
    if (tsv && header) tsv_out << "chrom\tpos\tid\tref\talt\tscore" << (jsd.defined() ? "\tjsd" : "") << "\n";
    header = false;
    for (size_t i = 0; i < chroms.size(); ++i) {
      const auto r = static_cast<int64_t>(i);
      const int64_t p = pos[r].item<int64_t>();
      const float s = score[r].item<float>();
      if (tsv) {
        tsv_out << chroms[i] << '\t' << p << '\t' << ids[i] << '\t' << refs[i] << '\t' << alts[i]
                << '\t' << tsv_number(s);
        if (jsd.defined()) tsv_out << '\t' << tsv_number(jsd[r].item<float>());
        tsv_out << '\n';
      }
      if (bed) {
        const std::string name = (ids[i] == "." ? chroms[i] + ":" + std::to_string(p) : ids[i]) +
                                 ":" + refs[i] + ">" + alts[i];
        const int scaled = largest > 0 ? static_cast<int>(std::lround(1000.0 * std::abs(s) / largest)) : 0;
        bed_out << chroms[i] << '\t' << p - 1 << '\t' << p - 1 + static_cast<int64_t>(refs[i].size())
                << '\t' << name << '\t' << scaled << "\t.\n";
      }
    }
  });
  for (auto* out : {&tsv_out, &bed_out}) {
    if (out->is_open() && !out->flush()) throw InputError("cannot write --tsv or --bed-out (disk full?)");
  }
  tsv_out.close();
  bed_out.close();
  if (tsv) tsv->commit();
  if (bed) bed->commit();
}

}  // namespace

VariantsSummary run_variants(const VariantsOptions& requested, const std::string& command_line) {
  const auto started = std::chrono::steady_clock::now();
  for (const auto& [option, path] : {NamedPath{"--model", requested.model},
                                     NamedPath{"--vcf", requested.vcf},
                                     NamedPath{"--genome", requested.genome}}) {
    require_regular_file(option, path);
  }
  validate_variants(requested);
  const auto metadata = read_model_metadata(requested.model);
  VariantsOptions options = requested;
  if (options.length == 0 && metadata) options.length = metadata->input_length;
  if (options.length < 1) {
    throw InputError("--length: needed (the model's JSON file gives no input_length)");
  }
  const int threads = effective_threads(options.threads);
  const ScopedThreadCount thread_count(threads);
  const auto device = resolve_device(options.device);
  AtomicOutput::check_writable(options.output, variant_inputs(options));
  for (const auto& path : {options.tsv, options.bed_out}) {
    if (!path.empty()) AtomicOutput::check_writable(path, variant_inputs(options));
  }

  const Genome genome = Genome::open(options.genome);
  const VariantList list = read_vcf(options.vcf, genome);
  VariantsSummary summary;
  for (const auto& [allele, count] : list.skipped) summary.skipped += count;
  if (summary.skipped > 0) {
    std::string which;
    for (const auto& [allele, count] : list.skipped) {
      which += (which.empty() ? "" : ", ") + allele + " (" + std::to_string(count) + ")";
    }
    log::warn("skipped " + std::to_string(summary.skipped) + " ALT allele(s) that name no "
              "sequence: " + which);
  }
  const int64_t variants = static_cast<int64_t>(list.variants.size());
  const Models models = load_models(options, metadata, options.length, device);
  const int64_t outputs = models.outputs;

  std::optional<PreparedMethod> method;
  if (options.method != "none") {
    MethodOptions m = parse_method_options(options);
    m.delta_warning = options.delta_warning;
    method = find_method(options.method)
                 .prepare(m, {models.explained, models.target, outputs, variants, options.length, {}});
  }
  const auto model_sha256 = sha256_of_file(options.model, "--model");
  auto identity = variant_run_identity(options, model_sha256, options.length, variants);
  if (device.is_cpu()) identity["threads_used"] = threads;
  const RunPlan plan = make_plan(options.shard, options.batch_size, std::move(identity), variants);
  summary.variants = plan.range.end - plan.range.first;
  summary.output = options.output;
  summary.shard = plan.shard.whole() ? "" : plan.shard.text();
  if (options.resume && already_complete(options.output, plan)) {
    log::info("--resume: '" + options.output + "' is already complete; nothing to compute");
    summary.resumed = summary.variants;
    // The tables come from the assembled output: a run killed while writing them, or asked for
    // them only now, gets them.
    if (!options.tsv.empty() || !options.bed_out.empty()) write_tables(options);
    return summary;
  }
  if (options.resume) refuse_other_finished_output(options.output, comparable_variant_options(options));

  // SNVs' alt predictions by fast ISM (auto: where the graph qualifies): a batch of ref
  // windows' activations from one pass, then each SNV's change from its window's.
  std::optional<FastIsmPlan> fast;
  const IsmMode ism_mode = parse_ism_mode(options.ism_mode);
  if (ism_mode != IsmMode::Naive) {
    fast = FastIsmPlan::analyse(*models.explained);
    if (!fast->qualifies() && ism_mode == IsmMode::Fast) {
      throw InputError("--ism-mode fast: the model's graph does not qualify (" + fast->reason() + ")");
    }
    if (!fast->qualifies()) {
      log::info("variants: forward passes for SNVs' alt windows (fast ISM: " + fast->reason() + ")");
      fast.reset();
    }
  }
  const VariantPartContext context{&options, &genome, &list, &models, method ? &*method : nullptr,
                            options.length, outputs, fast ? &*fast : nullptr,
                            fast ? fast_batch_rows(*fast, options.length) : 0};
  PartStore store(parts_directory(options.output), plan.manifest, options.resume);
  remove_stale_temporaries(options.output);
  log::info(c10::str("variants: ", summary.variants, " ALT alleles, windows of ", options.length,
                     " bp, ", options.method == "none" ? std::string("predictions only")
                                                        : "method " + options.method,
                     " on ", device.str(), " (", threads, " threads)"));
  ProgressBar bar("variants", summary.variants, ProgressBar::wanted(options.quiet));
  std::vector<std::string> part_paths;
  int64_t done = 0;
  for (int64_t p = plan.range.first_part; p < plan.range.end_part; ++p) {
    const int64_t first = p * plan.part_size;
    const int64_t count = std::min(plan.part_size, variants - first);
    part_paths.push_back(store.path_of(p));
    if (store.has(p)) {
      summary.resumed += count;
    } else {
      store.add(p, [&](const std::string& path) { compute_variant_part(path, context, first, count); });
    }
    done += count;
    bar.update(done);
  }
  bar.finish();
  if (method) method->finish();

  auto parameters = to_json(options);
  for (const char* key : {"output", "shard", "resume"}) parameters.erase(key);
  parameters["target_index"] = models.target;
  parameters["skipped_alleles"] = list.skipped;
  parameters.update(models.notes);
  if (method) parameters.update(method->notes);
  assemble_output(options.output, variant_inputs(options), plan, part_paths,
                  [&](const std::string& path) { write_empty_variants(path, context); },
                  {options.method, models.target, model_sha256, parameters.dump(), command_line,
                   plan.run_id},
                  variants);
  store.remove();
  if (!options.tsv.empty() || !options.bed_out.empty()) write_tables(options);
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace seqattr
