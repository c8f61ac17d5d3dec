#pragma once
// `seqattr export-modisco`: the inputs of tfmodisco-lite's `modisco motifs -s ohe.npz
// -a attr.npz`.
//
// tfmodisco-lite (modiscolite/cli.py, `motifs`) loads each file's `arr_0` as (N, 4, L),
// crops the centre window, transposes to (N, L, 4) and casts both to float32; TFMoDISco()
// then takes -a as the hypothetical contributions and multiplies them by the one-hot
// itself. So attr.npz holds /hypothetical_attributions (not the projected /attributions),
// and both arrays are written as float32 (<f4), the dtype TFMoDISco() computes in.
#include <cstdint>
#include <string>
#include <vector>

namespace seqattr {

struct ModiscoExportOptions {
  std::string input;       // seqattr output file (HDF5)
  std::string output_dir;  // created when missing
};

struct ModiscoExportSummary {
  int64_t sequences = 0;
  int64_t length = 0;
  std::string ohe_path, attr_path;
};

// Writes output_dir/ohe.npz (/one_hot) and output_dir/attr.npz (/hypothetical_attributions):
// zip archives (deflated, as numpy.savez_compressed writes them; zip64 when large) with one
// member, arr_0.npy, (N, 4, L) float32.
// Rows stream from HDF5 in blocks of about 32 MiB. Each file is written to a temporary
// file in output_dir and renamed into place when complete. Throws InputError naming the
// file for an input that is missing or lacks either dataset or has mismatched shapes, and
// naming --output-dir when the directory cannot be created or written.
ModiscoExportSummary export_modisco(const ModiscoExportOptions& options);

// The header of a version 1.0 .npy file of a C-order array: magic, version, length, and
// the dict, padded with spaces and a newline to a multiple of 64 bytes.
std::string npy_header(const std::string& descr, const std::vector<int64_t>& shape);

}  // namespace seqattr
