// The model-interface options of attribute, bench and inspect (command.h).
#include "command.h"
#include "core/model_interface.h"

namespace seqattr::cli {

void add_model_interface_options(CLI::App* cmd, std::string& target, std::string& head,
                                 std::string& reduce, std::string& input_layout,
                                 std::string& extra_inputs) {
  cmd->add_option("--target", target,
                  "Output column to explain: a number, or a name from MODEL.json (default 0); "
                  "with a profile reduction, the track (default: the whole head)");
  cmd->add_option("--head", head,
                  "For a model returning a tuple, list or dict: the output to explain (an "
                  "index, a key, or a name from MODEL.json's heads; default MODEL.json's "
                  "default_head)");
  cmd->add_option("--reduce", reduce,
                  "How a head with a length axis becomes one value per sequence (default "
                  "none, or MODEL.json's default_reduce)")
      ->check(CLI::IsMember(reduction_names()));
  cmd->add_option("--input-layout", input_layout,
                  "ncl: the model takes (N,4,L); nlc: (N,L,4) (default MODEL.json's, else ncl)")
      ->check(CLI::IsMember({"ncl", "nlc"}));
  cmd->add_option("--extra-inputs", extra_inputs,
                  "zeros: pass zeros for inputs besides the sequence (control tracks)")
      ->check(CLI::IsMember({"zeros"}));
}

}  // namespace seqattr::cli
