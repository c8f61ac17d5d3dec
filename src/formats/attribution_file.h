#pragma once
// The HDF5 output contract of `seqattr attribute` (README, "Output"). Datasets are created
// up front at their final shapes and filled block by block, in input order.
#include <string>
#include <vector>

#include "core/attribution_block.h"
#include "formats/hdf5_tensor.h"

namespace seqattr {

struct OutputLayout {
  int64_t sequences = 0;
  int64_t length = 0;
  int64_t outputs = 0;  // T, the model's output columns
  bool convergence_delta = false;
  int64_t references = 0;  // R: write /references (N, R, 4, L) uint8 when > 0
  bool ism_delta = false;
  // Stored type of attributions, hypothetical attributions and ISM deltas (kFloat or kHalf).
  torch::ScalarType dtype = torch::kFloat32;
  // Also chrombpnet's arrays: raw/seq (int8 one-hot), shap/seq (float16 hypothetical) and
  // projected_shap/seq (float16 attributions), all (N, 4, L).
  bool chrombpnet = false;
  bool regions = false;  // /regions/{chrom,start,end,name,summit}
};

// The windows of genomic rows, 0-based half-open (see pipeline/sequence_source.h).
struct RegionRows {
  const std::vector<std::string>& chroms;
  const std::vector<std::string>& names;
  const torch::Tensor& start;
  const torch::Tensor& end;
  const torch::Tensor& summit;
};

struct RunDescription {
  std::string method;
  int64_t target = 0;
  std::string model_sha256;
  std::string parameters_json;
  std::string command_line;
  std::string run_id;  // the computation's identity, shared by its shards (merge checks it)
};

// The root attributes of an output: method, target, model_sha256, seqattr_version,
// parameters, command_line, run_id.
void write_description(hid_t file, const RunDescription& run);

class AttributionFile {
 public:
  AttributionFile(const std::string& path, const OutputLayout& layout);

  void write_inputs(const std::vector<std::string>& names, const torch::Tensor& one_hot);
  void write_regions(const RegionRows& regions);
  void write_block(const AttributionBlock& block);
  // references: (S, R, 4, L) of sequences [first, first + S).
  void write_references(int64_t first, const torch::Tensor& references);
  void close();  // flushes; the file is complete only after this returns
  hid_t id() const { return file_.get(); }

 private:
  OutputLayout layout_;
  h5::Handle file_;
  h5::Handle attributions_, hypothetical_, predictions_, convergence_delta_, references_, ism_delta_;
  h5::Handle shap_, projected_shap_;
};

}  // namespace seqattr
