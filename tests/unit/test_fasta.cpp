#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>

#include "common/errors.h"
#include "formats/fasta.h"
#include "formats/one_hot.h"
#include "test_support.h"

namespace seqattr {
namespace {

TEST(Fasta, ReadsAnyLineWidthAndCase) {
  test::TempDir dir;
  const auto path = dir.write("seqs.fa", ">one first record\nACgt\nn\n>two\nacgtA\n\n>three\nTTTTT\n");
  const auto records = read_fasta(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].name, "one");
  EXPECT_EQ(records[0].sequence, "ACgtn");
  EXPECT_EQ(records[1].sequence, "acgtA");
  EXPECT_EQ(common_length(records, path), 5);
}

TEST(Fasta, ReadsGzip) {
  test::TempDir dir;
  const auto path = dir.path() + "/seqs.fa.gz";
  gzFile out = gzopen(path.c_str(), "w");
  const std::string text = ">gz\nACGT\nACGT\n";
  gzwrite(out, text.data(), static_cast<unsigned>(text.size()));
  gzclose(out);
  const auto records = read_fasta(path);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].sequence, "ACGTACGT");
}

TEST(Fasta, OneHotPutsNasZeroColumn) {
  const std::vector<SequenceRecord> records = {{"r", "AcGtN"}};
  const auto x = one_hot_encode(records, 5);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{1, 4, 5}));
  const auto expected = torch::tensor({1, 0, 0, 0, 0,  //
                                       0, 1, 0, 0, 0,  //
                                       0, 0, 1, 0, 0,  //
                                       0, 0, 0, 1, 0},
                                      torch::kUInt8)
                            .view({1, 4, 5});
  EXPECT_TRUE(torch::equal(x, expected));
}

TEST(Fasta, ErrorsNameTheProblem) {
  test::TempDir dir;
  const auto expect_error = [&](const std::string& content, const std::string& fragment) {
    const auto path = dir.write("bad.fa", content);
    try {
      const auto records = read_fasta(path);
      common_length(records, path);
      ADD_FAILURE() << "no error for: " << content;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "message '" << e.what() << "' lacks '" << fragment << "'";
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  expect_error("", "empty");
  expect_error("  \n\n", "empty");
  expect_error("ACGT\n>r\nACGT\n", "not a FASTA");
  expect_error(">r\nACGX\n", "'X' at position 4");
  expect_error(">a\nACGT\n>b\nAC-T\n", "record 'b'");
  expect_error(">a\nACGT\n>b\nACG\n>c\nAC\n", "record 'b' has length 3");
  expect_error(">a\n>b\nACGT\n", "record 'a' has no sequence");
  EXPECT_THROW(read_fasta(dir.path() + "/missing.fa"), InputError);
}

}  // namespace
}  // namespace seqattr
