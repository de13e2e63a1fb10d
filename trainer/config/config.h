#pragma once
// The typed experiment config: one struct per YAML section. Defaults live here;
// the key table in config_schema.cpp binds every YAML key to one member, checks
// its type and range, and generates docs/config.md, so keys, validation and
// documentation cannot drift apart.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::config {

struct RunConfig {
  std::string name = "run";           // run directory: <output_dir>/<name>
  std::string output_dir = "runs";
  int64_t seed = 0;
  int64_t epochs = 1;
  int64_t max_steps = 0;              // optimizer steps; 0 = no limit (epochs decide)
  std::string device = "auto";        // auto | cpu | cuda
  std::string precision = "fp32";     // fp32 | bf16 | fp16 (autocast; CUDA only)
  int64_t eval_every_steps = 0;       // 0 = at the end of every epoch
  int64_t threads = 0;                // intra-op CPU threads; 0 = LibTorch default
};

struct DataConfig {
  std::string dataset = "dicom";      // dicom | text (JSONL reports: data/text/text_dataset.h) |
                                      // speech (JSONL dictation: data/audio/speech_dataset.h)
  std::string root;                   // folder that manifest paths are relative to
  std::string manifest;               // CSV: path,label|labels|mask,patient_id,split
  std::string train_split = "train";
  std::string val_split = "val";
  std::vector<std::string> label_names;  // class names, index = label value
  int64_t image_size = 128;           // output H = W after resize
  int64_t depth = 0;                  // 0 = 2D images; D > 0 = each path is a series, resized to D slices
  int64_t patch_size = 0;             // volumes: in-plane side of random training patches; 0 = whole
  int64_t patch_depth = 0;            // volumes: slices of a training patch; 0 = depth
  double slice_spacing = 0;           // volumes: resample to this mm between slices (with pixel_spacing)
  double pixel_spacing = 0;           // volumes: and this mm in-plane; then crop/pad, no resize
  double window_center = 40.0;        // HU
  double window_width = 400.0;        // HU, > 0
  double mean = 0.5;                  // normalize after windowing to [0,1]
  double std = 0.25;
  bool augment = true;                // random horizontal flip + small intensity jitter
  double rotate_degrees = 0;          // augment: max |rotation|; 0 = off
  double crop_scale = 1;              // augment: smallest crop side fraction; 1 = off
  bool shuffle = true;
  int64_t workers = 2;                // decode threads
  int64_t prefetch_batches = 4;       // bounded queue depth
  int64_t readahead_batches = 2;      // shard blocks fetched this many batches past the queue
  std::string on_error = "fail";      // fail | skip: per-sample decode errors
  int64_t read_retries = 3;           // extra reads of a sample after a transient storage error
  int64_t read_retry_backoff_ms = 100;  // wait before the first retry, doubling, at most 10 s
  double read_timeout_s = 120;        // a sample read taking longer ends the run; 0 = off
  bool require_deidentified = false;  // refuse files that fail the de-identification check
  bool window_from_file = false;      // use each file's Window Center/Width when present
  std::string colour = "luma";        // luma | rgb: colour images as one grey channel or as R, G, B
  std::string shards;                 // folder made by `medtrain pack`; empty = read the DICOM tree
  int64_t shuffle_buffer = 1024;      // shards: samples mixed across shard boundaries
  int64_t max_length = 128;           // text: tokens per text, specials included; longer ones are cut
  int64_t length_buckets = 50;        // text: batches per window sorted by length; 0 = off
  double cache_ram_gb = 0.0;          // shards: node-local RAM cache of shard bytes; 0 = off
  std::string cache_dir;              // shards: node-local disk copy of the shards; empty = off
  std::string language;               // speech: "" for .en Whisper models, else a code (en, de, ...)
  int64_t freq_masks = 2;             // speech augment: SpecAugment frequency masks
  int64_t freq_mask_width = 27;       // mel bins, at most
  int64_t time_masks = 2;             // speech augment: SpecAugment time masks
  int64_t time_mask_width = 100;      // frames of 10 ms, at most
};

struct ModelConfig {
  std::string name = "resnet18";
  std::string task = "auto";          // auto | multiclass | multilabel | segmentation |
                                      // text_classification | token_classification
  int64_t num_classes = 2;            // classes, labels (multilabel) or mask classes incl. background
  int64_t in_channels = 1;
  bool channels_last = false;
  bool sync_bn = false;               // batch-norm statistics over all ranks
  std::string pretrained;             // weights to start from (.pth/.pt, safetensors, checkpoint)
  std::vector<std::string> pretrained_skip;  // parameter-name prefixes not loaded (new head)
  bool freeze_encoder = false;        // asr: train the decoder only
};

struct OptimConfig {
  std::string name = "adamw";         // adamw | sgd
  double lr = 1e-3;
  double weight_decay = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double momentum = 0.9;              // sgd
  bool nesterov = false;              // sgd
  int64_t batch_size = 32;            // per rank, per micro-step
  int64_t grad_accum_steps = 1;       // micro-steps per optimizer step
  double grad_clip_norm = 0.0;        // 0 = off
  std::vector<std::string> no_decay;  // parameter-name endings without weight decay (e.g. bias)
  double label_smoothing = 0.0;       // asr: cross-entropy label smoothing
};

struct ScheduleConfig {
  std::string name = "cosine";        // constant | cosine | linear | step
  int64_t warmup_steps = 0;           // linear warmup from 0 to optim.lr
  double min_lr = 0.0;                // cosine floor
  int64_t step_size = 1000;           // step: decay every step_size steps
  double gamma = 0.1;                 // step: decay factor
};

struct DistConfig {
  std::string backend = "auto";       // auto | nccl | mpi
  double bucket_mb = 25.0;
  double first_bucket_mb = 1.0;
  double timeout_s = 300.0;
  bool find_unused_parameters = false;  // true: parameters without a gradient are reduced as zeros
};

struct CheckpointConfig {
  int64_t every_steps = 0;            // 0 = at the end of every epoch
  int64_t keep_last = 3;
  bool keep_best = true;
  std::string best_metric = "val/auroc";
  std::string best_mode = "max";      // max | min
  int64_t max_failed_saves = 3;       // saves failing in a row before the run stops (exit 1)
};

struct LogConfig {
  int64_t every_steps = 10;
  bool tensorboard = true;
  std::string progress = "auto";      // auto | bar | plain | none
  int64_t trace_steps = 50;           // steps recorded in the Chrome trace; 0 = off
  int64_t images_every_steps = 500;   // TensorBoard pictures of the batch (and val predictions); 0 = off
  int64_t images_count = 8;           // samples per picture
};

struct KernelsConfig {
  bool fused = true;  // on CUDA: every fused kernel (trainer/engine/kernel_choice.h); ignored elsewhere
};

struct Config {
  RunConfig run;
  DataConfig data;
  ModelConfig model;
  OptimConfig optim;
  ScheduleConfig schedule;
  DistConfig dist;
  CheckpointConfig checkpoint;
  LogConfig log;
  KernelsConfig kernels;
};

}  // namespace medtrain::config
