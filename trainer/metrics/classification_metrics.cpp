#include "trainer/metrics/classification_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <ATen/ATen.h>

namespace medtrain::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Messages are built with a stream rather than fmt: see Note [No fmt in metrics]
// in progress_format.cpp.
template <typename... Args>
[[noreturn]] void fail(const char* metric, const Args&... parts) {
  std::ostringstream message;
  message << metric << ": ";
  (message << ... << parts);
  throw std::invalid_argument(message.str());
}

// Both metrics take the same inputs; a wrong shape or dtype is a caller bug that
// would otherwise surface as a silent broadcast or a garbage number.
void check_inputs(const char* metric, const torch::Tensor& logits,
                  const torch::Tensor& targets) {
  if (!logits.defined() || !targets.defined()) fail(metric, "logits and targets must be defined");
  if (logits.dim() != 2 || !at::isFloatingType(logits.scalar_type())) {
    fail(metric, "logits must be a floating [N, C] tensor, got ", logits.scalar_type(),
         " of shape ", logits.sizes());
  }
  if (targets.dim() != 1 || !at::isIntegralType(targets.scalar_type(), /*includeBool=*/false)) {
    fail(metric, "targets must be an int64 [N] tensor of class indices, got ",
         targets.scalar_type(), " of shape ", targets.sizes());
  }
  if (logits.size(0) != targets.size(0)) {
    fail(metric, "logits have ", logits.size(0), " rows but targets have ", targets.size(0),
         " entries (shapes ", logits.sizes(), " and ", targets.sizes(), ")");
  }
  if (logits.size(1) < 2) {
    fail(metric, "logits need at least 2 classes (C >= 2), got shape ", logits.sizes());
  }
  if (targets.numel() > 0) {
    const int64_t lo = targets.min().item<int64_t>();
    const int64_t hi = targets.max().item<int64_t>();
    if (lo < 0 || hi >= logits.size(1)) {
      fail(metric, "targets must lie in [0, ", logits.size(1), ") for ", logits.size(1),
           " classes, found ", lo < 0 ? lo : hi);
    }
  }
}

// Mann-Whitney U / (P * Q) with average ranks for ties, so a tied
// positive-negative pair counts one half. O(N log N).
double rank_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const std::size_t n = scores.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0;
  std::size_t positives = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double average_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1..j
    for (std::size_t k = i; k < j; ++k) {
      if (positive[order[k]]) {
        positive_rank_sum += average_rank;
        ++positives;
      }
    }
    i = j;
  }
  const std::size_t negatives = n - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  const double p = static_cast<double>(positives);
  const double u = positive_rank_sum - p * (p + 1) / 2;
  return u / (p * static_cast<double>(negatives));
}

// sklearn's F-score with zero_division=0.
double f1_from_counts(int64_t true_positives, int64_t false_positives, int64_t false_negatives) {
  const int64_t denominator = 2 * true_positives + false_positives + false_negatives;
  return denominator == 0 ? 0.0
                          : 2.0 * static_cast<double>(true_positives) / static_cast<double>(denominator);
}

}  // namespace

double accuracy(const torch::Tensor& logits, const torch::Tensor& targets) {
  check_inputs("accuracy", logits, targets);
  if (targets.numel() == 0) return kNaN;
  const auto correct = logits.argmax(1).eq(targets.to(logits.device(), at::kLong));
  return correct.sum().item<double>() / static_cast<double>(targets.numel());
}

double auroc(const torch::Tensor& logits, const torch::Tensor& targets) {
  check_inputs("auroc", logits, targets);
  // Softmax in double on CPU: float32 rounding could merge distinct scores
  // into ties (or NaN-sort them), which changes the half-credit count.
  const auto probs = logits.detach().to(at::kCPU, at::kDouble).softmax(1).contiguous();
  const auto labels = targets.detach().to(at::kCPU, at::kLong).contiguous();
  if (probs.isnan().any().item<bool>()) return kNaN;  // diverged model: no ranking exists
  const int64_t n = labels.numel();
  const int64_t classes = probs.size(1);
  const double* p = probs.data_ptr<double>();
  const int64_t* y = labels.data_ptr<int64_t>();

  std::vector<int64_t> count(classes, 0);
  for (int64_t i = 0; i < n; ++i) ++count[y[i]];
  const auto present = std::count_if(count.begin(), count.end(), [](int64_t c) { return c > 0; });
  if (present < 2) return kNaN;

  std::vector<double> scores(n);
  std::vector<bool> positive(n);
  auto one_vs_rest = [&](int64_t c) {
    for (int64_t i = 0; i < n; ++i) {
      scores[i] = p[i * classes + c];
      positive[i] = y[i] == c;
    }
    return rank_auc(scores, positive);
  };
  if (classes == 2) return one_vs_rest(1);

  double sum = 0;
  for (int64_t c = 0; c < classes; ++c) {
    if (count[c] > 0) sum += one_vs_rest(c);
  }
  return sum / static_cast<double>(present);
}

std::vector<double> auroc_per_label(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (logits.dim() != 2 || logits.sizes() != targets.sizes() || !at::isFloatingType(logits.scalar_type())) {
    fail("auroc_per_label", "logits and targets must be floating [N, L] tensors of one shape, got ",
         logits.sizes(), " and ", targets.sizes());
  }
  const auto scores = logits.detach().to(at::kCPU, at::kDouble).contiguous();
  const auto truth = targets.detach().to(at::kCPU, at::kDouble).contiguous();
  const int64_t n = scores.size(0), labels = scores.size(1);
  std::vector<double> out(static_cast<size_t>(labels), kNaN);
  if (scores.isnan().any().item<bool>()) return out;
  std::vector<double> s(static_cast<size_t>(n));
  std::vector<bool> positive(static_cast<size_t>(n));
  for (int64_t l = 0; l < labels; ++l) {
    for (int64_t i = 0; i < n; ++i) {
      s[i] = scores[i][l].item<double>();
      positive[i] = truth[i][l].item<double>() > 0.5;
    }
    out[static_cast<size_t>(l)] = rank_auc(s, positive);
  }
  return out;
}

double macro_f1_multiclass(const torch::Tensor& logits, const torch::Tensor& targets) {
  check_inputs("macro_f1_multiclass", logits, targets);
  if (targets.numel() == 0) return kNaN;
  const auto predicted = logits.detach().argmax(1).to(at::kCPU, at::kLong).contiguous();
  const auto truth = targets.detach().to(at::kCPU, at::kLong).contiguous();
  const int64_t n = truth.numel();
  const int64_t classes = logits.size(1);
  const int64_t* p = predicted.data_ptr<int64_t>();
  const int64_t* y = truth.data_ptr<int64_t>();
  std::vector<int64_t> tp(classes, 0), fp(classes, 0), fn(classes, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (p[i] == y[i]) {
      ++tp[y[i]];
    } else {
      ++fp[p[i]];
      ++fn[y[i]];
    }
  }
  double sum = 0;
  int64_t present = 0;
  for (int64_t c = 0; c < classes; ++c) {
    if (tp[c] + fp[c] + fn[c] == 0) continue;  // neither a target nor a prediction
    sum += f1_from_counts(tp[c], fp[c], fn[c]);
    ++present;
  }
  return sum / static_cast<double>(present);
}

MultilabelF1 multilabel_f1(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (!logits.defined() || !targets.defined()) fail("multilabel_f1", "logits and targets must be defined");
  if (logits.dim() != 2 || logits.sizes() != targets.sizes() ||
      !at::isFloatingType(logits.scalar_type())) {
    fail("multilabel_f1", "logits must be a floating [N, L] tensor and targets a [N, L] tensor of ",
         "0/1 of the same shape, got ", logits.scalar_type(), " ", logits.sizes(), " and ",
         targets.scalar_type(), " ", targets.sizes());
  }
  const int64_t n = logits.size(0), labels = logits.size(1);
  MultilabelF1 out;
  if (n == 0) {
    out.micro = out.macro = kNaN;
    out.per_label.assign(static_cast<size_t>(labels), kNaN);
    return out;
  }
  const auto predicted = logits.detach().gt(0).to(at::kCPU);
  const auto truth = targets.detach().to(at::kCPU, at::kDouble).gt(0.5);
  // Per label: column sums of the three outcomes, in int64 (no float rounding).
  const auto tp = (predicted & truth).sum(0, /*keepdim=*/false, at::kLong).contiguous();
  const auto fp = (predicted & truth.logical_not()).sum(0, false, at::kLong).contiguous();
  const auto fn = (predicted.logical_not() & truth).sum(0, false, at::kLong).contiguous();
  const int64_t* tp_p = tp.data_ptr<int64_t>();
  const int64_t* fp_p = fp.data_ptr<int64_t>();
  const int64_t* fn_p = fn.data_ptr<int64_t>();
  int64_t tp_all = 0, fp_all = 0, fn_all = 0;
  double sum = 0;
  for (int64_t l = 0; l < labels; ++l) {
    out.per_label.push_back(f1_from_counts(tp_p[l], fp_p[l], fn_p[l]));
    sum += out.per_label.back();
    tp_all += tp_p[l];
    fp_all += fp_p[l];
    fn_all += fn_p[l];
  }
  out.micro = f1_from_counts(tp_all, fp_all, fn_all);
  out.macro = labels == 0 ? kNaN : sum / static_cast<double>(labels);
  return out;
}

}  // namespace medtrain::metrics
