#include "common/hdf5.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "common/errors.h"

namespace seqattr::h5 {
namespace {

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw std::runtime_error("HDF5: cannot " + what);
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error("HDF5: cannot " + what);
}

// HDF5 closes whatever is still open when the process exits. A file whose close failed
// (its flush hit a full disk) is still open then, and closing it again crashed the
// process after seqattr had reported the error (exit 139). Every handle is closed by its
// owner (Handle), so the library's own clean-up at exit is not needed: it is turned off
// before the library initialises, which it does on the first call.
const bool g_no_cleanup_at_exit = [] {
  H5dont_atexit();
  return true;
}();

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


Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type");
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), "set string size");
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "set string charset");
  return type;
}

// Row-major element count of one row of `dims`.
hsize_t row_elements(const std::vector<hsize_t>& dims) {
  hsize_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

}  // namespace

namespace detail {
hid_t checked(hid_t id, const std::string& what) { return check(id, what); }
void check_status(herr_t status, const std::string& what) { h5::check_status(status, what); }
Handle select_rows(hid_t dataset, hsize_t first, const std::vector<hsize_t>& dims) {
  return h5::select_rows(dataset, first, dims);
}
hsize_t row_elements(const std::vector<hsize_t>& dims) { return h5::row_elements(dims); }
}  // namespace detail

void read_rows_into(hid_t dataset, hsize_t first, hsize_t count, hid_t memory_type, void* out) {
  auto dims = dataset_shape(dataset);
  if (dims.empty() || first + count > dims[0]) throw std::runtime_error("HDF5: rows out of range");
  if (count == 0) return;
  dims[0] = count;
  const auto file_space = select_rows(dataset, first, dims);
  Handle memory_space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Sclose, "create memory dataspace");
  check_status(H5Dread(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, out),
               "read rows");
}

hid_t float16_type() {
  // Built once and never closed: sign at bit 15, 5 exponent bits at 10, 10 mantissa bits.
  static const hid_t type = [] {
    const hid_t t = check(H5Tcopy(H5T_IEEE_F32LE), "copy float type");
    check_status(H5Tset_fields(t, 15, 10, 5, 0, 10), "set float16 fields");
    check_status(H5Tset_size(t, 2), "set float16 size");
    check_status(H5Tset_ebias(t, 15), "set float16 exponent bias");
    return t;
  }();
  return type;
}

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
    // Bytes (one-hot sequences, references): deflate level 1 alone, half level 4's time for
    // a file 1.25x larger (shuffling single bytes does nothing). Wider numbers: shuffled, so
    // that deflate sees their exponent bytes together, at level 4.
    const bool bytes = H5Tget_size(type) == 1;
    if (!bytes) check_status(H5Pset_shuffle(properties.get()), "shuffle " + name);
    check_status(H5Pset_deflate(properties.get(), bytes ? 1 : 4), "deflate " + name);
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

Handle open_file_for_writing(const std::string& path) {
  silence_hdf5_errors();
  return Handle(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose,
                "open HDF5 file '" + path + "' for writing");
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

std::vector<std::string> read_strings(hid_t dataset) {
  Handle file_type(H5Dget_type(dataset), H5Tclose, "get string type");
  const auto dims = dataset_shape(dataset);
  SEQATTR_ASSERT(dims.size() == 1);
  std::vector<std::string> values;
  if (H5Tis_variable_str(file_type.get()) > 0) {
    const auto type = utf8_string_type();
    std::vector<char*> pointers(dims[0], nullptr);
    check_status(H5Dread(dataset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
                 "read strings");
    for (char* p : pointers) values.emplace_back(p ? p : "");
    Handle space(H5Dget_space(dataset), H5Sclose, "get dataspace");
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, pointers.data());
  } else {
    const size_t width = H5Tget_size(file_type.get());
    std::vector<char> buffer(width * dims[0] + 1, '\0');
    check_status(H5Dread(dataset, file_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()),
                 "read strings");
    for (hsize_t i = 0; i < dims[0]; ++i) {
      const char* p = buffer.data() + i * width;
      values.emplace_back(p, strnlen(p, width));
    }
  }
  return values;
}

namespace {

void collect_datasets(hid_t group, const std::string& prefix, std::vector<std::string>* out) {
  H5G_info_t info;
  check_status(H5Gget_info(group, &info), "list group " + prefix);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr,
                                            0, H5P_DEFAULT);
    check(static_cast<hid_t>(size), "read a link name in " + prefix);
    std::string name(static_cast<size_t>(size) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                       H5P_DEFAULT);
    name.resize(static_cast<size_t>(size));
    Handle object(H5Oopen(group, name.c_str(), H5P_DEFAULT), H5Oclose, "open " + prefix + name);
    const auto type = H5Iget_type(object.get());
    if (type == H5I_DATASET) out->push_back(prefix + name);
    if (type == H5I_GROUP) collect_datasets(object.get(), prefix + name + "/", out);
  }
}

}  // namespace

std::vector<std::string> list_datasets(hid_t file) {
  std::vector<std::string> paths;
  Handle root(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose, "open the root group");
  collect_datasets(root.get(), "/", &paths);
  return paths;
}

Handle create_dataset_like(hid_t dst, const std::string& path, hid_t like, hsize_t rows) {
  Handle type(H5Dget_type(like), H5Tclose, "get the type of " + path);
  Handle properties(H5Dget_create_plist(like), H5Pclose, "get the properties of " + path);
  auto dims = dataset_shape(like);
  dims[0] = rows;
  if (H5Pget_layout(properties.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(dims.size());
    H5Pget_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data());
    if (rows == 0) {
      properties = Handle(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "create properties");
    } else {
      chunk[0] = std::min(chunk[0], rows);
      check_status(H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()),
                   "chunk " + path);
    }
  }
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
               "create dataspace for " + path);
  Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "create link properties");
  check_status(H5Pset_create_intermediate_group(links.get(), 1), "set intermediate groups");
  return Handle(H5Dcreate2(dst, path.c_str(), type.get(), space.get(), links.get(),
                           properties.get(), H5P_DEFAULT),
                H5Dclose, "create dataset " + path);
}

void copy_rows(hid_t src, hsize_t src_first, hsize_t count, hid_t dst, hsize_t dst_first) {
  if (count == 0) return;
  Handle type(H5Dget_type(src), H5Tclose, "get dataset type");
  auto dims = dataset_shape(src);
  dims[0] = count;
  const bool variable = H5Tis_variable_str(type.get()) > 0;
  const size_t element = variable ? sizeof(char*) : H5Tget_size(type.get());
  std::vector<char> buffer(count * row_elements(dims) * element);
  const auto src_space = select_rows(src, src_first, dims);
  const auto dst_space = select_rows(dst, dst_first, dims);
  Handle memory_space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Sclose, "create memory dataspace");
  // The file type serves as the memory type, so values pass through unconverted.
  check_status(H5Dread(src, type.get(), memory_space.get(), src_space.get(), H5P_DEFAULT,
                       buffer.data()),
               "read rows to copy");
  const herr_t written = H5Dwrite(dst, type.get(), memory_space.get(), dst_space.get(),
                                  H5P_DEFAULT, buffer.data());
  if (variable) H5Dvlen_reclaim(type.get(), memory_space.get(), H5P_DEFAULT, buffer.data());
  check_status(written, "write copied rows");
}

namespace {

struct ChunkLayout {
  std::vector<hsize_t> chunk;
  std::vector<H5Z_filter_t> filters;
};

// A chunked dataset whose chunks span whole rows; none otherwise.
std::optional<ChunkLayout> row_chunk_layout(hid_t dataset) {
  Handle properties(H5Dget_create_plist(dataset), H5Pclose, "get dataset properties");
  if (H5Pget_layout(properties.get()) != H5D_CHUNKED) return std::nullopt;
  const auto dims = dataset_shape(dataset);
  ChunkLayout layout;
  layout.chunk.resize(dims.size());
  if (H5Pget_chunk(properties.get(), static_cast<int>(dims.size()), layout.chunk.data()) !=
      static_cast<int>(dims.size())) {
    return std::nullopt;
  }
  for (size_t i = 1; i < dims.size(); ++i) {
    if (layout.chunk[i] != dims[i]) return std::nullopt;
  }
  const int filters = H5Pget_nfilters(properties.get());
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0;
    size_t values = 0;
    layout.filters.push_back(
        H5Pget_filter2(properties.get(), static_cast<unsigned>(i), &flags, &values, nullptr, 0, nullptr, nullptr));
  }
  return layout;
}

}  // namespace

hsize_t copy_stored_chunks(hid_t src, hid_t dst, hsize_t dst_first) {
  const auto in = row_chunk_layout(src), out = row_chunk_layout(dst);
  if (!in || !out || in->chunk != out->chunk || in->filters != out->filters) return 0;
  Handle src_type(H5Dget_type(src), H5Tclose, "get dataset type");
  Handle dst_type(H5Dget_type(dst), H5Tclose, "get dataset type");
  // Variable-length values are stored as references to the file's heap: not movable as bytes.
  if (H5Tequal(src_type.get(), dst_type.get()) <= 0 || H5Tdetect_class(src_type.get(), H5T_VLEN) > 0 ||
      H5Tis_variable_str(src_type.get()) > 0) {
    return 0;
  }
  const hsize_t rows_per_chunk = in->chunk[0];
  if (dst_first % rows_per_chunk != 0) return 0;
  const hsize_t src_rows = dataset_shape(src)[0], dst_rows = dataset_shape(dst)[0];
  std::vector<hsize_t> from(in->chunk.size(), 0), to(in->chunk.size(), 0);
  std::vector<char> bytes;
  hsize_t copied = 0;
  while (copied < src_rows) {
    const bool whole = copied + rows_per_chunk <= src_rows;
    if (!whole && dst_first + src_rows != dst_rows) break;  // a partial chunk ends only dst
    from[0] = copied;
    to[0] = dst_first + copied;
    hsize_t size = 0;
    if (H5Dget_chunk_storage_size(src, from.data(), &size) < 0 || size == 0) break;  // unwritten
    bytes.resize(size);
    uint32_t filter_mask = 0;
    check_status(H5Dread_chunk(src, H5P_DEFAULT, from.data(), &filter_mask, bytes.data()),
                 "read a stored chunk");
    check_status(H5Dwrite_chunk(dst, H5P_DEFAULT, filter_mask, to.data(), size, bytes.data()),
                 "write a stored chunk");
    copied = std::min(src_rows, copied + rows_per_chunk);
  }
  return copied;
}

bool has_attribute(hid_t object, const std::string& name) {
  return H5Aexists(object, name.c_str()) > 0;
}

std::string read_string_attribute(hid_t object, const std::string& name) {
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  Handle file_type(H5Aget_type(attribute.get()), H5Tclose, "get attribute type");
  if (H5Tis_variable_str(file_type.get()) > 0) {
    // Read as stored: HDF5 does not convert between ASCII and UTF-8 (h5py and Keras write
    // either).
    char* pointer = nullptr;
    check_status(H5Aread(attribute.get(), file_type.get(), &pointer), "read attribute " + name);
    std::string value = pointer ? pointer : "";
    H5free_memory(pointer);
    return value;
  }
  std::string value(H5Tget_size(file_type.get()), '\0');
  check_status(H5Aread(attribute.get(), file_type.get(), value.data()), "read attribute " + name);
  value.resize(strnlen(value.c_str(), value.size()));
  return value;
}

std::vector<std::string> read_strings_attribute(hid_t object, const std::string& name) {
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  Handle file_type(H5Aget_type(attribute.get()), H5Tclose, "get attribute type");
  Handle space(H5Aget_space(attribute.get()), H5Sclose, "get attribute dataspace");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  check(count, "count attribute " + name);
  std::vector<std::string> values;
  if (count == 0) return values;  // h5py writes an empty list as an empty float array
  if (H5Tget_class(file_type.get()) != H5T_STRING) {
    throw std::runtime_error("HDF5: attribute " + name + " is not of strings");
  }
  if (H5Tis_variable_str(file_type.get()) > 0) {
    std::vector<char*> pointers(static_cast<size_t>(count), nullptr);
    check_status(H5Aread(attribute.get(), file_type.get(), pointers.data()), "read attribute " + name);
    for (char* p : pointers) values.emplace_back(p ? p : "");
    H5Dvlen_reclaim(file_type.get(), space.get(), H5P_DEFAULT, pointers.data());
    return values;
  }
  const size_t width = H5Tget_size(file_type.get());
  std::vector<char> buffer(width * static_cast<size_t>(count) + 1, '\0');
  check_status(H5Aread(attribute.get(), file_type.get(), buffer.data()), "read attribute " + name);
  for (hssize_t i = 0; i < count; ++i) {
    const char* p = buffer.data() + static_cast<size_t>(i) * width;
    values.emplace_back(p, strnlen(p, width));
  }
  return values;
}

std::vector<float> read_floats(hid_t dataset) {
  hsize_t count = 1;
  for (const auto d : dataset_shape(dataset)) count *= d;
  std::vector<float> values(count);
  check_status(H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
               "read floats");
  return values;
}

int64_t read_int_attribute(hid_t object, const std::string& name) {
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  int64_t value = 0;
  check_status(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), "read attribute " + name);
  return value;
}

std::vector<std::string> attribute_names(hid_t object) {
  std::vector<std::string> names;
  const H5A_operator2_t collect = [](hid_t, const char* name, const H5A_info_t*, void* out) {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return herr_t{0};
  };
  hsize_t index = 0;
  check_status(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, collect, &names),
               "list attributes");
  return names;
}

void copy_attribute(hid_t src, hid_t dst, const std::string& name) {
  Handle attribute(H5Aopen(src, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  Handle type(H5Aget_type(attribute.get()), H5Tclose, "get attribute type");
  Handle space(H5Aget_space(attribute.get()), H5Sclose, "get attribute space");
  const bool variable = H5Tis_variable_str(type.get()) > 0;
  const auto points = H5Sget_simple_extent_npoints(space.get());
  std::vector<char> buffer(static_cast<size_t>(points) *
                           (variable ? sizeof(char*) : H5Tget_size(type.get())));
  check_status(H5Aread(attribute.get(), type.get(), buffer.data()), "read attribute " + name);
  Handle copy(H5Acreate2(dst, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, "create attribute " + name);
  const herr_t written = H5Awrite(copy.get(), type.get(), buffer.data());
  if (variable) H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, buffer.data());
  check_status(written, "write attribute " + name);
}

bool exists(hid_t parent, const std::string& path) {
  // H5Lexists fails (rather than answering no) when an intermediate link is missing, so
  // each prefix is checked in turn.
  size_t end = 0;
  while (end != std::string::npos) {
    end = path.find('/', end + 1);
    const std::string prefix = path.substr(0, end);
    const htri_t found = H5Lexists(parent, prefix.c_str(), H5P_DEFAULT);
    if (found < 0) throw std::runtime_error("HDF5: cannot look up " + prefix);
    if (found == 0) return false;
  }
  return H5Oexists_by_name(parent, path.c_str(), H5P_DEFAULT) > 0;
}

Handle open_group(hid_t parent, const std::string& name) {
  return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + name);
}

Handle create_group(hid_t parent, const std::string& name) {
  return Handle(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                "create group " + name);
}

namespace {

// Bytes of one uncompressed chunk of `dataset`, or 0 when it is not chunked.
size_t chunk_bytes(hid_t dataset) {
  Handle properties(H5Dget_create_plist(dataset), H5Pclose, "get creation properties");
  if (H5Pget_layout(properties.get()) != H5D_CHUNKED) return 0;
  const int rank = H5Pget_chunk(properties.get(), 0, nullptr);
  check(rank, "read the chunk rank");
  std::vector<hsize_t> chunk(rank);
  check(H5Pget_chunk(properties.get(), rank, chunk.data()), "read the chunk shape");
  Handle type(H5Dget_type(dataset), H5Tclose, "get dataset type");
  size_t bytes = H5Tget_size(type.get());
  for (hsize_t d : chunk) bytes *= d;
  return bytes;
}

}  // namespace

Handle open_dataset_cached(hid_t parent, const std::string& name, size_t cache_bytes) {
  Handle dataset = open_dataset(parent, name);
  // At least two chunks, so that reading rows in increasing order decompresses each once.
  cache_bytes = std::max(cache_bytes, 2 * chunk_bytes(dataset.get()));
  Handle access(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, "create access properties");
  // A prime slot count well above the number of chunks the cache can hold keeps hash
  // collisions (which evict) rare. w0 = 0: HDF5 1.10 otherwise evicts only chunks read in
  // full until it has walked most of the cache, and with partly read chunks (rows picked
  // out of them) the cache grows past its limit; at 0 any unlocked chunk may go, so the
  // limit holds.
  check_status(H5Pset_chunk_cache(access.get(), 100003, cache_bytes, 0.0),
               "set the chunk cache of " + name);
  dataset.close();
  return Handle(H5Dopen2(parent, name.c_str(), access.get()), H5Dclose, "open dataset " + name);
}

H5T_class_t type_class(hid_t dataset) {
  Handle type(H5Dget_type(dataset), H5Tclose, "get dataset type");
  const H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class == H5T_NO_CLASS) throw std::runtime_error("HDF5: cannot read a type class");
  return type_class;
}

bool is_float16(hid_t dataset) {
  Handle type(H5Dget_type(dataset), H5Tclose, "get dataset type");
  const htri_t equal = H5Tequal(type.get(), float16_type());
  check(equal, "compare types");
  return equal > 0;
}




namespace {

std::vector<std::string> read_variable_strings(hid_t dataset, hid_t file_type, hid_t memory_space,
                                               hid_t file_space, hsize_t count) {
  // The memory type keeps the file's character set: HDF5 will not convert between them.
  Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type");
  check_status(H5Tset_size(memory_type.get(), H5T_VARIABLE), "set string size");
  check_status(H5Tset_cset(memory_type.get(), H5Tget_cset(file_type)), "set string charset");
  std::vector<char*> pointers(count, nullptr);
  check_status(H5Dread(dataset, memory_type.get(), memory_space, file_space, H5P_DEFAULT,
                       pointers.data()),
               "read strings");
  std::vector<std::string> out;
  out.reserve(count);
  for (char* p : pointers) out.emplace_back(p ? p : "");
  H5Dvlen_reclaim(memory_type.get(), memory_space, H5P_DEFAULT, pointers.data());
  return out;
}

std::vector<std::string> read_fixed_strings(hid_t dataset, hid_t file_type, hid_t memory_space,
                                            hid_t file_space, hsize_t count) {
  const size_t size = H5Tget_size(file_type);
  Handle memory_type(H5Tcopy(file_type), H5Tclose, "copy string type");
  std::vector<char> buffer(count * size);
  check_status(H5Dread(dataset, memory_type.get(), memory_space, file_space, H5P_DEFAULT,
                       buffer.data()),
               "read strings");
  std::vector<std::string> out;
  out.reserve(count);
  for (hsize_t i = 0; i < count; ++i) {
    std::string value(buffer.data() + i * size, size);
    const auto end = value.find_last_not_of(std::string("\0 ", 2));
    out.push_back(end == std::string::npos ? std::string() : value.substr(0, end + 1));
  }
  return out;
}

}  // namespace

std::vector<std::string> read_strings(hid_t dataset, hsize_t first, hsize_t count) {
  auto dims = dataset_shape(dataset);
  SEQATTR_ASSERT(dims.size() == 1 && first + count <= dims[0]);
  if (count == 0) return {};
  Handle file_type(H5Dget_type(dataset), H5Tclose, "get dataset type");
  if (H5Tget_class(file_type.get()) != H5T_STRING) {
    throw std::runtime_error("HDF5: dataset is not of strings");
  }
  dims[0] = count;
  const auto file_space = select_rows(dataset, first, dims);
  Handle memory_space(H5Screate_simple(1, &count, nullptr), H5Sclose,
                      "create memory dataspace");
  const htri_t variable = H5Tis_variable_str(file_type.get());
  check(variable, "read a string type");
  return variable ? read_variable_strings(dataset, file_type.get(), memory_space.get(),
                                          file_space.get(), count)
                  : read_fixed_strings(dataset, file_type.get(), memory_space.get(),
                                       file_space.get(), count);
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
