#include "export/modisco_export.h"

#include <sys/stat.h>
#include <zip.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <c10/util/Exception.h>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "formats/hdf5_tensor.h"

namespace seqattr {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npy files are written as '<f4'");

constexpr size_t kModiscoChunkCacheBytes = size_t{64} << 20;
constexpr size_t kModiscoBlockBytes = size_t{32} << 20;

// The two arrays of the input, checked to be (N, 4, L) alike.
struct ModiscoInput {
  h5::Handle file;
  h5::Handle one_hot;
  h5::Handle hypothetical;
  std::vector<int64_t> shape;
};

h5::Handle open_array(const h5::Handle& file, const std::string& path, const std::string& name) {
  if (!h5::exists(file.get(), name)) {
    throw InputError("input file '" + path + "': no /" + name + " dataset (not a seqattr output)");
  }
  auto dataset = h5::open_dataset_cached(file.get(), name, kModiscoChunkCacheBytes);
  const auto shape = h5::dataset_shape(dataset.get());
  const auto type_class = h5::type_class(dataset.get());
  if (shape.size() != 3 || shape[1] != 4 ||
      (type_class != H5T_FLOAT && type_class != H5T_INTEGER)) {
    throw InputError("input file '" + path + "': /" + name + " is not an (N, 4, L) numeric array");
  }
  return dataset;
}

ModiscoInput open_modisco_input(const std::string& path) {
  const std::string what = "input file '" + path + "'";
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    throw InputError(what + ": no such file");
  }
  ModiscoInput in;
  try {
    in.file = h5::open_file_for_reading(path);
  } catch (const std::runtime_error&) {
    throw InputError(what + ": not an HDF5 file");
  }
  in.one_hot = open_array(in.file, path, "one_hot");
  in.hypothetical = open_array(in.file, path, "hypothetical_attributions");
  const auto a = h5::dataset_shape(in.one_hot.get());
  const auto b = h5::dataset_shape(in.hypothetical.get());
  if (a != b) {
    throw InputError(what + ": /one_hot and /hypothetical_attributions differ in shape");
  }
  in.shape.assign(a.begin(), a.end());
  return in;
}

// A zip source that produces a .npy file of `dataset` as float32: the header, then the rows
// read from HDF5 a block at a time. Only sequential reading is offered, so libzip reads it
// once, computing the CRC as it writes.
class NpySource {
 public:
  NpySource(hid_t dataset, const std::vector<int64_t>& shape)
      : dataset_(dataset),
        read_dtype_(h5::float_read_type(dataset)),
        header_(npy_header("<f4", shape)),
        rows_(shape[0]),
        row_bytes_(static_cast<uint64_t>(shape[1] * shape[2]) * sizeof(float)),
        rows_per_block_(std::max<uint64_t>(1, kModiscoBlockBytes / std::max<uint64_t>(1, row_bytes_))) {
    zip_error_init(&error_);
  }
  ~NpySource() { zip_error_fini(&error_); }
  NpySource(const NpySource&) = delete;
  NpySource& operator=(const NpySource&) = delete;

  static zip_int64_t callback(void* self, void* data, zip_uint64_t length, zip_source_cmd_t cmd) {
    return static_cast<NpySource*>(self)->handle(data, length, cmd);
  }

  // The exception a read threw, if any (libzip only sees an error code).
  std::exception_ptr failure() const { return failure_; }

 private:
  uint64_t size() const { return header_.size() + rows_ * row_bytes_; }

  zip_int64_t handle(void* data, zip_uint64_t length, zip_source_cmd_t cmd) {
    switch (cmd) {
      case ZIP_SOURCE_OPEN:
        position_ = 0;
        return 0;
      case ZIP_SOURCE_READ:
        return read(static_cast<char*>(data), length);
      case ZIP_SOURCE_CLOSE:
        block_ = torch::Tensor();
        return 0;
      case ZIP_SOURCE_STAT: return stat(data, length);
      case ZIP_SOURCE_ERROR: return zip_error_to_data(&error_, data, length);
      case ZIP_SOURCE_FREE: return 0;
      case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              ZIP_SOURCE_SUPPORTS, -1);
      default: zip_error_set(&error_, ZIP_ER_OPNOTSUPP, 0); return -1;
    }
  }

  // Stored data of known size: libzip then writes zip64 fields only when the size needs them.
  zip_int64_t stat(void* data, zip_uint64_t length) {
    auto* st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, length, &error_);
    if (!st) return -1;
    zip_stat_init(st);
    st->valid = ZIP_STAT_SIZE | ZIP_STAT_MTIME | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
    st->size = size();
    st->mtime = std::time(nullptr);
    st->comp_method = ZIP_CM_STORE;
    st->encryption_method = ZIP_EM_NONE;
    return sizeof(zip_stat_t);
  }

  zip_int64_t read(char* out, zip_uint64_t length) {
    try {
      uint64_t done = 0;
      while (done < length && position_ < size()) {
        done += copy_some(out + done, length - done);
      }
      return static_cast<zip_int64_t>(done);
    } catch (...) {
      failure_ = std::current_exception();
      zip_error_set(&error_, ZIP_ER_READ, 0);
      return -1;
    }
  }

  // Copies from the header or the current row block, loading the next block when needed.
  uint64_t copy_some(char* out, uint64_t length) {
    if (position_ < header_.size()) {
      const uint64_t n = std::min<uint64_t>(length, header_.size() - position_);
      std::memcpy(out, header_.data() + position_, n);
      position_ += n;
      return n;
    }
    const uint64_t offset = position_ - header_.size();
    const uint64_t row = offset / row_bytes_;
    if (!block_.defined() || row < block_first_ || row >= block_first_ + block_.size(0)) {
      const uint64_t count = std::min(rows_per_block_, rows_ - row);
      block_ = h5::read_rows(dataset_, row, count, read_dtype_).to(torch::kFloat32);
      block_first_ = row;
    }
    const uint64_t block_offset = offset - block_first_ * row_bytes_;
    const uint64_t block_bytes = static_cast<uint64_t>(block_.size(0)) * row_bytes_;
    const uint64_t n = std::min<uint64_t>(length, block_bytes - block_offset);
    std::memcpy(out, static_cast<const char*>(block_.data_ptr()) + block_offset, n);
    position_ += n;
    return n;
  }

  hid_t dataset_;
  torch::ScalarType read_dtype_;  // h5::float_read_type
  std::string header_;
  uint64_t rows_, row_bytes_, rows_per_block_;
  uint64_t position_ = 0;
  torch::Tensor block_;  // rows [block_first_, block_first_ + block_.size(0)) as float32
  uint64_t block_first_ = 0;
  zip_error_t error_;
  std::exception_ptr failure_;
};

std::string zip_message(zip_error_t* error) { return zip_error_strerror(error); }

// Writes `path` (a fresh file) as a zip of one deflated member, arr_0.npy.
void write_npz(const std::string& path, const std::string& final_path, hid_t dataset,
               const std::vector<int64_t>& shape) {
  int code = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!archive) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string message = zip_message(&error);
    zip_error_fini(&error);
    throw InputError("--output-dir: cannot write '" + final_path + "' (" + message + ")");
  }
  NpySource npy(dataset, shape);
  zip_source_t* source = zip_source_function(archive, &NpySource::callback, &npy);
  const zip_int64_t index =
      source ? zip_file_add(archive, "arr_0.npy", source, ZIP_FL_ENC_UTF_8) : -1;
  // Deflated, as numpy.savez_compressed writes: the one-hot shrinks about 11x (hypothetical
  // attributions, dense floats, by ~7%), and modisco reads either alike. Level 1: fast.
  if (index < 0 || zip_set_file_compression(archive, index, ZIP_CM_DEFLATE, 1) != 0) {
    if (source && index < 0) zip_source_free(source);
    const std::string message = zip_strerror(archive);
    zip_discard(archive);
    throw std::runtime_error("libzip: cannot add arr_0.npy to '" + final_path + "': " + message);
  }
  if (zip_close(archive) != 0) {
    const std::string message = zip_strerror(archive);
    zip_discard(archive);
    if (npy.failure()) std::rethrow_exception(npy.failure());
    throw InputError("--output-dir: cannot write '" + final_path + "' (" + message + ")");
  }
}

void make_directory(const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error || !std::filesystem::is_directory(directory)) {
    throw InputError("--output-dir '" + directory + "': cannot create the directory" +
                     (error ? " (" + error.message() + ")" : std::string(" (a file is there)")));
  }
}

}  // namespace

std::string npy_header(const std::string& descr, const std::vector<int64_t>& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' = a multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  TORCH_INTERNAL_ASSERT(dict.size() <= 0xffff);
  std::string header("\x93NUMPY\x01\x00", 8);
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>(dict.size() >> 8);
  return header + dict;
}

ModiscoExportSummary export_modisco(const ModiscoExportOptions& options) {
  const ModiscoInput in = open_modisco_input(options.input);
  make_directory(options.output_dir);
  ModiscoExportSummary summary;
  summary.sequences = in.shape[0];
  summary.length = in.shape[2];
  summary.ohe_path = (std::filesystem::path(options.output_dir) / "ohe.npz").string();
  summary.attr_path = (std::filesystem::path(options.output_dir) / "attr.npz").string();
  // Both written before either is renamed into place: an interrupted export (a full disk)
  // never leaves a new ohe.npz beside an old attr.npz.
  AtomicOutput ohe(summary.ohe_path, {{"input", options.input}});
  AtomicOutput attr(summary.attr_path, {{"input", options.input}});
  write_npz(ohe.temp_path(), summary.ohe_path, in.one_hot.get(), in.shape);
  write_npz(attr.temp_path(), summary.attr_path, in.hypothetical.get(), in.shape);
  ohe.commit();
  attr.commit();
  return summary;
}

}  // namespace seqattr
