#include "export/igv_session.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "export/logo_svg.h"

namespace seqattr {
namespace {

// `path` as seen from `directory`: relative where both are on one tree, else absolute.
std::string from_directory(const std::string& path, const std::filesystem::path& directory) {
  const auto absolute = std::filesystem::absolute(path).lexically_normal();
  const auto relative = absolute.lexically_relative(directory);
  return relative.empty() ? absolute.string() : relative.string();
}

std::string range_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

}  // namespace

void write_igv_session(const IgvSession& s) {
  const auto directory = std::filesystem::absolute(s.path).lexically_normal().parent_path();
  const auto at = [&](const std::string& p) { return xml_escape(from_directory(p, directory)); };
  // A constant track would get an empty range, which IGV draws as nothing.
  double low = s.range_min, high = s.range_max;
  if (!(high > low)) high = low + std::max(1e-6, std::abs(low) * 1e-3);

  std::ostringstream xml;
  xml << "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
      << "<Session genome=\"" << at(s.genome) << "\" locus=\"" << xml_escape(s.locus)
      << "\" version=\"8\">\n"
      << "    <Resources>\n"
      << "        <Resource path=\"" << at(s.track) << "\" type=\"bigwig\"/>\n";
  if (!s.seqlets.empty()) xml << "        <Resource path=\"" << at(s.seqlets) << "\" type=\"bed\"/>\n";
  xml << "    </Resources>\n"
      << "    <Panel name=\"DataPanel\">\n"
      << "        <Track attributeKey=\"" << at(s.track) << "\" autoScale=\"false\" "
      << "clazz=\"org.broad.igv.track.DataSourceTrack\" id=\"" << at(s.track) << "\" name=\""
      << xml_escape(s.track_name) << "\" renderer=\"BAR_CHART\" visible=\"true\" "
      << "windowFunction=\"mean\">\n"
      << "            <DataRange baseline=\"0.0\" drawBaseline=\"true\" flipAxis=\"false\" "
      << "maximum=\"" << range_number(high) << "\" minimum=\"" << range_number(low) << "\" type=\"LINEAR\"/>\n"
      << "        </Track>\n";
  if (!s.seqlets.empty()) {
    xml << "        <Track attributeKey=\"" << at(s.seqlets) << "\" "
        << "clazz=\"org.broad.igv.track.FeatureTrack\" displayMode=\"EXPANDED\" id=\""
        << at(s.seqlets) << "\" name=\"seqlets\" visible=\"true\"/>\n";
  }
  xml << "    </Panel>\n"
      << "</Session>\n";

  AtomicOutput output(s.path, {{"--genome", s.genome}, {"output", s.track}});
  {
    std::ofstream out(output.temp_path());
    out << xml.str();
    out.close();
    if (!out) throw InputError("--igv-session: cannot write '" + s.path + "'");
  }
  output.commit();
}

}  // namespace seqattr
