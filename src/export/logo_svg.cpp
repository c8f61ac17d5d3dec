#include "export/logo_svg.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <c10/util/Exception.h>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "export/logo_source.h"

namespace seqattr {

const char* const kFontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif";
const char* const kBaseColours[4] = {"#109648", "#255c99", "#f7b32b", "#d62839"};

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr const char* kBases = "ACGT";

// Layout of a logo, in pixels.
constexpr double kMarginLeft = 78;
constexpr double kMarginRight = 24;
constexpr double kMarginTop = 54;     // title and subtitle
constexpr double kMarginBottom = 56;  // x tick labels and caption
constexpr double kMinimumWidth = 360;
constexpr double kLetterInset = 0.05;     // of a column, on each side of a letter
constexpr double kLabelCharWidth = 6.8;   // estimated width of a character of an 11 px label
constexpr double kThinnestLetter = 0.02;  // pixels: letters thinner than this are not drawn

// A number with at most `decimals` decimals, trailing zeros removed; never "-0".
std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  std::string text = buffer;
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

std::string significant(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
  return buffer;
}

// A closed annulus sector centred in the 100 x 100 glyph box: the outer arc from angle `from`
// to `to` (degrees, counter-clockwise on screen, 0 pointing right), then the inner arc back.
std::string ring(double from, double to, double outer, double inner) {
  const int steps = static_cast<int>(std::ceil((to - from) / 5.0));
  std::string d;
  auto point = [&](double radius, int i, bool first) {
    const double angle = (from + (to - from) * i / steps) * kPi / 180.0;
    d += (first ? "M" : "L") + fixed(50 + radius * std::cos(angle), 2) + " " +
         fixed(50 - radius * std::sin(angle), 2);
  };
  for (int i = 0; i <= steps; ++i) point(outer, i, i == 0);
  for (int i = steps; i >= 0; --i) point(inner, i, false);
  return d + "Z";
}

// Outlines of A, C, G, T in a 100 x 100 box (y down), with the fill rule each needs.
// Every subpath of G runs the same way round, so with "nonzero" they unite.
struct Glyph {
  std::string path;
  const char* fill_rule;
};

const std::array<Glyph, 4>& glyphs() {
  static const std::array<Glyph, 4> table = {
      Glyph{"M0 100L38 0H62L100 100H78L68.6 75H31.4L22 100ZM37.4 58H62.6L50 23Z", "evenodd"},
      Glyph{ring(42, 318, 50, 31), "nonzero"},
      Glyph{ring(42, 360, 50, 31) + "M50 61H100V42H50Z", "nonzero"},
      Glyph{"M0 0H100V20H60V100H40V20H0Z", "nonzero"},
  };
  return table;
}

// The label of position `label` on the x axis.
std::string x_label(const Logo& logo, int64_t label) {
  const std::string number = std::to_string(label);
  return logo.chrom.empty() ? number : logo.chrom + ":" + number;
}

// (a mod b) in [0, b), for b > 0.
int64_t floor_mod(int64_t a, int64_t b) { return ((a % b) + b) % b; }

class SvgWriter {
 public:
  SvgWriter(const Logo& logo, const LogoStyle& style) : logo_(logo), style_(style) {
    TORCH_INTERNAL_ASSERT(
        logo.width > 0 && logo.values.size() == static_cast<size_t>(4 * logo.width),
        "a logo needs (4, width) values");
    scale_y();
    plot_width_ = static_cast<double>(logo.width) * style.column_width;
    // The last tick label may be centred on the last column: leave room for its right half.
    widest_label_ = std::max(x_label(logo, logo.first_label).size(),
                             x_label(logo, logo.first_label + logo.width - 1).size());
    const double right = std::max(kMarginRight, widest_label_ * kLabelCharWidth / 2 + 6);
    const double title_width = 9.0 * static_cast<double>(logo.title.size());
    // Whole pixels, so that a rendering has no half-covered edge.
    width_ = std::ceil(std::max({kMarginLeft + plot_width_ + right, kMinimumWidth,
                                 kMarginLeft + title_width}));
    height_ = std::ceil(kMarginTop + style.plot_height + kMarginBottom);
  }

  std::string draw() {
    open();
    out_ << "<rect width=\"" << fixed(width_, 2) << "\" height=\"" << fixed(height_, 2)
         << "\" fill=\"#ffffff\"/>\n";
    titles();
    grid();
    marks();
    letters();
    y_axis();
    x_axis();
    out_ << "</svg>\n";
    return out_.str();
  }

 private:
  double value(int base, int64_t position) const {
    const double v = logo_.values[static_cast<size_t>(base * logo_.width + position)];
    return std::isfinite(v) ? v : 0.0;
  }

  // The y scale: from the lowest negative stack to the highest positive one, out to ticks.
  void scale_y() {
    double highest = 0, lowest = 0;
    for (int64_t p = 0; p < logo_.width; ++p) {
      double above = 0, below = 0;
      for (int b = 0; b < 4; ++b) (value(b, p) > 0 ? above : below) += value(b, p);
      highest = std::max(highest, above);
      lowest = std::min(lowest, below);
    }
    if (highest == 0 && lowest == 0) highest = 1;
    step_ = nice_step((highest - lowest) / 5);
    top_ = std::ceil(highest / step_ - 1e-9) * step_;
    bottom_ = std::floor(lowest / step_ + 1e-9) * step_;
  }

  double y(double v) const {
    return kMarginTop + (top_ - v) / (top_ - bottom_) * style_.plot_height;
  }
  double column_x(int64_t p) const {
    return kMarginLeft + static_cast<double>(p) * style_.column_width;
  }
  double plot_bottom() const { return kMarginTop + style_.plot_height; }

  void open() {
    const std::string w = fixed(width_, 2), h = fixed(height_, 2);
    const std::string size =
        "width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h + "\"";
    if (style_.standalone) {
      out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           << "<svg xmlns=\"http://www.w3.org/2000/svg\" "
              "xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" "
           << size;
    } else {
      out_ << "<svg class=\"logo\" " << size;
    }
    out_ << " font-family=\"" << kFontFamily << "\" role=\"img\">\n";
    out_ << "<title>" << xml_escape(logo_.title) << "</title>\n<defs>\n";
    for (int b = 0; b < 4; ++b) {
      out_ << "<path id=\"" << glyph_id(b) << "\" fill-rule=\"" << glyphs()[b].fill_rule
           << "\" d=\"" << glyphs()[b].path << "\"/>\n";
    }
    out_ << "</defs>\n";
  }

  std::string glyph_id(int base) const { return style_.id_prefix + kBases[base]; }

  void titles() {
    out_ << "<text x=\"" << fixed(kMarginLeft, 2) << "\" y=\"22\" font-size=\"15\" "
         << "font-weight=\"bold\" fill=\"#222222\">" << xml_escape(logo_.title) << "</text>\n";
    if (!logo_.subtitle.empty()) {
      out_ << "<text x=\"" << fixed(kMarginLeft, 2) << "\" y=\"40\" font-size=\"11\" "
           << "fill=\"#555555\">" << xml_escape(logo_.subtitle) << "</text>\n";
    }
  }

  // Light lines at the y ticks, under the letters.
  void grid() {
    out_ << "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
    for (double v = bottom_; v <= top_ + step_ * 1e-6; v += step_) {
      if (std::abs(v) < step_ * 1e-6) continue;
      out_ << "<line x1=\"" << fixed(kMarginLeft, 2) << "\" x2=\""
           << fixed(kMarginLeft + plot_width_, 2) << "\" y1=\"" << fixed(y(v), 2) << "\" y2=\""
           << fixed(y(v), 2) << "\"/>\n";
    }
    out_ << "</g>\n";
  }

  // Bands behind the letters, clipped to the window, each labelled at the plot's top.
  void marks() {
    if (logo_.marks.empty()) return;
    out_ << "<g class=\"marks\">\n";
    for (const auto& mark : logo_.marks) {
      const int64_t from = std::max<int64_t>(0, mark.start), to = std::min(logo_.width, mark.end);
      if (to <= from) continue;
      const double x = column_x(from), w = column_x(to) - x;
      out_ << "<rect x=\"" << fixed(x, 2) << "\" y=\"" << fixed(kMarginTop, 2) << "\" width=\""
           << fixed(w, 2) << "\" height=\"" << fixed(style_.plot_height, 2)
           << "\" fill=\"#fff2b3\"><title>" << xml_escape(mark.label) << "</title></rect>\n"
           << "<text x=\"" << fixed(x + 2, 2) << "\" y=\"" << fixed(kMarginTop + 11, 2)
           << "\" font-size=\"10\" fill=\"#7a5c00\">" << xml_escape(mark.label) << "</text>\n";
    }
    out_ << "</g>\n";
  }

  void letter(int base, int64_t position, double from, double to) {
    const double upper = y(std::max(from, to)), lower = y(std::min(from, to));
    if (lower - upper < kThinnestLetter) return;
    const double x = column_x(position) + kLetterInset * style_.column_width;
    const double letter_width = (1 - 2 * kLetterInset) * style_.column_width;
    out_ << "<use " << (style_.standalone ? "xlink:href" : "href") << "=\"#" << glyph_id(base)
         << "\" fill=\"" << kBaseColours[base] << "\" transform=\"matrix("
         << significant(letter_width / 100, 5) << " 0 0 " << significant((lower - upper) / 100, 5)
         << " " << fixed(x, 2) << " " << fixed(upper, 2) << ")\"/>\n";
  }

  // Each column: positive values stacked up from the axis in increasing order (the largest
  // on top), negative ones down from it in order of increasing magnitude.
  void letters() {
    out_ << "<g class=\"letters\">\n";
    for (int64_t p = 0; p < logo_.width; ++p) {
      std::array<std::pair<double, int>, 4> column;
      for (int b = 0; b < 4; ++b) column[b] = {value(b, p), b};
      std::sort(column.begin(), column.end(), [](const auto& a, const auto& b) {
        return std::abs(a.first) != std::abs(b.first) ? std::abs(a.first) < std::abs(b.first)
                                                       : a.second < b.second;
      });
      double above = 0, below = 0;
      for (const auto& [v, b] : column) {
        if (v > 0) {
          letter(b, p, above, above + v);
          above += v;
        } else if (v < 0) {
          letter(b, p, below + v, below);
          below += v;
        }
      }
    }
    out_ << "</g>\n";
  }

  void y_axis() {
    const double x = kMarginLeft - 6;
    out_ << "<g stroke=\"#333333\" stroke-width=\"1\">\n"
         << "<line x1=\"" << fixed(x, 2) << "\" x2=\"" << fixed(x, 2) << "\" y1=\""
         << fixed(y(top_), 2) << "\" y2=\"" << fixed(y(bottom_), 2) << "\"/>\n";
    for (double v = bottom_; v <= top_ + step_ * 1e-6; v += step_) {
      out_ << "<line x1=\"" << fixed(x - 4, 2) << "\" x2=\"" << fixed(x, 2) << "\" y1=\""
           << fixed(y(v), 2) << "\" y2=\"" << fixed(y(v), 2) << "\"/>\n";
    }
    // The axis of the letters: attribution zero.
    out_ << "<line class=\"zero\" x1=\"" << fixed(kMarginLeft, 2) << "\" x2=\""
         << fixed(kMarginLeft + plot_width_, 2) << "\" y1=\"" << fixed(y(0), 2) << "\" y2=\""
         << fixed(y(0), 2) << "\"/>\n</g>\n";
    out_ << "<g class=\"y-labels\" font-size=\"11\" fill=\"#333333\" text-anchor=\"end\">\n";
    for (double v = bottom_; v <= top_ + step_ * 1e-6; v += step_) {
      out_ << "<text x=\"" << fixed(x - 7, 2) << "\" y=\"" << fixed(y(v) + 4, 2) << "\">"
           << axis_number(std::abs(v) < step_ * 1e-6 ? 0.0 : v) << "</text>\n";
    }
    out_ << "</g>\n";
    const double middle = kMarginTop + style_.plot_height / 2;
    out_ << "<text x=\"16\" y=\"" << fixed(middle, 2) << "\" font-size=\"12\" fill=\"#333333\" "
         << "text-anchor=\"middle\" transform=\"rotate(-90 16 " << fixed(middle, 2) << ")\">"
         << xml_escape(logo_.y_caption) << "</text>\n";
  }

  // Ticks every 1, 2, 5, 10, ... positions, as far apart as the widest label needs.
  void x_axis() {
    const int64_t first = logo_.first_label;
    const double needed = (widest_label_ * kLabelCharWidth + 14) / style_.column_width;
    const auto step = static_cast<int64_t>(nice_step(std::max(1.0, needed)));
    const double axis_y = plot_bottom() + 6;
    out_ << "<g stroke=\"#333333\" stroke-width=\"1\">\n"
         << "<line x1=\"" << fixed(kMarginLeft, 2) << "\" x2=\""
         << fixed(kMarginLeft + plot_width_, 2) << "\" y1=\"" << fixed(axis_y, 2) << "\" y2=\""
         << fixed(axis_y, 2) << "\"/>\n";
    std::ostringstream labels;
    for (int64_t p = floor_mod(step - floor_mod(first, step), step); p < logo_.width; p += step) {
      const double x = column_x(p) + style_.column_width / 2;
      out_ << "<line x1=\"" << fixed(x, 2) << "\" x2=\"" << fixed(x, 2) << "\" y1=\""
           << fixed(axis_y, 2) << "\" y2=\"" << fixed(axis_y + 4, 2) << "\"/>\n";
      labels << "<text x=\"" << fixed(x, 2) << "\" y=\"" << fixed(axis_y + 16, 2) << "\">"
             << xml_escape(x_label(logo_, first + p)) << "</text>\n";
    }
    out_ << "</g>\n<g class=\"x-labels\" font-size=\"11\" fill=\"#333333\" "
         << "text-anchor=\"middle\">\n" << labels.str() << "</g>\n";
    out_ << "<text x=\"" << fixed(kMarginLeft + plot_width_ / 2, 2) << "\" y=\""
         << fixed(axis_y + 38, 2) << "\" font-size=\"12\" fill=\"#333333\" "
         << "text-anchor=\"middle\">" << xml_escape(logo_.x_caption) << "</text>\n";
  }

  const Logo& logo_;
  const LogoStyle& style_;
  std::ostringstream out_;
  double widest_label_ = 0;  // characters
  double step_ = 1, top_ = 1, bottom_ = 0;
  double plot_width_ = 0, width_ = 0, height_ = 0;
};

h5::Handle open_rows(hid_t file, const std::string& name, const std::string& path) {
  if (!h5::exists(file, name)) {
    throw InputError("input file '" + path + "': no /" + name + " dataset (not a seqattr output)");
  }
  return h5::open_dataset(file, name);
}

}  // namespace

double nice_step(double minimum) {
  if (!(minimum > 0) || !std::isfinite(minimum)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(minimum)));
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    if (factor * power >= minimum * (1 - 1e-9)) return factor * power;
  }
  return 10 * power;
}

std::string axis_number(double value) {
  if (value == 0) return "0";
  std::string text = significant(value, 4);
  return text;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters are not allowed in XML 1.0.
        out += (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') ? '?' : c;
    }
  }
  return out;
}

std::string logo_svg(const Logo& logo, const LogoStyle& style) {
  return SvgWriter(logo, style).draw();
}

LogoSource::LogoSource(const std::string& path) : path_(path) {
  const std::string what = "input file '" + path + "'";
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    throw InputError(what + ": no such file");
  }
  try {
    file_ = h5::open_file_for_reading(path);
  } catch (const std::runtime_error&) {
    throw InputError(what + ": not an HDF5 file");
  }
  const auto attributions = open_rows(file(), "attributions", path);
  const auto shape = h5::dataset_shape(attributions.get());
  if (shape.size() != 3 || shape[1] != 4 || shape[2] == 0 ||
      h5::type_class(attributions.get()) != H5T_FLOAT) {
    throw InputError(what + ": /attributions is not an (N, 4, L) float array");
  }
  sequences_ = static_cast<int64_t>(shape[0]);
  length_ = static_cast<int64_t>(shape[2]);
  if (sequences_ == 0) throw InputError(what + ": holds no sequences");
  has_regions_ = h5::exists(file(), "regions/chrom") && h5::exists(file(), "regions/start");
  if (h5::has_attribute(file(), "method")) method_ = h5::read_string_attribute(file(), "method");
}

void LogoSource::check_index(int64_t index) const {
  if (index < 0 || index >= sequences_) {
    throw InputError("--index " + std::to_string(index) + ": out of range; '" + path_ +
                     "' holds " + std::to_string(sequences_) + " sequences (0 to " +
                     std::to_string(sequences_ - 1) + ")");
  }
}

torch::Tensor LogoSource::row(int64_t index, bool hypothetical) const {
  check_index(index);
  const std::string name = hypothetical ? "hypothetical_attributions" : "attributions";
  const auto dataset = open_rows(file(), name, path_);
  const auto shape = h5::dataset_shape(dataset.get());
  if (shape.size() != 3 || static_cast<int64_t>(shape[0]) != sequences_ || shape[1] != 4 ||
      static_cast<int64_t>(shape[2]) != length_ || h5::type_class(dataset.get()) != H5T_FLOAT) {
    throw InputError("input file '" + path_ + "': /" + name + " is not an (N, 4, L) float " +
                     "array like /attributions");
  }
  return h5::read_rows(dataset.get(), static_cast<hsize_t>(index), 1,
                       h5::float_read_type(dataset.get()))
      .to(torch::kFloat32)
      .reshape({4, length_})
      .contiguous();
}

std::string LogoSource::name(int64_t index) const {
  check_index(index);
  if (!h5::exists(file(), "names")) return "row " + std::to_string(index);
  const auto names = h5::open_dataset(file(), "names");
  if (static_cast<int64_t>(h5::dataset_shape(names.get()).at(0)) != sequences_) {
    return "row " + std::to_string(index);
  }
  return h5::read_strings(names.get(), static_cast<hsize_t>(index), 1).at(0);
}

std::string LogoSource::region(int64_t index) const {
  check_index(index);
  if (!has_regions_ || !h5::exists(file(), "regions/end")) return "";
  const auto read_int = [&](const std::string& name) {
    const auto dataset = h5::open_dataset(file(), name);
    return h5::read_rows(dataset.get(), static_cast<hsize_t>(index), 1, torch::kInt64)
        .item<int64_t>();
  };
  const auto chroms = h5::open_dataset(file(), "regions/chrom");
  return h5::read_strings(chroms.get(), static_cast<hsize_t>(index), 1).at(0) + ":" +
         std::to_string(read_int("regions/start")) + "-" + std::to_string(read_int("regions/end"));
}

Logo LogoSource::logo(int64_t index, int64_t start, int64_t end, bool hypothetical) const {
  check_index(index);
  const int64_t stop = end == -1 ? length_ : end;
  if (start < 0 || start >= length_ || stop <= start || stop > length_) {
    throw InputError("--start " + std::to_string(start) + " --end " + std::to_string(end) +
                     ": the window must lie in the sequence of " + std::to_string(length_) +
                     " bp (0 <= start < end <= " + std::to_string(length_) + ", 0-based, " +
                     "half-open; --end -1 is the end)");
  }
  return logo(index, row(index, hypothetical), start, stop, hypothetical);
}

Logo LogoSource::logo(int64_t index, const torch::Tensor& row, int64_t start, int64_t end,
                      bool hypothetical) const {
  TORCH_INTERNAL_ASSERT(0 <= start && start < end && end <= length_);
  Logo logo;
  logo.width = end - start;
  const auto window = row.to(torch::kFloat32).reshape({4, length_}).narrow(1, start, logo.width)
                          .contiguous();
  logo.values.assign(window.data_ptr<float>(), window.data_ptr<float>() + window.numel());
  logo.title = name(index);
  logo.y_caption = hypothetical ? "hypothetical attribution" : "attribution";
  std::string subtitle = logo.y_caption + "s";
  if (!method_.empty()) subtitle += ", " + method_;
  subtitle += "; row " + std::to_string(index) + ", positions " + std::to_string(start) + "-" +
              std::to_string(end) + " of " + std::to_string(length_) + " (0-based, half-open)";
  if (has_regions_) {
    const auto chroms = h5::open_dataset(file(), "regions/chrom");
    const auto starts = h5::open_dataset(file(), "regions/start");
    logo.chrom = h5::read_strings(chroms.get(), static_cast<hsize_t>(index), 1).at(0);
    const int64_t region_start =
        h5::read_rows(starts.get(), static_cast<hsize_t>(index), 1, torch::kInt64).item<int64_t>();
    // Genome browsers (UCSC, IGV) and samtools number bases from 1: so does the axis.
    logo.first_label = region_start + start + 1;
    logo.x_caption = "position on " + logo.chrom + " (1-based)";
    subtitle += "; " + logo.chrom + ":" + std::to_string(logo.first_label) + "-" +
                std::to_string(logo.first_label + logo.width - 1);
  } else {
    logo.first_label = start;
    logo.x_caption = "position in the sequence (0-based)";
  }
  logo.subtitle = subtitle;
  return logo;
}

void write_text_output(const std::string& path, const std::string& text,
                       const std::string& input) {
  AtomicOutput output(path, {{"input", input}});
  {
    std::ofstream out(output.temp_path(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) throw std::runtime_error("cannot write '" + output.temp_path() + "'");
  }
  output.commit();
}

void write_logo(const LogoRequest& request) {
  const LogoSource source(request.input);
  const Logo logo = source.logo(request.index, request.start, request.end, request.hypothetical);
  write_text_output(request.output, logo_svg(logo), request.input);
}

}  // namespace seqattr
