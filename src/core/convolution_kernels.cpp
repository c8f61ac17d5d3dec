#include "core/convolution_kernels.h"

#include <atomic>

#include "common/errors.h"

namespace seqattr {
namespace {

std::atomic<ConvolutionKernels> g_kernels{ConvolutionKernels::Direct};

}  // namespace

const std::vector<std::string>& convolution_kernel_names() {
  static const std::vector<std::string> names = {"direct", "aten"};
  return names;
}

const std::string& convolution_kernel_name(ConvolutionKernels kernels) {
  return convolution_kernel_names()[kernels == ConvolutionKernels::Direct ? 0 : 1];
}

ConvolutionKernels parse_convolution_kernels(const std::string& name) {
  if (name == "direct") return ConvolutionKernels::Direct;
  if (name == "aten") return ConvolutionKernels::Aten;
  throw InputError("--convolutions '" + name + "': expected direct or aten");
}

void set_convolution_kernels(ConvolutionKernels kernels) { g_kernels = kernels; }
ConvolutionKernels convolution_kernels() { return g_kernels; }

}  // namespace seqattr
