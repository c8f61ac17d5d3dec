#pragma once
// Preset files (--config FILE.toml): a TOML subset, one table per command,
//   [attribute]
//   method = "deeplift_shap"     # strings, integers, floats, true/false, [arrays]
//   n-shuffles = 20              # option names as on the command line; n_shuffles (as the
//                                # output's `parameters` spells them) means the same
// read strictly: a syntax error names its line, an unknown option its line and the nearest
// valid name, a binary file is refused. CLI11 applies the items (presets first, flags on the
// command line override them).
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace seqattr::cli {

class PresetFormat : public CLI::Config {
 public:
  // `app`: the program, whose subcommands' options keys are checked against; `path`: the
  // file, for messages; `command`: the subcommand given (only its table is applied).
  PresetFormat(const CLI::App* app, std::string path, std::string command)
      : app_(app), path_(std::move(path)), command_(std::move(command)) {}

  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return ""; }
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  const CLI::App* app_;
  std::string path_;
  std::string command_;
};

// The option name closest to `name` (edit distance) among `app`'s long option names.
std::string nearest_option(const CLI::App* app, const std::string& name);

}  // namespace seqattr::cli
