#pragma once
// `seqattr variants`: what each variant of a VCF does to the model's output. For every ALT
// allele, the window around it as the genome has it (ref) and with the allele in it (alt)
// (formats/vcf.h), the model's predictions on both, their difference on the target (score)
// and, optionally, the Jensen-Shannon distance of the profiles and attributions of both
// windows. Streamed in parts like `attribute`: --resume, --shard and `merge` work the same.
// Torch-free: the command line includes it.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "methods/method.h"

namespace seqattr {

struct VariantsOptions {
  std::string model;
  std::string vcf;
  std::string genome;
  std::string output;
  int64_t length = 0;  // 0: MODEL.json's input_length (or the Keras file's)
  // How the model is read (core/model_adapter.h), as `attribute` takes them.
  std::string target, head, reduce, input_layout, extra_inputs;
  // A head with a length axis (profile logits): /jsd compares its softmax on ref and alt.
  std::string profile_head;
  std::string method = "none";  // "none": predictions and scores only
  // The method's options (methods/method.h), as `attribute` takes them.
  int64_t batch_size = MethodOptions{}.batch_size;
  int n_steps = MethodOptions{}.n_steps;
  std::string ig_rule = "gausslegendre";
  std::string baseline = "zeros";
  int64_t n_shuffles = MethodOptions{}.n_shuffles;
  uint64_t seed = MethodOptions{}.seed;
  int64_t ism_start = MethodOptions{}.ism_start;
  int64_t ism_end = MethodOptions{}.ism_end;
  std::string ism_mode = "auto";
  double delta_warning = MethodOptions{}.delta_warning;
  std::string device = "auto";
  int threads = 0;
  std::string shard;
  bool resume = false;
  std::string tsv;      // one line per variant, for spreadsheets and R
  std::string bed_out;  // the variants as BED, score scaled to 0-1000 in column 5
  bool quiet = false;
  bool verbose = false;
};

// Every option's value, as stored in the output's `parameters` attribute.
nlohmann::json to_json(const VariantsOptions& options);

struct VariantsSummary {
  int64_t variants = 0;  // rows of this run (or shard)
  int64_t skipped = 0;   // symbolic and missing ALT alleles
  int64_t resumed = 0;
  double seconds = 0.0;
  std::string output;
  std::string shard;
};

// Runs the whole job. On any error nothing is left at options.output (nor at --tsv and
// --bed-out); finished parts are kept for --resume as `attribute` keeps them.
VariantsSummary run_variants(const VariantsOptions& options, const std::string& command_line);

}  // namespace seqattr
