#include <gtest/gtest.h>
#include <htslib/bgzf.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/errors.h"
#include "formats/genome.h"
#include "formats/regions.h"
#include "test_support.h"

namespace seqattr {
namespace {

// chr1: 100 bases of ACGT repeats; chr2: 50; chr3: 7. Lines are 16 wide, so fetches
// cross line breaks.
std::string genome_fasta() {
  const auto record = [](const std::string& name, int64_t length) {
    std::string text = ">" + name + " description\n";
    for (int64_t i = 0; i < length; ++i) {
      text += "ACGT"[i % 4];
      if (i % 16 == 15 || i + 1 == length) text += '\n';
    }
    return text;
  };
  return record("chr1", 100) + record("chr2", 50) + record("chr3", 7);
}

std::string acgt_repeat(int64_t start, int64_t end) {
  std::string bases;
  for (int64_t i = start; i < end; ++i) bases += "ACGT"[i % 4];
  return bases;
}

void write_bgzf(const std::string& path, const std::string& content) {
  BGZF* out = bgzf_open(path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(bgzf_write(out, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ASSERT_EQ(bgzf_close(out), 0);
}

void write_gzip(const std::string& path, const std::string& content) {
  gzFile out = gzopen(path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  gzwrite(out, content.data(), static_cast<unsigned>(content.size()));
  gzclose(out);
}

// Runs `action`, which must throw InputError whose message holds every fragment.
template <typename Action>
void expect_input_error(Action action, const std::vector<std::string>& fragments) {
  try {
    action();
    ADD_FAILURE() << "no error; expected one mentioning '" << fragments.front() << "'";
  } catch (const InputError& e) {
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "message '" << e.what() << "' lacks '" << fragment << "'";
    }
  }
}

// --- Genome -------------------------------------------------------------------------------

TEST(Genome, CreatesFaiWhenMissing) {
  test::TempDir dir;
  const auto path = dir.write("genome.fa", genome_fasta());
  ASSERT_FALSE(std::filesystem::exists(path + ".fai"));
  const auto genome = Genome::open(path);
  EXPECT_TRUE(std::filesystem::exists(path + ".fai"));
  EXPECT_EQ(genome.path(), path);
  EXPECT_EQ(genome.chroms(), (std::vector<std::string>{"chr1", "chr2", "chr3"}));
  EXPECT_EQ(genome.lengths(), (std::vector<int64_t>{100, 50, 7}));
  EXPECT_EQ(genome.find("chr2"), 1);
  EXPECT_EQ(genome.find("chrX"), -1);
  EXPECT_EQ(genome.fetch(0, 10, 40), acgt_repeat(10, 40));
  EXPECT_EQ(genome.fetch(1, 0, 50), acgt_repeat(0, 50));

  // A second open reads the index it made.
  const auto again = Genome::open(path);
  EXPECT_EQ(again.lengths(), genome.lengths());
}

TEST(Genome, ReadsBgzippedFasta) {
  test::TempDir dir;
  const auto path = dir.path() + "/genome.fa.gz";
  write_bgzf(path, genome_fasta());
  const auto genome = Genome::open(path);
  EXPECT_TRUE(std::filesystem::exists(path + ".fai"));
  EXPECT_TRUE(std::filesystem::exists(path + ".gzi"));
  EXPECT_EQ(genome.lengths(), (std::vector<int64_t>{100, 50, 7}));
  EXPECT_EQ(genome.fetch(0, 13, 77), acgt_repeat(13, 77));
  EXPECT_EQ(genome.fetch(2, 0, 7), acgt_repeat(0, 7));
}

TEST(Genome, PlainGzipAsksForBgzip) {
  test::TempDir dir;
  const auto path = dir.path() + "/genome.fa.gz";
  write_gzip(path, genome_fasta());
  expect_input_error([&] { Genome::open(path); }, {"--genome", path, "plain gzip", "bgzip"});
}

TEST(Genome, MissingFileNamesTheOption) {
  test::TempDir dir;
  const auto path = dir.path() + "/absent.fa";
  expect_input_error([&] { Genome::open(path); }, {"--genome", path, "no such file"});
}

// The .fai is a dangling link into a missing directory, so htslib cannot write it whoever
// runs the test (root ignores directory permissions).
TEST(Genome, IndexThatCannotBeWrittenIsAnInputError) {
  test::TempDir dir;
  const auto path = dir.write("genome.fa", genome_fasta());
  std::filesystem::create_symlink(dir.path() + "/missing-dir/genome.fa.fai", path + ".fai");
  expect_input_error([&] { Genome::open(path); },
                     {"--genome", path + ".fai", "could not be created there"});
}

TEST(Genome, UnwritableDirectoryCannotHoldTheIndex) {
  test::TempDir dir;
  const auto subdir = dir.path() + "/readonly";
  std::filesystem::create_directory(subdir);
  const auto path = subdir + "/genome.fa";
  dir.write("readonly/genome.fa", genome_fasta());
  ASSERT_EQ(chmod(subdir.c_str(), 0555), 0);
  if (access(subdir.c_str(), W_OK) == 0) {
    chmod(subdir.c_str(), 0755);
    GTEST_SKIP() << "directory permissions are not enforced for this user";
  }
  expect_input_error([&] { Genome::open(path); }, {"--genome", "could not be created there"});
  chmod(subdir.c_str(), 0755);
}

TEST(Genome, FetchPadsWithNPastBothEnds) {
  test::TempDir dir;
  const auto genome = Genome::open(dir.write("genome.fa", genome_fasta()));
  EXPECT_EQ(genome.fetch(2, -3, 4), "NNN" + acgt_repeat(0, 4));
  EXPECT_EQ(genome.fetch(2, 5, 10), acgt_repeat(5, 7) + "NNN");
  EXPECT_EQ(genome.fetch(2, -2, 9), "NN" + acgt_repeat(0, 7) + "NN");
  EXPECT_EQ(genome.fetch(2, -5, -1), "NNNN");
  EXPECT_EQ(genome.fetch(2, 20, 23), "NNN");
  EXPECT_EQ(genome.fetch(2, 3, 3), "");
}

TEST(Genome, FetchUppercasesAndMapsIupacToN) {
  test::TempDir dir;
  const auto genome = Genome::open(dir.write("iupac.fa", ">mixed\nacgtACGTRYKM\nSWBDHVNn\n"));
  EXPECT_EQ(genome.fetch(0, 0, 20), "ACGTACGTNNNNNNNNNNNN");
  EXPECT_EQ(genome.fetch(0, 6, 10), "GTNN");
}

// --- BED regions --------------------------------------------------------------------------

class BedRegions : public ::testing::Test {
 protected:
  BedRegions() : genome_(Genome::open(dir_.write("genome.fa", genome_fasta()))) {}

  RegionList read(const std::string& bed, int64_t length) {
    return read_bed_regions(dir_.write("regions.bed", bed), genome_, length);
  }

  test::TempDir dir_;
  Genome genome_;
};

TEST_F(BedRegions, CentresOnTheMidpoint) {
  const auto list = read("chr1\t10\t20\nchr2\t10\t15\nchr1\t40\t40\n", 5);
  ASSERT_EQ(list.size(), 3);
  EXPECT_EQ(list.chroms, genome_.chroms());
  // Centre 15; window start = 15 - 5 / 2.
  EXPECT_EQ(list.regions[0].chrom, 0);
  EXPECT_EQ(list.regions[0].start, 13);
  EXPECT_EQ(list.regions[0].end, 18);
  EXPECT_EQ(list.regions[0].summit, 2);
  // Centre floor(25 / 2) = 12.
  EXPECT_EQ(list.regions[1].chrom, 1);
  EXPECT_EQ(list.regions[1].start, 10);
  EXPECT_EQ(list.regions[1].end, 15);
  // A zero-length region is centred on its position.
  EXPECT_EQ(list.regions[2].start, 38);
  EXPECT_EQ(list.padded, 0);
}

TEST_F(BedRegions, EvenLengthPutsTheCentreRightOfMiddle) {
  const auto list = read("chr1\t10\t20\n", 4);
  EXPECT_EQ(list.regions[0].start, 13);
  EXPECT_EQ(list.regions[0].end, 17);
  EXPECT_EQ(list.regions[0].summit, 2);
}

TEST_F(BedRegions, CentresOnTheNarrowPeakSummit) {
  const auto list = read(
      "chr1\t10\t30\tpeak1\t1000\t.\t5.1\t10.2\t8.3\t4\n"
      "chr1\t10\t30\tpeak2\t1000\t.\t5.1\t10.2\t8.3\t-1\n"
      "chr2\t0\t20\tpeak3\t1000\t.\t5.1\t10.2\t8.3\t0\n",
      6);
  ASSERT_EQ(list.size(), 3);
  EXPECT_EQ(list.regions[0].start, 14 - 3);  // summit at 10 + 4
  EXPECT_EQ(list.regions[0].end, 14 + 3);
  EXPECT_EQ(list.regions[0].summit, 3);
  EXPECT_EQ(list.regions[1].start, 20 - 3);  // -1: the midpoint
  EXPECT_EQ(list.regions[2].start, -3);      // summit at 0
  EXPECT_EQ(list.padded, 1);
}

TEST_F(BedRegions, ReadsGzippedBed) {
  const auto path = dir_.path() + "/regions.bed.gz";
  write_gzip(path, "chr1\t10\t20\nchr2\t0\t10\n");
  const auto list = read_bed_regions(path, genome_, 10);
  ASSERT_EQ(list.size(), 2);
  EXPECT_EQ(list.regions[1].chrom, 1);
  EXPECT_EQ(list.regions[1].start, 0);
}

TEST_F(BedRegions, SkipsHeadersAndBlankLinesAndAcceptsSpaces) {
  const auto list = read(
      "track name=peaks\n"
      "browser position chr1:1-100\n"
      "# a comment\n"
      "\n"
      "chr1  10   20\r\n"
      "   \t \n"
      "chr2\t10\t20\n",
      2);
  ASSERT_EQ(list.size(), 2);
  EXPECT_EQ(list.regions[0].start, 14);
  EXPECT_EQ(list.regions[1].chrom, 1);
}

TEST_F(BedRegions, NamesFromColumnFourWithWindowFallback) {
  const auto list = read("chr1\t10\t20\tfirst\nchr1\t30\t40\t.\nchr2\t0\t10\n", 10);
  ASSERT_EQ(list.names.size(), 3u);
  EXPECT_EQ(list.name(0), "first");
  EXPECT_EQ(list.name(1), "chr1:30-40");
  EXPECT_EQ(list.name(2), "chr2:0-10");
}

TEST_F(BedRegions, UnnamedRegionsAreNamedByWindow) {
  const auto list = read("chr1\t10\t20\t.\nchr3\t2\t4\n", 10);
  EXPECT_TRUE(list.names.empty());
  EXPECT_EQ(list.name(0), "chr1:10-20");
  EXPECT_EQ(list.name(1), "chr3:-2-8");
}

TEST_F(BedRegions, CountsWindowsPastEitherChromosomeEnd) {
  const auto list = read("chr1\t0\t2\nchr1\t95\t100\nchr1\t40\t60\nchr3\t0\t7\n", 20);
  EXPECT_EQ(list.padded, 3);
}

TEST_F(BedRegions, ErrorsNameTheFileAndLine) {
  const auto expect_error = [&](const std::string& bed, const std::vector<std::string>& fragments) {
    const auto path = dir_.write("bad.bed", bed);
    auto all = fragments;
    all.push_back("--bed '" + path + "'");
    expect_input_error([&] { read_bed_regions(path, genome_, 10); }, all);
  };
  expect_error("# header\nchr1\t10\n", {"line 2", "at least 3 columns", "found 2"});
  expect_error("chr1\t10\t20\nchr1\tten\t20\n", {"line 2", "start 'ten'"});
  expect_error("chr1\t-5\t20\n", {"line 1", "start '-5'", "non-negative integer"});
  expect_error("chr1\t5\t20.5\n", {"line 1", "end '20.5'"});
  expect_error("chr1\t30\t20\n", {"line 1", "start 30 is greater than end 20"});
  expect_error("track x\nchr1\t1\t2\nchr9\t1\t2\n", {"line 3", "chromosome 'chr9'"});
  expect_error("2\t1\t2\n", {"line 1", "chromosome '2'", "calls it 'chr2'"});
  expect_error("chr1\t10\t30\tp\t0\t.\t1\t1\t1\tsummit\n", {"line 1", "summit", "'summit'"});
  expect_error("chr1\t10\t30\tp\t0\t.\t1\t1\t1\t20\n", {"line 1", "summit", "outside the peak"});
  expect_error("chr3\t7\t20\n", {"line 1", "past the end of chr3"});
}

TEST_F(BedRegions, EmptyOrMissingFileIsAnError) {
  const auto empty = dir_.write("empty.bed", "");
  expect_input_error([&] { read_bed_regions(empty, genome_, 10); }, {"--bed", empty, "no regions"});
  const auto headers = dir_.write("headers.bed", "track a\n# b\n\n");
  expect_input_error([&] { read_bed_regions(headers, genome_, 10); },
                     {"--bed", headers, "no regions"});
  const auto missing = dir_.path() + "/missing.bed";
  expect_input_error([&] { read_bed_regions(missing, genome_, 10); },
                     {"--bed", missing, "no such file"});
}

// --- tiles --------------------------------------------------------------------------------

std::vector<int64_t> starts_of(const RegionList& list, int32_t chrom) {
  std::vector<int64_t> starts;
  for (const auto& region : list.regions) {
    if (region.chrom == chrom) starts.push_back(region.start);
  }
  return starts;
}

class Tiles : public ::testing::Test {
 protected:
  Tiles() : genome_(Genome::open(dir_.write("genome.fa", genome_fasta()))) {}
  test::TempDir dir_;
  Genome genome_;
};

TEST_F(Tiles, StepsThenAlignsTheLastWindowToTheEnd) {
  const auto list = tile_regions(genome_, 30, 20, {});
  // chr1 (100): 0, 20, 40, 60 fit; 70 ends at 100. chr2 (50): 0, 20 and 20 ends at 50.
  EXPECT_EQ(starts_of(list, 0), (std::vector<int64_t>{0, 20, 40, 60, 70}));
  EXPECT_EQ(starts_of(list, 1), (std::vector<int64_t>{0, 20}));
  for (const auto& region : list.regions) {
    EXPECT_EQ(region.end - region.start, 30);
    EXPECT_EQ(region.summit, -1);
  }
  EXPECT_TRUE(list.names.empty());
  EXPECT_EQ(list.name(4), "chr1:70-100");
  EXPECT_EQ(list.chroms, genome_.chroms());
}

TEST_F(Tiles, ShortChromosomeGetsOnePaddedWindow) {
  const auto list = tile_regions(genome_, 50, 50, {});
  EXPECT_EQ(starts_of(list, 0), (std::vector<int64_t>{0, 50}));
  EXPECT_EQ(starts_of(list, 1), (std::vector<int64_t>{0}));  // exactly the width: not padded
  ASSERT_EQ(starts_of(list, 2), (std::vector<int64_t>{0}));
  EXPECT_EQ(list.regions.back().end, 50);
  EXPECT_EQ(list.padded, 1);
  EXPECT_EQ(list.name(list.size() - 1), "chr3:0-50");
}

TEST_F(Tiles, StepLargerThanWidthLeavesGaps) {
  const auto list = tile_regions(genome_, 10, 40, {"chr1"});
  EXPECT_EQ(starts_of(list, 0), (std::vector<int64_t>{0, 40, 80, 90}));
  EXPECT_EQ(list.padded, 0);
}

TEST_F(Tiles, ChromsSelectsAndOrders) {
  const auto list = tile_regions(genome_, 25, 25, {"chr2", "chr1"});
  ASSERT_EQ(list.size(), 6);
  EXPECT_EQ(list.regions[0].chrom, 1);
  EXPECT_EQ(list.regions[2].chrom, 0);
  EXPECT_EQ(starts_of(list, 2), std::vector<int64_t>{});
  expect_input_error([&] { tile_regions(genome_, 25, 25, {"chr1", "chrUn"}); },
                     {"--chroms", "'chrUn'"});
  expect_input_error([&] { tile_regions(genome_, 25, 25, {"chr1", "chr1"}); },
                     {"--chroms", "twice"});
}

TEST_F(Tiles, RejectsWidthOrStepBelowOne) {
  expect_input_error([&] { tile_regions(genome_, 0, 10, {}); }, {"--tile", "width 0"});
  expect_input_error([&] { tile_regions(genome_, 10, 0, {}); }, {"--tile", "step 0"});
}

}  // namespace
}  // namespace seqattr
