#include "trainer/engine/evaluator.h"

#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "data/audio/whisper_tokens.h"
#include "data/sampler.h"
#include "data/text/tokenizer.h"
#include "models/asr/whisper_greedy.h"
#include "models/asr/whisper_task_model.h"
#include "data/text/bio_tags.h"
#include "trainer/engine/autocast.h"
#include "trainer/engine/task.h"
#include "trainer/engine/training_data.h"
#include "trainer/metrics/classification_metrics.h"
#include "trainer/metrics/dice.h"
#include "trainer/metrics/entity_metrics.h"
#include "trainer/metrics/word_error_rate.h"

namespace medtrain::engine {
namespace {

std::string output_name(const config::Config& cfg, size_t i) {
  return i < cfg.data.label_names.size() ? cfg.data.label_names[i] : "class" + std::to_string(i);
}

// Rows of every rank, in rank order (all ranks get the same result).
torch::Tensor gather(dist::Communicator* comm, const torch::Tensor& rows, c10::Device device) {
  if (!comm) return rows;
  const auto on = device.is_cuda() ? device : c10::Device(c10::kCPU);
  return dist::allgather_rows(*comm, rows.to(on)).cpu();
}

void classification_metrics(Task task, const torch::Tensor& logits, const torch::Tensor& targets,
                            const config::Config& cfg, std::map<std::string, double>& out) {
  namespace F = torch::nn::functional;
  if (task == Task::kMulticlass) {
    out["val/loss"] = F::cross_entropy(logits, targets).item<double>();
    out["val/accuracy"] = metrics::accuracy(logits, targets);
    out["val/auroc"] = metrics::auroc(logits, targets);
    out["val/f1_macro"] = metrics::macro_f1_multiclass(logits, targets);
    return;
  }
  const auto f1 = metrics::multilabel_f1(logits, targets);
  out["val/f1_micro"] = f1.micro;
  out["val/f1_macro"] = f1.macro;
  for (size_t i = 0; i < f1.per_label.size(); ++i) out["val/f1_" + output_name(cfg, i)] = f1.per_label[i];
  out["val/loss"] = F::binary_cross_entropy_with_logits(logits, targets).item<double>();
  out["val/accuracy"] = logits.gt(0).eq(targets.gt(0.5)).to(torch::kDouble).mean().item<double>();
  const auto per_label = metrics::auroc_per_label(logits, targets);
  double sum = 0;
  int finite = 0;
  for (size_t i = 0; i < per_label.size(); ++i) {
    out["val/auroc_" + output_name(cfg, i)] = per_label[i];
    if (std::isfinite(per_label[i])) sum += per_label[i], ++finite;
  }
  // Macro average over the labels that have both outcomes in the split (CheXNet's mean AUROC).
  out["val/auroc"] = finite > 0 ? sum / finite : std::nan("");
}

// Samples left out under data.on_error: skip, over all ranks (a collective:
// every rank calls it).
double skipped_everywhere(dist::Communicator* comm, const data::BatchLoader& loader, c10::Device device) {
  auto n = torch::tensor({static_cast<double>(loader.skipped_total())}, torch::kDouble).unsqueeze(0);
  return gather(comm, n, device).sum().item<double>();
}

// Token tagging: entity-level counts (seqeval's semantics) over the scored
// tokens of each text, and the cross-entropy over those tokens.
struct TaggingSums {
  metrics::EntityCounts entities;
  double loss_sum = 0, tokens = 0, samples = 0;

  void add(const torch::Tensor& logits, const torch::Tensor& targets, const std::vector<std::string>& tags) {
    namespace F = torch::nn::functional;
    const auto flat = logits.reshape({-1, logits.size(-1)});
    const auto gold = targets.reshape({-1});
    const auto scored = gold.ne(data::text::kIgnoreTag);
    loss_sum += F::cross_entropy(flat, gold, F::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
    tokens += scored.sum().item<double>();
    samples += static_cast<double>(targets.size(0));
    const auto pred = logits.argmax(-1).cpu();
    const auto truth = targets.cpu();
    for (int64_t r = 0; r < truth.size(0); ++r) {
      std::vector<std::string> g, p;
      for (int64_t t = 0; t < truth.size(1); ++t) {
        const int64_t y = truth[r][t].item<int64_t>();
        if (y == data::text::kIgnoreTag) continue;
        g.push_back(tags.at(static_cast<size_t>(y)));
        p.push_back(tags.at(static_cast<size_t>(pred[r][t].item<int64_t>())));
      }
      entities.add(g, p);
    }
  }
};

std::map<std::string, double> tagging_metrics(TaggingSums& sums, const config::Config& cfg, c10::Device device,
                                              dist::Communicator* comm) {
  const auto& types = cfg.data.label_names;
  auto packed = sums.entities.to_vector(types);
  std::vector<double> row(packed.begin(), packed.end());
  row.insert(row.end(), {sums.loss_sum, sums.tokens, sums.samples});
  auto all = torch::tensor(row, torch::kDouble).unsqueeze(0);
  if (comm) all = gather(comm, all, device).sum(0, /*keepdim=*/true);
  std::vector<int64_t> counts(packed.size());
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = std::llround(all[0][static_cast<int64_t>(i)].item<double>());
  const auto n = static_cast<int64_t>(counts.size());
  std::map<std::string, double> out;
  const double tokens = all[0][n + 1].item<double>(), samples = all[0][n + 2].item<double>();
  if (samples == 0) return out;
  out["val/loss"] = tokens > 0 ? all[0][n].item<double>() / tokens : std::nan("");
  const auto scores = metrics::EntityCounts::from_vector(counts, types).scores();
  for (const auto& [name, prf] : scores) {
    if (name == "micro") {
      out["val/precision"] = prf.precision;
      out["val/recall"] = prf.recall;
      out["val/f1"] = prf.f1;
    } else if (name == "macro") {
      out["val/f1_macro"] = prf.f1;
    } else {
      out["val/f1_" + name] = prf.f1;
    }
  }
  out["val/samples"] = samples;
  return out;
}

// asr: the teacher-forced loss (no label smoothing: comparable across
// recipes) and greedy transcripts scored against the references (WER and CER
// on normalised text, trainer/metrics/word_error_rate.h). The prompt is the
// targets' leading special ids; the reference text is the targets' text ids
// decoded, which is the manifest's transcript as the tokenizer round-trips it.
struct SpeechSums {
  data::text::Tokenizer tokenizer;
  metrics::TranscriptErrors errors;
  double loss_sum = 0, tokens = 0;
  int64_t max_new_tokens = 0;

  void add(models::asr::WhisperTaskModel& model, const torch::Tensor& features, const torch::Tensor& targets) {
    namespace F = torch::nn::functional;
    const int64_t eot = model.config().eos_token_id;
    const auto teacher = models::asr::teacher_forcing(targets, eot);
    const auto encoded = model.forward(features);
    const auto logits = model.whisper()->decode(teacher.tokens, encoded).to(torch::kFloat32);
    loss_sum += F::cross_entropy(logits.reshape({-1, logits.size(-1)}), teacher.labels.reshape({-1}),
                                 F::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    tokens += teacher.labels.ne(-100).sum().item<double>();
    const auto host = targets.cpu().contiguous();
    const auto rows = host.accessor<int64_t, 2>();
    models::asr::GreedyOptions greedy;
    for (int64_t i = 0; i < rows.size(1) && rows[0][i] > eot; ++i) greedy.prompt.push_back(rows[0][i]);
    const auto room = model.config().max_target_positions - static_cast<int64_t>(greedy.prompt.size());
    greedy.max_new_tokens = std::max<int64_t>(1, std::min(max_new_tokens, room));
    // The encoder states of the loss above: the encoder is most of the work.
    const auto decoded = models::asr::greedy_search(model.whisper(), encoded, greedy);
    for (int64_t r = 0; r < rows.size(0); ++r) {
      std::vector<int32_t> reference;
      for (int64_t i = 0; i < rows.size(1); ++i) {
        const int64_t id = rows[r][i];
        if (id >= 0 && id < eot) reference.push_back(static_cast<int32_t>(id));
      }
      const auto& hyp = decoded.tokens.at(static_cast<size_t>(r));
      errors.add(tokenizer.decode(reference), tokenizer.decode(std::vector<int32_t>(hyp.begin(), hyp.end())));
    }
  }

  std::map<std::string, double> metrics(c10::Device device, dist::Communicator* comm) const {
    const auto& e = errors;
    auto all = torch::tensor({static_cast<double>(e.word_edits), static_cast<double>(e.ref_words),
                              static_cast<double>(e.char_edits), static_cast<double>(e.ref_chars),
                              static_cast<double>(e.utterances), loss_sum, tokens},
                             torch::kDouble)
                   .unsqueeze(0);
    if (comm) all = gather(comm, all, device).sum(0, /*keepdim=*/true);
    const auto v = [&](int64_t i) { return all[0][i].item<double>(); };
    std::map<std::string, double> out;
    if (v(4) == 0) return out;
    out["val/wer"] = v(1) > 0 ? v(0) / v(1) : std::nan("");
    out["val/cer"] = v(3) > 0 ? v(2) / v(3) : std::nan("");
    out["val/loss"] = v(6) > 0 ? v(5) / v(6) : std::nan("");
    out["val/samples"] = v(4);
    return out;
  }
};

}  // namespace

std::map<std::string, double> evaluate(models::ImageModel& model, const data::Dataset& dataset,
                                       const config::Config& cfg, c10::Device device,
                                       dist::Communicator* comm, EvalOutputs* outputs) {
  model.eval();
  torch::NoGradGuard no_grad;
  const Task task = resolve_task(cfg);
  const size_t rank = comm ? static_cast<size_t>(comm->rank()) : 0;
  const size_t world = comm ? static_cast<size_t>(comm->size()) : 1;
  std::vector<size_t> order;
  for (size_t i = rank; i < dataset.size(); i += world) order.push_back(i);
  // Non-owning: the loader lives only inside this call.
  std::shared_ptr<const data::Dataset> view(&dataset, [](const data::Dataset*) {});
  data::BatchLoader loader(view, order, loader_options(cfg, 0, /*training=*/false));
  std::vector<torch::Tensor> logits, targets;
  metrics::DiceCounts dice;
  TaggingSums tagging;
  std::optional<SpeechSums> speech;
  if (task == Task::kSpeech) {
    speech.emplace(SpeechSums{data::audio::load_whisper_tokenizer(cfg.model.pretrained), {}, 0, 0, cfg.data.max_length});
  }
  const auto tags = data::text::bio_tag_names(cfg.data.label_names);
  double loss_sum = 0, samples = 0;
  AutocastGuard autocast(device.type(), autocast_dtype(cfg.run.precision));
  while (auto batch = loader.next()) {
    if (batch->targets.numel() == 0) continue;
    auto x = batch->images.to(device);
    if (cfg.model.channels_last && x.dim() == 4) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    if (speech) {
      speech->add(dynamic_cast<models::asr::WhisperTaskModel&>(model), x, batch->targets.to(device));
      continue;
    }
    auto out = model.forward(x).to(torch::kFloat32);
    if (task == Task::kTokenTagging) {  // texts differ in length: counts, not logits, are kept
      tagging.add(out, batch->targets.to(device), tags);
      continue;
    }
    if (task == Task::kSegmentation) {
      // Per-pixel logits of a whole split would not fit in memory: keep sums.
      const auto y = batch->targets.to(device);
      const double n = static_cast<double>(y.size(0));
      loss_sum += task_loss(task, out, y, false).item<double>() * n;
      samples += n;
      dice.add(out, y);
      continue;
    }
    logits.push_back(out.cpu());
    targets.push_back(batch->targets);
  }
  const double skipped = skipped_everywhere(comm, loader, device);
  auto with_skips = [skipped](std::map<std::string, double> m) {
    if (skipped > 0) m["val/skipped"] = skipped;
    return m;
  };
  if (task == Task::kTokenTagging) return with_skips(tagging_metrics(tagging, cfg, device, comm));
  if (speech) return with_skips(speech->metrics(device, comm));
  std::map<std::string, double> out;
  if (task == Task::kSegmentation) {
    const int64_t k = cfg.model.num_classes;
    auto sums = torch::cat({dice.intersection.defined() ? dice.packed() : torch::zeros({3 * k}, torch::kDouble),
                            torch::tensor({loss_sum, samples}, torch::kDouble)});
    if (comm) sums = gather(comm, sums.unsqueeze(0), device).sum(0);
    samples = sums[3 * k + 1].item<double>();
    if (samples == 0) return out;
    const auto per_class = metrics::dice_per_class(metrics::DiceCounts::unpack(sums.narrow(0, 0, 3 * k)));
    out["val/loss"] = sums[3 * k].item<double>() / samples;
    out["val/dice"] = metrics::mean_foreground_dice(per_class);
    for (size_t i = 0; i < per_class.size(); ++i) out["val/dice_" + output_name(cfg, i)] = per_class[i];
    out["val/samples"] = samples;
    return with_skips(out);
  }
  const auto num_classes = static_cast<int64_t>(cfg.model.num_classes);
  auto all_logits = logits.empty() ? torch::zeros({0, num_classes}) : torch::cat(logits);
  auto all_targets = !targets.empty() ? torch::cat(targets)
                     : task == Task::kMultilabel ? torch::zeros({0, num_classes})
                                                 : torch::zeros({0}, torch::kLong);
  all_logits = gather(comm, all_logits, device);
  all_targets = gather(comm, all_targets, device);
  if (all_targets.size(0) == 0) return with_skips(out);
  if (outputs) *outputs = EvalOutputs{all_logits, all_targets};
  classification_metrics(task, all_logits, all_targets, cfg, out);
  out["val/samples"] = static_cast<double>(all_targets.size(0));
  return with_skips(out);
}

}  // namespace medtrain::engine
