#include "methods/path/path_attribution.h"

#include "core/row_chunks.h"
#include "core/target_gradient.h"
#include "kernels/ops/hypothetical_projection.h"
#include "kernels/ops/ig_accumulate.h"
#include "kernels/ops/ig_path_points.h"

namespace seqattr {
namespace {

// (count, 4, length) float32 baselines on `device`; constant baselines only.
torch::Tensor make_baselines(Baseline baseline, int64_t count, int64_t length,
                             const torch::Device& device) {
  return torch::full({count, 4, length}, baseline_value(baseline),
                     torch::TensorOptions().dtype(torch::kFloat32).device(device));
}

// Turns the multipliers m of sequences [first, first + m.size(0)) into the output contract.
AttributionBlock finish_block(Model& model, const torch::Tensor& one_hot, const PathPlan& plan,
                              int64_t target, int64_t batch_rows, int64_t first,
                              const torch::Tensor& m) {
  const auto count = m.size(0);
  const auto x = one_hot.slice(0, first, first + count).to(model.device(), torch::kFloat32);
  const auto b = make_baselines(plan.baseline, count, x.size(2), model.device());

  AttributionBlock block;
  block.first = first;
  // hyp[i] = sum_c (e_i - b)_c m_c = m_i - sum_c b_c m_c
  const auto hypothetical = ops::hypothetical_projection(m, b);
  block.hypothetical = hypothetical.to(torch::kCPU);
  block.attributions = (hypothetical * x).to(torch::kCPU);
  block.predictions = predict(model, x, batch_rows);
  if (plan.convergence_delta) {
    // Every sequence has the same baseline (make_baselines is constant): f(b) once.
    const auto f_b = predict(model, b.narrow(0, 0, 1), 1).select(1, target);
    const auto total = ((x - b) * m).sum({1, 2}).to(torch::kCPU);
    block.convergence_delta = total - (block.predictions.select(1, target) - f_b);
  }
  return block;
}

}  // namespace

PathPlan gradient_plan() {
  PathPlan plan;
  plan.quadrature.alphas = {1.0};
  plan.quadrature.weights = {1.0};
  return plan;
}

PathPlan integrated_gradients_plan(IgRule rule, int n_steps, Baseline baseline) {
  PathPlan plan;
  plan.quadrature = ig_quadrature(rule, n_steps);
  plan.baseline = baseline;
  plan.convergence_delta = true;
  return plan;
}

void run_path_attribution(Model& model, const torch::Tensor& one_hot, const PathPlan& plan,
                          int64_t target, int64_t batch_rows, const BlockSink& sink,
                          const ProgressCallback& progress) {
  TORCH_INTERNAL_ASSERT(one_hot.dim() == 3 && one_hot.size(1) == 4 && batch_rows > 0);
  const auto& device = model.device();
  const int64_t n_seq = one_hot.size(0), length = one_hot.size(2);
  const auto nodes = static_cast<int64_t>(plan.quadrature.alphas.size());
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto alphas = torch::tensor(plan.quadrature.alphas, f64).to(device);
  const auto weights = torch::tensor(plan.quadrature.weights, f64).to(device);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);

  CarriedRows multipliers({4, length}, f32);
  for_each_row_chunk(n_seq, nodes, batch_rows, [&](const RowChunk& chunk) {
    auto& acc = multipliers.cover(chunk);
    const auto x = one_hot.slice(0, chunk.seq_begin, chunk.seq_end).to(device, torch::kFloat32);
    const auto b = make_baselines(plan.baseline, x.size(0), length, device);
    const auto row_seq = chunk.row_sequence(device);
    const auto row_node = chunk.row_item(device);
    const auto points = ops::ig_path_points(x, b, row_seq, alphas.index_select(0, row_node));
    const auto grads = target_gradient(model, points, target).grad;
    ops::ig_accumulate_(acc, grads, row_seq, weights.index_select(0, row_node));

    const auto finished = multipliers.release_finished(chunk);
    if (finished.size(0) > 0) {
      sink(finish_block(model, one_hot, plan, target, batch_rows, chunk.seq_begin, finished));
      progress(chunk.finished_end);
    }
  });
}

}  // namespace seqattr
