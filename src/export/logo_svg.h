#pragma once
// Attribution logos drawn as SVG. Each position is a column of the letters A, C, G, T whose
// heights are their attributions: positive ones stacked above the axis, smallest nearest it,
// negative ones below (upright), smallest magnitude nearest it. Letters are filled outlines
// defined here (no font), so a logo renders the same everywhere; only the axis labels and
// the title are text. Colours: A green, C blue, G orange, T red.
#include <cstdint>
#include <string>
#include <vector>


namespace seqattr {

// What one logo shows: the attributions of `width` consecutive positions of one sequence.
struct Logo {
  std::string title;
  std::string subtitle;
  std::vector<float> values;  // (4, width), row-major, bases in A, C, G, T order
  int64_t width = 0;
  // The x axis labels position p (0-based, in the window) with `first_label + p`, written
  // "chrom:N" when `chrom` is not empty.
  std::string chrom;
  int64_t first_label = 0;
  std::string x_caption;  // e.g. "position in chr1 (1-based)"
  std::string y_caption;  // e.g. "attribution"
  // Stretches to mark (seqlets): a shaded band behind positions [start, end) of the window,
  // labelled at the top.
  struct Mark {
    int64_t start = 0, end = 0;
    std::string label;
  };
  std::vector<Mark> marks;
};

struct LogoStyle {
  // An SVG document (XML declaration, namespaces, xlink:href) or an element to put inline
  // in HTML (no namespaces and no URLs at all: plain href).
  bool standalone = true;
  std::string id_prefix = "seqattr-logo-";  // of the glyph definitions: unique per document
  double column_width = 12;                  // pixels per position
  double plot_height = 180;                  // pixels between the top and bottom of the y scale
};

// Fill colours of A, C, G, T.
extern const char* const kBaseColours[4];
// The font of logos and reports' figures.
extern const char* const kFontFamily;

std::string logo_svg(const Logo& logo, const LogoStyle& style = {});

// A "nice" step (1, 2 or 5 times a power of ten) of at least `minimum` (> 0).
double nice_step(double minimum);
// A number for an axis label: up to 4 significant digits, no "-0".
std::string axis_number(double value);
// `text` with &, <, >, " and ' escaped for XML and HTML.
std::string xml_escape(const std::string& text);

struct LogoRequest {
  std::string input;
  std::string output;
  int64_t index = 0;
  int64_t start = 0;
  int64_t end = -1;  // -1: the end of the sequence
  bool hypothetical = false;
};

// Draws the requested logo into `output` (written atomically).
void write_logo(const LogoRequest& request);

// Writes `text` to `path` through an AtomicOutput: complete or not at all.
void write_text_output(const std::string& path, const std::string& text, const std::string& input);

}  // namespace seqattr
