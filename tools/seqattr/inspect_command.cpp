// `seqattr inspect`: what a model is, as seqattr will read it (pipeline/inspect_job.h).
#include <iostream>
#include <memory>

#include "command.h"
#include "common/log.h"
#include "pipeline/inspect_job.h"

namespace seqattr::cli {

Command inspect_command(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = add_command(
      app, "inspect", "Describe a model before a long run: input, output heads, FLOPs, DeepLIFT "
                      "rules, whether fast ISM applies, receptive field");
  cmd->add_option("--model", options->model, "TorchScript model or Keras .h5 (chrombpnet)")->required();
  cmd->add_option("--length", options->length,
                  "Sequence length (0: input_length from MODEL.json beside the model)");
  add_model_interface_options(cmd, options->target, options->head, options->reduce,
                              options->input_layout, options->extra_inputs);
  cmd->add_flag("--json", *json, "Print the report as JSON");
  return {cmd, [options, json] {
            log::configure(log::Level::Warn);
            const auto report = inspect_model(*options);
            std::cout << (*json ? report.dump(2) + "\n" : inspect_text(report));
          }};
}

}  // namespace seqattr::cli
