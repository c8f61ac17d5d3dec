#pragma once
#include <memory>
#include <string>

namespace seqattr {

// Lower-case hex SHA-256 of a file's bytes. Throws InputError naming `what` if unreadable.
std::string sha256_of_file(const std::string& path, const std::string& what);

// Lower-case hex SHA-256 of a string's bytes.
std::string sha256_of_text(const std::string& text);

// SHA-256 of bytes given piece by piece (the digest of what was parsed, for inputs that are
// read once: a FASTA or BED file may be a pipe).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  void update(const std::string& text) { update(text.data(), text.size()); }
  std::string hex();  // once, at the end

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace seqattr
