#pragma once
// `seqattr attribute` as a library call: options in, HDF5 file out. The CLI fills
// AttributeOptions; nothing here reads argv. Torch-free: the command line includes it.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "core/device_choice.h"
#include "core/convolution_kernels.h"
#include "methods/method.h"

namespace seqattr {

struct AttributeOptions {
  std::string model;
  // Input: exactly one of fasta, bed (with genome and length) or tile (with genome).
  std::string fasta;
  std::string bed;     // BED or narrowPeak, each region centred and resized to `length`
  std::string genome;  // indexed (or indexable) FASTA for bed and tile
  std::string tile;    // "W:S": windows of width W every S bases
  std::string chroms;  // tile: comma-separated chromosomes (empty: all)
  int64_t length = 0;  // bed: window length; fasta, tile: optional check (0: any)
  std::string output;
  std::string dtype = "float32";   // stored attributions: float32 | float16
  std::string format = "seqattr";  // seqattr | chrombpnet (adds raw/, shap/, projected_shap/)
  std::string shard;   // "I/N"; empty: from a Slurm array's environment, else the whole run
  bool resume = false;
  std::string method;
  // Output column: a number, or a name from the model's JSON; empty: column 0, or for the
  // profile reductions the whole head. (The profile reductions pick a track with it.)
  std::string target;
  // How the model is read (core/model_adapter.h); empty: MODEL.json's default, else the
  // built-in one (the only head, no reduction, ncl, no extra inputs).
  std::string head;
  std::string reduce;
  std::string input_layout;
  std::string extra_inputs;
  // The method options' defaults are MethodOptions' (methods/method.h).
  int64_t batch_size = MethodOptions{}.batch_size;  // model rows per forward/backward pass
  std::string device = "auto";
  int threads = 0;  // 0: every core
  std::string convolutions = "direct";  // direct | aten (core/convolution_kernels.h)
  int n_steps = MethodOptions{}.n_steps;
  std::string ig_rule = "gausslegendre";
  std::string baseline = "zeros";
  std::string references;     // DeepLIFT: HDF5 file with /references (N, R, 4, L)
  int64_t n_shuffles = MethodOptions{}.n_shuffles;  // DeepLIFT-SHAP: references per sequence
  uint64_t seed = MethodOptions{}.seed;  // DeepLIFT: seed of the dinucleotide shuffles
  double delta_warning = MethodOptions{}.delta_warning;
  bool save_references = false;
  int64_t ism_start = MethodOptions{}.ism_start;  // ISM window, 0-based half-open
  int64_t ism_end = MethodOptions{}.ism_end;      // -1: the sequence end
  std::string ism_mode = "auto";  // naive | fast | auto (fast when the graph qualifies)
  bool quiet = false;
  bool verbose = false;
};

// Every option's value, as stored in the output's `parameters` attribute.
nlohmann::json to_json(const AttributeOptions& options);

enum class StoredDtype { Float32, Float16 };
enum class OutputFormat { Seqattr, ChromBpnet };  // chrombpnet adds raw/, shap/, projected_shap/

// The options checked, and their names parsed, once: what a job runs with.
struct AttributeSettings {
  std::string method;  // a registered method's name (methods/registry.h)
  MethodOptions method_options;
  StoredDtype dtype = StoredDtype::Float32;
  OutputFormat format = OutputFormat::Seqattr;
  DeviceChoice device;
  ConvolutionKernels convolutions = ConvolutionKernels::Direct;
};

// Checks every option that can be checked without reading files; throws InputError
// naming the first bad one.
AttributeSettings validate(const AttributeOptions& options);

struct JobSummary {
  std::string method;
  std::string device;
  int64_t sequences = 0;
  int64_t length = 0;
  double seconds = 0.0;
  std::string output;
  int64_t resumed = 0;  // sequences found already computed by an interrupted run
  std::string shard;    // "I/N" when this run was one shard
};

// Runs the whole job. On any error nothing is left at options.output. Finished parts are
// kept beside it (parts_directory, pipeline/run_parts.h) when a run stops early, for --resume.
JobSummary run_attribute(const AttributeOptions& options, const std::string& command_line);

}  // namespace seqattr
