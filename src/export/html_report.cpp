#include "export/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "export/logo_source.h"
#include "export/report_seqlets.h"
#include "formats/hdf5_tensor.h"

namespace seqattr {
namespace {

constexpr size_t kReportBlockBytes = size_t{8} << 20;
constexpr size_t kReportChunkCacheBytes = size_t{16} << 20;
constexpr int64_t kReportedClusters = 5;  // unnamed seqlet clusters shown

std::string fixed_decimals(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// A value for a table: 6 significant digits.
std::string number(double value) {
  if (std::isnan(value)) return "nan";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Quantile q of sorted finite values, interpolated linearly as numpy.quantile does.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nan("");
  const double h = (static_cast<double>(sorted.size()) - 1) * q;
  const auto below = static_cast<size_t>(std::floor(h));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (h - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

struct Summary {
  int64_t count = 0;      // all values
  int64_t non_finite = 0; // NaN and infinities, left out of the rest
  double min = 0, max = 0, mean = 0;
  std::vector<double> sorted;  // the finite values
};

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.count = static_cast<int64_t>(values.size());
  for (double v : values) {
    if (std::isfinite(v)) s.sorted.push_back(v); else ++s.non_finite;
  }
  std::sort(s.sorted.begin(), s.sorted.end());
  if (!s.sorted.empty()) {
    s.min = s.sorted.front();
    s.max = s.sorted.back();
    s.mean = std::accumulate(s.sorted.begin(), s.sorted.end(), 0.0) /
             static_cast<double>(s.sorted.size());
  }
  return s;
}

// ---- histograms -----------------------------------------------------------------------

// An SVG histogram of the finite values of `s` in `bins` equal bins from min to max.
std::string histogram_svg(const Summary& s, int64_t bins, const std::string& x_caption) {
  const double width = 680, height = 270;
  const double left = 64, right = 24, top = 14, bottom = 52;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  double low = s.min, high = s.max;
  if (high <= low) {  // one value: a bin around it
    const double half = std::max(std::abs(low) * 0.01, 0.5);
    low -= half;
    high += half;
    bins = 1;
  }
  std::vector<int64_t> counts(static_cast<size_t>(bins), 0);
  for (double v : s.sorted) {
    auto bin = static_cast<int64_t>((v - low) / (high - low) * static_cast<double>(bins));
    counts[static_cast<size_t>(std::clamp<int64_t>(bin, 0, bins - 1))]++;
  }
  const int64_t most = std::max<int64_t>(1, *std::max_element(counts.begin(), counts.end()));
  const double count_step = std::max(1.0, nice_step(static_cast<double>(most) / 4));
  const double count_top = std::ceil(static_cast<double>(most) / count_step) * count_step;
  auto x = [&](double v) { return left + (v - low) / (high - low) * plot_w; };
  auto y = [&](double c) { return top + plot_h - c / count_top * plot_h; };

  std::ostringstream out;
  out << "<svg class=\"histogram\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height << "\" font-family=\"" << kFontFamily
      << "\" role=\"img\">\n<rect width=\"" << width << "\" height=\"" << height
      << "\" fill=\"#ffffff\"/>\n<g stroke=\"#e6e6e6\">\n";
  for (double c = count_step; c <= count_top + 1e-9; c += count_step) {
    out << "<line x1=\"" << left << "\" x2=\"" << left + plot_w << "\" y1=\"" << fixed_decimals(y(c), 2)
        << "\" y2=\"" << fixed_decimals(y(c), 2) << "\"/>\n";
  }
  out << "</g>\n<g fill=\"#4c78a8\">\n";
  const double bin_w = plot_w / static_cast<double>(bins);
  auto edge = [&](int64_t b) {
    return low + static_cast<double>(b) * (high - low) / static_cast<double>(bins);
  };
  for (int64_t b = 0; b < bins; ++b) {
    const auto c = static_cast<double>(counts[static_cast<size_t>(b)]);
    if (c == 0) continue;
    out << "<rect x=\"" << fixed_decimals(left + static_cast<double>(b) * bin_w + 0.5, 2) << "\" y=\""
        << fixed_decimals(y(c), 2) << "\" width=\"" << fixed_decimals(std::max(bin_w - 1, 0.5), 2)
        << "\" height=\"" << fixed_decimals(y(0) - y(c), 2) << "\"><title>" << number(edge(b)) << " to "
        << number(edge(b + 1)) << ": " << counts[static_cast<size_t>(b)] << "</title></rect>\n";
  }
  out << "</g>\n<g stroke=\"#333333\">\n<line x1=\"" << left << "\" x2=\"" << left + plot_w
      << "\" y1=\"" << fixed_decimals(y(0), 2) << "\" y2=\"" << fixed_decimals(y(0), 2) << "\"/>\n<line x1=\""
      << left << "\" x2=\"" << left << "\" y1=\"" << top << "\" y2=\"" << fixed_decimals(y(0), 2)
      << "\"/>\n";
  std::ostringstream labels;
  const double x_step = nice_step((high - low) / 6);
  for (double v = std::ceil(low / x_step - 1e-9) * x_step; v <= high + x_step * 1e-9; v += x_step) {
    out << "<line x1=\"" << fixed_decimals(x(v), 2) << "\" x2=\"" << fixed_decimals(x(v), 2) << "\" y1=\""
        << fixed_decimals(y(0), 2) << "\" y2=\"" << fixed_decimals(y(0) + 4, 2) << "\"/>\n";
    labels << "<text x=\"" << fixed_decimals(x(v), 2) << "\" y=\"" << fixed_decimals(y(0) + 17, 2)
           << "\" text-anchor=\"middle\">"
           << axis_number(std::abs(v) < x_step * 1e-6 ? 0.0 : v) << "</text>\n";
  }
  for (double c = 0; c <= count_top + 1e-9; c += count_step) {
    out << "<line x1=\"" << left - 4 << "\" x2=\"" << left << "\" y1=\"" << fixed_decimals(y(c), 2)
        << "\" y2=\"" << fixed_decimals(y(c), 2) << "\"/>\n";
    labels << "<text x=\"" << left - 7 << "\" y=\"" << fixed_decimals(y(c) + 4, 2)
           << "\" text-anchor=\"end\">" << axis_number(c) << "</text>\n";
  }
  out << "</g>\n<g font-size=\"11\" fill=\"#333333\">\n" << labels.str() << "</g>\n";
  out << "<text x=\"" << left + plot_w / 2 << "\" y=\"" << height - 10
      << "\" font-size=\"12\" fill=\"#333333\" text-anchor=\"middle\">" << xml_escape(x_caption)
      << "</text>\n<text x=\"14\" y=\"" << top + plot_h / 2
      << "\" font-size=\"12\" fill=\"#333333\" text-anchor=\"middle\" transform=\"rotate(-90 14 "
      << top + plot_h / 2 << ")\">sequences</text>\n</svg>\n";
  return out.str();
}

// ---- reading --------------------------------------------------------------------------

int64_t rows_per_block(int64_t row_values, size_t value_bytes) {
  return std::max<int64_t>(1, static_cast<int64_t>(kReportBlockBytes / (static_cast<size_t>(row_values) *
                                                                   value_bytes)));
}

// Sum of /attributions over bases and positions, per sequence, a block of rows at a time.
std::vector<double> total_attributions(const LogoSource& source) {
  const auto dataset = h5::open_dataset_cached(source.file(), "attributions", kReportChunkCacheBytes);
  const auto dtype = h5::float_read_type(dataset.get());
  const int64_t n = source.sequences(), row_values = 4 * source.length();
  const int64_t block = std::min(n, rows_per_block(row_values, 4));
  auto stored = torch::empty({block, 4, source.length()}, dtype);
  auto values = dtype == torch::kFloat32 ? stored : torch::empty_like(stored, torch::kFloat32);
  std::vector<double> totals;
  totals.reserve(static_cast<size_t>(n));
  for (int64_t first = 0; first < n; first += block) {
    const int64_t count = std::min(block, n - first);
    h5::read_rows_into(dataset.get(), first, count, stored);
    if (dtype != torch::kFloat32) values.narrow(0, 0, count).copy_(stored.narrow(0, 0, count));
    const float* row = values.data_ptr<float>();
    for (int64_t r = 0; r < count; ++r, row += row_values) {
      totals.push_back(std::accumulate(row, row + row_values, 0.0));
    }
  }
  return totals;
}

struct Predictions {
  bool present = false;
  int64_t outputs = 0;  // T
  int64_t column = 0;
  std::string note;     // why the column is not the target, or why there are none
  std::vector<double> values;
};

Predictions target_predictions(const LogoSource& source, int64_t target) {
  Predictions p;
  if (!h5::exists(source.file(), "predictions")) {
    p.note = "The file has no /predictions.";
    return p;
  }
  const auto dataset = h5::open_dataset(source.file(), "predictions");
  const auto shape = h5::dataset_shape(dataset.get());
  if (shape.size() != 2 || static_cast<int64_t>(shape[0]) != source.sequences() || shape[1] == 0 ||
      h5::type_class(dataset.get()) != H5T_FLOAT) {
    p.note = "/predictions is not an (N, T) float array.";
    return p;
  }
  p.present = true;
  p.outputs = static_cast<int64_t>(shape[1]);
  p.column = target;
  if (target < 0 || target >= p.outputs) {
    p.note = "The target (" + std::to_string(target) + ") is not a column of /predictions; " +
             "column 0 is shown.";
    p.column = 0;
  }
  const int64_t n = source.sequences();
  const int64_t block = std::min(n, rows_per_block(p.outputs, 4));
  auto buffer = torch::empty({block, p.outputs}, torch::kFloat32);
  p.values.reserve(static_cast<size_t>(n));
  for (int64_t first = 0; first < n; first += block) {
    const int64_t count = std::min(block, n - first);
    h5::read_rows_into(dataset.get(), first, count, buffer);
    const float* row = buffer.data_ptr<float>();
    for (int64_t r = 0; r < count; ++r) p.values.push_back(row[r * p.outputs + p.column]);
  }
  return p;
}

std::vector<double> read_deltas(const LogoSource& source) {
  const auto dataset = h5::open_dataset(source.file(), "convergence_delta");
  const auto shape = h5::dataset_shape(dataset.get());
  if (shape.size() != 1 || static_cast<int64_t>(shape[0]) != source.sequences()) {
    throw InputError("input file '" + source.path() + "': /convergence_delta is not an (N) array");
  }
  const auto deltas = h5::read_rows(dataset.get(), 0, shape[0], torch::kFloat32)
                          .to(torch::kFloat64)
                          .contiguous();
  return {deltas.data_ptr<double>(), deltas.data_ptr<double>() + deltas.numel()};
}

H5T_class_t attribute_class(hid_t object, const std::string& name) {
  const h5::Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose,
                             "open attribute " + name);
  const h5::Handle type(H5Aget_type(attribute.get()), H5Tclose, "get attribute type");
  return H5Tget_class(type.get());
}

// A root attribute as text: strings as they are, integers in decimal; "" when absent.
std::string attribute_text(hid_t file, const std::string& name) {
  if (!h5::has_attribute(file, name)) return "";
  switch (attribute_class(file, name)) {
    case H5T_STRING: return h5::read_string_attribute(file, name);
    case H5T_INTEGER: return std::to_string(h5::read_int_attribute(file, name));
    default: return "(not text)";
  }
}

// ---- HTML -----------------------------------------------------------------------------

const char* kStyle = R"(
body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; color: #222; margin: 2em auto;
       max-width: 1300px; padding: 0 1.5em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.5em 0 0.3em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d0d0; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 0.92em;
              word-break: break-all; }
.figure { overflow-x: auto; margin: 0.5em 0 1em; }
.note { color: #555; font-size: 0.92em; }
.legend span { display: inline-block; padding: 0 0.5em; margin-right: 0.3em; color: #fff;
               border-radius: 3px; font-weight: bold; }
)";

class Html {
 public:
  Html& text(const std::string& s) { out_ << xml_escape(s); return *this; }
  Html& raw(const std::string& s) { out_ << s; return *this; }
  Html& tag(const std::string& name, const std::string& content, const std::string& cls = "") {
    out_ << "<" << name << (cls.empty() ? "" : " class=\"" + cls + "\"") << ">"
         << xml_escape(content) << "</" << name << ">\n";
    return *this;
  }
  // A two-column table of (key, value); values in `mono` style when asked.
  Html& key_values(const std::vector<std::pair<std::string, std::string>>& rows, bool mono) {
    out_ << "<table>\n";
    for (const auto& [key, value] : rows) {
      out_ << "<tr><th>" << xml_escape(key) << "</th><td" << (mono ? " class=\"mono\"" : "")
           << ">" << xml_escape(value) << "</td></tr>\n";
    }
    out_ << "</table>\n";
    return *this;
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

// The method options (methods/method.h) and the methods that read them; an option of another
// method is listed under "not used by this method", not among the run's settings.
const std::map<std::string, std::set<std::string>>& option_methods() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"n_steps", {"integrated_gradients"}},
      {"ig_rule", {"integrated_gradients"}},
      {"baseline", {"integrated_gradients", "deeplift"}},
      {"references", {"deeplift", "deeplift_shap"}},
      {"save_references", {"deeplift", "deeplift_shap"}},
      {"n_shuffles", {"deeplift_shap"}},
      {"seed", {"deeplift_shap"}},
      {"delta_warning", {"integrated_gradients", "deeplift", "deeplift_shap"}},
      {"ism_start", {"ism"}},
      {"ism_end", {"ism"}},
      {"ism_mode", {"ism"}}};
  return table;
}

bool used_by(const std::string& key, const std::string& method) {
  const auto found = option_methods().find(key);
  return found == option_methods().end() || method.empty() || found->second.count(method) > 0;
}

// Rows of the parameters table: the JSON object's members, strings unquoted; with `used`,
// those the method reads (and every other option), else the method options it does not read.
std::vector<std::pair<std::string, std::string>> parameter_rows(const nlohmann::json& parameters,
                                                                const std::string& method,
                                                                bool used) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [key, value] : parameters.items()) {
    if (used_by(key, method) != used) continue;
    rows.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
  }
  return rows;
}

// The target as the run named it: "counts (column 0)" when --target gave a name.
std::string target_text(const std::string& index, const nlohmann::json& parameters) {
  const auto named = parameters.find("target");
  if (named != parameters.end() && named->is_string() && !named->get<std::string>().empty()) {
    return named->get<std::string>() + " (column " + index + ")";
  }
  return index;
}

void run_section(Html& html, const LogoSource& source, const std::string& stored_type,
                 const nlohmann::json& parameters) {
  const hid_t file = source.file();
  std::vector<std::pair<std::string, std::string>> rows = {{"input file", source.path()}};
  for (const char* name : {"method", "target", "seqattr_version", "model_sha256", "run_id",
                           "command_line", "shard"}) {
    const std::string value = attribute_text(file, name);
    if (!value.empty()) rows.emplace_back(name, name == std::string("target") ? target_text(value, parameters) : value);
  }
  rows.emplace_back("sequences (N)", std::to_string(source.sequences()));
  rows.emplace_back("length (L)", std::to_string(source.length()) + " bp");
  rows.emplace_back("stored attributions", stored_type);
  rows.emplace_back("genomic regions", source.has_regions() ? "yes (/regions)" : "no");
  html.raw("<h2>Run</h2>\n").key_values(rows, true);
}

// The root attribute 'parameters' as JSON (an empty object when missing or not an object).
nlohmann::json read_parameters(hid_t file) {
  const auto parameters = nlohmann::json::parse(attribute_text(file, "parameters"), nullptr, false);
  return parameters.is_discarded() || !parameters.is_object() ? nlohmann::json::object() : parameters;
}

void parameters_section(Html& html, hid_t file, const nlohmann::json& parameters,
                        const std::string& method) {
  html.raw("<h2>Parameters</h2>\n");
  const std::string text = attribute_text(file, "parameters");
  if (text.empty()) {
    html.tag("p", "The file has no parameters attribute.", "note");
    return;
  }
  if (parameters.empty()) {
    html.tag("p", "The parameters attribute is not a JSON object; as stored:", "note")
        .tag("pre", text);
    return;
  }
  html.tag("p", "The options of the run (the root attribute 'parameters') that apply to "
                "its method.", "note")
      .key_values(parameter_rows(parameters, method, true), true);
  const auto unused = parameter_rows(parameters, method, false);
  if (unused.empty()) return;
  html.raw("<details><summary>Options " + std::to_string(unused.size()) +
           " other methods read (stored, not used by " + method + ")</summary>\n")
      .key_values(unused, true)
      .raw("</details>\n");
}

void statistics_table(Html& html, const Summary& s, const std::vector<double>& quantiles) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"count", std::to_string(s.count)}};
  if (s.non_finite > 0) rows.emplace_back("not finite (left out)", std::to_string(s.non_finite));
  if (!s.sorted.empty()) {
    rows.emplace_back("min", number(s.min));
    rows.emplace_back("mean", number(s.mean));
    for (double q : quantiles) {
      rows.emplace_back(fixed_decimals(q * 100, q * 100 == std::floor(q * 100) ? 0 : 1) + "% quantile",
                        number(quantile(s.sorted, q)));
    }
    rows.emplace_back("max", number(s.max));
  }
  html.key_values(rows, false);
}

void histogram_figure(Html& html, const Summary& s, int64_t bins, const std::string& caption) {
  if (s.sorted.empty()) {
    html.tag("p", "No finite values to draw.", "note");
    return;
  }
  html.raw("<div class=\"figure\">\n").raw(histogram_svg(s, bins, caption)).raw("</div>\n");
}

void predictions_section(Html& html, const Predictions& p, int64_t bins) {
  html.raw("<h2>Predictions</h2>\n");
  if (!p.present) {
    html.tag("p", p.note, "note");
    return;
  }
  html.tag("p", "Model output column " + std::to_string(p.column) + " of " +
                    std::to_string(p.outputs) + " (the explained target) on each input sequence." +
                    (p.note.empty() ? "" : " " + p.note),
           "note");
  const auto s = summarize(p.values);
  histogram_figure(html, s, bins, "prediction (output " + std::to_string(p.column) + ")");
  statistics_table(html, s, {0.05, 0.25, 0.5, 0.75, 0.95});
}

void delta_section(Html& html, const LogoSource& source, const std::string& method,
                   const nlohmann::json& parameters) {
  html.raw("<h2>Convergence delta</h2>\n");
  if (!h5::exists(source.file(), "convergence_delta")) {
    html.tag("p", "The method" + (method.empty() ? std::string() : " (" + method + ")") +
                      " records no convergence delta: this file has no /convergence_delta. "
                      "Integrated gradients, deeplift and deeplift_shap record one.",
             "note");
    return;
  }
  std::vector<double> magnitudes = read_deltas(source);
  for (double& d : magnitudes) d = std::abs(d);
  const auto s = summarize(magnitudes);
  html.tag("p", "|delta| per sequence: how far the attributions' sum is from the change of the "
                "model's output they explain (see README, Output). Small is good.",
           "note");
  std::vector<std::pair<std::string, std::string>> rows = {
      {"sequences", std::to_string(s.count)}};
  if (s.non_finite > 0) rows.emplace_back("not finite", std::to_string(s.non_finite));
  if (!s.sorted.empty()) {
    rows.emplace_back("mean |delta|", number(s.mean));
    for (double q : {0.5, 0.9, 0.99}) {
      rows.emplace_back(fixed_decimals(q * 100, 0) + "% quantile of |delta|", number(quantile(s.sorted, q)));
    }
    rows.emplace_back("max |delta|", number(s.max));
  }
  const auto threshold = parameters.find("delta_warning");
  if (threshold != parameters.end() && threshold->is_number()) {
    const double limit = threshold->get<double>();
    const auto above = s.sorted.end() - std::upper_bound(s.sorted.begin(), s.sorted.end(), limit);
    rows.emplace_back("above --delta-warning " + number(limit),
                      std::to_string(above + s.non_finite));
  }
  html.key_values(rows, false);
  histogram_figure(html, s, 40, "|convergence delta|");
}

std::string legend() {
  std::string out = "<p class=\"legend\">";
  const char* bases = "ACGT";
  for (int b = 0; b < 4; ++b) {
    out += "<span style=\"background:" + std::string(kBaseColours[b]) + "\">" + bases[b] +
           "</span>";
  }
  return out + "</p>\n";
}

// The top sequences by total attribution, each with the logo of a window around its peak.
// Findings: the seqlets' motifs, then their unnamed clusters, each with its average logo.
// The groups' table and logos, or `none` as a note when there are no groups.
void seqlet_groups_table(Html& html, const std::vector<SeqletGroup>& groups, const std::string& id_prefix,
                         const std::string& none) {
  if (groups.empty()) {
    html.tag("p", none, "note");
    return;
  }
  html.raw("<table>\n<tr><th>name</th><th>seqlets</th><th>mean score</th>"
           "<th>share of regions</th><th>strongest seqlet</th></tr>\n");
  for (const auto& g : groups) {
    html.raw("<tr><td>").text(g.name).raw("</td><td class=\"num\">" + std::to_string(g.count) +
             "</td><td class=\"num\">" + number(g.mean_score) + "</td><td class=\"num\">" +
             fixed_decimals(100 * g.region_share, 1) + "%</td><td class=\"mono\">")
        .text(g.consensus)
        .raw("</td></tr>\n");
  }
  html.raw("</table>\n");
  for (size_t i = 0; i < groups.size(); ++i) {
    LogoStyle style;
    style.standalone = false;
    style.id_prefix = id_prefix + std::to_string(i + 1) + "-";
    style.column_width = 16;
    style.plot_height = 120;
    html.raw("<div class=\"figure\">\n").raw(logo_svg(groups[i].logo, style)).raw("</div>\n");
  }
}

void findings_section(Html& html, const LogoSource& source, const std::vector<PlacedSeqlet>& seqlets,
                      const std::string& bed) {
  const auto motifs = motif_groups(seqlets, source);
  int64_t named = 0;
  for (const auto& g : motifs) named += g.count;
  html.raw("<h2>Motifs</h2>\n");
  html.tag("p", std::to_string(seqlets.size()) + " seqlets in " + base_name(bed) + ", " +
                    std::to_string(named) + " named after a motif. Per motif: its seqlets, their "
                    "mean score (summed attribution), the share of the " +
                    std::to_string(source.sequences()) + " regions holding at least one, and the "
                    "mean attributions of its strongest seqlets (up to 200), aligned at their centres, those "
                    "matched on the minus strand reverse-complemented.",
           "note");
  seqlet_groups_table(html, motifs, "motif",
                      "No seqlet is named after a motif (seqattr seqlets --motifs names them).");
  const auto clusters = unnamed_clusters(seqlets, source, kReportedClusters);
  html.raw("<h2>Unnamed seqlet clusters</h2>\n");
  html.tag("p", "Seqlets no motif names, clustered by sequence (either strand, ungapped, 85% "
                "identity over at least 3/4 of the shorter and 8 bases; the strongest first, one "
                "sign a cluster); the " + std::to_string(kReportedClusters) + " largest with "
                "three or more.",
           "note");
  seqlet_groups_table(html, clusters, "cluster", "No three unnamed seqlets cluster.");
}

int64_t top_section(Html& html, const LogoSource& source, const ReportOptions& options,
                    const std::vector<double>& totals, const Predictions& predictions,
                    const std::vector<PlacedSeqlet>& seqlets) {
  const int64_t n = source.sequences(), length = source.length();
  const int64_t k = std::min(options.top, n);
  const int64_t window =
      (options.window == 0 || options.window >= length) ? length : options.window;
  html.raw("<h2>Top " + std::to_string(k) + " sequences by |total attribution|</h2>\n");
  std::string how = "Total attribution: the sum of /attributions over the 4 bases and all " +
                    std::to_string(length) + " positions of a sequence; largest magnitude first, "
                    "of either sign (a strongly negative sequence is as telling). ";
  how += window < length
             ? "Each logo shows a window of " + std::to_string(window) + " of the " +
                   std::to_string(length) + " bp, around the position of largest |attribution| "
                   "(summed over the bases); the positions on its axis say where it lies."
             : "Each logo shows the whole sequence.";
  html.tag("p", how, "note").raw(legend());
  if (k == 0) return 0;

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // NaN totals sort last; ties keep file order.
  auto key = [&](int64_t i) {
    const double t = totals[static_cast<size_t>(i)];
    return std::isnan(t) ? -INFINITY : std::abs(t);
  };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return key(a) != key(b) ? key(a) > key(b) : a < b;
  });

  struct Entry {
    int64_t row, start;
    std::string name, region, svg;
  };
  std::vector<Entry> entries;
  for (int64_t rank = 0; rank < k; ++rank) {
    const int64_t row = order[static_cast<size_t>(rank)];
    const auto values = source.row(row, false);
    const auto per_position = values.sum(0).abs().nan_to_num(0.0);
    const int64_t peak = per_position.argmax().item<int64_t>();
    const int64_t start = std::clamp<int64_t>(peak - window / 2, 0, length - window);
    LogoStyle style;
    style.standalone = false;
    style.id_prefix = "top" + std::to_string(rank + 1) + "-";
    style.column_width = 11;
    style.plot_height = 150;
    Logo logo = source.logo(row, values, start, start + window, false);
    for (const auto& seqlet : seqlets) {  // the named ones: unnamed marks would bury them
      if (seqlet.row != row || seqlet.motif == "." || seqlet.end <= start ||
          seqlet.start >= start + window) {
        continue;
      }
      logo.marks.push_back({seqlet.start - start, seqlet.end - start,
                            seqlet.motif + (seqlet.reverse ? " (-)" : " (+)")});
    }
    entries.push_back({row, start, source.name(row), source.region(row), logo_svg(logo, style)});
  }

  html.raw("<table>\n<tr><th>rank</th><th>row</th><th>name</th>");
  if (source.has_regions()) html.raw("<th>region (0-based, half-open)</th>");
  html.raw("<th>prediction</th><th>total attribution</th>"
           "<th>logo window (0-based, half-open)</th></tr>\n");
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    html.raw("<tr><td class=\"num\">" + std::to_string(i + 1) + "</td><td class=\"num\">" +
             std::to_string(e.row) + "</td><td>").text(e.name).raw("</td>");
    if (source.has_regions()) html.raw("<td class=\"mono\">").text(e.region).raw("</td>");
    const std::string prediction =
        predictions.present ? number(predictions.values[static_cast<size_t>(e.row)]) : "";
    html.raw("<td class=\"num\">" + prediction + "</td><td class=\"num\">" +
             number(totals[static_cast<size_t>(e.row)]) + "</td><td class=\"num\">" +
             std::to_string(e.start) + "-" + std::to_string(e.start + window) + "</td></tr>\n");
  }
  html.raw("</table>\n");
  // The logo draws its own title (the sequence's name): no heading above it.
  for (const auto& e : entries) html.raw("<div class=\"figure\">\n").raw(e.svg).raw("</div>\n");
  return k;
}

}  // namespace

ReportSummary write_report(const ReportOptions& options) {
  if (options.top < 0) throw InputError("--top: must be >= 0");
  if (options.window < 0) throw InputError("--window: must be >= 0");
  if (options.bins < 1) throw InputError("--bins: must be >= 1");
  const LogoSource source(options.input);
  AtomicOutput::check_writable(options.output, {{"input", options.input}});  // before reading it all
  const hid_t file = source.file();
  const std::string method = attribute_text(file, "method");
  // The explained output column; 0 when the file does not say.
  const int64_t target =
      h5::has_attribute(file, "target") && attribute_class(file, "target") == H5T_INTEGER
          ? h5::read_int_attribute(file, "target")
          : 0;
  std::string stored_type;
  {
    const auto attributions = h5::open_dataset(file, "attributions");
    stored_type = h5::is_float16(attributions.get()) ? "float16" : "float32";
  }

  Html html;
  html.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
      .text("seqattr report: " + base_name(options.input))
      .raw("</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n<h1>")
      .text("seqattr report: " + base_name(options.input))
      .raw("</h1>\n");
  html.tag("p", std::to_string(source.sequences()) + " sequences of " +
                    std::to_string(source.length()) + " bp" +
                    (method.empty() ? std::string() : ", method " + method) + ".",
           "note");
  std::vector<PlacedSeqlet> seqlets;
  if (!options.seqlets.empty()) {
    seqlets = read_placed_seqlets(options.seqlets, source);
    findings_section(html, source, seqlets, options.seqlets);
  }
  const auto parameters = read_parameters(file);
  run_section(html, source, stored_type, parameters);
  parameters_section(html, file, parameters, method);
  const auto predictions = target_predictions(source, target);
  predictions_section(html, predictions, options.bins);

  const auto totals = total_attributions(source);
  html.raw("<h2>Total attribution per sequence</h2>\n")
      .tag("p", "The sum of /attributions over bases and positions of each sequence.", "note");
  const auto total_summary = summarize(totals);
  histogram_figure(html, total_summary, options.bins, "total attribution");
  statistics_table(html, total_summary, {0.05, 0.25, 0.5, 0.75, 0.95});

  ReportSummary summary{source.sequences(), source.length(), 0};
  summary.logos = top_section(html, source, options, totals, predictions, seqlets);
  delta_section(html, source, method, parameters);
  html.raw("<p class=\"note\">Made by ")
      .text("seqattr " + std::string(SEQATTR_VERSION))
      .raw(". This file is self-contained: no scripts, nothing loaded from elsewhere.</p>\n")
      .raw("</body>\n</html>\n");
  write_text_output(options.output, html.str(), options.input);
  return summary;
}

}  // namespace seqattr
