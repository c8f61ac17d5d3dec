#pragma once
// Which kernel runs a model's 1-D convolutions: seqattr::conv1d_direct (kernels/ops/conv1d_direct.h,
// put in by core/direct_convolutions.h) or LibTorch's own. Process-wide, set by a job from its
// options (--convolutions) before it loads a model. Torch-free: the command line includes it.
#include <string>
#include <vector>

namespace seqattr {

enum class ConvolutionKernels {
  Direct,  // stride-1, ungrouped 1-D convolutions as seqattr::conv1d_direct (the default)
  Aten,  // LibTorch's own convolution for every convolution (as the model was saved)
};

const std::vector<std::string>& convolution_kernel_names();  // "direct", "aten"
const std::string& convolution_kernel_name(ConvolutionKernels kernels);
ConvolutionKernels parse_convolution_kernels(const std::string& name);  // throws InputError
void set_convolution_kernels(ConvolutionKernels kernels);
ConvolutionKernels convolution_kernels();

// The kernels set for a scope (a job), and what the caller had put back at its end.
class ScopedConvolutionKernels {
 public:
  explicit ScopedConvolutionKernels(ConvolutionKernels kernels) : previous_(convolution_kernels()) {
    set_convolution_kernels(kernels);
  }
  ~ScopedConvolutionKernels() { set_convolution_kernels(previous_); }
  ScopedConvolutionKernels(const ScopedConvolutionKernels&) = delete;
  ScopedConvolutionKernels& operator=(const ScopedConvolutionKernels&) = delete;

 private:
  ConvolutionKernels previous_;
};

}  // namespace seqattr
