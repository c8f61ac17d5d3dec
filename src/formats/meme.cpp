#include "formats/meme.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/errors.h"

namespace seqattr {
namespace {

class MemeReader {
 public:
  explicit MemeReader(const std::string& path) : path_(path), in_(path) {
    if (!in_) throw InputError("--motifs '" + path + "': cannot open the file");
  }

  InputError error(const std::string& what) const {
    return InputError("--motifs '" + path_ + "' line " + std::to_string(line_) + ": " + what);
  }

  // The next line that is not blank, trimmed; false at the end.
  bool next(std::string& text) {
    while (std::getline(in_, text)) {
      ++line_;
      while (!text.empty() && (text.back() == '\r' || std::isspace(static_cast<unsigned char>(text.back())))) text.pop_back();
      const auto first = text.find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      text.erase(0, first);
      return true;
    }
    return false;
  }

  MotifDatabase read() {
    MotifDatabase db;
    std::string text;
    if (!next(text) || text.rfind("MEME version", 0) != 0) {
      throw error("not a MEME motif file (expected a first line 'MEME version ...')");
    }
    bool pending = false;  // a line read ahead
    while (pending || next(text)) {
      pending = false;
      if (text.rfind("ALPHABET", 0) == 0) {
        const auto value = text.substr(text.find('=') == std::string::npos ? 8 : text.find('=') + 1);
        if (value.find_first_not_of(" \t") == std::string::npos ||
            value.substr(value.find_first_not_of(" \t")).rfind("ACGT", 0) != 0) {
          throw error("alphabet '" + value + "' is not supported; expected ACGT (DNA)");
        }
      } else if (text.rfind("Background letter frequencies", 0) == 0) {
        if (!next(text)) throw error("background frequencies missing");
        read_background(text, db);
      } else if (text.rfind("MOTIF", 0) == 0) {
        db.motifs.push_back(read_motif(text, &pending, &text));
      }
    }
    if (db.motifs.empty()) throw InputError("--motifs '" + path_ + "': no motifs (no MOTIF lines)");
    return db;
  }

 private:
  void read_background(const std::string& text, MotifDatabase& db) {
    std::istringstream fields(text);
    std::string letter;
    double value;
    int seen = 0;
    while (fields >> letter >> value) {
      const auto at = std::string("ACGT").find(letter);
      if (letter.size() != 1 || at == std::string::npos || !(value > 0)) {
        throw error("background frequencies: expected 'A p C p G p T p'");
      }
      db.background[at] = value;
      ++seen;
    }
    if (seen != 4) throw error("background frequencies: expected 'A p C p G p T p'");
  }

  // From its MOTIF line to the last row of its matrix. A line that ends the motif without a
  // matrix is handed back through *pending / *text.
  Motif read_motif(const std::string& header, bool* pending, std::string* text) {
    Motif motif;
    std::istringstream fields(header.substr(5));
    fields >> motif.id;
    std::getline(fields, motif.alt);
    motif.alt.erase(0, motif.alt.find_first_not_of(" \t") == std::string::npos ? motif.alt.size() : motif.alt.find_first_not_of(" \t"));
    if (motif.id.empty()) throw error("MOTIF without an identifier");
    const int64_t motif_line = line_;
    std::string line;
    while (next(line)) {
      if (line.rfind("MOTIF", 0) == 0) {
        *pending = true;
        *text = line;
        break;
      }
      if (line.rfind("letter-probability matrix", 0) != 0) continue;
      const auto w = line.find("w=");
      if (w == std::string::npos) throw error("letter-probability matrix without w=");
      const int width = std::atoi(line.c_str() + w + 2);
      if (width < 1) throw error("letter-probability matrix with w= below 1");
      for (int row = 0; row < width; ++row) {
        if (!next(line)) throw error("motif '" + motif.id + "': " + std::to_string(row) + " rows, w=" + std::to_string(width));
        motif.probabilities.push_back(read_row(line, motif.id));
      }
      return motif;
    }
    line_ = motif_line;
    throw error("motif '" + motif.id + "' has no letter-probability matrix");
  }

  std::array<double, 4> read_row(const std::string& line, const std::string& id) {
    std::istringstream fields(line);
    std::array<double, 4> row{};
    double sum = 0;
    for (auto& value : row) {
      if (!(fields >> value) || !(value >= 0) || !std::isfinite(value)) {
        throw error("motif '" + id + "': expected four probabilities, got '" + line + "'");
      }
      sum += value;
    }
    std::string extra;
    if (fields >> extra) throw error("motif '" + id + "': more than four columns in '" + line + "'");
    if (std::abs(sum - 1) > 0.02) {
      throw error("motif '" + id + "': probabilities sum to " + std::to_string(sum) + ", not 1");
    }
    for (auto& value : row) value /= sum;
    return row;
  }

  std::string path_;
  std::ifstream in_;
  int64_t line_ = 0;
};

}  // namespace

MotifDatabase read_meme(const std::string& path) { return MemeReader(path).read(); }

}  // namespace seqattr
