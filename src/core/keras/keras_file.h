#pragma once
// A Keras model saved in the legacy HDF5 format (`model.save("x.h5")`, as chrombpnet writes
// chrombpnet.h5, chrombpnet_nobias.h5 and bias_model_scaled.h5): the architecture as JSON in
// the root attribute `model_config`, the weights under /model_weights/<layer>/<weight name>.
// Torch-free.
#include <map>
#include <string>
#include <vector>

namespace seqattr::keras {

// One weight array as Keras stores it (Conv1D kernel (width, in, out), Dense (in, out)).
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct File {
  std::string path;
  std::string model_config;   // JSON
  std::string keras_version;  // "" when not recorded
  // By "<top-level layer>/<weight name>", e.g. "model_wo_bias/wo_bias_bpnet_1conv/kernel:0"
  // (a layer of a nested model is stored under the nested model's group).
  std::map<std::string, Array> weights;
};

// Whether `path` starts with the HDF5 signature (Keras writes no user block).
bool is_hdf5(const std::string& path);

// Reads `path` whole. Throws InputError naming --model and the path when it is not a readable
// HDF5 file (missing, truncated) or has no model_config (weights-only files included).
File read_file(const std::string& path, bool with_weights = true);

}  // namespace seqattr::keras
