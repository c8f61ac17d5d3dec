#include "core/keras/keras_file.h"

#include <fstream>

#include "common/errors.h"
#include "common/hdf5.h"

namespace seqattr::keras {
namespace {

std::string model_argument(const std::string& path) { return "--model '" + path + "'"; }

void read_weights(hid_t file, File& out) {
  const auto root = h5::open_group(file, "model_weights");
  for (const auto& layer : h5::read_strings_attribute(root.get(), "layer_names")) {
    const auto group = h5::open_group(root.get(), layer);
    if (!h5::has_attribute(group.get(), "weight_names")) continue;
    for (const auto& name : h5::read_strings_attribute(group.get(), "weight_names")) {
      const auto dataset = h5::open_dataset(group.get(), name);
      Array array;
      for (const auto d : h5::dataset_shape(dataset.get())) array.shape.push_back(static_cast<int64_t>(d));
      array.values = h5::read_floats(dataset.get());
      out.weights.emplace(layer + "/" + name, std::move(array));
    }
  }
}

}  // namespace

bool is_hdf5(const std::string& path) {
  static const char signature[] = "\x89HDF\r\n\x1a\n";
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  return in.read(head, 8) && std::equal(head, head + 8, signature);
}

File read_file(const std::string& path, bool with_weights) {
  File out;
  out.path = path;
  h5::Handle file;
  try {
    file = h5::open_file_for_reading(path);
  } catch (const std::runtime_error&) {
    throw InputError(model_argument(path) + ": not a readable HDF5 file (truncated or damaged?)");
  }
  if (!h5::has_attribute(file.get(), "model_config")) {
    throw InputError(model_argument(path) + ": an HDF5 file without a Keras model_config "
                     "attribute; expected a whole Keras model saved with model.save(\"x.h5\")");
  }
  try {
    out.model_config = h5::read_string_attribute(file.get(), "model_config");
    if (h5::has_attribute(file.get(), "keras_version")) {
      out.keras_version = h5::read_string_attribute(file.get(), "keras_version");
    }
    if (with_weights) read_weights(file.get(), out);
  } catch (const std::runtime_error& e) {
    throw InputError(model_argument(path) + ": cannot read the Keras weights (" +
                     first_line(e.what()) + ")");
  }
  return out;
}

}  // namespace seqattr::keras
