#include "trainer/engine/trainer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>

#include "data/sampler.h"
#include "models/registry.h"
#include "models/state_dict.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/config/config_loader.h"
#include "trainer/engine/autocast.h"
#include "trainer/engine/checkpointing.h"
#include "trainer/engine/device_choice.h"
#include "trainer/engine/evaluator.h"
#include "trainer/engine/grad_scaler.h"
#include "trainer/engine/lr_schedule.h"
#include "trainer/engine/optimizer_factory.h"
#include "trainer/engine/run_logger.h"
#include "trainer/engine/stop_signal.h"
#include "trainer/engine/training_data.h"
#include "trainer/user_error.h"

namespace medtrain::engine {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::shared_ptr<models::ImageModel> build_model(const config::Config& cfg, c10::Device device) {
  // Same seed on every rank: initial weights must agree before the first step.
  torch::manual_seed(static_cast<uint64_t>(cfg.run.seed));
  auto model = models::create_model({cfg.model.name, cfg.model.num_classes, cfg.model.in_channels});
  model->to(device);
  if (cfg.model.channels_last) {
    for (auto& p : model->parameters()) {
      if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
  return model;
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
  double optimizer_step();  // returns the learning rate used
  void report_step(double loss, double lr, double data_wait, double step_time);
  int64_t global_batch() const {
    return cfg_.optim.batch_size * cfg_.optim.grad_accum_steps * world_.size;
  }
  void maybe_eval_and_checkpoint(bool epoch_end);
  void evaluate_now();
  void save_checkpoint();

  config::Config cfg_;
  dist::World world_;
  std::string config_yaml_;
  DeviceChoice device_;
  fs::path run_dir_;
  DataSplits data_;
  std::unique_ptr<data::DistributedSampler> sampler_;
  std::shared_ptr<models::ImageModel> model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  GradScaler scaler_;
  std::optional<c10::ScalarType> amp_dtype_;
  checkpoint::TrainerState state_;
  std::unique_ptr<checkpoint::CheckpointManager> ckpt_;
  std::unique_ptr<RunLogger> log_;
  int64_t steps_per_epoch_ = 0;
  int64_t total_steps_ = 0;
  int64_t last_eval_step_ = -1;
  int64_t last_ckpt_step_ = -1;
  TrainResult result_;
};

Loop::Loop(const config::Config& cfg, const dist::World& world, const TrainOptions& options)
    : cfg_(cfg),
      world_(world),
      config_yaml_(config::to_yaml(cfg)),
      device_(choose_device(cfg.run.device, world)),
      run_dir_(fs::path(cfg.run.output_dir) / cfg.run.name),
      scaler_(cfg.run.precision == "fp16"),
      amp_dtype_(autocast_dtype(cfg.run.precision)) {
  if (cfg_.run.threads > 0) torch::set_num_threads(static_cast<int>(cfg_.run.threads));
  data_ = open_data(cfg_.data);
  sampler_ = std::make_unique<data::DistributedSampler>(
      data_.train->size(),
      data::SamplerOptions{static_cast<uint64_t>(cfg_.run.seed), cfg_.data.shuffle, world_.rank, world_.size});
  const int64_t micro_batches = static_cast<int64_t>(sampler_->per_rank()) / cfg_.optim.batch_size;
  steps_per_epoch_ = micro_batches / cfg_.optim.grad_accum_steps;
  if (steps_per_epoch_ == 0) {
    throw UserError(fmt::format(
        "data: split '{}' gives {} samples per rank, fewer than one optimizer step needs "
        "(optim.batch_size {} x optim.grad_accum_steps {})",
        cfg_.data.train_split, sampler_->per_rank(), cfg_.optim.batch_size, cfg_.optim.grad_accum_steps));
  }
  total_steps_ = cfg_.run.epochs * steps_per_epoch_;
  if (cfg_.run.max_steps > 0) total_steps_ = std::min(total_steps_, cfg_.run.max_steps);

  model_ = build_model(cfg_, device_.device);
  optimizer_ = make_optimizer(cfg_.optim, *model_);
  fs::create_directories(run_dir_);
  if (world_.is_main()) write_text(run_dir_ / "config.yaml", config_yaml_);
  ckpt_ = std::make_unique<checkpoint::CheckpointManager>(
      run_dir_ / "ckpt",
      checkpoint::RetentionPolicy{cfg_.checkpoint.keep_last, cfg_.checkpoint.keep_best,
                                  cfg_.checkpoint.best_mode == "max"});
  log_ = std::make_unique<RunLogger>(run_dir_, cfg_.log, world_.is_main());
  state_.world_size = world_.size;
  resume_if_asked(options.resume);
  result_.run_dir = run_dir_;
}

void Loop::resume_if_asked(const std::string& resume) {
  auto path = checkpoint::resolve_resume(resume, run_dir_ / "ckpt");
  if (!path) {
    if (resume == "auto") log_->message("--resume auto: no checkpoint in " + (run_dir_ / "ckpt").string() + ", starting fresh");
    return;
  }
  auto ckpt = checkpoint::load_checkpoint(*path);
  restore_checkpoint({*model_, *optimizer_, scaler_, state_}, ckpt, path->string());
  if (state_.world_size != world_.size) {
    throw UserError(fmt::format("checkpoint {} was written by {} ranks, this run has {}", path->string(),
                                state_.world_size, world_.size));
  }
  last_ckpt_step_ = state_.step;
  log_->message(fmt::format("resumed from {} at step {} (epoch {}, batch {})", path->string(), state_.step,
                            state_.epoch, state_.batch_in_epoch));
}

TrainResult Loop::run() {
  install_stop_handlers();
  log_->message(fmt::format("{} | {} {} ({:.1f}M parameters) | {} steps of {} x {} samples", device_.reason,
                            cfg_.model.name, cfg_.run.precision,
                            models::parameter_count(*model_) / 1e6, total_steps_, cfg_.optim.batch_size,
                            cfg_.optim.grad_accum_steps * world_.size));
  model_->train();
  while (state_.step < total_steps_ && train_epoch()) {
  }
  if (!result_.stopped_by_signal) {
    if (last_eval_step_ != state_.step) evaluate_now();
    if (last_ckpt_step_ != state_.step) save_checkpoint();
  }
  log_->finish();
  result_.steps = state_.step;
  result_.last_eval = state_.last_eval;
  return result_;
}

bool Loop::train_epoch() {
  const int64_t accum = cfg_.optim.grad_accum_steps;
  data::BatchLoader loader(data_.train, sampler_->epoch_indices(state_.epoch),
                           loader_options(cfg_, state_.epoch, /*training=*/true),
                           static_cast<size_t>(state_.batch_in_epoch));
  while (state_.step < total_steps_ && (state_.batch_in_epoch / accum) < steps_per_epoch_) {
    const auto step_start = Clock::now();
    double data_wait = 0, loss_sum = 0;
    optimizer_->zero_grad();
    for (int64_t micro = 0; micro < accum; ++micro) {
      const auto wait_start = Clock::now();
      auto batch = loader.next();
      data_wait += seconds_since(wait_start);
      if (!batch) throw std::runtime_error("data loader ended before the epoch's last step");
      auto x = batch->images.to(device_.device, /*non_blocking=*/true);
      if (cfg_.model.channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
      auto y = batch->targets.to(device_.device);
      torch::Tensor loss;
      {
        AutocastGuard autocast(device_.device.type(), amp_dtype_);
        loss = torch::nn::functional::cross_entropy(model_->forward(x), y);
      }
      scaler_.scale(loss / static_cast<double>(accum)).backward();
      loss_sum += loss.item<double>();
      ++state_.batch_in_epoch;
    }
    const double lr = optimizer_step();
    report_step(loss_sum / static_cast<double>(accum), lr, data_wait, seconds_since(step_start));
    maybe_eval_and_checkpoint(/*epoch_end=*/false);
    if (stop_requested()) {
      log_->message(fmt::format("signal {} received: stopping after step {}", stop_signal_number(), state_.step));
      save_checkpoint();
      result_.stopped_by_signal = true;
      return false;
    }
  }
  if (state_.batch_in_epoch / accum >= steps_per_epoch_) {
    ++state_.epoch;
    state_.batch_in_epoch = 0;
    maybe_eval_and_checkpoint(/*epoch_end=*/true);
  }
  return true;
}

double Loop::optimizer_step() {
  const double lr = learning_rate_at(cfg_.schedule, cfg_.optim.lr, state_.step, total_steps_);
  set_learning_rate(*optimizer_, lr);
  const bool finite = scaler_.unscale_and_check(*model_);
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

void Loop::report_step(double loss, double lr, double data_wait, double step_time) {
  const double samples = static_cast<double>(global_batch());
  metrics::StepReport r;
  r.step = state_.step;
  r.total_steps = total_steps_;
  r.epoch = state_.epoch;
  r.loss = loss;
  r.lr = lr;
  r.samples_per_s = step_time > 0 ? samples / step_time : 0;
  r.data_wait_fraction = step_time > 0 ? data_wait / step_time : 0;
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
  state_.last_eval = evaluate(*model_, *data_.val, cfg_, device_.device);
  log_->eval(state_.step, state_.epoch, state_.last_eval);
  model_->train();
}

void Loop::save_checkpoint() {
  last_ckpt_step_ = state_.step;
  if (!world_.is_main()) return;
  std::optional<double> metric;
  if (last_eval_step_ == state_.step) {
    auto it = state_.last_eval.find(cfg_.checkpoint.best_metric);
    if (it != state_.last_eval.end() && std::isfinite(it->second)) metric = it->second;
  }
  auto path = ckpt_->save(capture_checkpoint({*model_, *optimizer_, scaler_, state_}, config_yaml_), metric);
  result_.last_checkpoint = path;
  log_->message("checkpoint " + path.string());
}

}  // namespace

TrainResult train(const config::Config& cfg, const dist::World& world, const TrainOptions& options) {
  Loop loop(cfg, world, options);
  return loop.run();
}

std::map<std::string, double> evaluate_checkpoint(const config::Config& cfg, const fs::path& path) {
  auto device = choose_device(cfg.run.device, dist::World{});
  auto model = build_model(cfg, device.device);
  auto ckpt = checkpoint::load_checkpoint(path);
  models::load_state_dict(*model, ckpt.model, {true, {}, "checkpoint " + path.string()});
  auto data = open_data(cfg.data);
  if (!data.val) throw UserError("eval: split '" + cfg.data.val_split + "' has no rows in " + cfg.data.manifest);
  return evaluate(*model, *data.val, cfg, device.device);
}

}  // namespace medtrain::engine
