#include "io/attribution_file.h"

namespace seqattr {
namespace {

constexpr hsize_t kChunkRows = 64;

}  // namespace

AttributionFile::AttributionFile(const std::string& path, const OutputLayout& layout)
    : layout_(layout), file_(h5::create_file(path)) {
  const auto n = static_cast<hsize_t>(layout.sequences);
  const auto l = static_cast<hsize_t>(layout.length);
  attributions_ = h5::create_dataset(file_.get(), "attributions", H5T_IEEE_F32LE, {n, 4, l}, kChunkRows);
  hypothetical_ =
      h5::create_dataset(file_.get(), "hypothetical_attributions", H5T_IEEE_F32LE, {n, 4, l}, kChunkRows);
  predictions_ = h5::create_dataset(file_.get(), "predictions", H5T_IEEE_F32LE,
                                    {n, static_cast<hsize_t>(layout.outputs)}, 1024);
  if (layout.convergence_delta) {
    convergence_delta_ =
        h5::create_dataset(file_.get(), "convergence_delta", H5T_IEEE_F32LE, {n}, 1024);
  }
  if (layout.ism_delta) {
    ism_delta_ = h5::create_dataset(file_.get(), "ism_delta", H5T_IEEE_F32LE, {n, 4, l}, kChunkRows);
  }
  if (layout.references > 0) {
    references_ = h5::create_dataset(file_.get(), "references", H5T_STD_U8LE,
                                     {n, static_cast<hsize_t>(layout.references), 4, l}, 8);
  }
}

void AttributionFile::write_inputs(const std::vector<std::string>& names,
                                   const torch::Tensor& one_hot) {
  TORCH_INTERNAL_ASSERT(one_hot.scalar_type() == torch::kUInt8 &&
                        one_hot.size(0) == layout_.sequences);
  auto dataset = h5::create_dataset(file_.get(), "one_hot", H5T_STD_U8LE,
                                    {static_cast<hsize_t>(layout_.sequences), 4,
                                     static_cast<hsize_t>(layout_.length)},
                                    kChunkRows);
  h5::write_rows(dataset.get(), 0, one_hot.contiguous());
  h5::write_strings(file_.get(), "names", names);
}

void AttributionFile::write_block(const AttributionBlock& block) {
  const auto first = static_cast<hsize_t>(block.first);
  h5::write_rows(attributions_.get(), first, block.attributions.contiguous());
  h5::write_rows(hypothetical_.get(), first, block.hypothetical.contiguous());
  h5::write_rows(predictions_.get(), first, block.predictions.contiguous());
  if (layout_.convergence_delta) {
    TORCH_INTERNAL_ASSERT(block.convergence_delta.defined());
    h5::write_rows(convergence_delta_.get(), first, block.convergence_delta.contiguous());
  }
  if (layout_.ism_delta) {
    TORCH_INTERNAL_ASSERT(block.ism_delta.defined());
    h5::write_rows(ism_delta_.get(), first, block.ism_delta.contiguous());
  }
}

void AttributionFile::write_references(int64_t first, const torch::Tensor& references) {
  TORCH_INTERNAL_ASSERT(layout_.references > 0);
  h5::write_rows(references_.get(), static_cast<hsize_t>(first),
                 references.to(torch::kUInt8).contiguous());
}

void AttributionFile::write_description(const RunDescription& run) {
  h5::write_attribute(file_.get(), "method", run.method);
  h5::write_attribute(file_.get(), "target", run.target);
  h5::write_attribute(file_.get(), "model_sha256", run.model_sha256);
  h5::write_attribute(file_.get(), "seqattr_version", std::string(SEQATTR_VERSION));
  h5::write_attribute(file_.get(), "parameters", run.parameters_json);
  h5::write_attribute(file_.get(), "command_line", run.command_line);
}

void AttributionFile::close() {
  attributions_.close();
  hypothetical_.close();
  predictions_.close();
  convergence_delta_.close();
  references_.close();
  ism_delta_.close();
  H5Fflush(file_.get(), H5F_SCOPE_GLOBAL);
  file_.close();
}

}  // namespace seqattr
