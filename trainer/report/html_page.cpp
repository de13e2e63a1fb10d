#include "trainer/report/html_page.h"

#include <fmt/format.h>

#include <cmath>

#include "data/io/user_file.h"
#include "trainer/report/html_text.h"
#include "trainer/version.h"

namespace medtrain::report {

namespace {

// Plain, readable, printable; nothing fetched from anywhere.
constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; }
.when { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0 2em 1em 0; display: inline-table; vertical-align: top; }
caption { font-weight: bold; text-align: left; padding-bottom: 0.3em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
td.value { font-family: monospace; text-align: right; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; display: table; }
figcaption { display: table-caption; caption-side: bottom; font-family: monospace; font-size: 0.9em; color: #333; }
img.pixels { image-rendering: pixelated; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
footer { color: #777; font-size: 0.8em; margin-top: 3em; }
)";

// Small pictures (a grid of 32x32 samples) are shown enlarged by a whole
// factor, pixels kept sharp, so they can be looked at; larger ones as they are.
constexpr int64_t kMinShownWidth = 256;

std::string figure_html(const Figure& f, bool enlarge) {
  int64_t factor = 1;
  if (enlarge && f.width > 0 && f.width < kMinShownWidth) factor = (kMinShownWidth + f.width - 1) / f.width;
  const std::string caption = html_escape(f.caption);
  return fmt::format("<figure><img{} src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\"><figcaption>{}</figcaption>"
                     "</figure>\n",
                     factor > 1 ? " class=\"pixels\"" : "", png_data_uri(f.png), caption, f.width * factor,
                     f.height * factor, caption);
}

std::string figures_section(const std::string& title, const std::vector<Figure>& figures, bool enlarge,
                            const std::string& when_none) {
  std::string html = fmt::format("<h2>{}</h2>\n", title);
  if (figures.empty()) return html + fmt::format("<p>{}</p>\n", when_none);
  html += "<div class=\"figures\">\n";
  for (const auto& f : figures) html += figure_html(f, enlarge);
  return html + "</div>\n";
}

std::string metrics_section(const std::vector<MetricTable>& tables) {
  std::string html = "<h2>Final metrics</h2>\n";
  if (tables.empty()) return html + "<p>No training step or evaluation was logged.</p>\n";
  for (const auto& t : tables) {
    html += fmt::format("<table>\n<caption>{}</caption>\n", html_escape(t.title));
    for (const auto& [name, value] : t.rows) {
      html += fmt::format("<tr><th>{}</th><td class=\"value\">{}</td></tr>\n", html_escape(name), html_escape(value));
    }
    html += "</table>\n";
  }
  return html;
}

std::string header_html(const RunContents& run) {
  std::string when = "time not recorded";
  if (std::isfinite(run.first_time)) {
    when = format_unix_time(run.first_time) + " to " + format_unix_time(run.last_time);
  }
  return fmt::format("<h1>{}</h1>\n<p class=\"when\">{} &middot; run folder <code>{}</code></p>\n",
                     html_escape(run.name), html_escape(when),
                     html_escape(data::io::display_path(run.dir.string())));
}

std::string notes_section(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() && b.empty()) return "";
  std::string html = "<h2>Notes</h2>\n<ul>\n";
  for (const auto* list : {&a, &b}) {
    for (const auto& note : *list) html += fmt::format("<li>{}</li>\n", html_escape(note));
  }
  return html + "</ul>\n";
}

}  // namespace

std::string render_report_html(const RunContents& run, const ReportFigures& figures) {
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>medtrain run report: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
      html_escape(run.name), kStyle);
  html += header_html(run);
  html += metrics_section(run.final_metrics);
  html += figures_section("Curves", figures.curves, false, "No curves were logged.");
  if (!figures.pr_curves.empty()) html += figures_section("Precision-recall", figures.pr_curves, false, "");
  html += figures_section("Example images", figures.images, true,
                          "No images were logged to TensorBoard (log.tensorboard off, or no image summaries yet).");
  html += "<h2>Config</h2>\n";
  html += run.config_yaml.empty() ? "<p>The run folder has no config.yaml.</p>\n"
                                  : fmt::format("<pre>{}</pre>\n", html_escape(run.config_yaml));
  html += notes_section(run.notes, figures.notes);
  html += fmt::format("<footer>Written by medtrain {} (medtrain report).</footer>\n</body>\n</html>\n",
                      html_escape(kVersion));
  return html;
}

}  // namespace medtrain::report
