#pragma once
// The attribution methods by name, and the options they take, typed: a job's validation
// parses the option strings once into MethodOptions. Torch-free: the command line takes the
// names from here. The methods themselves are in the registry (methods/registry.h).
#include <cstdint>
#include <string>
#include <vector>

#include "methods/path/baseline.h"
#include "methods/path/ig_rules.h"

namespace seqattr {

// ISM: naive scores every mutant by a full forward pass; fast recomputes only what one
// substitution changes (the model must qualify); auto is fast when the model qualifies.
enum class IsmMode { Naive, Fast, Auto };
IsmMode parse_ism_mode(const std::string& name);  // throws InputError naming --ism-mode
const std::string& ism_mode_name(IsmMode mode);
std::vector<std::string> ism_mode_names();

// Every method's options, with `seqattr attribute`'s defaults. A method reads those it
// takes; its spec's validate rejects, naming the flag, those it does not take but were set.
struct MethodOptions {
  int64_t batch_size = 128;  // model rows per forward/backward pass
  int n_steps = 50;          // integrated gradients
  IgRule ig_rule = IgRule::GaussLegendre;
  Baseline baseline = Baseline::Zeros;
  std::string references;  // DeepLIFT: an HDF5 file with /references (N, R, 4, L); "": made
  int64_t n_shuffles = 20;  // DeepLIFT-SHAP: generated references per sequence
  uint64_t seed = 0;        // DeepLIFT: seed of the dinucleotide shuffles
  double delta_warning = 1e-3;
  bool save_references = false;
  int64_t ism_start = 0;  // ISM window, 0-based half-open
  int64_t ism_end = -1;   // -1: the sequence end
  IsmMode ism_mode = IsmMode::Auto;
};

// The options every method front end takes (the command line's AttributeOptions, the
// library's MethodSettings: structs with these fields, names as strings), names parsed.
// Throws InputError naming the option of an unknown name.
template <typename Given>
MethodOptions parse_method_options(const Given& given) {
  MethodOptions m;
  m.batch_size = given.batch_size;
  m.n_steps = given.n_steps;
  m.ig_rule = parse_ig_rule(given.ig_rule);
  m.baseline = parse_baseline(given.baseline);
  m.n_shuffles = given.n_shuffles;
  m.seed = given.seed;
  m.ism_start = given.ism_start;
  m.ism_end = given.ism_end;
  m.ism_mode = parse_ism_mode(given.ism_mode);
  return m;
}

// The checks every method shares (ranges of the numeric options); throws InputError naming
// the first bad one. The method's own checks are its spec's validate.
void validate_common(const MethodOptions& options);

// The registered methods' names, in registration order (methods/method_list.h).
std::vector<std::string> method_names();

}  // namespace seqattr
