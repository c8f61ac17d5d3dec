#pragma once
// Rows of HDF5 datasets as tensors (formats/hdf5.h for files, datasets and attributes).
#include <torch/torch.h>

#include <vector>

#include "common/hdf5.h"

namespace seqattr::h5 {

// Writes `rows` (contiguous on the CPU; float32, float16, uint8, int8 or int64) at row
// `first` of `dataset`.
void write_rows(hid_t dataset, hsize_t first, const torch::Tensor& rows);

// A new dataset `name` of `parent` holding `rows` whole (contiguous on the CPU; a dtype
// write_rows takes), stored as `type`, chunked by `chunk_rows` rows.
void write_dataset(hid_t parent, const std::string& name, const torch::Tensor& rows, hid_t type,
                   hsize_t chunk_rows);

// Rows [first, first + count) along dimension 0, converted by HDF5 to `dtype`
// (kUInt8, kInt8, kInt64, kFloat16 or kFloat32).
torch::Tensor read_rows(hid_t dataset, hsize_t first, hsize_t count, torch::ScalarType dtype);

// The type to read a float dataset's rows as before widening them to float32: kHalf for
// float16 data (torch widens it exactly and fast; HDF5's own conversion is slow), else
// kFloat32 (HDF5 converts float64 and other float types).
torch::ScalarType float_read_type(hid_t dataset);

// Rows [first, first + count) along dimension 0 into the first rows of `out` (contiguous, a
// dtype read_rows takes), converted by HDF5. Reusing one buffer for every block of a long read
// keeps memory flat: fresh blocks interleaved with the chunk cache's allocations fragment the
// heap.
void read_rows_into(hid_t dataset, hsize_t first, hsize_t count, torch::Tensor& out);

// Rows `rows` (strictly increasing) along dimension 0, in that order, converted by HDF5 to
// `dtype` as in read_rows. With a chunk cache of at least one chunk (open_dataset_cached),
// each chunk is decompressed once per call.
torch::Tensor read_row_set(hid_t dataset, const std::vector<hsize_t>& rows,
                           torch::ScalarType dtype);

}  // namespace seqattr::h5
