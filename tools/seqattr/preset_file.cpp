#include "preset_file.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>
#include <sstream>

namespace seqattr::cli {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

// Reads one value (string, number, boolean) from `text` at `pos`; advances `pos`.
// Returns false on a malformed value.
bool read_scalar(const std::string& text, size_t& pos, std::string* out) {
  if (pos >= text.size()) return false;
  const char quote = text[pos];
  if (quote == '"' || quote == '\'') {
    std::string value;
    for (++pos; pos < text.size(); ++pos) {
      const char c = text[pos];
      if (c == quote) {
        ++pos;
        *out = value;
        return true;
      }
      if (c == '\\' && quote == '"') {
        if (++pos >= text.size()) return false;
        switch (text[pos]) {
          case 'n': value += '\n'; break;
          case 't': value += '\t'; break;
          case '"': value += '"'; break;
          case '\\': value += '\\'; break;
          default: return false;
        }
        continue;
      }
      value += c;
    }
    return false;  // unterminated
  }
  const size_t end = text.find_first_of(",] \t", pos);
  const std::string word = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  pos = end == std::string::npos ? text.size() : end;
  if (word == "true" || word == "false") {
    *out = word;
    return true;
  }
  if (word.empty()) return false;
  const bool numeric = std::all_of(word.begin(), word.end(), [](unsigned char c) {
    return std::isdigit(c) || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '_';
  });
  if (!numeric || !std::isdigit(static_cast<unsigned char>(word.back()))) return false;
  std::string digits;
  std::copy_if(word.begin(), word.end(), std::back_inserter(digits), [](char c) { return c != '_'; });
  *out = digits;
  return true;
}

void skip_blanks(const std::string& text, size_t& pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
}

// A value: a scalar or an array of scalars. Returns false when malformed; text after the
// value must be empty or a comment.
bool read_value(const std::string& text, std::vector<std::string>* inputs) {
  size_t pos = 0;
  skip_blanks(text, pos);
  if (pos < text.size() && text[pos] == '[') {
    ++pos;
    skip_blanks(text, pos);
    while (pos < text.size() && text[pos] != ']') {
      std::string item;
      if (!read_scalar(text, pos, &item)) return false;
      inputs->push_back(item);
      skip_blanks(text, pos);
      if (pos < text.size() && text[pos] == ',') ++pos;
      skip_blanks(text, pos);
    }
    if (pos >= text.size()) return false;
    ++pos;
  } else {
    std::string item;
    if (!read_scalar(text, pos, &item)) return false;
    inputs->push_back(item);
  }
  skip_blanks(text, pos);
  return pos == text.size() || text[pos] == '#';
}

// Text up to a '#' that is not inside a string.
std::string without_comment(const std::string& line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == '\\' && quote == '"') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      return line.substr(0, i);
    }
  }
  return line;
}

bool is_key(const std::string& key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

std::string command_names(const CLI::App* app) {
  std::string names;
  for (const auto* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  return names;
}

}  // namespace

std::string nearest_option(const CLI::App* app, const std::string& name) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto* option : app->get_options()) {
    for (const auto& long_name : option->get_lnames()) {
      const size_t d = edit_distance(name, long_name);
      if (d < best_distance) best_distance = d, best = long_name;
    }
  }
  return best;
}

std::vector<CLI::ConfigItem> PresetFormat::from_config(std::istream& input) const {
  const std::string text{std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>()};
  const auto fail = [&](const std::string& message) {
    throw CLI::ConfigError("--config '" + path_ + "': " + message);
  };
  if (text.find('\0') != std::string::npos) fail("not a text file (a preset is TOML)");
  std::vector<CLI::ConfigItem> parsed;
  std::set<std::string> seen;
  std::string section;
  const CLI::App* command = nullptr;
  std::istringstream lines(text);
  std::string raw;
  for (int number = 1; std::getline(lines, raw); ++number) {
    const std::string at = "line " + std::to_string(number) + ": ";
    const std::string line = trim(without_comment(raw));
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']') fail(at + "a table header must end with ']'");
      section = trim(line.substr(1, line.size() - 2));
      command = nullptr;
      for (const auto* sub : app_->get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == section) command = sub;
      }
      if (!command) {
        fail(at + "unknown table [" + section + "]; tables are commands: " + command_names(app_));
      }
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string::npos) fail(at + "expected 'name = value'");
    std::string key = trim(line.substr(0, equals));
    if (!is_key(key)) fail(at + "'" + key + "' is not an option name");
    std::replace(key.begin(), key.end(), '_', '-');
    if (!command) fail(at + "'" + key + "' is outside a [command] table, e.g. [attribute]");
    if (!command->get_option_no_throw("--" + key)) {
      fail(at + "unknown option '" + key + "' in [" + section + "]; the nearest is '" +
           nearest_option(command, key) + "'");
    }
    if (!seen.insert(section + "." + key).second) fail(at + "'" + key + "' is set twice");
    CLI::ConfigItem item;
    item.parents = {section};
    item.name = key;
    if (!read_value(line.substr(equals + 1), &item.inputs)) {
      fail(at + "cannot read the value of '" + key + "' (strings in quotes, numbers, true or "
           "false, or [arrays] of them)");
    }
    if (section == command_) parsed.push_back(std::move(item));
  }
  return parsed;
}

}  // namespace seqattr::cli
