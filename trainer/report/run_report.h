#pragma once
// `medtrain report RUN_DIR`: one self-contained HTML page of a training run,
// readable without TensorBoard: the resolved config, final metrics, the loss
// and metric curves and the example images (PNG embedded as data: URIs).
#include <filesystem>

namespace medtrain::report {

// Writes the report to `out` (RUN_DIR/report.html by default at the CLI) via
// a temporary file and rename, and returns it. Throws medtrain::UserError
// naming the folder when it is not a run folder or holds no events (no
// metrics.jsonl records and no TensorBoard event file).
std::filesystem::path write_run_report(const std::filesystem::path& run_dir, const std::filesystem::path& out);

}  // namespace medtrain::report
