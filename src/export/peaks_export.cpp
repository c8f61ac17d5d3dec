#include "export/peaks_export.h"

#include <cstdio>
#include <fstream>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "common/hdf5.h"
#include "formats/hdf5_tensor.h"

namespace seqattr {

int64_t export_peaks(const PeaksExportOptions& o) {
  const std::string what = "input file '" + o.input + "'";
  h5::Handle file;
  try {
    file = h5::open_file_for_reading(o.input);
  } catch (const std::runtime_error&) {
    throw InputError(what + ": cannot open as HDF5");
  }
  for (const char* name : {"regions/chrom", "regions/start", "regions/end", "regions/name",
                           "regions/summit", "attributions"}) {
    if (!h5::exists(file.get(), name)) {
      throw InputError(what + ": no /" + std::string(name) + " (export-bed needs an output of "
                       "attribute --bed or --tile)");
    }
  }
  AtomicOutput output(o.output, {{"input", o.input}});
  std::ofstream bed(output.temp_path());
  const auto open = [&](const char* name) { return h5::open_dataset(file.get(), name); };
  auto chroms = open("regions/chrom"), starts = open("regions/start"), ends = open("regions/end"),
       names = open("regions/name"), summits = open("regions/summit"),
       attributions = open("attributions");
  const auto rows = h5::dataset_shape(starts.get())[0];
  for (hsize_t first = 0; first < rows; first += 1024) {
    const hsize_t count = std::min<hsize_t>(1024, rows - first);
    const auto chrom = h5::read_strings(chroms.get(), first, count);
    const auto name = h5::read_strings(names.get(), first, count);
    const auto start = h5::read_rows(starts.get(), first, count, torch::kInt64);
    const auto end = h5::read_rows(ends.get(), first, count, torch::kInt64);
    const auto summit = h5::read_rows(summits.get(), first, count, torch::kInt64);
    const auto total = h5::read_rows(attributions.get(), first, count, torch::kFloat32)
                           .to(torch::kFloat64).sum({1, 2});
    for (hsize_t i = 0; i < count; ++i) {
      const auto r = static_cast<int64_t>(i);
      const int64_t s = start[r].item<int64_t>(), e = end[r].item<int64_t>();
      const int64_t peak = summit[r].item<int64_t>() >= 0 ? summit[r].item<int64_t>() : (e - s) / 2;
      char signal[32];
      std::snprintf(signal, sizeof(signal), "%.6g", total[r].item<double>());
      bed << chrom[i] << '\t' << s << '\t' << e << '\t' << (name[i].empty() ? "." : name[i])
          << "\t0\t.\t" << signal << "\t-1\t-1\t" << peak << '\n';
    }
  }
  if (!bed.flush()) throw InputError("--output '" + o.output + "': cannot write (disk full?)");
  bed.close();
  output.commit();
  return static_cast<int64_t>(rows);
}

}  // namespace seqattr
