#pragma once
// Helpers shared by the unit tests.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <c10/core/ScalarType.h>
#include <torch/script.h>

#include <vector>

namespace seqattr::test {

// A fresh directory, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "seqattr-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  std::string path_;
};

// Kernel comparisons: float64 to 1e-12, float32 to 1e-6 (relative and absolute).
inline double tolerance(c10::ScalarType dtype) {
  return dtype == c10::ScalarType::Double ? 1e-12 : 1e-6;
}

// Directory of the committed test data (golden models and arrays).
inline std::string data_dir() { return SEQATTR_TEST_DATA_DIR; }

// The outputs of a forward, a tensor or a tuple of them, as one list.
inline std::vector<at::Tensor> output_tensors(const c10::IValue& out) {
  if (out.isTensor()) return {out.toTensor()};
  std::vector<at::Tensor> list;
  for (const auto& element : out.toTupleRef().elements()) list.push_back(element.toTensor());
  return list;
}

// How many nodes of `graph` (its top block) are of `kind` ("aten::relu").
inline int count_kind(const torch::jit::Graph& graph, const std::string& kind) {
  int n = 0;
  for (const auto* node : graph.nodes()) n += node->kind().toQualString() == kind;
  return n;
}

}  // namespace seqattr::test
