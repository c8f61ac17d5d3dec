#include "formats/hts_lines.h"

#include <charconv>
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

std::vector<std::string_view> split_bed_columns(std::string_view line) {
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> columns;
  if (line.find('\t') != std::string_view::npos) {
    // Spaces around a column are dropped; spaces inside one (a name "my peak") are kept.
    const auto trimmed = [](std::string_view column) {
      while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
      while (!column.empty() && column.back() == ' ') column.remove_suffix(1);
      return column;
    };
    size_t begin = 0;
    while (true) {
      const size_t end = line.find('\t', begin);
      columns.push_back(trimmed(line.substr(begin, end == std::string_view::npos ? end : end - begin)));
      if (end == std::string_view::npos) break;
      begin = end + 1;
    }
    // Trailing tabs end the line; they add no column (a line of blanks has none).
    while (!columns.empty() && columns.back().empty()) columns.pop_back();
    return columns;
  }
  constexpr std::string_view kSeparators = " ";
  size_t begin = line.find_first_not_of(kSeparators);
  while (begin != std::string_view::npos) {
    const size_t end = line.find_first_of(kSeparators, begin);
    columns.push_back(line.substr(begin, end == std::string_view::npos ? end : end - begin));
    begin = line.find_first_not_of(kSeparators, end);
  }
  return columns;
}

bool is_bed_header_or_blank(const std::vector<std::string_view>& columns) {
  return columns.empty() || (!columns[0].empty() && columns[0].front() == '#') || columns[0] == "track" ||
         columns[0] == "browser";
}

bool parse_int64(std::string_view text, int64_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace seqattr
