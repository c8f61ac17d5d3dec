// Option checks whose messages stay short: CLI11's PositiveNumber/NonNegativeNumber print
// the range up to DBL_MAX in full (309 digits).
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <string>

namespace seqattr::cli {

// The value read as a number is finite and >= minimum.
inline CLI::Validator at_least(int minimum) {
  const std::string bound = ">= " + std::to_string(minimum);
  return CLI::Validator(
      [minimum, bound](std::string& input) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(input, value) || !std::isfinite(value)) {
          return "'" + input + "' is not a finite number";
        }
        if (value < minimum) return "'" + input + "' must be " + bound;
        return "";
      },
      bound, "at_least");
}

}  // namespace seqattr::cli
