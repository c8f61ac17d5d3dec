#include "formats/row_files.h"

#include <algorithm>

#include "common/errors.h"
#include "common/hdf5.h"

namespace seqattr {
namespace {

constexpr hsize_t kCopyRows = 256;

struct OpenRowFile {
  std::string path;
  h5::Handle file;
  std::vector<std::string> datasets;
  hsize_t rows = 0;
};

OpenRowFile open_row_file(const std::string& path, const std::string& what) {
  OpenRowFile f;
  f.path = path;
  try {
    f.file = h5::open_file_for_reading(path);
    f.datasets = h5::list_datasets(f.file.get());
  } catch (const std::runtime_error&) {
    throw InputError(what + " '" + path + "': not a readable seqattr output");
  }
  if (f.datasets.empty()) throw InputError(what + " '" + path + "': not a seqattr output (no datasets)");
  // Every dataset has a row per sequence (or variant); the first one counts them.
  auto first = h5::open_dataset(f.file.get(), f.datasets.front());
  f.rows = h5::dataset_shape(first.get())[0];
  return f;
}

// Same datasets, element types and row shapes as the first file.
void require_same_layout(const OpenRowFile& first, const OpenRowFile& other, const std::string& what) {
  if (other.datasets != first.datasets) {
    throw InputError(what + " '" + other.path + "': holds different datasets than '" + first.path +
                     "'");
  }
  for (const auto& name : first.datasets) {
    auto a = h5::open_dataset(first.file.get(), name);
    auto b = h5::open_dataset(other.file.get(), name);
    auto shape_a = h5::dataset_shape(a.get()), shape_b = h5::dataset_shape(b.get());
    h5::Handle type_a(H5Dget_type(a.get()), H5Tclose, "get type");
    h5::Handle type_b(H5Dget_type(b.get()), H5Tclose, "get type");
    shape_a[0] = shape_b[0] = 0;
    if (shape_a != shape_b || H5Tequal(type_a.get(), type_b.get()) <= 0) {
      throw InputError(what + " '" + other.path + "': dataset " + name +
                       " differs in type or shape from '" + first.path + "'");
    }
  }
}

}  // namespace

int64_t count_rows(const std::string& path, const std::string& what) {
  return static_cast<int64_t>(open_row_file(path, what).rows);
}

void concatenate_rows(const std::vector<std::string>& inputs, hid_t output, const std::string& what) {
  SEQATTR_ASSERT(!inputs.empty());
  // Files are opened one at a time: a run may have thousands of parts, and each open HDF5
  // file holds its own caches.
  std::vector<hsize_t> rows;
  std::string like_path = inputs.front();
  {
    const auto first = open_row_file(inputs.front(), what);
    for (const auto& path : inputs) {
      const auto f = open_row_file(path, what);
      require_same_layout(first, f, what);
      rows.push_back(f.rows);
      if (rows.back() > 0 && like_path == inputs.front() && first.rows == 0) like_path = path;
    }
  }
  hsize_t total = 0;
  for (const auto r : rows) total += r;
  // Created like a file with rows, so that chunking and filters are copied too.
  const auto like = open_row_file(like_path, what);
  std::vector<h5::Handle> outs;
  for (const auto& name : like.datasets) {
    auto dataset = h5::open_dataset(like.file.get(), name);
    outs.push_back(h5::create_dataset_like(output, name, dataset.get(), total));
  }
  hsize_t row = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto f = open_row_file(inputs[i], what);
    for (size_t d = 0; d < like.datasets.size(); ++d) {
      auto in = h5::open_dataset(f.file.get(), like.datasets[d]);
      if (h5::dataset_shape(in.get())[0] != f.rows) {
        throw InputError(what + " '" + f.path + "': dataset " + like.datasets[d] +
                         " has a different number of rows than /one_hot");
      }
      // As stored where the chunks line up (parts of whole chunks), the rest row by row.
      const hsize_t stored = h5::copy_stored_chunks(in.get(), outs[d].get(), row);
      for (hsize_t first = stored; first < f.rows; first += kCopyRows) {
        const hsize_t count = std::min(kCopyRows, f.rows - first);
        h5::copy_rows(in.get(), first, count, outs[d].get(), row + first);
      }
    }
    row += f.rows;
  }
}

}  // namespace seqattr
