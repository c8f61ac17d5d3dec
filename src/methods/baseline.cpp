#include "methods/baseline.h"

#include "common/enum_names.h"

namespace seqattr {
namespace {

const EnumNames<Baseline>& baseline_table() {
  static const EnumNames<Baseline> table(
      "--baseline", {{Baseline::Zeros, "zeros"},
                     {Baseline::Uniform, "uniform"},
                     {Baseline::DinucShuffle, "dinuc_shuffle"}});
  return table;
}

}  // namespace

Baseline parse_baseline(const std::string& name) { return baseline_table().parse(name); }
std::string baseline_name(Baseline baseline) { return baseline_table().name(baseline); }
std::vector<std::string> baseline_names() { return baseline_table().names(); }

double baseline_value(Baseline baseline) {
  TORCH_INTERNAL_ASSERT(baseline != Baseline::DinucShuffle, "not a constant baseline");
  return baseline == Baseline::Zeros ? 0.0 : 0.25;
}

torch::Tensor make_baselines(Baseline baseline, int64_t count, int64_t length,
                             const torch::Device& device) {
  return torch::full({count, 4, length}, baseline_value(baseline),
                     torch::TensorOptions().dtype(torch::kFloat32).device(device));
}

}  // namespace seqattr
