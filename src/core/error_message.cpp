#include "core/error_message.h"

#include <c10/util/Exception.h>

#include "common/errors.h"

namespace seqattr {

std::string error_message(const std::exception& error) {
  if (dynamic_cast<const InputError*>(&error)) return error.what();
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&error)) {
    return first_line(torch_error->what_without_backtrace());
  }
  return error.what();
}

}  // namespace seqattr
