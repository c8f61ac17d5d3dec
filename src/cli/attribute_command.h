#pragma once
#include <CLI/CLI.hpp>

#include "engine/attribute_job.h"

namespace seqattr::cli {

// Declares `seqattr attribute` and its option table on `app`, bound to `options`.
CLI::App* add_attribute_command(CLI::App& app, AttributeOptions& options);

}  // namespace seqattr::cli
