#pragma once
#include <torch/torch.h>

#include <string>

namespace seqattr {

// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".
// Throws InputError naming --device when the device is malformed or not available.
torch::Device resolve_device(const std::string& name);

}  // namespace seqattr
