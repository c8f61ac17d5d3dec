// Fuzz of the three text inputs a user hands seqattr (FASTA, BED/narrowPeak, TOML presets):
// a few hundred mutations of valid files from a fixed seed. Each must end in success or in
// InputError (CLI::ConfigError for presets), never another exception, a crash or a hang
// (ctest's timeout), and a success must hold every record the file has: a reader that
// drops records silently is the failure this test is for.
#include <gtest/gtest.h>
#include <zlib.h>

#include <CLI/CLI.hpp>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/errors.h"
#include "formats/fasta.h"
#include "formats/genome.h"
#include "formats/regions.h"
#include "test_support.h"
#include "tools/seqattr/preset_file.h"

namespace seqattr {
namespace {

constexpr uint32_t kSeed = 20261130;
constexpr int kCases = 300;

// 1 to 3 random edits: replace, insert or delete a byte (drawn mostly from bytes that mean
// something to the format), duplicate or drop a line, or cut the text short.
std::string mutate(std::string text, const std::string& alphabet, std::mt19937& rng) {
  const auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const auto byte = [&]() -> char {
    return pick(8) == 0 ? static_cast<char>(pick(256)) : alphabet[pick(alphabet.size())];
  };
  const int edits = 1 + static_cast<int>(pick(3));
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const size_t at = pick(text.size());
    switch (pick(6)) {
      case 0: text[at] = byte(); break;
      case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte()); break;
      case 2: text.erase(at, 1); break;
      case 3: {  // duplicate the line holding `at`
        const size_t begin = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
        const size_t end = text.find('\n', at);
        const std::string line = text.substr(begin, end == std::string::npos ? std::string::npos
                                                                              : end - begin + 1);
        text.insert(begin, line);
        break;
      }
      case 4: {  // drop the line holding `at`
        const size_t begin = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
        const size_t end = text.find('\n', at);
        text.erase(begin, end == std::string::npos ? std::string::npos : end - begin + 1);
        break;
      }
      default: text.resize(at); break;
    }
  }
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  std::string line;
  while (std::getline(stream, line)) lines.push_back(line);
  return lines;
}

// Runs kCases mutations of valid_text(rng) through read_and_check(text), which returns when
// the input is taken (checking what it read) or throws Error to refuse it. A refusal must
// be one line, and both outcomes must occur, or the mutations are too mild or too wild to
// test anything.
template <typename Error, typename Valid, typename ReadAndCheck>
void fuzz(uint32_t seed, const std::string& alphabet, Valid valid_text,
          ReadAndCheck read_and_check) {
  std::mt19937 rng(seed);
  int accepted = 0, refused = 0;
  for (int i = 0; i < kCases; ++i) {
    const std::string text = mutate(valid_text(rng), alphabet, rng);
    try {
      read_and_check(text);
      ++accepted;
    } catch (const Error& e) {
      ++refused;
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(accepted, kCases / 10);
  EXPECT_GT(refused, kCases / 10);
}

// -- FASTA ------------------------------------------------------------------------------

std::string valid_fasta(std::mt19937& rng) {
  std::string text;
  for (int r = 0; r < 6; ++r) {
    text += ">rec" + std::to_string(r) + " some description\n";
    for (int line = 0; line < 3; ++line) {
      for (int i = 0; i < 20; ++i) text += "ACGTNacgtn"[rng() % 10];
      text += '\n';
    }
  }
  return text;
}

// Records a FASTA reader must find: one per line starting with '>' (or whose first visible
// byte, leading blank lines skipped, is '>').
size_t headers_in(const std::string& text) {
  size_t headers = 0;
  bool first_visible = true;
  for (const auto& line : lines_of(text)) {
    const size_t start = first_visible ? line.find_first_not_of(" \t\r\v\f") : 0;
    if (start == std::string::npos) continue;
    if (line.size() > start && line[start] == '>') ++headers;
    first_visible = false;
  }
  return headers;
}

std::string gzip(const std::string& text) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, static_cast<uLong>(text.size())) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

TEST(Fuzz, FastaEndsInRecordsOrOneInputError) {
  test::TempDir dir;
  fuzz<InputError>(kSeed, "ACGTNacgtn>@+ \t\r\n;#", valid_fasta, [&](const std::string& text) {
    const auto records = read_fasta(dir.write("case.fa", text));
    EXPECT_EQ(records.size(), headers_in(text)) << text;
  });
}

TEST(Fuzz, GzipFastaIsWholeOrRefused) {
  std::mt19937 rng(kSeed + 1);
  test::TempDir dir;
  int accepted = 0, refused = 0;
  for (int i = 0; i < kCases; ++i) {
    const std::string text = valid_fasta(rng);
    std::string compressed = gzip(text);
    const size_t at = rng() % compressed.size();
    if (i % 2 == 0) {
      compressed.resize(at);  // cut short: always an error
    } else {
      compressed[at] = static_cast<char>(compressed[at] ^ (1 + rng() % 255));
    }
    const auto path = dir.write("case.fa.gz", compressed);
    try {
      const auto records = read_fasta(path);
      ++accepted;
      EXPECT_EQ(i % 2, 1) << "case " << i << ": a gzip file cut at byte " << at << " was accepted";
      // A flipped header byte (time, OS) changes nothing; any other change is caught by
      // inflate or the CRC, so whatever is accepted is the original.
      ASSERT_EQ(records.size(), 6u) << "case " << i;
    } catch (const InputError& e) {
      ++refused;
    }
  }
  EXPECT_GT(refused, kCases / 2);
  EXPECT_GT(accepted, 0);
}

// -- BED / narrowPeak -------------------------------------------------------------------

std::string valid_bed(std::mt19937& rng) {
  std::string text = "track name=peaks\n# a comment\n";
  for (int r = 0; r < 8; ++r) {
    const int start = static_cast<int>(rng() % 900);
    const std::string chrom = r % 2 ? "chr1" : "chr2";
    const int end = start + 1 + static_cast<int>(rng() % 90);
    text += chrom + "\t" + std::to_string(start) + "\t" + std::to_string(end) + "\tpeak " +
            std::to_string(r) + "\t0\t.\t1.5\t2\t3\t" + std::to_string((end - start) / 2) + "\n";
  }
  return text;
}

// Lines that must each give a region (or an error): not blank, not a header.
size_t data_lines_in(const std::string& text) {
  size_t count = 0;
  for (std::string line : lines_of(text)) {
    while (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank
    const bool tabbed = line.find('\t') != std::string::npos;
    const size_t begin = line.find_first_not_of(' ');
    std::string first = line.substr(begin, line.find(tabbed ? '\t' : ' ', begin) - begin);
    while (!first.empty() && first.back() == ' ') first.pop_back();
    if ((!first.empty() && first[0] == '#') || first == "track" || first == "browser") continue;
    ++count;
  }
  return count;
}

TEST(Fuzz, BedEndsInRegionsOrOneInputError) {
  test::TempDir dir;
  std::string genome_text = ">chr1\n";
  for (int i = 0; i < 1000; ++i) genome_text += "ACGT"[i % 4];
  genome_text += "\n>chr2\n";
  for (int i = 0; i < 1000; ++i) genome_text += "TGCA"[i % 4];
  genome_text += "\n";
  const auto genome = Genome::open(dir.write("genome.fa", genome_text));
  fuzz<InputError>(kSeed + 2, "0123456789\t -.chr12X#\n\r", valid_bed, [&](const std::string& text) {
    const auto regions = read_bed_regions(dir.write("case.bed", text), genome, 50);
    EXPECT_EQ(static_cast<size_t>(regions.size()), data_lines_in(text)) << text;
  });
}

// -- TOML presets -----------------------------------------------------------------------

TEST(Fuzz, PresetEndsInKnownOptionsOrOneConfigError) {
  CLI::App app;
  auto* attribute = app.add_subcommand("attribute");
  std::string method;
  int n_steps = 0, n_shuffles = 0;
  bool quiet = false;
  attribute->add_option("--method", method);
  attribute->add_option("--n-steps", n_steps);
  attribute->add_option("--n-shuffles", n_shuffles);
  attribute->add_flag("--quiet", quiet);
  app.add_subcommand("merge");
  const cli::PresetFormat format(&app, "fuzz.toml", "attribute");
  const std::string valid =
      "# preset\n[attribute]\nmethod = \"deeplift_shap\"  # comment\nn-steps = 50\n"
      "n_shuffles = 20\nquiet = true\n\n[merge]\n";
  fuzz<CLI::ConfigError>(
      kSeed + 3, "[]=\"'#_-. \n\tabcdefghijklmnopqrstuvwxyz0123456789",
      [&](std::mt19937&) { return valid; },
      [&](const std::string& text) {
        std::istringstream input(text);
        for (const auto& item : format.from_config(input)) {
          EXPECT_NE(attribute->get_option_no_throw("--" + item.name), nullptr) << item.name;
          EXPECT_EQ(item.parents, std::vector<std::string>{"attribute"});
        }
      });
}

}  // namespace
}  // namespace seqattr
