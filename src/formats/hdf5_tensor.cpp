#include "formats/hdf5_tensor.h"

#include <algorithm>
#include <stdexcept>

namespace seqattr::h5 {

using detail::check_status;
using detail::row_elements;
using detail::select_rows;

namespace {

hid_t memory_type_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return H5T_NATIVE_FLOAT;
    case torch::kHalf: return float16_type();
    case torch::kUInt8: return H5T_NATIVE_UINT8;
    case torch::kInt8: return H5T_NATIVE_INT8;
    case torch::kInt64: return H5T_NATIVE_INT64;
    default: throw std::runtime_error("HDF5: no memory type for this tensor dtype");
  }
}

}  // namespace

void read_rows_into(hid_t dataset, hsize_t first, hsize_t count, torch::Tensor& out) {
  TORCH_INTERNAL_ASSERT(out.is_contiguous() && out.size(0) >= static_cast<int64_t>(count));
  h5::read_rows_into(dataset, first, count, memory_type_of(out), out.data_ptr());
}

void write_dataset(hid_t parent, const std::string& name, const torch::Tensor& rows, hid_t type,
                   hsize_t chunk_rows) {
  const std::vector<hsize_t> dims(rows.sizes().begin(), rows.sizes().end());
  auto dataset = create_dataset(parent, name, type, dims, chunk_rows);
  if (rows.size(0) > 0) write_rows(dataset.get(), 0, rows.contiguous());
}

torch::Tensor read_rows(hid_t dataset, hsize_t first, hsize_t count, torch::ScalarType dtype) {
  const auto dims = dataset_shape(dataset);
  TORCH_INTERNAL_ASSERT(!dims.empty());
  std::vector<int64_t> shape(dims.begin(), dims.end());
  shape[0] = static_cast<int64_t>(count);
  auto out = torch::empty(shape, dtype);
  read_rows_into(dataset, first, count, out);
  return out;
}

void write_rows(hid_t dataset, hsize_t first, const torch::Tensor& rows) {
  TORCH_INTERNAL_ASSERT(rows.is_contiguous() && rows.device().is_cpu());
  if (rows.dim() > 0 && rows.size(0) == 0) return;
  std::vector<hsize_t> dims(rows.dim());
  for (int64_t i = 0; i < rows.dim(); ++i) dims[i] = static_cast<hsize_t>(rows.size(i));
  const auto file_space = select_rows(dataset, first, dims);
  Handle memory_space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Sclose, "create memory dataspace");
  check_status(H5Dwrite(dataset, memory_type_of(rows), memory_space.get(), file_space.get(),
                        H5P_DEFAULT, rows.data_ptr()),
               "write rows");
}

torch::ScalarType float_read_type(hid_t dataset) {
  return is_float16(dataset) ? torch::kHalf : torch::kFloat32;
}

torch::Tensor read_row_set(hid_t dataset, const std::vector<hsize_t>& rows,
                           torch::ScalarType dtype) {
  const auto dims = dataset_shape(dataset);
  TORCH_INTERNAL_ASSERT(!dims.empty());
  TORCH_INTERNAL_ASSERT(std::is_sorted(rows.begin(), rows.end()) &&
                        std::adjacent_find(rows.begin(), rows.end()) == rows.end() &&
                        (rows.empty() || rows.back() < dims[0]));
  std::vector<int64_t> shape(dims.begin(), dims.end());
  shape[0] = static_cast<int64_t>(rows.size());
  auto out = torch::empty(shape, dtype);
  // One read per run of consecutive rows. (One read of the union of the runs would be
  // fewer calls, but HDF5 1.10 then holds every chunk it touches at once.) In increasing
  // order, each chunk is decompressed once while it stays in the chunk cache.
  char* data = static_cast<char*>(out.data_ptr());
  const size_t row_bytes = rows.empty() ? 0 : out[0].nbytes();
  for (size_t first = 0; first < rows.size();) {
    size_t last = first;
    while (last + 1 < rows.size() && rows[last + 1] == rows[last] + 1) ++last;
    auto run = dims;
    run[0] = last - first + 1;
    const auto file_space = select_rows(dataset, rows[first], run);
    Handle memory_space(H5Screate_simple(static_cast<int>(run.size()), run.data(), nullptr),
                        H5Sclose, "create memory dataspace");
    check_status(H5Dread(dataset, memory_type_of(out), memory_space.get(), file_space.get(),
                         H5P_DEFAULT, data + first * row_bytes),
                 "read rows");
    first = last + 1;
  }
  return out;
}

}  // namespace seqattr::h5
