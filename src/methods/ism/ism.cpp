#include "methods/ism/ism.h"

#include <memory>
#include <vector>

#include "common/log.h"
#include "core/row_chunks.h"
#include "kernels/ops/ism_mutants.h"

namespace seqattr {
namespace {

// Fast ISM scores one block of absolute positions of one sequence a pass (up to 4 mutants
// each): a pass's rounding then never depends on --batch-size. The block is the largest
// power of two up to 64 positions whose activation changes stay within this many values.
constexpr int64_t kFastPassChanges = int64_t{1} << 25;

// One substitution: sequence (relative to the pass's first sequence), position, new base.
struct Mutation {
  int64_t sequence, position, base;
};

// Walks every non-identity substitution of every sequence, sequence-major, position, base.
class MutationCursor {
 public:
  MutationCursor(const torch::Tensor& one_hot, const IsmWindow& window)
      : one_hot_(one_hot.accessor<uint8_t, 3>()), window_(window), sequences_(one_hot.size(0)),
        position_(window.start) {
    skip_identity();
  }

  bool done() const { return sequence_ >= sequences_; }
  int64_t sequence() const { return sequence_; }
  int64_t position() const { return position_; }

  Mutation next() {
    Mutation m{sequence_, position_, base_};
    advance();
    skip_identity();
    return m;
  }

 private:
  void advance() {
    if (++base_ < 4) return;
    base_ = 0;
    if (++position_ < window_.end) return;
    position_ = window_.start;
    ++sequence_;
  }
  void skip_identity() {
    while (!done() && one_hot_[sequence_][base_][position_]) advance();
  }

  torch::TensorAccessor<uint8_t, 3> one_hot_;
  IsmWindow window_;
  int64_t sequences_;
  int64_t sequence_ = 0, position_, base_ = 0;
};

// Mutants of `pass` (float32, on one_hot's device), built from their sequences' one-hot
// rows [first, ...) by the seqattr::ism_mutants op.
torch::Tensor make_mutants(const torch::Tensor& one_hot, int64_t first,
                           const std::vector<Mutation>& pass) {
  std::vector<int64_t> rows, positions, bases;
  for (const auto& m : pass) {
    rows.push_back(first + m.sequence);
    positions.push_back(m.position);
    bases.push_back(m.base);
  }
  const auto index = [&](const std::vector<int64_t>& values) {
    return torch::tensor(values, torch::kLong).to(one_hot.device());
  };
  return ops::ism_mutants(one_hot, index(rows), index(positions), index(bases));
}

// f(mutant)[target] - f(input)[target], the mutants run in full; f(input) of the pass's
// sequences are `predictions`' rows.
torch::Tensor naive_deltas(Model& model, const torch::Tensor& one_hot,
                           const torch::Tensor& predictions, int64_t first,
                           const std::vector<Mutation>& pass, int64_t target,
                           int64_t batch_rows) {
  const auto scores =
      predict(model, make_mutants(one_hot, first, pass), batch_rows).select(1, target);
  std::vector<int64_t> owners;
  for (const auto& m : pass) owners.push_back(m.sequence);
  return scores -
         predictions.select(1, target).index_select(0, torch::tensor(owners, torch::kLong));
}

// The next pass: up to `batch_rows` mutants of any sequences (naive, fast_block 0), or one
// block of `fast_block` positions of one sequence (fast). Sequences are counted from `first`.
std::vector<Mutation> take_pass(MutationCursor& cursor, int64_t fast_block, int64_t batch_rows,
                                int64_t first) {
  const int64_t sequence = cursor.sequence();
  const int64_t block = fast_block ? cursor.position() / fast_block : 0;
  std::vector<Mutation> pass;
  while (!cursor.done() &&
         (fast_block ? cursor.sequence() == sequence && cursor.position() / fast_block == block
                     : static_cast<int64_t>(pass.size()) < batch_rows)) {
    auto m = cursor.next();
    m.sequence -= first;
    pass.push_back(m);
  }
  return pass;
}

// Fast ISM's per-sequence state: the session of the sequence last scored.
class FastScorer {
 public:
  explicit FastScorer(const FastIsmPlan& plan) : plan_(plan) {}

  // f(mutant)[target] - f(input)[target] of a pass that holds mutants of `sequence` only.
  torch::Tensor score(const torch::Tensor& one_hot, int64_t sequence,
                      const std::vector<Mutation>& pass, int64_t target) {
    start(one_hot, sequence);
    std::vector<int64_t> positions, bases;
    for (const auto& m : pass) {
      positions.push_back(m.position);
      bases.push_back(m.base);
    }
    return session_->score(positions, bases, target).to(torch::kFloat32);
  }

  // f(input) of `sequence`, (1, T) float32, from the reference pass of its session (which its
  // passes then reuse): no forward pass of its own.
  torch::Tensor prediction(const torch::Tensor& one_hot, int64_t sequence) {
    start(one_hot, sequence);
    return session_->outputs().to(torch::kFloat32);
  }

  // Positions a pass, from the first sequence's session (see kFastPassChanges), which the
  // first pass then reuses.
  int64_t block(const torch::Tensor& one_hot) {
    start(one_hot, 0);
    const int64_t per_position = 3 * session_->changes_per_mutant();
    int64_t positions = 64;
    while (positions > 1 && positions * per_position > kFastPassChanges) positions /= 2;
    log::debug("fast ISM: " + std::to_string(per_position / 3) + " activation changes a mutant, " +
               std::to_string(positions) + " positions a pass");
    return positions;
  }

 private:
  void start(const torch::Tensor& one_hot, int64_t sequence) {
    if (sequence == sequence_) return;
    session_ = std::make_unique<FastIsmPlan::Session>(plan_.start(one_hot[sequence]));
    sequence_ = sequence;
  }

  const FastIsmPlan& plan_;
  std::unique_ptr<FastIsmPlan::Session> session_;
  int64_t sequence_ = -1;
};

AttributionBlock ism_block(const torch::Tensor& one_hot, int64_t first, torch::Tensor delta,
                           torch::Tensor predictions) {
  AttributionBlock block;
  block.first = first;
  block.hypothetical = delta - delta.mean(1, /*keepdim=*/true);
  block.attributions =
      block.hypothetical * one_hot.slice(0, first, first + delta.size(0)).to(torch::kFloat32);
  block.ism_delta = std::move(delta);
  block.predictions = std::move(predictions);
  return block;
}

}  // namespace

void run_ism(Model& model, const torch::Tensor& one_hot, const IsmWindow& window, int64_t target,
             int64_t outputs, int64_t batch_rows, const FastIsmPlan* fast, const BlockSink& sink,
             const ProgressCallback& progress) {
  TORCH_INTERNAL_ASSERT(window.start >= 0 && window.start < window.end &&
                        window.end <= one_hot.size(2));
  torch::NoGradGuard no_grad;
  const int64_t length = one_hot.size(2);
  const auto cpu = torch::TensorOptions().dtype(torch::kFloat32);
  CarriedRows deltas({4, length}, cpu);
  CarriedRows predictions({outputs}, cpu);
  MutationCursor cursor(one_hot, window);
  std::unique_ptr<FastScorer> scorer = fast ? std::make_unique<FastScorer>(*fast) : nullptr;
  const int64_t fast_block = scorer && !cursor.done() ? scorer->block(one_hot) : 0;
  // Naive mutants are built on the model's device from one copy of the part's one-hot.
  const auto mutant_source = fast ? torch::Tensor() : one_hot.to(model.device());
  RowChunk chunk;             // only the sequence fields are used
  int64_t predicted_end = 0;  // sequences before it have their f(input) in `predictions`
  while (!cursor.done()) {
    chunk.seq_begin = chunk.finished_end;
    const auto pass = take_pass(cursor, fast_block, batch_rows, chunk.seq_begin);
    chunk.seq_end = chunk.seq_begin + pass.back().sequence + 1;
    chunk.finished_end = cursor.done() ? one_hot.size(0) : cursor.sequence();

    // f(input), once per sequence (a sequence's mutants may span many passes).
    auto& carried_predictions = predictions.cover(chunk);
    if (chunk.seq_end > predicted_end) {
      const int64_t from = std::max(chunk.seq_begin, predicted_end);
      auto rows = carried_predictions.narrow(0, from - chunk.seq_begin, chunk.seq_end - from);
      if (scorer) {
        for (int64_t s = from; s < chunk.seq_end; ++s) {
          rows[s - from].copy_(scorer->prediction(one_hot, s)[0]);
        }
      } else {
        rows.copy_(predict(model, one_hot.slice(0, from, chunk.seq_end), batch_rows));
      }
      predicted_end = chunk.seq_end;
    }
    const auto pass_deltas = (scorer ? scorer->score(one_hot, chunk.seq_begin, pass, target)
                                     : naive_deltas(model, mutant_source, carried_predictions,
                                                    chunk.seq_begin, pass, target, batch_rows))
                                 .contiguous();
    auto delta_acc = deltas.cover(chunk).accessor<float, 3>();
    const auto pass_acc = pass_deltas.accessor<float, 1>();
    for (size_t r = 0; r < pass.size(); ++r) {
      delta_acc[pass[r].sequence][pass[r].base][pass[r].position] = pass_acc[r];
    }

    auto finished_delta = deltas.release_finished(chunk);
    auto finished_predictions = predictions.release_finished(chunk);
    if (finished_delta.size(0) == 0) continue;
    sink(ism_block(one_hot, chunk.seq_begin, std::move(finished_delta),
                   std::move(finished_predictions)));
    progress(chunk.finished_end);
  }
}

}  // namespace seqattr
