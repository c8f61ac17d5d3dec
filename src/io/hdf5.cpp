#include "io/hdf5.h"

#include <algorithm>
#include <stdexcept>

namespace seqattr::h5 {
namespace {

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw std::runtime_error("HDF5: cannot " + what);
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error("HDF5: cannot " + what);
}

// Our own messages replace HDF5's error-stack printing.
void silence_hdf5_errors() {
  static const bool silenced = [] { return H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0; }();
  (void)silenced;
}

// Selects rows [first, first + dims[0]) of a dataset whose other dimensions are dims[1:].
Handle select_rows(hid_t dataset, hsize_t first, const std::vector<hsize_t>& dims) {
  Handle file_space(H5Dget_space(dataset), H5Sclose, "get dataspace");
  std::vector<hsize_t> offset(dims.size(), 0);
  offset[0] = first;
  check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr,
                                   dims.data(), nullptr),
               "select rows");
  return file_space;
}

hid_t memory_type_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return H5T_NATIVE_FLOAT;
    case torch::kUInt8: return H5T_NATIVE_UINT8;
    case torch::kInt64: return H5T_NATIVE_INT64;
    default: throw std::runtime_error("HDF5: no memory type for this tensor dtype");
  }
}

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type");
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), "set string size");
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "set string charset");
  return type;
}

}  // namespace

Handle::Handle(hid_t id, Closer closer, const std::string& what)
    : id_(check(id, what)), closer_(closer) {}

Handle::Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) {
  other.id_ = H5I_INVALID_HID;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  std::swap(id_, other.id_);
  std::swap(closer_, other.closer_);
  return *this;
}

Handle::~Handle() {
  if (id_ >= 0) closer_(id_);
}

void Handle::close() {
  if (id_ < 0) return;
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  check_status(closer_(id), "close object");
}

Handle create_file(const std::string& path) {
  silence_hdf5_errors();
  return Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                "create file '" + path + "'");
}

Handle create_dataset(hid_t parent, const std::string& name, hid_t type,
                      const std::vector<hsize_t>& dims, hsize_t chunk_rows) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
               "create dataspace for " + name);
  Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "create properties for " + name);
  std::vector<hsize_t> chunk(dims);
  chunk[0] = std::max<hsize_t>(1, std::min(chunk_rows, dims[0]));
  for (size_t i = 1; i < chunk.size(); ++i) chunk[i] = std::max<hsize_t>(1, chunk[i]);
  if (dims[0] > 0) {
    check_status(H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()),
                 "chunk " + name);
    check_status(H5Pset_shuffle(properties.get()), "shuffle " + name);
    check_status(H5Pset_deflate(properties.get(), 4), "deflate " + name);
  }
  return Handle(H5Dcreate2(parent, name.c_str(), type, space.get(), H5P_DEFAULT,
                           properties.get(), H5P_DEFAULT),
                H5Dclose, "create dataset " + name);
}

Handle open_file_for_reading(const std::string& path) {
  silence_hdf5_errors();
  return Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                "open HDF5 file '" + path + "'");
}

Handle open_dataset(hid_t parent, const std::string& name) {
  return Handle(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
}

std::vector<hsize_t> dataset_shape(hid_t dataset) {
  Handle space(H5Dget_space(dataset), H5Sclose, "get dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  check(rank, "read the rank of a dataset");
  std::vector<hsize_t> dims(rank);
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), "read dataset dimensions");
  return dims;
}

torch::Tensor read_rows(hid_t dataset, hsize_t first, hsize_t count, torch::ScalarType dtype) {
  auto dims = dataset_shape(dataset);
  TORCH_INTERNAL_ASSERT(!dims.empty() && first + count <= dims[0]);
  std::vector<int64_t> shape(dims.begin(), dims.end());
  shape[0] = static_cast<int64_t>(count);
  auto out = torch::empty(shape, dtype);
  if (count == 0) return out;
  dims[0] = count;
  const auto file_space = select_rows(dataset, first, dims);
  Handle memory_space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Sclose, "create memory dataspace");
  check_status(H5Dread(dataset, memory_type_of(out), memory_space.get(), file_space.get(),
                       H5P_DEFAULT, out.data_ptr()),
               "read rows");
  return out;
}

void write_rows(hid_t dataset, hsize_t first, const torch::Tensor& rows) {
  TORCH_INTERNAL_ASSERT(rows.is_contiguous() && rows.device().is_cpu());
  std::vector<hsize_t> dims(rows.dim());
  for (int64_t i = 0; i < rows.dim(); ++i) dims[i] = static_cast<hsize_t>(rows.size(i));
  const auto file_space = select_rows(dataset, first, dims);
  Handle memory_space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Sclose, "create memory dataspace");
  check_status(H5Dwrite(dataset, memory_type_of(rows), memory_space.get(), file_space.get(),
                        H5P_DEFAULT, rows.data_ptr()),
               "write rows");
}

void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values) {
  const auto type = utf8_string_type();
  const hsize_t count = values.size();
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose, "create dataspace for " + name);
  Handle dataset(H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose, "create dataset " + name);
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  check_status(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
               "write " + name);
}

void write_attribute(hid_t object, const std::string& name, const std::string& value) {
  const auto type = utf8_string_type();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "create scalar dataspace");
  Handle attribute(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Aclose, "create attribute " + name);
  const char* pointer = value.c_str();
  check_status(H5Awrite(attribute.get(), type.get(), &pointer), "write attribute " + name);
}

void write_attribute(hid_t object, const std::string& name, int64_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "create scalar dataspace");
  Handle attribute(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Aclose, "create attribute " + name);
  check_status(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value), "write attribute " + name);
}

}  // namespace seqattr::h5
