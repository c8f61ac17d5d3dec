#include "formats/attribution_file.h"

namespace seqattr {
namespace {

constexpr hsize_t kChunkRows = 64;

hid_t file_type_of(torch::ScalarType dtype) {
  TORCH_INTERNAL_ASSERT(dtype == torch::kFloat32 || dtype == torch::kHalf);
  return dtype == torch::kHalf ? h5::float16_type() : H5T_IEEE_F32LE;
}

void write_int64s(hid_t file, const std::string& name, const torch::Tensor& values) {
  h5::write_dataset(file, name, values, H5T_STD_I64LE, 1024);
}

}  // namespace

AttributionFile::AttributionFile(const std::string& path, const OutputLayout& layout)
    : layout_(layout), file_(h5::create_file(path)) {
  const auto n = static_cast<hsize_t>(layout.sequences);
  const auto l = static_cast<hsize_t>(layout.length);
  const hid_t stored = file_type_of(layout.dtype);
  attributions_ = h5::create_dataset(file_.get(), "attributions", stored, {n, 4, l}, kChunkRows);
  hypothetical_ =
      h5::create_dataset(file_.get(), "hypothetical_attributions", stored, {n, 4, l}, kChunkRows);
  predictions_ = h5::create_dataset(file_.get(), "predictions", H5T_IEEE_F32LE,
                                    {n, static_cast<hsize_t>(layout.outputs)}, 1024);
  if (layout.convergence_delta) {
    convergence_delta_ =
        h5::create_dataset(file_.get(), "convergence_delta", H5T_IEEE_F32LE, {n}, 1024);
  }
  if (layout.ism_delta) {
    ism_delta_ = h5::create_dataset(file_.get(), "ism_delta", stored, {n, 4, l}, kChunkRows);
  }
  if (layout.chrombpnet) {
    const auto shap = h5::create_group(file_.get(), "shap");
    const auto projected = h5::create_group(file_.get(), "projected_shap");
    shap_ = h5::create_dataset(shap.get(), "seq", h5::float16_type(), {n, 4, l}, kChunkRows);
    projected_shap_ =
        h5::create_dataset(projected.get(), "seq", h5::float16_type(), {n, 4, l}, kChunkRows);
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
  if (layout_.chrombpnet) {
    const auto raw = h5::create_group(file_.get(), "raw");
    auto seq = h5::create_dataset(raw.get(), "seq", H5T_STD_I8LE,
                                  {static_cast<hsize_t>(layout_.sequences), 4,
                                   static_cast<hsize_t>(layout_.length)},
                                  kChunkRows);
    h5::write_rows(seq.get(), 0, one_hot.to(torch::kInt8).contiguous());
  }
}

void AttributionFile::write_regions(const RegionRows& regions) {
  TORCH_INTERNAL_ASSERT(layout_.regions &&
                        static_cast<int64_t>(regions.chroms.size()) == layout_.sequences);
  const auto group = h5::create_group(file_.get(), "regions");
  h5::write_strings(group.get(), "chrom", regions.chroms);
  write_int64s(group.get(), "start", regions.start);
  write_int64s(group.get(), "end", regions.end);
  h5::write_strings(group.get(), "name", regions.names);
  write_int64s(group.get(), "summit", regions.summit);
}

void AttributionFile::write_block(const AttributionBlock& block) {
  const auto first = static_cast<hsize_t>(block.first);
  const auto stored = [&](const torch::Tensor& t) { return t.to(layout_.dtype).contiguous(); };
  h5::write_rows(attributions_.get(), first, stored(block.attributions));
  h5::write_rows(hypothetical_.get(), first, stored(block.hypothetical));
  if (layout_.chrombpnet) {
    h5::write_rows(shap_.get(), first, block.hypothetical.to(torch::kHalf).contiguous());
    h5::write_rows(projected_shap_.get(), first, block.attributions.to(torch::kHalf).contiguous());
  }
  h5::write_rows(predictions_.get(), first, block.predictions.contiguous());
  if (layout_.convergence_delta) {
    TORCH_INTERNAL_ASSERT(block.convergence_delta.defined());
    h5::write_rows(convergence_delta_.get(), first, block.convergence_delta.contiguous());
  }
  if (layout_.ism_delta) {
    TORCH_INTERNAL_ASSERT(block.ism_delta.defined());
    h5::write_rows(ism_delta_.get(), first, stored(block.ism_delta));
  }
}

void AttributionFile::write_references(int64_t first, const torch::Tensor& references) {
  TORCH_INTERNAL_ASSERT(layout_.references > 0);
  h5::write_rows(references_.get(), static_cast<hsize_t>(first),
                 references.to(torch::kUInt8).contiguous());
}

void write_description(hid_t file, const RunDescription& run) {
  h5::write_attribute(file, "method", run.method);
  h5::write_attribute(file, "target", run.target);
  h5::write_attribute(file, "model_sha256", run.model_sha256);
  h5::write_attribute(file, "seqattr_version", std::string(SEQATTR_VERSION));
  h5::write_attribute(file, "parameters", run.parameters_json);
  h5::write_attribute(file, "command_line", run.command_line);
  h5::write_attribute(file, "run_id", run.run_id);
}

void AttributionFile::close() {
  attributions_.close();
  hypothetical_.close();
  predictions_.close();
  convergence_delta_.close();
  references_.close();
  ism_delta_.close();
  shap_.close();
  projected_shap_.close();
  H5Fflush(file_.get(), H5F_SCOPE_GLOBAL);
  file_.close();
}

}  // namespace seqattr
