#pragma once
#include <string>

namespace seqattr {

// Lower-case hex SHA-256 of a file's bytes. Throws InputError naming `what` if unreadable.
std::string sha256_of_file(const std::string& path, const std::string& what);

}  // namespace seqattr

namespace seqattr {

// Lower-case hex SHA-256 of a string's bytes.
std::string sha256_of_text(const std::string& text);

}  // namespace seqattr
