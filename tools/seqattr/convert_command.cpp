// `seqattr convert`: a Keras model as TorchScript (pipeline/convert_job.h).
#include <memory>

#include "command.h"
#include "common/log.h"
#include "pipeline/convert_job.h"

namespace seqattr::cli {

Command convert_command(CLI::App& app) {
  auto options = std::make_shared<ConvertOptions>();
  auto* cmd = add_command(app, "convert",
                          "Write a Keras HDF5 model (chrombpnet.h5, chrombpnet_nobias.h5, "
                          "bias_model_scaled.h5) as TorchScript MODEL.pt with MODEL.json beside it");
  cmd->add_option("--model", options->model, "Keras HDF5 model (model.save(\"x.h5\"))")->required();
  cmd->add_option("--output,-o", options->output, "TorchScript file to write (MODEL.pt)")->required();
  return {cmd, [options] {
            log::configure(log::Level::Info);
            convert_model(*options);
          }};
}

}  // namespace seqattr::cli
