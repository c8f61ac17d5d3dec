#pragma once
// `seqattr convert`: a Keras HDF5 model (chrombpnet's .h5 files) written as the TorchScript
// module seqattr builds from it (core/keras/keras_model.h), with its MODEL.json beside it.
#include <string>

namespace seqattr {

struct ConvertOptions {
  std::string model;   // Keras .h5
  std::string output;  // MODEL.pt; MODEL.json is written beside it
};

// Writes both files, or neither (atomic outputs committed together). Throws InputError naming
// --model for a file that is not a Keras model seqattr reads, and --output for a path it cannot
// write or that ends in .json (the metadata's own name).
void convert_model(const ConvertOptions& options);

}  // namespace seqattr
