#pragma once
// Path methods: gradient, input x gradient and integrated gradients are one computation,
//   m = sum_k w_k * grad f_target(b + alpha_k (x - b)),
// with the single node alpha = 1, w = 1, b = 0 for the two gradient methods.
#include <torch/torch.h>

#include "core/attribution_block.h"
#include "core/model.h"
#include "methods/path/baseline.h"
#include "methods/path/ig_rules.h"

namespace seqattr {

struct PathPlan {
  Quadrature quadrature;
  Baseline baseline = Baseline::Zeros;
  bool convergence_delta = false;  // IG reports sum (x - b) m - (f(x) - f(b))
};

// The plan of the single-gradient methods.
PathPlan gradient_plan();

// Integrated gradients: Captum's nodes and weights, the baseline, and a convergence delta.
PathPlan integrated_gradients_plan(IgRule rule, int n_steps, Baseline baseline);

// Explains every sequence of `one_hot` (N, 4, L) uint8 on the CPU. Work is laid out as
// N x K rows (sequence, node) and run in forward/backward passes of at most `batch_rows`
// rows, so a pass may hold many sequences or part of one. Blocks reach `sink` in order.
void run_path_attribution(Model& model, const torch::Tensor& one_hot, const PathPlan& plan,
                          int64_t target, int64_t batch_rows, const BlockSink& sink,
                          const ProgressCallback& progress);

}  // namespace seqattr
