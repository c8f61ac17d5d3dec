#include <memory>
#include <string>

#include "command.h"
#include "common/errors.h"
#include "common/log.h"
#include "export/html_report.h"
#include "export/logo_svg.h"
#include "validators.h"

namespace seqattr::cli {
namespace {

void declare_options(CLI::App* cmd, LogoRequest& o) {
  add_input_and_output(cmd, o.input, o.output, "Output SVG");
  cmd->add_option("--index,-i", o.index, "Row of the sequence to draw (0-based)");
  cmd->add_option("--start", o.start, "First position drawn (0-based)");
  cmd->add_option("--end", o.end, "End of the window drawn (0-based, exclusive; -1: the end)");
  cmd->add_flag("--hypothetical", o.hypothetical,
                "Draw /hypothetical_attributions (all four bases at each position) rather than "
                "/attributions");
}

void declare_options(CLI::App* cmd, ReportOptions& o) {
  add_input_and_output(cmd, o.input, o.output, "Output HTML file");
  cmd->add_option("--top", o.top, "Sequences shown with logos, highest total attribution first")
      ->check(CLI::Range(int64_t{0}, int64_t{1000}));
  cmd->add_option("--window", o.window,
                  "Width (bp) of each logo, around the position of largest |attribution| "
                  "(0: the whole sequence)")
      ->check(at_least(0));
  cmd->add_option("--bins", o.bins, "Bins of each histogram")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  cmd->add_option("--seqlets", o.seqlets,
                  "BED from `seqattr seqlets` on this input: the report opens with its motifs "
                  "(count, mean score, share of regions, average logo), then unnamed seqlet "
                  "clusters, and marks seqlets on the logos");
}

}  // namespace

Command logo_command(CLI::App& app) {
  auto options = std::make_shared<LogoRequest>();
  auto* cmd = add_command(app, "logo", "Draw an attribution logo (SVG) of one sequence");
  cmd->footer(
      "Letter heights are the attributions: positive ones stacked above the axis (largest on "
      "top), negative ones below it. A green, C blue, G orange, T red. The x axis gives "
      "genomic positions (chrom:pos, 1-based) when the file has /regions (from --bed or "
      "--tile), else positions in the sequence (0-based).");
  declare_options(cmd, *options);
  return {cmd, [options] {
            log::configure(log::Level::Info);
            write_logo(*options);
            log::info("done: wrote the logo of row " + std::to_string(options->index) + " to " +
                      options->output);
          }};
}

Command report_command(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  auto* cmd = add_command(app, "report", "Write a self-contained HTML report of an output");
  cmd->footer(
      "One HTML file with everything inline (CSS, SVG figures; no scripts, no links to fetch): "
      "with --seqlets the motifs found first, then run parameters, a histogram of the target's predictions and of the total attribution "
      "per sequence, the --top sequences by total attribution with their logos, and a summary "
      "of the convergence deltas. /attributions is read a block of rows at a time.");
  declare_options(cmd, *options);
  return {cmd, [options] {
            log::configure(log::Level::Info);
            const auto summary = write_report(*options);
            log::info("done: reported " + std::to_string(summary.sequences) + " sequences of " +
                      std::to_string(summary.length) + " bp with " +
                      std::to_string(summary.logos) + " logos in " + options->output);
          }};
}

}  // namespace seqattr::cli
