#include "pipeline/convert_job.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "common/input_file.h"
#include "common/log.h"
#include "core/keras/keras_file.h"
#include "core/keras/keras_model.h"
#include "core/model_metadata.h"

namespace seqattr {

void convert_model(const ConvertOptions& options) {
  require_regular_file("--model", options.model);
  if (!keras::is_hdf5(options.model)) {
    throw InputError("--model '" + options.model + "': not a Keras HDF5 model (convert reads "
                     "Keras .h5 files; a TorchScript model needs no conversion)");
  }
  const std::string metadata_file = metadata_path(options.output);
  if (metadata_file == options.output) {
    throw InputError("--output '" + options.output + "': ends in .json, the name of the "
                     "metadata written beside the model; give MODEL.pt");
  }
  const std::vector<NamedPath> inputs = {{"--model", options.model}};
  AtomicOutput module_file(options.output, inputs);
  AtomicOutput json_file(metadata_file, inputs);
  const auto imported = keras::import_model(options.model);
  imported.module.save(module_file.temp_path());
  nlohmann::ordered_json metadata = {{"input_length", imported.input_length},
                                     {"alphabet", "ACGT"},
                                     {"heads", imported.heads},
                                     {"input_layout", "ncl"},
                                     {"converted_from", options.model}};
  if (imported.input_length == 0) metadata.erase("input_length");
  {
    std::ofstream out(json_file.temp_path());
    out << metadata.dump(2) << "\n";
    if (!out.flush()) throw InputError("--output '" + metadata_file + "': cannot write");
  }
  module_file.commit();
  json_file.commit();
  log::info("wrote " + options.output + " and " + metadata_file + " (heads " +
            nlohmann::json(imported.heads).dump() + ")");
}

}  // namespace seqattr
