#include "methods/baseline.h"

#include "common/errors.h"

namespace seqattr {

Baseline parse_baseline(const std::string& name) {
  if (name == "zeros") return Baseline::Zeros;
  if (name == "uniform") return Baseline::Uniform;
  throw InputError("--baseline '" + name + "': unknown baseline");
}

std::string baseline_name(Baseline baseline) {
  return baseline == Baseline::Zeros ? "zeros" : "uniform";
}

std::vector<std::string> baseline_names() { return {"zeros", "uniform"}; }

torch::Tensor make_baselines(Baseline baseline, int64_t count, int64_t length,
                             const torch::Device& device) {
  const double value = baseline == Baseline::Zeros ? 0.0 : 0.25;
  return torch::full({count, 4, length}, value,
                     torch::TensorOptions().dtype(torch::kFloat32).device(device));
}

}  // namespace seqattr
