#include "methods/deeplift/deeplift.h"

#include <torch/csrc/jit/python/update_graph_executor_opt.h>

#include <cmath>

#include "common/log.h"
#include "core/row_chunks.h"
#include "core/target_gradient.h"
#include "kernels/ops/hypothetical_projection.h"
#include "kernels/ops/ig_accumulate.h"
#include "methods/deeplift/delta_ops.h"
#include "methods/deeplift/graph_rewrite.h"
#include "methods/deeplift/pair_layout.h"

namespace seqattr::deeplift {
namespace {

// The graph executor's optimizations (autodiff subgraphs, fusion) must not bypass the rule
// ops' own backward; DeepLIFT passes run the graph as written.
class PlainGraphExecution {
 public:
  PlainGraphExecution() : previous_(torch::jit::getGraphExecutorOptimize()) {
    torch::jit::setGraphExecutorOptimize(false);
  }
  ~PlainGraphExecution() { torch::jit::setGraphExecutorOptimize(previous_); }

 private:
  bool previous_;
};

struct PairPass {
  torch::Tensor multipliers;    // (P, 4, L), per pair, w.r.t. the input layer
  torch::Tensor outputs;        // (S + P, T)
  torch::Tensor output_change;  // (P,) f(x) - f(r) at the target, float64
};

// One pass over [inputs; references], seeded on the reference rows only.
PairPass run_pairs(Model& model, const torch::Tensor& inputs, const torch::Tensor& references,
                   const torch::Tensor& owner, int64_t target) {
  const int64_t s = inputs.size(0), p = references.size(0);
  PairLayoutGuard layout({s, owner, {}});
  auto pass = target_gradient(model, torch::cat({inputs, references}), target, /*seeded_from=*/s);
  // The graph's own Δ of the output when it carries one; else the difference of outputs.
  const auto recorded = recorded_output_delta();
  const auto f = pass.outputs.select(1, target).to(torch::kFloat64);
  const auto change = recorded.defined()
                          ? recorded.narrow(0, s, p).select(1, target).to(torch::kFloat64)
                          : f.index_select(0, owner) - f.narrow(0, s, p);
  return {pass.grad.narrow(0, s, p).to(torch::kFloat32), pass.outputs.to(torch::kFloat32), change};
}

}  // namespace

RuledModel prepare_model(const Model& model, Secants secants) {
  auto rewritten = rewrite_for_deeplift(model.module(), secants);
  log::debug("DeepLIFT graph of '" + model.path() + "':\n" +
             rewritten.module.get_method("forward").graph()->toString());
  log::debug("DeepLIFT secants " + rewritten.secants_note);
  const auto dtype = rewritten.ill_conditioned ? torch::kFloat64 : torch::kFloat32;
  if (rewritten.ill_conditioned) {
    // The rewritten module is a copy: the caller's model keeps its float32 parameters.
    rewritten.module.to(dtype);
    log::info("DeepLIFT runs in float64 on '" + model.path() +
              "': its softmax (or profile scaling) rule divides by differences of "
              "activations, which float32 rounding would move");
  }
  return {Model::from_module(std::move(rewritten.module), model.path(), model.device(),
                            fuse_relu_rule_residuals),
          std::move(rewritten.unruled_ops), dtype, rewritten.carries_delta,
          std::move(rewritten.secants_note)};
}

void run_deeplift(RuledModel& ruled, const torch::Tensor& one_hot, const Plan& plan,
                  int64_t target, int64_t outputs, int64_t batch_pairs, const BlockSink& sink,
                  const ProgressCallback& progress) {
  PlainGraphExecution plain_execution;
  auto& model = ruled.model;
  const auto& device = model.device();
  const int64_t length = one_hot.size(2);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  CarriedRows hypothetical({4, length}, f32);
  CarriedRows deltas({}, torch::TensorOptions().dtype(torch::kFloat32));  // on the CPU
  CarriedRows predictions({outputs}, f32);
  const double weight = 1.0 / static_cast<double>(plan.references);

  for_each_row_chunk(one_hot.size(0), plan.references, batch_pairs, [&](const RowChunk& chunk) {
    const int64_t s = chunk.seq_end - chunk.seq_begin;
    const auto x = one_hot.slice(0, chunk.seq_begin, chunk.seq_end).to(device, torch::kFloat32);
    const auto owner = chunk.row_sequence(device);
    const auto pair_index = owner * plan.references + chunk.row_item(device);
    const auto references = plan.make_references(chunk.seq_begin, s)
                                .to(device, torch::kFloat32)
                                .view({s * plan.references, 4, length})
                                .index_select(0, pair_index);
    const auto pass = run_pairs(model, x.to(ruled.dtype), references.to(ruled.dtype), owner, target);
    const auto& m = pass.multipliers;

    // hyp_k[i] = m_k,i - sum_c r_k,c m_k,c, averaged over the sequence's references.
    const auto pair_hypothetical = ops::hypothetical_projection(m, references);
    ops::ig_accumulate_(hypothetical.cover(chunk), pair_hypothetical, owner,
                        torch::full({chunk.rows()}, weight, torch::TensorOptions(torch::kFloat64).device(device)));

    // Summed in float64: the terms can be far larger than their total.
    const auto pair_delta =
        ((x.index_select(0, owner) - references).to(torch::kFloat64) * m.to(torch::kFloat64))
            .sum({1, 2}) -
        pass.output_change;
    // Pairs come grouped by sequence; fold each pair's delta into its sequence's value.
    auto& delta = deltas.cover(chunk);
    const auto pair_delta_cpu = pair_delta.to(torch::kCPU, torch::kFloat32).contiguous();
    const auto owner_cpu = owner.to(torch::kCPU).contiguous();
    const float* d = pair_delta_cpu.data_ptr<float>();
    const int64_t* o = owner_cpu.data_ptr<int64_t>();
    float* acc = delta.data_ptr<float>();
    for (int64_t k = 0; k < chunk.rows(); ++k) {
      // The largest |delta|, NaN when any is NaN (std::max would drop it).
      const float magnitude = std::abs(d[k]);
      acc[o[k]] = !plan.largest_absolute_delta      ? acc[o[k]] + d[k]
                  : std::isnan(magnitude) || std::isnan(acc[o[k]]) ? std::nanf("")
                                                                  : std::max(acc[o[k]], magnitude);
    }
    predictions.cover(chunk).narrow(0, 0, s).copy_(pass.outputs.narrow(0, 0, s));

    const auto finished_hyp = hypothetical.release_finished(chunk);
    const auto finished_delta = deltas.release_finished(chunk);
    const auto finished_pred = predictions.release_finished(chunk);
    if (finished_hyp.size(0) == 0) return;
    AttributionBlock block;
    block.first = chunk.seq_begin;
    block.hypothetical = finished_hyp.to(torch::kCPU);
    block.attributions =
        block.hypothetical * one_hot.slice(0, chunk.seq_begin, chunk.finished_end).to(torch::kFloat32);
    block.predictions = finished_pred.to(torch::kCPU);
    block.convergence_delta = finished_delta.to(torch::kCPU);
    sink(block);
    progress(chunk.finished_end);
  });
}

}  // namespace seqattr::deeplift
