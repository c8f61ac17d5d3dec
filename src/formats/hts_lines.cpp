#include "formats/hts_lines.h"

#include <filesystem>

namespace seqattr {

TextLines::TextLines(const char* option, const std::string& path) : option_(option), path_(path) {
  if (!std::filesystem::exists(path)) throw InputError(std::string(option) + " '" + path + "': no such file");
  file_.reset(hts_open(path.c_str(), "r"));
  if (!file_) throw InputError(std::string(option) + " '" + path + "': cannot open the file");
}

bool TextLines::next(std::string_view& line) {
  const int status = hts_getline(file_.get(), '\n', &buffer_.text);
  if (status < -1) {
    throw InputError(std::string(option_) + " '" + path_ + "': cannot read the file after line " +
                     std::to_string(number_) + " (truncated or corrupt?)");
  }
  if (status < 0) return false;
  ++number_;
  line = std::string_view(buffer_.text.s, buffer_.text.l);
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

}  // namespace seqattr
