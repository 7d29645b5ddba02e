#include "adgap/report/demo_report.h"

#include <cstdio>
#include <sstream>

#include "adgap/io/atomic_file.h"
#include "adgap/io/png.h"
#include "adgap/report/render.h"

namespace adgap {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

// A Markdown table (header, separator, rows) as an HTML table.
std::string md_table(const std::string& md) {
  std::istringstream in(md);
  std::ostringstream out;
  out << "<table>";
  int row = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '|') continue;
    if (row++ == 1) continue;  // |---|---|
    out << "<tr>";
    std::istringstream cells(line.substr(1));
    for (std::string cell; std::getline(cells, cell, '|');) {
      const auto a = cell.find_first_not_of(' '), b = cell.find_last_not_of(' ');
      cell = a == std::string::npos ? "" : cell.substr(a, b - a + 1);
      out << (row == 1 ? "<th>" : "<td>") << esc(cell) << (row == 1 ? "</th>" : "</td>");
    }
    out << "</tr>";
  }
  out << "</table>";
  return out.str();
}

}  // namespace

DemoImage write_demo_image(const std::string& out, const std::string& stem, const cv::Mat& bgr,
                           const cv::Mat& h01, double threshold, Polarity polarity,
                           const std::vector<Detection>& dets) {
  DemoImage im;
  im.title = stem;
  im.original = "images/" + stem + ".png";
  im.overlay = "images/" + stem + ".overlay.png";
  im.mask = "images/" + stem + ".mask.png";
  im.detect = "images/" + stem + ".detect.png";
  write_png_atomic(out + "/" + im.original, bgr);
  write_png_atomic(out + "/" + im.overlay, overlay_heatmap(bgr, h01));
  write_png_atomic(out + "/" + im.mask, threshold_mask(h01, threshold));
  write_png_atomic(out + "/" + im.detect, draw_detections(bgr, dets));
  im.note = std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) + ", polarity " +
            to_string(polarity) + ", " + std::to_string(dets.size()) + " digits read:";
  constexpr size_t kListed = 40;  // labels listed in the note
  for (size_t i = 0; i < std::min(kListed, dets.size()); ++i) {
    im.note += " " + std::to_string(dets[i].label);
  }
  if (dets.size() > kListed) im.note += " ...";
  return im;
}

void write_demo_html(const std::string& path, const DemoReport& r) {
  std::ostringstream h;
  char buf[128];
  h << R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>adgap demo</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:1600px;color:#222}
h1{margin-bottom:0} .sub{color:#666;margin-top:.2em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3} .row{display:flex;gap:8px;align-items:flex-start;margin-bottom:.3em}
.row figure{margin:0;flex:1} .row img{width:100%;border:1px solid #ddd;image-rendering:auto}
figcaption{font-size:.85em;color:#555;text-align:center} .figs img{max-width:48%}
</style></head><body>
<h1>adgap demo</h1>
<p class="sub">AdGAP: weakly supervised digit localisation from an MNIST classifier.
)" << esc(r.model_line)
    << "</p>\n";
  std::snprintf(buf, sizeof buf, "%.2f %%", 100 * r.test_accuracy);
  h << "<h2>Classifier</h2><p>Test accuracy <b>" << buf
    << "</b> on the 10,000 MNIST test images.</p>";
  h << "<table><tr><th>class</th>";
  for (size_t c = 0; c < r.class_accuracy.size(); ++c) h << "<th>" << c << "</th>";
  h << "</tr><tr><th>accuracy</th>";
  for (double a : r.class_accuracy) {
    std::snprintf(buf, sizeof buf, "%.2f %%", 100 * a);
    h << "<td>" << buf << "</td>";
  }
  h << "</tr></table>\n";
  h << "<div class=\"figs\"><img src=\"" << esc(r.loss_png)
    << "\" alt=\"training loss\"> <img src=\"" << esc(r.weights_png)
    << "\" alt=\"filter weights\"></div>\n";
  h << "<p>Left: training loss of every batch (paper Figure 1) with test accuracy per epoch. "
       "Right: filter importance, the rise in mean NLL loss when each final filter is blocked "
       "(paper Eq. 1, sign E<sub>i</sub> - e).</p>\n";
  h << "<h2>Generated scenes</h2><p>" << esc(r.scene_caption) << "</p>"
    << md_table(r.scene_table_md) << "\n";
  h << "<h2>Images</h2><p>Heatmap mode <b>" << esc(r.map_mode) << "</b> (overlay and mask, "
    << "threshold mean + 2 std); detections with mode <b>" << esc(r.detect_mode) << "</b>.</p>\n";
  for (const DemoImage& im : r.images) {
    h << "<h3>" << esc(im.title) << "</h3><p class=\"sub\">" << esc(im.note)
      << "</p><div class=\"row\">";
    const std::pair<const std::string*, const char*> figs[] = {{&im.original, "original"},
                                                               {&im.overlay, "heatmap overlay"},
                                                               {&im.mask, "mask"},
                                                               {&im.detect, "detections"}};
    for (const auto& [src, cap] : figs) {
      h << "<figure><a href=\"" << esc(*src) << "\"><img src=\"" << esc(*src) << "\" alt=\"" << cap
        << "\"></a><figcaption>" << cap << "</figcaption></figure>";
    }
    h << "</div>\n";
  }
  h << "</body></html>\n";
  atomic_write_text(path, h.str());
}

}  // namespace adgap
