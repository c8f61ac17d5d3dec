#pragma once
// The names by which options refer to enum values (`--method gradient`), both ways.
#include <string>
#include <utility>
#include <vector>

#include "common/errors.h"

namespace seqattr {

template <typename Enum>
class EnumNames {
 public:
  // `option` names the flag in error messages, e.g. "--method".
  EnumNames(std::string option, std::vector<std::pair<Enum, std::string>> table)
      : option_(std::move(option)), table_(std::move(table)) {}

  // Throws InputError naming the option, the value and the known names.
  Enum parse(const std::string& name) const {
    for (const auto& [value, value_name] : table_) {
      if (value_name == name) return value;
    }
    std::string known;
    for (const auto& value_name : names()) known += (known.empty() ? "" : ", ") + value_name;
    throw InputError(option_ + " '" + name + "': unknown value (known: " + known + ")");
  }

  const std::string& name(Enum value) const {
    for (const auto& entry : table_) {
      if (entry.first == value) return entry.second;
    }
    throw std::logic_error(option_ + ": enum value without a name");
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : table_) out.push_back(entry.second);
    return out;
  }

 private:
  std::string option_;
  std::vector<std::pair<Enum, std::string>> table_;
};

}  // namespace seqattr
