// medtrain inspect FILE|FOLDER [--npy OUT] [--png OUT]: what medtrain sees in a
// DICOM file (or a series folder), and optionally its decoded values as a .npy
// file and one frame as a picture (inspect_png.h).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <memory>

#include "data/data_error.h"
#include "data/dicom/dicom_image.h"
#include "data/dicom/multiframe_volume.h"
#include "data/io/output_file.h"
#include "data/io/user_file.h"
#include "data/npy_writer.h"
#include "data/dicom/series_volume.h"
#include "trainer/cli/commands.h"
#include "trainer/cli/inspect_png.h"
#include "trainer/user_error.h"

namespace medtrain::cli {
namespace {

struct InspectOptions {
  std::string path;
  std::string npy;
  InspectPngOptions png;  // png.out empty: no picture
  int64_t frame = 0;      // the flags' values; png holds those that were given
  double window_center = 0, window_width = 0;
};

template <typename T>
std::string or_absent(const std::optional<T>& v) {
  return v ? fmt::format("{}", *v) : "(absent)";
}

void print_info(const data::DicomImageInfo& i) {
  fmt::print("transfer syntax:      {} ({})\n", i.transfer_syntax_name, i.transfer_syntax_uid);
  fmt::print("modality:             {}\n", i.modality.empty() ? "(absent)" : i.modality);
  fmt::print("rows x cols x frames: {} x {} x {}\n", i.rows, i.cols, i.frames);
  fmt::print("bits:                 allocated {}, stored {}, high bit {}\n", i.bits_allocated, i.bits_stored,
             i.high_bit);
  fmt::print("pixel representation: {} ({})\n", i.pixel_representation,
             i.pixel_representation == 1 ? "signed" : "unsigned");
  fmt::print("photometric:          {}{}\n", i.photometric,
             i.inverted ? " (inverted by medtrain: higher = brighter)" : "");
  fmt::print("samples per pixel:    {}\n", i.samples_per_pixel);
  if (i.samples_per_pixel > 1) fmt::print("planar configuration: {}\n", i.planar_configuration);
  fmt::print("rescale:              slope {}, intercept {}\n", i.slope, i.intercept);
  fmt::print("window:               center {}, width {}\n", or_absent(i.window_center), or_absent(i.window_width));
  if (i.pixel_spacing) {
    fmt::print("pixel spacing:        {} x {} mm\n", (*i.pixel_spacing)[0], (*i.pixel_spacing)[1]);
  } else {
    fmt::print("pixel spacing:        (absent)\n");
  }
}

void print_range(const torch::Tensor& values) {
  fmt::print("values:               shape {}, min {}, max {}, mean {:.4f}\n", fmt::join(values.sizes(), "x"),
             values.min().item<float>(), values.max().item<float>(), values.mean().item<double>());
}

// A multi-frame volume file (RT dose, enhanced CT/MR) as 3D training reads it;
// inspect still shows the file when it is not a valid volume.
void print_multiframe_volume(const std::string& path) {
  if (!data::is_multiframe_volume(path)) return;
  try {
    const data::MultiframeVolume m = data::read_multiframe_volume(path);
    const data::SeriesVolume& v = m.volume;
    fmt::print("volume:               {}, {} (frames sorted along the slice normal)\n", m.kind,
               fmt::join(v.voxels.sizes(), "x"));
    fmt::print("spacing (z, y, x):    {} mm\n", fmt::join(v.spacing, ", "));
    fmt::print("origin:               {}\n", fmt::join(v.origin, ", "));
    if (m.kind == "RT dose") {
      fmt::print("dose grid:            min {}, max {} {} (stored x DoseGridScaling {})\n",
                 v.voxels.min().item<float>(), v.voxels.max().item<float>(), m.units.empty() ? "(units absent)" : m.units,
                 m.dose_grid_scaling);
    } else {
      fmt::print("volume values:        min {}, max {} (per-frame rescale)\n", v.voxels.min().item<float>(),
                 v.voxels.max().item<float>());
    }
  } catch (const data::DataError& e) {
    fmt::print("volume:               not readable as one: {}\n", e.what());
  }
}

int run_inspect(const InspectOptions& o) {
  std::error_code ec;
  if (std::filesystem::is_directory(o.path, ec)) {
    const data::SeriesVolume v = data::read_series_volume(o.path);
    fmt::print("series:               {} slices\n", v.files.size());
    fmt::print("spacing (z, y, x):    {} mm\n", fmt::join(v.spacing, ", "));
    fmt::print("origin:               {}\n", fmt::join(v.origin, ", "));
    fmt::print("orientation:          {}\n", fmt::join(v.orientation, ", "));
    print_info(data::read_dicom_info(v.files.front()));
    print_range(v.voxels);
    if (!o.npy.empty()) data::write_npy_f32(o.npy, v.voxels.data_ptr<float>(), v.voxels.sizes().vec());
  } else {
    const data::DicomImage img = data::read_dicom_image(o.path);
    print_info(img.info);
    print_range(img.pixels);
    print_multiframe_volume(o.path);
    if (!o.npy.empty()) data::write_npy_f32(o.npy, img.pixels.data_ptr<float>(), img.pixels.sizes().vec());
  }
  if (!o.npy.empty()) fmt::print("wrote {}\n", o.npy);
  if (!o.png.out.empty()) fmt::print("{}\n", write_inspect_png(o.png));
  return kExitOk;
}

}  // namespace

Command add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "show how medtrain reads a DICOM file or series folder");
  auto o = std::make_shared<InspectOptions>();
  cmd->add_option("path", o->path, "DICOM file, or a folder holding one series")->required();
  cmd->add_option("--npy", o->npy,
                  "write the decoded values (after the modality LUT; MONOCHROME1 inverted) as float32 .npy: "
                  "frames x rows x cols (x 3 for RGB), or slices x rows x cols for a folder");
  auto* png = cmd->add_option("--png", o->png.out,
                              "write one frame as 8-bit PNG through the training window (gray; RGB stays RGB): "
                              "the middle frame/slice unless --frame");
  auto* frame = cmd->add_option("--frame", o->frame, "with --png: the frame (or slice of a folder) to draw, from 0")
                    ->needs(png);
  auto* center = cmd->add_option("--window-center", o->window_center,
                                 "with --png: window center in modality units (default: the file's, else the "
                                 "frame's range)")
                     ->needs(png);
  auto* width = cmd->add_option("--window-width", o->window_width, "with --png: window width (> 0)")->needs(png);
  center->needs(width);
  width->needs(center);
  return {cmd, [o, frame, center, width] {
            std::error_code ec;  // non-throwing: the exception text would hold the whole path
            if (!std::filesystem::exists(o->path, ec)) {
              throw UserError(data::io::display_path(o->path) + ": " + (ec ? ec.message() : "no such file or folder"));
            }
            // A FIFO or device is refused by the DICOM reader's regular-file
            // check (data/io/user_file.h) before anything is opened for reading.
            // --npy is written in place (data/npy_writer): a FIFO there would
            // block, a symbolic link be written through; refused before decoding.
            if (!o->npy.empty()) {
              data::io::check_output_file(o->npy, "--npy", "NPY");
              check_out_is_not_the_input(o->npy, "--npy", o->path);
            }
            if (!o->png.out.empty()) {
              o->png.input = o->path;
              if (frame->count() > 0) o->png.frame = o->frame;
              if (center->count() > 0) o->png.window_center = o->window_center;
              if (width->count() > 0) o->png.window_width = o->window_width;
              check_inspect_png_options(o->png);  // before any decoding
            }
            return run_inspect(*o);
          }};
}

}  // namespace medtrain::cli
