// `seqattr seqlets`: seqlets of an output as BED (export/seqlet_export.h).
#include <memory>

#include "command.h"
#include "common/log.h"
#include "export/seqlet_export.h"

namespace seqattr::cli {

Command seqlets_command(CLI::App& app) {
  auto o = std::make_shared<SeqletExportOptions>();
  auto* cmd = add_command(app, "seqlets",
                          "Call seqlets (stretches of high summed attribution, positive and "
                          "negative) in an output and write them as BED");
  add_input_and_output(cmd, o->input, o->output, "BED file to write (BED6+, header line)");
  cmd->add_option("--threshold", o->seqlets.threshold,
                  "p-value threshold of a seqlet and of all its sub-spans (tangermeme's default "
                  "is 0.01: give it to get tangermeme's seqlets)");
  cmd->add_option("--min-length", o->seqlets.min_length, "Shortest seqlet");
  cmd->add_option("--max-length", o->seqlets.max_length, "Longest seqlet");
  cmd->add_option("--flank", o->seqlets.flank, "Bases added to both ends after calling");
  cmd->add_option("--attributions", o->attributions, "The (N, 4, L) dataset called");
  cmd->add_option("--motifs", o->motifs, "Motif database (MEME text format) to name the seqlets after");
  cmd->add_option("--motif-threshold", o->motif_threshold,
                  "Name a seqlet when its best motif's q-value (Benjamini-Hochberg) is at most this");
  cmd->add_option("--threads", o->threads, "Rows called at once (0: one per core)");
  return {cmd, [o] {
            log::configure(log::Level::Info);
            const auto s = export_seqlets(*o);
            log::info("wrote " + o->output + ": " + std::to_string(s.positive) + " positive and " +
                      std::to_string(s.negative) + " negative seqlets in " + std::to_string(s.rows) +
                      " windows" + (o->motifs.empty() ? "" : ", " + std::to_string(s.named) + " named") +
                      (s.duplicates ? " (" + std::to_string(s.duplicates) +
                                                       " found again in overlapping windows)" : ""));
          }};
}

}  // namespace seqattr::cli
