#include "trainer/engine/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <thread>

#include "data/data_error.h"
#include "data/io/output_lock.h"
#include "data/io/user_file.h"
#include "data/rng.h"
#include "data/sampler.h"
#include "models/asr/whisper_task_model.h"
#include "models/model_error.h"
#include "models/nlu/text_model.h"
#include "models/pretrained/load_pretrained.h"
#include "models/registry.h"
#include "models/state_dict.h"
#include "trainer/asr/whisper_folder.h"
#include "trainer/asr/whisper_language.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/checkpoint/checkpoint_dir.h"
#include "trainer/checkpoint/checkpoint_files.h"
#include "trainer/config/config_loader.h"
#include "trainer/dist/text_broadcast.h"
#include "trainer/engine/autocast.h"
#include "trainer/engine/checkpointing.h"
#include "trainer/engine/data_parallel.h"
#include "trainer/engine/device_choice.h"
#include "trainer/engine/kernel_choice.h"
#include "trainer/engine/batch_preprocess.h"
#include "trainer/engine/device_prefetcher.h"
#include "trainer/engine/evaluator.h"
#include "trainer/engine/grad_scaler.h"
#include "trainer/engine/lr_schedule.h"
#include "trainer/engine/finite_checks.h"
#include "trainer/engine/optimizer_factory.h"
#include "trainer/engine/preprocess_choice.h"
#include "trainer/engine/run_folder.h"
#include "trainer/engine/run_logger.h"
#include "trainer/engine/eval_curves.h"
#include "trainer/engine/heap_reuse.h"
#include "trainer/engine/image_summaries.h"
#include "trainer/engine/save_failures.h"
#include "trainer/engine/step_phases.h"
#include "trainer/engine/stop_signal.h"
#include "trainer/engine/task.h"
#include "trainer/engine/training_data.h"
#include "trainer/metrics/chrome_trace.h"
#include "trainer/user_error.h"

namespace medtrain::engine {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// model.pretrained may name a checkpoint step folder or a ckpt folder (its
// `latest`); models/ reads files only, so a folder becomes its weights file here.
fs::path pretrained_weights_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return path;
  for (const fs::path& file : {fs::path(path) / checkpoint::kModelFile,
                               fs::path(path) / checkpoint::kLatestLink / checkpoint::kModelFile}) {
    if (fs::is_regular_file(file, ec)) return file;
  }
  throw UserError(fmt::format("model.pretrained: {} is a folder without {} or {}/{}; name a weights file "
                              "(.pth, .pt, .safetensors), a checkpoint step folder or a ckpt folder",
                              path, checkpoint::kModelFile, checkpoint::kLatestLink, checkpoint::kModelFile));
}

// model.pretrained is a Whisper folder (CTranslate2 or Hugging Face): it gives
// the architecture and the starting weights (a checkpoint may replace them).
std::shared_ptr<models::ImageModel> build_speech_model(const config::Config& cfg, c10::Device device,
                                                       std::vector<std::string>* pretrained_notes) {
  asr::WhisperFolder folder = [&] {
    try {
      return asr::load_whisper_folder(cfg.model.pretrained);
    } catch (const models::ModelError& e) {
      throw UserError(std::string("model.pretrained: ") + e.what());
    } catch (const data::DataError& e) {
      throw UserError(std::string("model.pretrained: ") + e.what());
    }
  }();
  // data.language against the model (.en: none; multilingual: required): the
  // same check as transcribe --language, so both prompt a model alike.
  asr::whisper_language_prompt(folder, cfg.model.pretrained, cfg.data.language, asr::LanguageFrom::kTrainingConfig);
  const int64_t positions = folder.model->config().max_target_positions;
  if (cfg.data.max_length > positions) {
    throw UserError(fmt::format("data.max_length {} exceeds the {} decoder positions of model.pretrained {}",
                                cfg.data.max_length, positions, cfg.model.pretrained));
  }
  auto model = std::make_shared<models::asr::WhisperTaskModel>(folder.model);
  if (cfg.model.freeze_encoder) model->freeze_encoder();
  if (pretrained_notes != nullptr) {
    pretrained_notes->push_back(fmt::format("model.pretrained: Whisper from {} ({} folder){}", cfg.model.pretrained,
                                            folder.layout, cfg.model.freeze_encoder ? "; encoder frozen" : ""));
    for (const auto& note : folder.notes) pretrained_notes->push_back("model.pretrained: " + note);
  }
  model->to(device);
  return model;
}

// `pretrained_notes`: null skips model.pretrained (the caller loads a checkpoint
// instead); else it receives what loading the pretrained weights did, to log.
std::shared_ptr<models::ImageModel> build_model(const config::Config& cfg, c10::Device device,
                                                std::vector<std::string>* pretrained_notes = nullptr) {
  const Task task = resolve_task(cfg);  // a task that does not fit the model is a UserError before any work
  // Same seed on every rank: initial weights must agree before the first step.
  torch::manual_seed(static_cast<uint64_t>(cfg.run.seed));
  std::shared_ptr<models::ImageModel> model;
  if (is_speech(cfg)) return build_speech_model(cfg, device, pretrained_notes);
  if (is_text(cfg)) {
    // The architecture comes from the Hugging Face folder; its weights unless a checkpoint follows.
    const bool weights = pretrained_notes != nullptr;
    std::vector<std::string> notes;
    std::shared_ptr<models::nlu::BertTaskModel> text;
    try {
      text = models::nlu::create_text_model(
          cfg.model.pretrained,
          task == Task::kTokenTagging ? models::nlu::TextHead::kToken : models::nlu::TextHead::kSequence,
          cfg.model.num_classes, weights, &notes);
    } catch (const models::ModelError& e) {
      throw UserError(std::string("model.pretrained: ") + e.what());
    }
    if (cfg.data.max_length > text->config().max_position_embeddings) {
      throw UserError(fmt::format("data.max_length {} exceeds the {} positions of model.pretrained {}",
                                  cfg.data.max_length, text->config().max_position_embeddings, cfg.model.pretrained));
    }
    model = text;
    if (weights) {
      pretrained_notes->push_back("model.pretrained: encoder from " + cfg.model.pretrained);
      for (const auto& note : notes) pretrained_notes->push_back("model.pretrained: " + note);
    }
    model->to(device);
    return model;
  }
  model = models::create_model({cfg.model.name, cfg.model.num_classes, cfg.model.in_channels});
  if (pretrained_notes != nullptr && !cfg.model.pretrained.empty()) {
    const fs::path file = pretrained_weights_file(cfg.model.pretrained);
    models::pretrained::PretrainedReport report;
    try {
      report = models::pretrained::load_pretrained(*model, file, {cfg.model.pretrained_skip});
    } catch (const models::ModelError& e) {
      throw UserError(std::string("model.pretrained: ") + e.what());
    }
    pretrained_notes->push_back(fmt::format("model.pretrained: loaded {} tensors from {} ({})", report.loaded,
                                            file.string(), report.format));
    for (const auto& note : report.notes) pretrained_notes->push_back("model.pretrained: " + note);
  }
  model->to(device);
  if (cfg.model.channels_last) {
    for (auto& p : model->parameters()) {
      if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
  return model;
}

// After the shared initialisation each rank draws from its own stream
// (dropout and the like must differ between ranks; data augmentation is
// seeded per sample and does not use this generator).
void seed_rank_generator(int64_t seed, int rank, int64_t step) {
  const uint64_t stream = (static_cast<uint64_t>(rank) << 40) ^ static_cast<uint64_t>(step);
  torch::manual_seed(data::mix_seed(static_cast<uint64_t>(seed), stream));
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// One rank's training run; the public train() is a thin wrapper.
class Loop {
 public:
  Loop(const config::Config& cfg, const dist::World& world, const TrainOptions& options);
  TrainResult run();

 private:
  void resume_if_asked(const std::string& resume);
  bool train_epoch();  // false when the run should end (steps done or stop requested)
  double run_micro_steps(DevicePrefetcher& batches, StepPhases& phases);  // returns the loss sum
  double optimizer_step();  // returns the learning rate used
  bool agree_to_stop(double& loss_sum, StepPhases& phases);
  void check_finite(double loss_sum);
  void report_step(double loss, double lr, const StepPhases& phases, double step_time);
  void adapt_position_to_world(const std::string& origin);
  void report_unused_parameters();
  int64_t global_batch() const {
    return cfg_.optim.batch_size * cfg_.optim.grad_accum_steps * world_.size;
  }
  void maybe_eval_and_checkpoint(bool epoch_end);
  void evaluate_now();
  void save_checkpoint(bool final_checkpoint = false);
  void clean_checkpoint_leftovers();

  config::Config cfg_;
  Task task_;
  dist::World world_;
  std::string config_yaml_;
  DeviceChoice device_;
  fs::path run_dir_;
  DataSplits data_;
  TrainOrder sampler_;  // this rank's indices per epoch (DICOM or shard order)
  std::shared_ptr<models::ImageModel> model_;
  std::unique_ptr<DataParallel> dp_;  // null on one rank
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  KernelChoice kernels_;
  PreprocessChoice preprocess_;  // where the train split's images are preprocessed
  GradScaler scaler_;
  std::optional<c10::ScalarType> amp_dtype_;
  checkpoint::TrainerState state_;
  std::unique_ptr<checkpoint::CheckpointManager> ckpt_;
  std::unique_ptr<RunLogger> log_;
  std::unique_ptr<ImageSummaries> images_;  // what the model sees, in TensorBoard
  std::unique_ptr<metrics::ChromeTrace> trace_;
  int64_t trace_until_step_ = 0;
  bool reported_unused_ = false;
  int64_t steps_per_epoch_ = 0;
  int64_t total_steps_ = 0;
  int64_t last_eval_step_ = -1;
  int64_t last_ckpt_step_ = -1;
  int64_t skipped_in_a_row_ = 0;  // fp16: consecutive steps skipped for non-finite gradients
  // Note [Storage faults in the loader]: this rank's training reads, all
  // epochs; summed over the ranks with each step's loss for the log.
  std::shared_ptr<data::ReadCounters> read_counters_ = std::make_shared<data::ReadCounters>();
  double read_retries_all_ = 0, read_skipped_all_ = 0;
  std::unique_ptr<SaveFailures> save_failures_;  // Note [Checkpoints on a full disk]
  std::unique_ptr<data::io::OutputLock> run_lock_;  // main rank: this run owns run_dir_
  // Loaded and verified before anything in run_dir_ is written, so that a bad
  // checkpoint leaves the run folder as it was.
  std::optional<fs::path> resume_path_;
  std::optional<checkpoint::Checkpoint> resume_ckpt_;
  TrainResult result_;
};

Loop::Loop(const config::Config& cfg, const dist::World& world, const TrainOptions& options)
    : cfg_(cfg),
      task_(resolve_task(cfg)),
      world_(world),
      config_yaml_(config::to_yaml(cfg)),
      device_(choose_device(cfg.run.device, world)),
      kernels_(choose_kernels(cfg.kernels.fused, device_.device)),
      run_dir_(fs::path(cfg.run.output_dir) / cfg.run.name),
      scaler_(cfg.run.precision == "fp16"),
      amp_dtype_(autocast_dtype(cfg.run.precision)) {
  if (cfg_.run.threads > 0) {
    torch::set_num_threads(static_cast<int>(cfg_.run.threads));
  } else if (world_.local_size > 1 && std::getenv("OMP_NUM_THREADS") == nullptr) {
    // Ranks sharing a node share its cores; LibTorch alone would give each all of them.
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    torch::set_num_threads(std::max(1, cores / world_.local_size));
  }
  keep_heap_between_steps();  // Note [Heap kept between steps]
  preprocess_ = choose_preprocess(cfg_, kernels_);
  data_ = open_data(cfg_, /*records_only=*/false, preprocess_.on_device);
  sampler_ = make_train_order(cfg_, data_, world_.rank, world_.size);
  const int64_t micro_batches = static_cast<int64_t>(sampler_.per_rank) / cfg_.optim.batch_size;
  steps_per_epoch_ = micro_batches / cfg_.optim.grad_accum_steps;
  if (steps_per_epoch_ == 0) {
    throw UserError(fmt::format(
        "data: split '{}' has {} samples, fewer than one optimizer step needs "
        "(optim.batch_size {} x optim.grad_accum_steps {} x {} ranks)",
        cfg_.data.train_split, data_.train->size(), cfg_.optim.batch_size, cfg_.optim.grad_accum_steps,
        world_.size));
  }
  total_steps_ = cfg_.run.epochs * steps_per_epoch_;
  if (cfg_.run.max_steps > 0) total_steps_ = std::min(total_steps_, cfg_.run.max_steps);

  std::vector<std::string> pretrained_notes;
  model_ = build_model(cfg_, device_.device, &pretrained_notes);
  apply_kernel_choice(kernels_, *model_);
  seed_rank_generator(cfg_.run.seed, world_.rank, 0);
  dp_ = DataParallel::setup(cfg_, world_, options.host, device_.device, *model_, config_yaml_,
                            kernels_.bucket_epilogue);
  optimizer_ = make_optimizer(cfg_.optim, *model_, kernels_.optimizer);
  scaler_.use_fused_kernel(kernels_.amp_unscale);
  if (world_.is_main()) {
    run_lock_ = std::make_unique<data::io::OutputLock>(run_dir_.string(), "train");
    claim_run_folder(run_dir_, options.resume, options.overwrite);
  }
  resume_path_ = checkpoint::resolve_resume(options.resume, run_dir_ / "ckpt");
  if (resume_path_) resume_ckpt_ = checkpoint::load_checkpoint(*resume_path_);
  fs::create_directories(run_dir_);
  if (world_.is_main()) write_text(run_dir_ / "config.yaml", config_yaml_);
  ckpt_ = std::make_unique<checkpoint::CheckpointManager>(
      run_dir_ / "ckpt",
      checkpoint::RetentionPolicy{cfg_.checkpoint.keep_last, cfg_.checkpoint.keep_best,
                                  cfg_.checkpoint.best_mode == "max"});
  log_ = std::make_unique<RunLogger>(run_dir_, cfg_.log, world_.is_main());
  images_ = std::make_unique<ImageSummaries>(cfg_, task_, *log_, total_steps_);
  save_failures_ = std::make_unique<SaveFailures>(cfg_.checkpoint.max_failed_saves);
  if (world_.is_main()) clean_checkpoint_leftovers();
  for (const auto& note : pretrained_notes) log_->message(note);
  state_.world_size = world_.size;
  state_.global_batch = global_batch();
  state_.grad_accum_steps = cfg_.optim.grad_accum_steps;
  resume_if_asked(options.resume);
  if (cfg_.log.trace_steps > 0) {
    trace_ = std::make_unique<metrics::ChromeTrace>(run_dir_ / fmt::format("timeline-rank{}.json", world_.rank),
                                                    world_.rank);
    trace_until_step_ = state_.step + cfg_.log.trace_steps;
  }
  result_.run_dir = run_dir_;
}

void Loop::resume_if_asked(const std::string& resume) {
  const auto& path = resume_path_;
  if (!path) {
    if (resume == "auto") log_->message("--resume auto: no checkpoint in " + (run_dir_ / "ckpt").string() + ", starting fresh");
    return;
  }
  checkpoint::Checkpoint ckpt = std::move(*resume_ckpt_);
  resume_ckpt_.reset();
  restore_checkpoint({*model_, *optimizer_, scaler_, state_}, ckpt, path->string());
  adapt_position_to_world(path->string());
  if (world_.rank > 0) {
    // Rank 0's generator came back with the checkpoint; the others resume
    // their own stream when it was saved (same world size), else start anew.
    const auto mine = std::find_if(ckpt.rng.begin(), ckpt.rng.end(), [&](const auto& entry) {
      return entry.first == fmt::format("cpu.rank{}", world_.rank);
    });
    if (mine != ckpt.rng.end()) {
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      gen.set_state(mine->second);
    } else {
      seed_rank_generator(cfg_.run.seed, world_.rank, state_.step);
    }
  }
  last_ckpt_step_ = state_.step;
  result_.last_checkpoint = *path;
  log_->message(fmt::format("resumed from {} at step {} (epoch {}, batch {})", path->string(), state_.step,
                            state_.epoch, state_.batch_in_epoch));
}

TrainResult Loop::run() {
  install_stop_handlers();
  log_->message(fmt::format("{} | {} {} {} ({:.1f}M parameters) | {} steps of {} x {} samples", device_.reason,
                            cfg_.model.name, task_name(task_), cfg_.run.precision,
                            models::parameter_count(*model_) / 1e6, total_steps_, cfg_.optim.batch_size,
                            cfg_.optim.grad_accum_steps * world_.size));
  log_->message(kernels_.message);
  if (!preprocess_.message.empty()) log_->message(preprocess_.message);
  model_->train();
  try {
    while (state_.step < total_steps_ && train_epoch()) {
    }
  } catch (const dist::CollectiveTimeout& e) {
    throw dist::CollectiveTimeout(fmt::format("step {}: {}", state_.step + 1, e.what()));
  }
  if (!result_.stopped_by_signal) {
    if (last_eval_step_ != state_.step) evaluate_now();
    if (last_ckpt_step_ != state_.step) save_checkpoint(/*final_checkpoint=*/true);
  }
  // No rank leaves before rank 0's last checkpoint is on disk: a launcher may
  // end the job as soon as one rank exits with a non-zero code (75).
  if (dp_) dp_->comm().barrier();
  if (data_.report) log_->message(data_.report());
  log_->finish();
  if (trace_) trace_->close();
  result_.steps = state_.step;
  result_.last_eval = state_.last_eval;
  return result_;
}

void Loop::adapt_position_to_world(const std::string& origin) {
  if (state_.global_batch != global_batch()) {
    throw UserError(fmt::format(
        "checkpoint {} was trained with a global batch of {} samples per step, this run has {} "
        "(optim.batch_size {} x optim.grad_accum_steps {} x {} ranks); keep the global batch to resume",
        origin, state_.global_batch, global_batch(), cfg_.optim.batch_size, cfg_.optim.grad_accum_steps,
        world_.size));
  }
  // Checkpoints sit on step boundaries, and a step covers the same run of
  // samples in the shared order whatever the split into ranks and micro-steps.
  const int64_t steps_in_epoch = state_.batch_in_epoch / state_.grad_accum_steps;
  if (state_.world_size != world_.size) {
    log_->message(fmt::format("resuming {} ranks' checkpoint on {} ranks (global batch {} kept)", state_.world_size,
                              world_.size, global_batch()));
  }
  state_.batch_in_epoch = steps_in_epoch * cfg_.optim.grad_accum_steps;
  state_.world_size = world_.size;
  state_.grad_accum_steps = cfg_.optim.grad_accum_steps;
}

bool Loop::train_epoch() {
  const int64_t accum = cfg_.optim.grad_accum_steps;
  auto options = loader_options(cfg_, state_.epoch, /*training=*/true);
  options.pin_memory = device_.device.is_cuda();
  options.read_counters = read_counters_;
  data::BatchLoader loader(data_.train, sampler_.epoch_indices(state_.epoch), options,
                           static_cast<size_t>(state_.batch_in_epoch));
  DevicePrefetcher batches(loader, device_.device);
  // data.on_error: skip — what the loaders of all ranks left out, said when
  // the epoch's training ends. A collective: every rank gets here together
  // (the epoch's end, or a stop all ranks agreed on).
  auto report_skips = [&] {
    const auto mine = static_cast<double>(loader.skipped_total());
    const double skipped = dp_ ? dp_->sum({mine})[0] : mine;
    if (skipped == 0) return;
    log_->event(state_.step, "samples_skipped",
                fmt::format("{} training samples of epoch {} could not be read and were skipped (data.on_error: "
                            "skip; all ranks)",
                            static_cast<int64_t>(skipped), state_.epoch));
  };
  while (state_.step < total_steps_ && (state_.batch_in_epoch / accum) < steps_per_epoch_) {
    const auto step_start = Clock::now();
    StepPhases phases(state_.step < trace_until_step_ ? trace_.get() : nullptr, state_.step + 1);
    double loss_sum = run_micro_steps(batches, phases);
    const auto opt_start = Clock::now();
    const double lr = optimizer_step();
    phases.add("optimizer", opt_start);
    const bool stop = agree_to_stop(loss_sum, phases);
    report_step(loss_sum / static_cast<double>(accum), lr, phases, seconds_since(step_start));
    check_finite(loss_sum);
    maybe_eval_and_checkpoint(/*epoch_end=*/false);
    if (stop) {
      log_->message(fmt::format("stop requested{}: stopping after step {}",
                                stop_requested() ? fmt::format(" (signal {})", stop_signal_number()) : " on another rank",
                                state_.step));
      save_checkpoint(/*final_checkpoint=*/true);
      result_.stopped_by_signal = true;
      report_skips();
      return false;
    }
  }
  report_skips();
  if (state_.batch_in_epoch / accum >= steps_per_epoch_) {
    ++state_.epoch;
    state_.batch_in_epoch = 0;
    maybe_eval_and_checkpoint(/*epoch_end=*/true);
  }
  return true;
}

double Loop::run_micro_steps(DevicePrefetcher& batches, StepPhases& phases) {
  const int64_t accum = cfg_.optim.grad_accum_steps;
  // Summed on the device and read once per step: reading each micro-step's
  // loss would make the CPU wait for that backward before it can queue the
  // next micro-step's forward. (The step's end syncs anyway: the scaler's
  // finite check.) In double, in the same order: the same sum as before.
  torch::Tensor loss_sum;
  if (dp_) {
    dp_->zero_grad();  // gradients are views into the reducer's buckets: zero, never drop
  } else {
    optimizer_->zero_grad();
  }
  for (int64_t micro = 0; micro < accum; ++micro) {
    auto t = Clock::now();
    auto batch = batches.next();
    t = phases.add("data_wait", t, metrics::ChromeTrace::kData);
    if (!batch) throw std::runtime_error("data loader ended before the epoch's last step");
    auto x = batch_images(*batch, cfg_.model.channels_last);  // on the device already; raw batches preprocessed there
    if (cfg_.model.channels_last && x.dim() == 4) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    const auto& y = batch->targets;
    if (micro == 0) images_->train_batch(state_.step, x, y);
    torch::Tensor loss;
    {
      AutocastGuard autocast(device_.device.type(), amp_dtype_);
      loss = step_loss(task_, *model_, x, y, kernels_.cross_entropy, cfg_.optim.label_smoothing);
    }
    t = phases.add("forward", t);
    // Gradient accumulation: only the last micro-step's backward communicates.
    if (dp_) dp_->begin_backward(micro == accum - 1);
    scaler_.scale(loss / static_cast<double>(accum)).backward();
    const auto value = loss.detach().to(torch::kDouble);
    loss_sum = loss_sum.defined() ? loss_sum + value : value;
    phases.add("backward", t);
    ++state_.batch_in_epoch;
  }
  if (dp_) {
    const auto t = Clock::now();
    dp_->finish_backward(scaler_.current_scale());
    phases.add("comm_wait", t);
    const auto stats = dp_->last_stats();
    phases.record("all-reduce", stats.first_launch, stats.all_done, metrics::ChromeTrace::kComm);
    if (!reported_unused_) report_unused_parameters();
  }
  return loss_sum.item<double>();
}

// Note [Non-finite is an error] (finite_checks.h). In fp32/bf16 a non-finite loss stops the
// run at once (every rank sees the same agreed loss, so all stop together), before
// any checkpoint of that step. Under fp16 loss scaling an overflow is expected
// now and then: the scaler already skipped the step; only a long run of skips
// (the scale halved 24 times) means the loss itself is broken.
void Loop::check_finite(double loss_sum) {
  constexpr int64_t kMaxSkippedInARow = 24;
  const bool finite = std::isfinite(loss_sum);
  if (finite && !scaler_.enabled()) return;
  if (scaler_.enabled()) {
    skipped_in_a_row_ = scaler_.last_step_skipped() ? skipped_in_a_row_ + 1 : 0;
    if (scaler_.last_step_skipped()) log_->event(state_.step, "non_finite_gradients", "step skipped (fp16 loss scaling)");
    if (skipped_in_a_row_ < kMaxSkippedInARow) return;
  }
  log_->event(state_.step, "non_finite_loss", "run stopped");
  throw UserError(non_finite_loss_message(state_.step, result_.last_checkpoint));
}

void Loop::report_unused_parameters() {
  reported_unused_ = true;
  const auto unused = dp_->unused_parameters();
  if (unused.empty()) return;
  log_->message(fmt::format("{} parameters got no gradient in step {} and are reduced as zeros: {}", unused.size(),
                            state_.step + 1, fmt::join(unused, ", ")));
}

// One small all-reduce per step: the loss for the log, whether any rank was
// asked to stop, so that all ranks stop after the same step, and the storage
// fault counts of all ranks for the log.
bool Loop::agree_to_stop(double& loss_sum, StepPhases& phases) {
  const auto retries = static_cast<double>(read_counters_->retries.load());
  const auto skipped = static_cast<double>(read_counters_->skipped.load());
  if (!dp_) {
    read_retries_all_ = retries, read_skipped_all_ = skipped;
    return stop_requested();
  }
  const auto t = Clock::now();
  const auto sums = dp_->sum({loss_sum, stop_requested() ? 1.0 : 0.0, retries, skipped});
  phases.add("comm_wait", t);
  loss_sum = sums[0] / world_.size;
  read_retries_all_ = sums[2], read_skipped_all_ = sums[3];
  return sums[1] > 0;
}

double Loop::optimizer_step() {
  const double lr = learning_rate_at(cfg_.schedule, cfg_.optim.lr, state_.step, total_steps_);
  set_learning_rate(*optimizer_, lr);
  // The fused bucket epilogue already unscaled the gradients and checked them.
  const bool finite = dp_ && dp_->unscales_gradients() ? scaler_.check_found_inf(dp_->found_inf())
                                                       : scaler_.unscale_and_check(*model_);
  if (finite) {
    if (cfg_.optim.grad_clip_norm > 0) {
      torch::nn::utils::clip_grad_norm_(model_->parameters(), cfg_.optim.grad_clip_norm);
    }
    optimizer_->step();
  } else {
    log_->message(fmt::format("step {}: non-finite gradients, step skipped, loss scale {} -> {}",
                              state_.step + 1, scaler_.current_scale(), scaler_.current_scale() / 2));
  }
  scaler_.update(finite);
  ++state_.step;
  state_.samples_seen += global_batch();
  return lr;
}

void Loop::report_step(double loss, double lr, const StepPhases& phases, double step_time) {
  const double samples = static_cast<double>(global_batch());
  metrics::StepReport r;
  r.step = state_.step;
  r.total_steps = total_steps_;
  r.epoch = state_.epoch;
  r.loss = loss;
  r.lr = lr;
  r.samples_per_s = step_time > 0 ? samples / step_time : 0;
  r.data_wait_fraction = step_time > 0 ? phases.seconds("data_wait") / step_time : 0;
  r.phase_s = phases.all();
  r.read_retries = static_cast<int64_t>(read_retries_all_);
  r.read_skipped = static_cast<int64_t>(read_skipped_all_);
  if (dp_) {
    const auto stats = dp_->last_stats();
    const double span = stats.span_s();
    r.phase_s.emplace_back("allreduce_span", span);
    r.phase_s.emplace_back("allreduce_hidden_fraction", span > 0 ? 1.0 - stats.comm_wait_s / span : 1.0);
  }
  log_->train_step(r);
}

void Loop::maybe_eval_and_checkpoint(bool epoch_end) {
  const int64_t s = state_.step;
  const bool eval_due = cfg_.run.eval_every_steps > 0 ? (s % cfg_.run.eval_every_steps == 0 && !epoch_end)
                                                      : epoch_end;
  const bool ckpt_due = cfg_.checkpoint.every_steps > 0 ? (s % cfg_.checkpoint.every_steps == 0 && !epoch_end)
                                                        : epoch_end;
  if (eval_due && last_eval_step_ != s) evaluate_now();
  if (ckpt_due && last_ckpt_step_ != s) save_checkpoint();
}

void Loop::evaluate_now() {
  last_eval_step_ = state_.step;
  if (!data_.val) return;
  if (dp_) dp_->sync_buffers(*model_);
  EvalOutputs outputs;
  state_.last_eval = evaluate(*model_, *data_.val, cfg_, device_.device, dp_ ? &dp_->comm() : nullptr, &outputs);
  log_->eval(state_.step, state_.epoch, state_.last_eval);
  log_eval_curves(*log_, state_.step, task_, outputs, cfg_.data.label_names);
  images_->validation(state_.step, *model_, *data_.val, device_.device);
  model_->train();
}

void Loop::save_checkpoint(bool final_checkpoint) {
  if (dp_) dp_->sync_buffers(*model_);
  // `latest` and `best` never point at a checkpoint that cannot be trained from.
  // Ranks hold the same parameters after a step, so all of them agree here.
  if (!all_finite(*model_)) {
    log_->event(state_.step, "non_finite_parameters", "run stopped");
    throw UserError(fmt::format("step {}: the model's parameters are not finite; no checkpoint written (last good "
                                "checkpoint: {}). Lower optim.lr or set optim.grad_clip_norm",
                                state_.step, result_.last_checkpoint ? result_.last_checkpoint->string() : "none"));
  }
  auto ckpt = capture_checkpoint({*model_, *optimizer_, scaler_, state_}, config_yaml_);
  if (dp_) {
    // Every rank's generator state travels to rank 0 (same size on all ranks).
    auto mine = ckpt.rng.front().second.reshape({1, -1});
    auto all = dp_->comm().allgather(mine.to(device_.device)).cpu();
    for (int r = 1; r < world_.size; ++r) ckpt.rng.emplace_back(fmt::format("cpu.rank{}", r), all[r].clone());
  }
  // Rank 0 writes; "" when it succeeded, else "<error>\n<latest or empty>",
  // which every rank learns so that all go on, or stop, together.
  std::string failure;
  if (world_.is_main()) {
    std::optional<double> metric;
    if (last_eval_step_ == state_.step) {
      auto it = state_.last_eval.find(cfg_.checkpoint.best_metric);
      if (it != state_.last_eval.end() && std::isfinite(it->second)) metric = it->second;
    }
    try {
      auto path = ckpt_->save(ckpt, metric);
      result_.last_checkpoint = path;
      log_->message("checkpoint " + path.string());
    } catch (const checkpoint::CheckpointError& e) {
      const auto latest = ckpt_->latest();
      failure = std::string(e.what()) + "\n" + (latest ? latest->string() : "");
    }
  }
  if (dp_) failure = dist::broadcast_text(dp_->comm(), failure, 0, device_.device);
  if (failure.empty()) {
    last_ckpt_step_ = state_.step;
    save_failures_->succeeded();
    return;
  }
  const size_t cut = failure.rfind('\n');
  const std::string error = failure.substr(0, cut);
  std::optional<fs::path> latest;
  if (cut != std::string::npos && cut + 1 < failure.size()) latest = failure.substr(cut + 1);
  const bool stop = save_failures_->failed(final_checkpoint);
  const std::map<std::string, int64_t> counts = {{"checkpoint_failures", save_failures_->total()}};
  if (!stop) {
    log_->event(state_.step, "checkpoint_failed", save_failures_->warning(state_.step, error, latest), counts);
    return;
  }
  log_->event(state_.step, "checkpoint_failed", "run stopped", counts);
  throw CheckpointSaveFailed(save_failures_->fatal(state_.step, error, latest, final_checkpoint));
}

// Note [Checkpoints on a full disk]: what a crashed or failed save left in
// ckpt/ (.tmp-* folders) holds space nothing reads; this run owns the folder.
void Loop::clean_checkpoint_leftovers() {
  for (const auto& left : checkpoint::remove_leftovers(ckpt_->dir())) {
    log_->message("warning: cannot remove the leftover of an earlier checkpoint save " + left);
  }
}

}  // namespace

TrainResult train(const config::Config& cfg, const dist::World& world, const TrainOptions& options) {
  Loop loop(cfg, world, options);
  return loop.run();
}

std::map<std::string, double> evaluate_checkpoint(const config::Config& cfg, const fs::path& path,
                                                  EvalOutputs* outputs) {
  auto device = choose_device(cfg.run.device, dist::World{});
  auto model = build_model(cfg, device.device);
  auto ckpt = checkpoint::load_checkpoint(path);
  models::load_state_dict(*model, ckpt.model, {true, {}, "checkpoint " + path.string()});
  auto data = open_data(cfg);
  if (!data.val) throw UserError("eval: split '" + cfg.data.val_split + "' has no rows in " + cfg.data.manifest);
  return evaluate(*model, *data.val, cfg, device.device, nullptr, outputs);
}

std::map<std::string, double> evaluate_pretrained(const config::Config& cfg, EvalOutputs* outputs) {
  auto device = choose_device(cfg.run.device, dist::World{});
  std::vector<std::string> notes;
  auto model = build_model(cfg, device.device, &notes);
  auto data = open_data(cfg);
  if (!data.val) throw UserError("eval: split '" + cfg.data.val_split + "' has no rows in " + cfg.data.manifest);
  return evaluate(*model, *data.val, cfg, device.device, nullptr, outputs);
}

}  // namespace medtrain::engine
