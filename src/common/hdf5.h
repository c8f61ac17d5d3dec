#pragma once
// Thin RAII and checked helpers over the HDF5 C API. Every call's status is checked;
// a failure throws std::runtime_error naming the object. Torch-free: rows as tensors are
// read and written by formats/hdf5_tensor.h.
#include <hdf5.h>

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

// A chunked and deflated dataset of `dims` (shuffled too unless of bytes); chunks hold up to
// `chunk_rows` rows.
// Type: H5T_NATIVE_FLOAT, H5T_NATIVE_UINT8, ...
Handle create_dataset(hid_t parent, const std::string& name, hid_t type,
                      const std::vector<hsize_t>& dims, hsize_t chunk_rows);


// The file type of IEEE 754 half precision (binary16), little-endian; h5py reads it as
// numpy float16. Tensors of torch::kHalf are written with it, without conversion.
hid_t float16_type();

// A one-dimensional dataset of variable-length UTF-8 strings.
void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values);

// Reading. open_* throw std::runtime_error naming the object when it cannot be opened.
Handle open_file_for_reading(const std::string& path);
Handle open_file_for_writing(const std::string& path);
Handle open_dataset(hid_t parent, const std::string& name);
std::vector<hsize_t> dataset_shape(hid_t dataset);
// A one-dimensional dataset of strings (variable or fixed length), whole.
std::vector<std::string> read_strings(hid_t dataset);

// Every dataset under `file`, as absolute paths ("/a", "/g/b"), in name order.
std::vector<std::string> list_datasets(hid_t file);
// A new, empty dataset at `path` of `dst` (groups created as needed) with the type, chunking
// and filters of `like` (in another file) and `rows` rows along dimension 0.
Handle create_dataset_like(hid_t dst, const std::string& path, hid_t like, hsize_t rows);
// Copies rows [src_first, src_first + count) of `src` to row `dst_first` of `dst` bit for
// bit (same file type; variable-length strings included).
void copy_rows(hid_t src, hsize_t src_first, hsize_t count, hid_t dst, hsize_t dst_first);
// Copies the leading rows of `src` to row `dst_first` of `dst` chunk by chunk as stored
// (compressed), without decompressing and compressing them again, where both are chunked alike
// (a chunk spans whole rows), filtered alike, of one fixed-size type, and `dst_first` starts a
// chunk. Returns the rows copied: whole chunks from row 0, and the last partial one only where
// it is `dst`'s last too; 0 where the layouts differ. The caller copies the rest by copy_rows.
hsize_t copy_stored_chunks(hid_t src, hid_t dst, hsize_t dst_first);

// Whether `path` (relative to `parent`, components separated by '/') names an object.
bool exists(hid_t parent, const std::string& path);
Handle open_group(hid_t parent, const std::string& name);
Handle create_group(hid_t parent, const std::string& name);
// open_dataset with a raw-data chunk cache of `cache_bytes`, raised to hold two chunks when
// they are larger, so that rows read in increasing order decompress each chunk once (HDF5's
// default cache is 1 MiB: larger chunks are not cached at all).
Handle open_dataset_cached(hid_t parent, const std::string& name, size_t cache_bytes);
// The class of a dataset's element type (H5T_FLOAT, H5T_INTEGER, H5T_STRING, ...).
H5T_class_t type_class(hid_t dataset);
// Whether a dataset's element type is float16_type(): rows read as kHalf then need no
// conversion by HDF5 (whose float16 to float32 conversion is a slow bitwise one).
bool is_float16(hid_t dataset);
// Rows [first, first + count) of a dataset into `out`, converted by HDF5 to `memory_type`
// (H5T_NATIVE_FLOAT, ...); `out` holds count x (elements of a row) of that type.
void read_rows_into(hid_t dataset, hsize_t first, hsize_t count, hid_t memory_type, void* out);
// Strings [first, first + count) of a one-dimensional string dataset, variable-length (as
// h5py and write_strings write them) or fixed-length (trailing padding removed).
std::vector<std::string> read_strings(hid_t dataset, hsize_t first, hsize_t count);

void write_attribute(hid_t object, const std::string& name, const std::string& value);
void write_attribute(hid_t object, const std::string& name, int64_t value);
bool has_attribute(hid_t object, const std::string& name);
std::string read_string_attribute(hid_t object, const std::string& name);
int64_t read_int_attribute(hid_t object, const std::string& name);
// A one-dimensional attribute of strings (fixed or variable length), as h5py writes a list
// of bytes or str.
std::vector<std::string> read_strings_attribute(hid_t object, const std::string& name);
// A whole numeric dataset as float32 (HDF5 converts other float and integer types).
std::vector<float> read_floats(hid_t dataset);
// Names of the attributes of `object`.
std::vector<std::string> attribute_names(hid_t object);
// Copies attribute `name` of `src` to `dst` (same type and value).
void copy_attribute(hid_t src, hid_t dst, const std::string& name);

// For hdf5_tensor.cpp: the checked primitives its row functions share with hdf5.cpp.
namespace detail {
hid_t checked(hid_t id, const std::string& what);
void check_status(herr_t status, const std::string& what);
// Selects rows [first, first + dims[0]) of a dataset whose other dimensions are dims[1:].
Handle select_rows(hid_t dataset, hsize_t first, const std::vector<hsize_t>& dims);
hsize_t row_elements(const std::vector<hsize_t>& dims);  // elements of one row of `dims`
}  // namespace detail

}  // namespace seqattr::h5
