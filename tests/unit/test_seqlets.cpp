// Seqlet calling (export/seqlet_caller.h) and motif naming (export/motif_scanner.h) on small
// inputs with answers worked out by hand. tangermeme's own output is compared in
// tests/cli/test_seqlets.py.
#include <gtest/gtest.h>

#include <vector>

#include "export/motif_scanner.h"
#include "export/seqlet_caller.h"

namespace seqattr {
namespace {

SeqletNull null_of(const std::vector<float>& values, const SeqletOptions& options) {
  SeqletNull null(options);
  null.range(values.data(), static_cast<int64_t>(values.size()));
  null.add(values.data(), static_cast<int64_t>(values.size()));
  null.finish();
  return null;
}

// tangermeme's tail at bin i is 1 - sum of the densities of bins 1..i: it never subtracts the
// lowest bin's, so it is P(B > i) + P(B = 0), B the sum's bin. With 1,000 bins that mass is
// (share of the file's minimum)^k, negligible; seqattr keeps it so that p-values are
// tangermeme's. The inputs here hold their minimum once, so the term is tiny too.
TEST(Seqlets, NullIsTheUpperTailOfTheSumOfIndependentPositions) {
  // Values -1 (1%), 0 (89%) and 1 (10%) in three bins: a k-position sum's bin is the sum + k.
  std::vector<float> values(100, 0.0f);
  values[0] = -1.0f;
  for (int i = 1; i <= 10; ++i) values[static_cast<size_t>(i * 9)] = 1.0f;
  SeqletOptions options;
  options.bins = 3;
  options.max_length = 4;
  const auto null = null_of(values, options);
  const double lowest = 1e-8;  // P(B = 0) = 0.01^4
  EXPECT_NEAR(null.p_value(4, 4), lowest, 1e-15);
  EXPECT_NEAR(null.p_value(4, 3), 1e-4 + lowest, 1e-12);   // P(all four are 1)
  // P(sum > 2) over four positions: 1e-4 + 4 * 0.1^3 * 0.89.
  EXPECT_NEAR(null.p_value(4, 2), 1e-4 + 4 * 0.001 * 0.89 + lowest, 1e-12);
}

TEST(Seqlets, AStretchOfHighValuesIsOneSeqlet) {
  std::vector<float> row(60, 0.0f);
  for (int i = 20; i < 26; ++i) row[static_cast<size_t>(i)] = 1.0f;
  std::vector<float> background(1000, 0.0f);
  background[0] = -1.0f;
  for (int i = 1; i <= 20; ++i) background[static_cast<size_t>(i * 45)] = 1.0f;  // 2% ones
  SeqletOptions options;
  options.bins = 3;
  options.max_length = 6;  // longer spans would extend over the zeros beside the stretch
  const auto null = null_of(background, options);
  const auto seqlets = call_seqlets(row.data(), 60, 7, null, options);
  ASSERT_EQ(seqlets.size(), 1u);
  EXPECT_EQ(seqlets[0].row, 7);
  EXPECT_EQ(seqlets[0].start, 20);
  EXPECT_EQ(seqlets[0].end, 26);
  EXPECT_DOUBLE_EQ(seqlets[0].attribution, 6.0);
  EXPECT_LT(seqlets[0].p_value, options.threshold);
  // A row like the background has none: four zeros have p = 1 - 0.98^4 (+ the lowest bin's).
  std::vector<float> quiet(60, 0.0f);
  EXPECT_TRUE(call_seqlets(quiet.data(), 60, 0, null, options).empty());
}

TEST(Seqlets, BenjaminiHochberg) {
  const auto q = bh_q_values({0.01, 0.04, 0.03, 0.5});
  EXPECT_NEAR(q[0], 0.04, 1e-12);
  EXPECT_NEAR(q[1], 0.04 * 4 / 3, 1e-12);
  EXPECT_NEAR(q[2], 0.04 * 4 / 3, 1e-12);
  EXPECT_NEAR(q[3], 0.5, 1e-12);
  EXPECT_TRUE(bh_q_values({}).empty());
}

TEST(Seqlets, MotifScannerFindsTheMotifOnEitherStrand) {
  MotifDatabase db;
  Motif gata{"GATA", "", {{0, 0, 1, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}, {1, 0, 0, 0}}};
  Motif cccc{"CCCC", "", {{0, 1, 0, 0}, {0, 1, 0, 0}, {0, 1, 0, 0}, {0, 1, 0, 0}}};
  db.motifs = {gata, cccc};
  const MotifScanner scanner(db);
  // GATA forward in the middle of a window.
  auto m = scanner.best("TTTTTGATATTTTT", 5, 9);
  EXPECT_EQ(m.motif, 0);
  EXPECT_EQ(m.strand, '+');
  // One placement covers the middle exactly; 4 placements x 2 strands tried: the p-value of a
  // perfect match is 4^-4 (each column's best base under a uniform background), corrected.
  EXPECT_LT(m.p_value, 8 * 0.25 * 0.25 * 0.25 * 0.25 + 1e-9);
  // TATC is GATA's reverse complement.
  m = scanner.best("AAAAATATCAAAAA", 5, 9);
  EXPECT_EQ(m.motif, 0);
  EXPECT_EQ(m.strand, '-');
  EXPECT_EQ(scanner.name(0), "GATA");
}

}  // namespace
}  // namespace seqattr
