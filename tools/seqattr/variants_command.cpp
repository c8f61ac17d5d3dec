// `seqattr variants`: variant effects from a VCF (pipeline/variants_job.h).
#include <memory>

#include "command.h"
#include "common/log.h"
#include "pipeline/variants_job.h"

namespace seqattr::cli {

Command variants_command(CLI::App& app) {
  auto o = std::make_shared<VariantsOptions>();
  auto* cmd = add_command(app, "variants",
                          "Score the variants of a VCF: predictions on the reference and "
                          "alternate windows, their difference, and optionally attributions");
  cmd->add_option("--model", o->model, "TorchScript model or Keras .h5 (chrombpnet)")->required();
  cmd->add_option("--vcf", o->vcf, "Variants (VCF, plain or bgzipped); each ALT is one row")->required();
  cmd->add_option("--genome", o->genome, "Indexed (or indexable) FASTA, plain or bgzipped")->required();
  cmd->add_option("--output,-o", o->output, "HDF5 file to write")->required();
  cmd->add_option("--length", o->length, "Window length (0: input_length from MODEL.json)");
  add_model_interface_options(cmd, o->target, o->head, o->reduce, o->input_layout, o->extra_inputs);
  cmd->add_option("--profile-head", o->profile_head,
                  "A head with a length axis (profile logits): /jsd, the Jensen-Shannon distance "
                  "of its softmax on ref and alt");
  cmd->add_option("--method", o->method, "Attributions of both windows: none or a method name");
  cmd->add_option("--batch-size", o->batch_size, "Model rows per forward/backward pass");
  cmd->add_option("--n-steps", o->n_steps, "Integrated gradients: steps");
  cmd->add_option("--ig-rule", o->ig_rule, "Integrated gradients: riemann_left, riemann_right, "
                                           "riemann_middle, riemann_trapezoid or gausslegendre");
  cmd->add_option("--baseline", o->baseline, "Baseline of deeplift and integrated gradients");
  cmd->add_option("--n-shuffles", o->n_shuffles, "deeplift_shap: references per window");
  cmd->add_option("--seed", o->seed, "deeplift_shap: seed of the shuffles (per variant: ref and alt share them)");
  cmd->add_option("--ism-mode", o->ism_mode, "ism: naive, fast or auto");
  cmd->add_option("--delta-warning", o->delta_warning, "Warn above this |convergence delta|");
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N");
  cmd->add_option("--threads", o->threads, "CPU threads (0: every core)");
  cmd->add_option("--shard", o->shard, "Compute shard I of N (I/N); join the shards with merge");
  cmd->add_flag("--resume", o->resume, "Continue an interrupted run with the same options");
  cmd->add_option("--tsv", o->tsv, "Also write chrom, pos, id, ref, alt, score[, jsd] as TSV");
  cmd->add_option("--bed-out", o->bed_out, "Also write the variants as BED (score scaled to 0-1000)");
  auto* quiet = cmd->add_flag("--quiet,-q", o->quiet, "Only warnings and errors; no progress bar");
  cmd->add_flag("--verbose,-v", o->verbose, "Debug logging")->excludes(quiet);
  return {cmd, [o] {
            log::configure(o->quiet ? log::Level::Warn : o->verbose ? log::Level::Debug : log::Level::Info);
            const auto summary = run_variants(*o, command_line());
            log::info("wrote " + summary.output + ": " + std::to_string(summary.variants) +
                      " variant(s) in " + std::to_string(summary.seconds) + " s" +
                      (summary.resumed ? " (" + std::to_string(summary.resumed) + " resumed)" : ""));
          }};
}

}  // namespace seqattr::cli
