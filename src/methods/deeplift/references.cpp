#include "methods/deeplift/references.h"

#include "common/errors.h"
#include "io/hdf5.h"
#include "kernels/ops/dinucleotide_shuffle.h"

namespace seqattr::deeplift {

ReferenceSource constant_references(double value, int64_t length) {
  return [value, length](int64_t, int64_t count) {
    return torch::full({count, 1, 4, length}, value, torch::kFloat32);
  };
}

ReferenceSource shuffled_references(torch::Tensor one_hot, int64_t count, uint64_t seed,
                                    int64_t index_offset,
                                    std::shared_ptr<std::vector<bool>> only_one) {
  only_one->assign(one_hot.size(0), false);
  return [one_hot = std::move(one_hot), count, seed, index_offset, only_one](int64_t first,
                                                                             int64_t n) {
    // Shuffle j of sequence i is seeded by (seed, index_offset + i, j) alone.
    const auto [shuffles, single] = ops::dinucleotide_shuffles(one_hot.slice(0, first, first + n),
                                                               count, seed, index_offset + first);
    const auto single_cpu = single.to(torch::kCPU);
    const auto flags = single_cpu.accessor<bool, 1>();
    for (int64_t i = 0; i < n; ++i) {
      if (flags[i]) (*only_one)[first + i] = true;
    }
    return shuffles.to(torch::kFloat32);
  };
}

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
