#include "formats/references_file.h"

#include "common/errors.h"
#include "formats/hdf5_tensor.h"

namespace seqattr::deeplift {

ReferenceSource file_references(const std::string& path, int64_t sequences, int64_t length,
                                int64_t* references_per_sequence) {
  std::shared_ptr<h5::Handle> file;
  std::shared_ptr<h5::Handle> dataset;
  try {
    file = std::make_shared<h5::Handle>(h5::open_file_for_reading(path));
    dataset = std::make_shared<h5::Handle>(h5::open_dataset(file->get(), "references"));
  } catch (const std::runtime_error&) {
    throw InputError("--references '" + path + "': cannot read dataset /references");
  }
  const auto shape = h5::dataset_shape(dataset->get());
  auto shape_text = [&] {
    std::string text = "(";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + ")";
  };
  if (shape.size() != 4 || static_cast<int64_t>(shape[0]) != sequences || shape[2] != 4 ||
      static_cast<int64_t>(shape[3]) != length) {
    throw InputError("--references '" + path + "': /references has shape " + shape_text() +
                     "; expected (" + std::to_string(sequences) + ", R, 4, " +
                     std::to_string(length) + ")");
  }
  if (shape[1] == 0) throw InputError("--references '" + path + "': /references has R = 0");
  *references_per_sequence = static_cast<int64_t>(shape[1]);
  return [file, dataset, path](int64_t first, int64_t count) {
    const auto refs = h5::read_rows(dataset->get(), first, count, torch::kFloat32);
    const bool binary = ((refs == 0) | (refs == 1)).all().item<bool>();
    if (!binary || !(refs.sum(2) == 1).all().item<bool>()) {
      throw InputError("--references '" + path + "': references of sequences " +
                       std::to_string(first) + ".." + std::to_string(first + count - 1) +
                       " are not one-hot (every column must hold a single 1)");
    }
    return refs;
  };
}

}  // namespace seqattr::deeplift
