#include "command.h"
#include "validators.h"

#include <iomanip>
#include <memory>
#include <sstream>

#include "common/log.h"
#include "pipeline/attribute_job.h"

#include "methods/method.h"
#include "methods/path/baseline.h"
#include "methods/path/ig_rules.h"

namespace seqattr::cli {
namespace {

std::string describe(const JobSummary& s) {
  std::ostringstream out;
  out << "done: " << s.method << " on " << s.sequences << " sequences of " << s.length
      << " bp in " << std::fixed << std::setprecision(2) << s.seconds << " s on " << s.device;
  if (!s.shard.empty()) out << " (shard " << s.shard << ")";
  if (s.resumed > 0) out << "; " << s.resumed << " of them resumed from finished parts";
  out << "; wrote " << s.output;
  return out.str();
}

void declare_options(CLI::App* cmd, AttributeOptions& o) {
  cmd->add_option("--model", o.model,
                  "TorchScript model (one-hot in, (N,T) out, or see --head and --reduce) or Keras .h5 (chrombpnet)")
      ->required();
  cmd->add_option("--fasta", o.fasta, "Input sequences, all the same length (plain or gzipped)");
  cmd->add_option("--bed", o.bed,
                  "Regions (BED or narrowPeak, plain or gzipped), centred on the summit (column "
                  "10) or midpoint and resized to --length; needs --genome");
  cmd->add_option("--tile", o.tile, "W:S: every window of width W, step S, of --genome; the "
                  "last window of a chromosome is aligned to its end");
  cmd->add_option("--genome", o.genome,
                  "Genome FASTA for --bed/--tile (plain or bgzipped; .fai made when missing)");
  cmd->add_option("--chroms", o.chroms, "--tile: comma-separated chromosomes (default: all)");
  cmd->add_option("--length", o.length,
                  "--bed: window length; --fasta/--tile: checked when given (0: not checked)")
      ->check(at_least(0));
  cmd->add_option("--method", o.method, "Attribution method")
      ->required()
      ->check(CLI::IsMember(method_names()));
  cmd->add_option("--output", o.output, "Output HDF5 file")->required();
  cmd->add_option("--dtype", o.dtype, "Stored attributions, hypothetical attributions and ISM deltas")
      ->check(CLI::IsMember({"float32", "float16"}));
  cmd->add_option("--format", o.format,
                  "chrombpnet: also raw/seq, shap/seq, projected_shap/seq (chrombpnet, modisco)")
      ->check(CLI::IsMember({"seqattr", "chrombpnet"}));
  cmd->add_option("--shard", o.shard,
                  "I/N: compute only the I-th of N parts (0-based); in a Slurm array, default "
                  "from SLURM_ARRAY_TASK_ID/COUNT; combine with 'seqattr merge'");
  cmd->add_flag("--resume", o.resume,
                "Continue an interrupted run from the finished parts kept in OUTPUT.parts/ "
                "(the parameters must match)");
  add_model_interface_options(cmd, o.target, o.head, o.reduce, o.input_layout, o.extra_inputs);
  cmd->add_option("--batch-size", o.batch_size,
                  "Model rows per forward/backward pass (bounds memory)")
      ->check(at_least(1));
  cmd->add_option("--device", o.device, "auto, cpu, cuda or cuda:N");
  cmd->add_option("--convolutions", o.convolutions,
                  "1-D convolutions: direct (seqattr::conv1d_direct) or aten (LibTorch's "
                  "own, as saved)")
      ->check(CLI::IsMember(convolution_kernel_names()));
  cmd->add_option("--threads", o.threads, "LibTorch intra-op threads (0: every core)")
      ->check(at_least(0));
  cmd->add_option("--n-steps", o.n_steps, "Integrated gradients: integration steps")
      ->check(at_least(1));
  cmd->add_option("--ig-rule", o.ig_rule, "Integrated gradients: integration rule")
      ->check(CLI::IsMember(ig_rule_names()));
  cmd->add_option("--baseline", o.baseline,
                  "Integrated gradients and deeplift: baseline (dinuc_shuffle: deeplift only)")
      ->check(CLI::IsMember(baseline_names()));
  cmd->add_option("--references", o.references,
                  "deeplift, deeplift_shap: HDF5 file with /references (N,R,4,L) one-hot");
  cmd->add_option("--n-shuffles", o.n_shuffles,
                  "deeplift_shap: dinucleotide-shuffled references per sequence")
      ->check(at_least(1));
  cmd->add_option("--seed", o.seed, "deeplift, deeplift_shap: seed of the dinucleotide shuffles")
      ->check(at_least(0));
  cmd->add_option("--delta-warning", o.delta_warning,
                  "deeplift, deeplift_shap: warn when any |convergence delta| exceeds this")
      ->check(at_least(0));
  cmd->add_flag("--save-references", o.save_references,
                "deeplift, deeplift_shap: also write /references (N,R,4,L) uint8");
  cmd->add_option("--ism-start", o.ism_start, "ism: first position of the window (0-based)");
  cmd->add_option("--ism-end", o.ism_end, "ism: end of the window, exclusive (-1: sequence end)");
  cmd->add_option("--ism-mode", o.ism_mode,
                  "ism: fast recomputes only the changed windows; auto uses it when the graph "
                  "qualifies")
      ->check(CLI::IsMember({"naive", "fast", "auto"}));
  auto* quiet = cmd->add_flag("--quiet,-q", o.quiet, "Only warnings and errors; no progress bar");
  cmd->add_flag("--verbose,-v", o.verbose, "Debug logging")->excludes(quiet);
}

}  // namespace

Command attribute_command(CLI::App& app) {
  auto options = std::make_shared<AttributeOptions>();
  auto* cmd = add_command(app, "attribute", "Compute per-base attributions for FASTA sequences");
  cmd->footer("Presets: --config FILE.toml applies an [attribute] table of these options "
              "first (see configs/); flags given here override it.");
  declare_options(cmd, *options);
  return {cmd, [options] {
            log::configure(options->quiet     ? log::Level::Warn
                           : options->verbose ? log::Level::Debug
                                              : log::Level::Info);
            log::info(describe(run_attribute(*options, command_line())));
          }};
}

}  // namespace seqattr::cli
