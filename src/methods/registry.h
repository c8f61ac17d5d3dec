#pragma once
// One registry of attribution methods. A method is one file that defines a MethodSpec: its
// name, the options it takes (validate), and how it is prepared once per run and then run
// on each part of the sequences, with the notes it adds to the output's parameters and its
// cost for `seqattr bench`. Registering it is one line in methods/method_list.h.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "core/attribution_block.h"
#include "core/model.h"
#include "methods/deeplift/deeplift.h"
#include "methods/method.h"

namespace seqattr {

// References read from a file (formats/references_file.h) by the job, for the methods that
// take them.
struct GivenReferences {
  deeplift::ReferenceSource source;  // empty: none given
  int64_t per_sequence = 0;
};

// What a method is prepared against: one run's model and shape. The prepared method shares
// the model; it keeps nothing else of the caller's.
struct MethodContext {
  std::shared_ptr<Model> model;
  int64_t target = 0;     // the output column explained
  int64_t outputs = 0;    // T, the model's output columns
  int64_t sequences = 0;  // of the whole run (a file's references are indexed by them)
  int64_t length = 0;
  GivenReferences references;
};

// A method made ready once per run (model analysed, rules inserted, plans built) and then
// run on each part of the sequences. Its functions own (or share) all they use.
struct PreparedMethod {
  bool convergence_delta = false;
  bool ism_delta = false;
  int64_t references_per_sequence = 0;  // > 0 when the references are stored (--save-references)
  // Explains `one_hot` (S, 4, L) uint8, sequences [first, first + S) of the whole run.
  // Blocks carry `first` relative to the part. Sets *references to the stored references
  // (S, R, 4, L) when references_per_sequence > 0.
  std::function<void(const torch::Tensor& one_hot, int64_t first, const BlockSink&,
                     const ProgressCallback&, torch::Tensor* references)>
      run;
  // Called once after the last part: warnings that summarise the whole run.
  std::function<void()> finish = [] {};
  nlohmann::json notes = nlohmann::json::object();  // added to the output's parameters
};

// Model rows per sequence (the FLOP convention of pipeline/bench_job.h) and the settings
// that set them, for `seqattr bench`.
struct MethodCost {
  int64_t forward_rows = 0, backward_rows = 0;
  std::string settings;
};

struct MethodSpec {
  std::string name;
  // The method's own checks: options it does not take, set; throws InputError naming them.
  std::function<void(const MethodOptions&)> validate;
  std::function<PreparedMethod(const MethodOptions&, const MethodContext&)> prepare;
  std::function<MethodCost(const MethodOptions&, int64_t length, const PreparedMethod&)> cost;
  bool takes_references = false;  // the job reads --references for it (GivenReferences)
};

// The registered methods, in method_list.h's order.
const std::vector<MethodSpec>& method_registry();
// Throws InputError naming --method and the known names.
const MethodSpec& find_method(const std::string& name);

// Checks shared by the specs' validate: each throws InputError when the option was set.
namespace method_checks {
void no_window(const MethodOptions& options);          // --ism-start/--ism-end
void no_references(const MethodOptions& options);      // --references, --save-references
void no_dinuc_baseline(const MethodOptions& options);  // --baseline dinuc_shuffle
}  // namespace method_checks

}  // namespace seqattr
