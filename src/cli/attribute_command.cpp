#include "cli/attribute_command.h"

#include "methods/baseline.h"
#include "methods/ig_rules.h"
#include "methods/method.h"

namespace seqattr::cli {

CLI::App* add_attribute_command(CLI::App& app, AttributeOptions& o) {
  auto* cmd = app.add_subcommand("attribute", "Compute per-base attributions for FASTA sequences");
  cmd->option_defaults()->always_capture_default();
  cmd->fallthrough();  // --config belongs to the parent app; see main.cpp
  cmd->footer("Presets: --config FILE.toml applies an [attribute] table of these options "
              "first (see configs/); flags given here override it.");

  cmd->add_option("--model", o.model, "TorchScript model: (N,4,L) one-hot in, (N,T) out")
      ->required();
  cmd->add_option("--fasta", o.fasta, "Input sequences, all the same length (plain or gzipped)")
      ->required();
  cmd->add_option("--method", o.method, "Attribution method")
      ->required()
      ->check(CLI::IsMember(method_names()));
  cmd->add_option("--output", o.output, "Output HDF5 file")->required();
  cmd->add_option("--target", o.target, "Model output column to explain")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-size", o.batch_size,
                  "Model rows per forward/backward pass (bounds memory)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--device", o.device, "auto, cpu, cuda or cuda:N");
  cmd->add_option("--threads", o.threads, "LibTorch intra-op threads (0: every core)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--n-steps", o.n_steps, "Integrated gradients: integration steps")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--ig-rule", o.ig_rule, "Integrated gradients: integration rule")
      ->check(CLI::IsMember(ig_rule_names()));
  cmd->add_option("--baseline", o.baseline,
                  "Integrated gradients and deeplift: baseline (dinuc_shuffle: deeplift only)")
      ->check(CLI::IsMember(baseline_names()));
  cmd->add_option("--references", o.references,
                  "deeplift, deeplift_shap: HDF5 file with /references (N,R,4,L) one-hot");
  cmd->add_option("--n-shuffles", o.n_shuffles,
                  "deeplift_shap: dinucleotide-shuffled references per sequence")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o.seed, "deeplift, deeplift_shap: seed of the dinucleotide shuffles")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--delta-warning", o.delta_warning,
                  "deeplift, deeplift_shap: warn when any |convergence delta| exceeds this")
      ->check(CLI::NonNegativeNumber);
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
  return cmd;
}

}  // namespace seqattr::cli
