#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "command.h"
#include "common/atomic_output.h"
#include "common/errors.h"
#include "common/log.h"
#include "export/bigwig_export.h"
#include "export/igv_session.h"
#include "export/modisco_export.h"
#include "export/peaks_export.h"

namespace seqattr::cli {
namespace {

struct BigWigCommandOptions {
  std::string input;
  std::string output;
  std::string genome;
  std::string chrom_sizes;
  bool stats = false;
  int32_t zoom_levels = 10;
  std::string igv_session;
  std::string seqlets;
};

void declare_options(CLI::App* cmd, BigWigCommandOptions& o) {
  add_input_and_output(cmd, o.input, o.output, "Output bigWig",
                       "seqattr output made with --bed or --tile (HDF5)");
  auto* genome = cmd->add_option("--genome", o.genome,
                                 "FASTA whose .fai gives the chromosome sizes (built if missing)");
  auto* sizes = cmd->add_option("--chrom-sizes", o.chrom_sizes,
                                "Two-column file: chromosome name, length");
  genome->excludes(sizes);
  cmd->add_option("--zoom-levels", o.zoom_levels,
                  "Zoom levels for zoomed-out views. libBigWig builds them at the end with "
                  "about 4 bytes per written base plus 12-24 per base of the largest "
                  "chromosome; 0 writes none and keeps memory independent of the track")
      ->check(CLI::Range(0, 10));
  cmd->add_flag("--stats", o.stats,
                "Print min, max, mean and the 1/5/25/50/75/95/99% quantiles of the written "
                "values to stdout; the quantiles are exact (a radix histogram over a second "
                "pass of the input), interpolated like numpy.quantile");
  auto* session = cmd->add_option("--igv-session", o.igv_session,
                                  "Also write an IGV session (XML) opening --genome, the track "
                                  "with its data range fixed to the track's 1st and 99th "
                                  "percentiles, and --seqlets; at the first window")
                      ->needs(genome);
  cmd->add_option("--seqlets", o.seqlets, "BED of seqlets (seqattr seqlets) for the IGV session")
      ->check(CLI::ExistingFile)
      ->needs(session);
}

std::string describe(const BigWigExportSummary& s, const std::string& output) {
  return "done: wrote " + std::to_string(s.bases) + " bases on " +
         std::to_string(s.chromosomes) + " chromosomes from " + std::to_string(s.regions) +
         " regions to " + output;
}

void run_bigwig(const BigWigCommandOptions& o) {
  log::configure(log::Level::Info);
  if (o.genome.empty() == o.chrom_sizes.empty()) {
    throw InputError("export-bigwig: give exactly one of --genome or --chrom-sizes");
  }
  refuse_overwriting_inputs("--output", o.output,
                            {{"input", o.input}, {"--genome", o.genome}, {"--chrom-sizes", o.chrom_sizes}});
  BigWigExportOptions options;
  options.input = o.input;
  options.output = o.output;
  options.stats = o.stats || !o.igv_session.empty();  // the session's range is two quantiles
  if (!o.igv_session.empty()) {
    refuse_overwriting_inputs("--igv-session", o.igv_session,
                              {{"input", o.input}, {"--genome", o.genome}, {"--seqlets", o.seqlets}});
    AtomicOutput::check_writable(o.igv_session);
  }
  options.zoom_levels = o.zoom_levels;
  if (!o.genome.empty()) {
    options.chrom_sizes = genome_chrom_sizes(o.genome);
    options.chrom_sizes_source = "--genome '" + o.genome + "'";
  } else {
    options.chrom_sizes = read_chrom_sizes(o.chrom_sizes);
    options.chrom_sizes_source = "--chrom-sizes '" + o.chrom_sizes + "'";
  }
  const auto summary = export_bigwig(options);
  if (summary.non_finite > 0) {
    log::warn(std::to_string(summary.non_finite) + " base(s) have a NaN or infinite attribution "
              "in '" + o.input + "'; they have no entry in the track");
  }
  log::info(describe(summary, o.output));
  if (o.stats) std::fputs(format_stats(*summary.stats).c_str(), stdout);
  if (!o.igv_session.empty()) {
    const auto& q = summary.stats->quantiles;  // at probabilities 0.01, ..., 0.99
    write_igv_session({o.igv_session, o.genome, o.output, std::filesystem::path(o.output).stem().string(),
                       q.front(), q.back(), o.seqlets, summary.first_locus});
    log::info("wrote IGV session " + o.igv_session);
  }
}

}  // namespace

Command export_bigwig_command(CLI::App& app) {
  auto options = std::make_shared<BigWigCommandOptions>();
  auto* cmd = add_command(app, "export-bigwig", "Write projected attributions as a bigWig track");
  cmd->footer(
      "Each base gets the projected attribution (summed over the 4 channels) of the window "
      "whose centre is nearest; a tie goes to the window that starts first. Bases no window "
      "covers, or outside the chromosome, have no entry. Exactly one of --genome or "
      "--chrom-sizes is required; chromosomes are listed in its order.");
  declare_options(cmd, *options);
  return {cmd, [options] { run_bigwig(*options); }};
}

Command export_modisco_command(CLI::App& app) {
  auto options = std::make_shared<ModiscoExportOptions>();
  auto* cmd = add_command(app, "export-modisco", "Write ohe.npz and attr.npz for TF-MoDISco");
  cmd->footer(
      "ohe.npz holds /one_hot and attr.npz /hypothetical_attributions, each as arr_0 "
      "(N, 4, L) float32: run `modisco motifs -s ohe.npz -a attr.npz ...` (tfmodisco-lite "
      "multiplies the hypothetical attributions by the one-hot itself).");
  cmd->add_option("input", options->input, "seqattr output file (HDF5)")->required();
  cmd->add_option("--output-dir,-o", options->output_dir,
                  "Directory for ohe.npz and attr.npz (created if missing)")
      ->required();
  return {cmd, [options] {
            log::configure(log::Level::Info);
            const auto summary = export_modisco(*options);
            log::info("done: wrote " + std::to_string(summary.sequences) + " sequences of " +
                      std::to_string(summary.length) + " bp to " + summary.ohe_path + " and " +
                      summary.attr_path);
          }};
}

Command export_bed_command(CLI::App& app) {
  auto options = std::make_shared<PeaksExportOptions>();
  auto* cmd = add_command(app, "export-bed",
                          "Write the windows of a genomic output as a 10-column narrowPeak");
  cmd->footer("Columns: chrom, start, end, name, 0, '.', the window's attribution sum, -1, -1, "
              "summit (offset from start; the window's middle for tiles), as chrombpnet's bigWig "
              "script and `modisco seqlet-bed` read them.");
  add_input_and_output(cmd, options->input, options->output, "narrowPeak file to write");
  return {cmd, [options] {
            log::configure(log::Level::Info);
            const int64_t rows = export_peaks(*options);
            log::info("wrote " + options->output + ": " + std::to_string(rows) + " windows");
          }};
}

}  // namespace seqattr::cli
