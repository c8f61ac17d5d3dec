#pragma once
// The HDF5 output contract of `seqattr attribute` (README, "Output"). Datasets are created
// up front at their final shapes and filled block by block, in input order.
#include <string>
#include <vector>

#include "engine/attribution_block.h"
#include "io/hdf5.h"

namespace seqattr {

struct OutputLayout {
  int64_t sequences = 0;
  int64_t length = 0;
  int64_t outputs = 0;  // T, the model's output columns
  bool convergence_delta = false;
  int64_t references = 0;  // R: write /references (N, R, 4, L) uint8 when > 0
  bool ism_delta = false;
};

struct RunDescription {
  std::string method;
  int64_t target = 0;
  std::string model_sha256;
  std::string parameters_json;
  std::string command_line;
};

class AttributionFile {
 public:
  AttributionFile(const std::string& path, const OutputLayout& layout);

  void write_inputs(const std::vector<std::string>& names, const torch::Tensor& one_hot);
  void write_block(const AttributionBlock& block);
  // references: (S, R, 4, L) of sequences [first, first + S).
  void write_references(int64_t first, const torch::Tensor& references);
  void write_description(const RunDescription& run);
  void close();  // flushes; the file is complete only after this returns

 private:
  OutputLayout layout_;
  h5::Handle file_;
  h5::Handle attributions_, hypothetical_, predictions_, convergence_delta_, references_, ism_delta_;
};

}  // namespace seqattr
