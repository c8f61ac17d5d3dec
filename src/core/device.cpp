#include "core/device.h"

#include <sched.h>

#include <algorithm>
#include <thread>

#include "common/errors.h"
#include "common/log.h"

namespace seqattr {

DeviceChoice parse_device(const std::string& name) {
  DeviceChoice choice;
  choice.text = name;
  if (name == "auto") return choice;
  if (name == "cpu") {
    choice.kind = DeviceChoice::Kind::Cpu;
    return choice;
  }
  const std::string prefix = "cuda";
  if (name.compare(0, prefix.size(), prefix) != 0) {
    throw InputError("--device '" + name + "': expected auto, cpu, cuda or cuda:N");
  }
  choice.kind = DeviceChoice::Kind::Cuda;
  if (name.size() > prefix.size()) {
    const std::string number = name.substr(prefix.size() + 1);
    // At most 4 digits: the index fits an int (and c10's DeviceIndex) without overflow.
    if (name[prefix.size()] != ':' || number.empty() || number.size() > 4 ||
        number.find_first_not_of("0123456789") != std::string::npos) {
      throw InputError("--device '" + name + "': expected auto, cpu, cuda or cuda:N (N a device "
                       "number)");
    }
    choice.index = std::stoi(number);
  }
  return choice;
}

torch::Device resolve_device(const DeviceChoice& choice) {
  const std::string& name = choice.text;
  if (choice.kind == DeviceChoice::Kind::Auto) {
    return torch::cuda::is_available() ? torch::Device("cuda") : torch::kCPU;
  }
  if (choice.kind == DeviceChoice::Kind::Cpu) return torch::kCPU;
  if (!torch::cuda::is_available()) {
    throw InputError("--device '" + name + "': CUDA is not available (no GPU, or LibTorch was "
                     "built without CUDA)");
  }
  const int index = std::max(choice.index, 0);
  if (index >= static_cast<int>(torch::cuda::device_count())) {
    throw InputError("--device '" + name + "': only " +
                     std::to_string(torch::cuda::device_count()) + " CUDA device(s) present");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

torch::Device resolve_device(const std::string& name) { return resolve_device(parse_device(name)); }

}  // namespace seqattr
