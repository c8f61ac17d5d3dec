#pragma once
// Thin RAII and checked helpers over the HDF5 C API. Every call's status is checked;
// a failure throws std::runtime_error naming the object.
#include <hdf5.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace seqattr::h5 {

// Owns an HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer, const std::string& what);
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();
  hid_t get() const { return id_; }
  void close();  // closes now, checking the status

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

Handle create_file(const std::string& path);

// A chunked, shuffled and deflated dataset of `dims`; chunks hold up to `chunk_rows` rows.
// Type: H5T_NATIVE_FLOAT, H5T_NATIVE_UINT8, ...
Handle create_dataset(hid_t parent, const std::string& name, hid_t type,
                      const std::vector<hsize_t>& dims, hsize_t chunk_rows);

// Writes `rows` (contiguous on the CPU; float32 or uint8) at row `first` of `dataset`.
void write_rows(hid_t dataset, hsize_t first, const torch::Tensor& rows);

// A one-dimensional dataset of variable-length UTF-8 strings.
void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values);

// Reading. open_* throw std::runtime_error naming the object when it cannot be opened.
Handle open_file_for_reading(const std::string& path);
Handle open_dataset(hid_t parent, const std::string& name);
std::vector<hsize_t> dataset_shape(hid_t dataset);
// Rows [first, first + count) along dimension 0, converted by HDF5 to `dtype`
// (kUInt8 or kFloat32).
torch::Tensor read_rows(hid_t dataset, hsize_t first, hsize_t count, torch::ScalarType dtype);

void write_attribute(hid_t object, const std::string& name, const std::string& value);
void write_attribute(hid_t object, const std::string& name, int64_t value);

}  // namespace seqattr::h5
