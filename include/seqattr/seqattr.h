#pragma once
// libseqattr: per-base attributions of convolutional DNA sequence models, as a library.
//
//   #include <seqattr/seqattr.h>
//   auto model = seqattr::Explainer::load("model.pt", {.head = "1"}, 2114);
//   auto sequences = seqattr::read_fasta("peaks.fa");
//   auto result = model.explain("deeplift_shap", sequences.one_hot);
//   // result.attributions: (N, 4, L) float32
//
// One-hot sequences are (N, 4, L) uint8 tensors, bases in A, C, G, T order (an N is an
// all-zero column). Every method runs as `seqattr attribute --method` runs it and returns
// the same numbers. Errors in what the caller gives (files, options, shapes) throw
// seqattr::Error with a one-line message naming the option at fault.
//
// The library changes no process-wide state it does not put back: LibTorch's thread count
// is set for the duration of a call (threads > 0) and restored; no signal handlers, no
// allocator settings (those are the program's to choose; see tools/seqattr/main.cpp).
#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seqattr/error.h"

namespace seqattr {

// How a model is read (README "Bring your model"). Empty strings: the model's MODEL.json
// default, else the built-in one.
struct ModelOptions {
  std::string head;          // an output of a tuple/list/dict model: index, key or name
  std::string reduce;        // none, sum, mean, chrombpnet_profile, bpnetlite_profile
  std::string target;        // the output column (a number or MODEL.json name); "": 0
  std::string input_layout;  // ncl (N, 4, L) or nlc (N, L, 4)
  std::string extra_inputs;  // zeros: pass zeros for inputs besides the sequence
  std::string device = "auto";  // auto, cpu, cuda, cuda:N
};

// A method's settings, with `seqattr attribute`'s defaults and names.
struct MethodSettings {
  int64_t batch_size = 128;  // model rows per forward/backward pass
  int threads = 0;           // LibTorch intra-op threads for the call; 0: leave as they are
  int n_steps = 50;                      // integrated_gradients
  std::string ig_rule = "gausslegendre";  // integrated_gradients
  std::string baseline = "zeros";        // integrated_gradients, deeplift
  int64_t n_shuffles = 20;               // deeplift_shap
  uint64_t seed = 0;                     // deeplift (dinuc_shuffle), deeplift_shap
  int64_t ism_start = 0;                 // ism: window, 0-based half-open
  int64_t ism_end = -1;                  // ism: -1 for the sequence end
  std::string ism_mode = "auto";         // ism: naive, fast or auto
};

// What a method returns, on the CPU, one row per sequence.
struct Attributions {
  at::Tensor attributions;       // (N, 4, L) float32: hypothetical x one-hot
  at::Tensor hypothetical;       // (N, 4, L) float32
  at::Tensor predictions;        // (N, T) float32, the model's outputs for the sequences
  at::Tensor convergence_delta;  // (N,) float32; undefined for gradient and ism
  at::Tensor ism_delta;          // (N, 4, L) float32, ism only: f(mutant) - f(sequence)
};

// Sequences read from a file.
struct Sequences {
  std::vector<std::string> names;
  at::Tensor one_hot;  // (N, 4, L) uint8
};

// FASTA records (plain or gzipped), all of one length (`length` > 0: checked against it).
Sequences read_fasta(const std::string& path, int64_t length = 0);
// BED or narrowPeak regions of an indexed FASTA genome, each centred (on the summit when
// given) and resized to `length`.
Sequences read_bed(const std::string& bed, const std::string& genome, int64_t length);

// The attribution methods' names: gradient, input_x_gradient, integrated_gradients,
// deeplift, deeplift_shap, ism (the same list as the registry's, methods/method.h).
std::vector<std::string> method_names();

// A model loaded and adapted once (heads, reductions, layouts), to explain any number of
// batches with any method. Copies share the model. Not for concurrent use from threads.
class Explainer {
 public:
  // `length`: the input length the model will be run at; 0 takes MODEL.json's input_length.
  static Explainer load(const std::string& path, const ModelOptions& options = {},
                        int64_t length = 0);

  int64_t length() const;
  int64_t outputs() const;  // T, the adapted model's output columns
  int64_t target() const;   // the column explained
  std::string device() const;

  // Runs `method` on `one_hot` (N, 4, length) uint8.
  Attributions explain(const std::string& method, const at::Tensor& one_hot,
                       const MethodSettings& settings = {}) const;

 private:
  struct State;
  explicit Explainer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace seqattr
