// The key table. Adding a member to a struct in config.h means adding one line
// here (a test fails until you do); its docs, validation and YAML output follow.
#include "trainer/config/config_schema.h"

#include <type_traits>

namespace medtrain::config::detail {
namespace {

template <class T>
KeyType key_type_of(const Constraint& c) {
  if constexpr (std::is_same_v<T, int64_t>) return KeyType::kInt;
  if constexpr (std::is_same_v<T, double>) return KeyType::kFloat;
  if constexpr (std::is_same_v<T, bool>) return KeyType::kBool;
  if constexpr (std::is_same_v<T, std::string>)
    return c.choices.empty() ? KeyType::kString : KeyType::kEnum;
  if constexpr (std::is_same_v<T, std::vector<std::string>>) return KeyType::kStringList;
}

// Appends the keys of one section, binding each to a member of that section's
// struct through a pointer-to-member pair (section, member).
template <class S>
class Section {
 public:
  Section(std::vector<SectionSpec>& sections, std::vector<KeySpec>& keys, const char* name,
          S Config::*section, const char* doc)
      : keys_(keys), name_(name), section_(section) {
    sections.push_back(SectionSpec{name, doc});
  }

  template <class T>
  Section& key(const char* name, T S::*member, Constraint constraint, const char* doc) {
    static_assert(std::is_constructible_v<Value, T>,
                  "config members are int64_t, double, bool, "
                  "std::string or std::vector<std::string>");
    KeySpec spec;
    spec.section = name_;
    spec.name = name;
    spec.path = name_ + "." + name;
    spec.type = key_type_of<T>(constraint);
    spec.constraint = std::move(constraint);
    spec.doc = doc;
    S Config::*section = section_;
    spec.get = [section, member](const Config& c) { return Value((c.*section).*member); };
    spec.set = [section, member](Config& c, const Value& v) {
      (c.*section).*member = std::get<T>(v);
    };
    keys_.push_back(std::move(spec));
    return *this;
  }

 private:
  std::vector<KeySpec>& keys_;
  std::string name_;
  S Config::*section_;
};

struct Tables {
  std::vector<SectionSpec> sections;
  std::vector<KeySpec> keys;
};

void add_run_data(Tables& t) {
  Section<RunConfig>(t.sections, t.keys, "run", &Config::run, "What to run, where, on which device")
      .key("name", &RunConfig::name, folder_name(),
           "run name, one folder name (no '/'); outputs go to `<output_dir>/<name>`")
      .key("output_dir", &RunConfig::output_dir, non_empty(), "folder that holds run directories")
      .key("seed", &RunConfig::seed, ge(0),
           "seed of the random generators (weights, shuffling, augmentation)")
      .key("epochs", &RunConfig::epochs, ge(1), "passes over the training split")
      .key("max_steps", &RunConfig::max_steps, ge(0),
           "stop after this many optimizer steps; 0 = epochs decide")
      .key("device", &RunConfig::device, one_of({"auto", "cpu", "cuda"}),
           "auto = cuda when a GPU is visible, else cpu")
      .key("precision", &RunConfig::precision, one_of({"fp32", "bf16", "fp16"}),
           "autocast dtype (CUDA only); fp16 uses dynamic loss scaling")
      .key("eval_every_steps", &RunConfig::eval_every_steps, ge(0),
           "validate every N optimizer steps; 0 = at the end of every epoch")
      .key("threads", &RunConfig::threads, ge(0),
           "intra-op CPU threads per rank; 0 = LibTorch default");
  Section<DataConfig>(t.sections, t.keys, "data", &Config::data,
                      "The dataset and its preprocessing")
      .key("dataset", &DataConfig::dataset, one_of({"dicom", "text", "speech"}),
           "dicom: images from a CSV manifest (or data.shards); text: reports from a JSONL manifest "
           "(id, patient, split, text, labels or spans; docs/text.md), tokenised with model.pretrained's "
           "tokenizer (or read tokenised from data.shards, a pack made with `medtrain pack -c`); speech: "
           "dictation from a JSONL manifest (audio, text, speaker, patient, split; docs/asr.md) for "
           "model.name whisper, or its pack")
      .key("root", &DataConfig::root, any(), "folder that manifest paths are relative to")
      .key("manifest", &DataConfig::manifest, any(),
           "CSV with columns path, then label (multiclass), labels (multilabel: names or indices "
           "joined by |) or mask (segmentation: .npy or DICOM file), then patient_id, split")
      .key("train_split", &DataConfig::train_split, non_empty(),
           "manifest split value used for training")
      .key("val_split", &DataConfig::val_split, non_empty(),
           "manifest split value used for validation")
      .key("label_names", &DataConfig::label_names, distinct_names(),
           "class names, index = label value; empty = unnamed; else one per class")
      .key("image_size", &DataConfig::image_size, between(8, 4096),
           "output height = width in pixels after resize")
      .key("depth", &DataConfig::depth, between(0, 1024),
           "0 = 2D images; D > 0 = each manifest path is a series folder (one volume), resized "
           "to D slices of image_size x image_size (3D models)")
      .key("patch_size", &DataConfig::patch_size, ge(0),
           "volumes: train on random patches of patch_depth x patch_size^2 cut from each resized "
           "volume (<= image_size); evaluation sees whole volumes; 0 = train on whole volumes")
      .key("patch_depth", &DataConfig::patch_depth, ge(0),
           "volumes: slices of a training patch (<= depth); 0 = all depth slices")
      .key("slice_spacing", &DataConfig::slice_spacing, ge(0),
           "volumes: resample each series to this many mm between slices (set with pixel_spacing), "
           "then centre-crop or pad it to depth x image_size^2 instead of resizing, so that every "
           "voxel has the same physical size; 0 = off")
      .key("pixel_spacing", &DataConfig::pixel_spacing, ge(0),
           "volumes: in-plane voxel size in mm to resample to (with slice_spacing); 0 = off")
      .key("window_center", &DataConfig::window_center, between(-1e7, 1e7),
           "intensity window center (HU for CT)")
      .key("window_width", &DataConfig::window_width, gt(0).le(1e7), "intensity window width (HU for CT)")
      .key("mean", &DataConfig::mean, between(-1e3, 1e3), "subtracted after windowing to [0, 1]")
      .key("std", &DataConfig::std, between(1e-6, 1e6), "divides after subtracting mean")
      .key("augment", &DataConfig::augment, any(),
           "random horizontal flip and small intensity jitter (training only)")
      .key("rotate_degrees", &DataConfig::rotate_degrees, between(0, 180),
           "augment: random rotation in +-degrees about the image centre (in-plane for volumes; "
           "masks rotate with the image); 0 = off")
      .key("crop_scale", &DataConfig::crop_scale, gt(0).le(1),
           "augment: random square crop of side crop_scale..1 of the image, zoomed back to "
           "image_size (one warp with the rotation); 1 = off")
      .key("shuffle", &DataConfig::shuffle, any(), "shuffle the training split every epoch")
      .key("workers", &DataConfig::workers, ge(0), "decode threads per rank")
      .key("prefetch_batches", &DataConfig::prefetch_batches, ge(1),
           "depth of the bounded queue of decoded batches")
      .key("readahead_batches", &DataConfig::readahead_batches, ge(0),
           "data.shards: batches past the decode queue whose shard blocks a read-ahead thread fetches "
           "from storage before the workers need them (the block cache grows to hold them); 0 = off")
      .key("on_error", &DataConfig::on_error, one_of({"fail", "skip"}),
           "what a sample that fails to decode does: stop the run, or be skipped and counted")
      .key("read_retries", &DataConfig::read_retries, between(0, 100),
           "extra attempts to read a sample after a transient storage error (EIO, ESTALE -- the file "
           "is opened again --, EAGAIN, a short read); then the sample follows on_error. Counted as "
           "read_retries in metrics.jsonl. See docs/training.md, Storage faults")
      .key("read_retry_backoff_ms", &DataConfig::read_retry_backoff_ms, between(0, 60000),
           "wait before the first retry of a read, doubling with each further retry, at most 10 s")
      .key("read_timeout_s", &DataConfig::read_timeout_s, between(0, 86400),
           "a sample read (open, read and decode of one file or shard record) still running after "
           "this many seconds ends the run with an error naming the file and the rank, instead of "
           "a frozen rank on a hung NAS; 0 = off (needs data.workers >= 1)")
      .key("require_deidentified", &DataConfig::require_deidentified, any(),
           "refuse any file that still carries a tag the PS3.15 basic profile removes or lacks "
           "Patient Identity Removed = YES (see docs/deid.md)")
      .key("window_from_file", &DataConfig::window_from_file, any(),
           "use each file's own Window Center/Width when it has one (else window_center/width)")
      .key("colour", &DataConfig::colour, one_of({"luma", "rgb"}),
           "2D colour images (RGB, YBR_*, PALETTE COLOR): luma = one channel, the BT.601 luma; rgb = "
           "three channels R, G, B, each windowed and normalised like a grey image (grey images "
           "replicated), for model.in_channels 3 (e.g. ImageNet weights); window 127.5/255 fits 8-bit "
           "colour. See docs/dicom.md")
      .key("shards", &DataConfig::shards, any(),
           "folder of shards made by `medtrain pack`; empty = decode the DICOM files of the "
           "manifest (text: tokenise data.manifest)")
      .key("shuffle_buffer", &DataConfig::shuffle_buffer, ge(0),
           "shards: samples mixed across shard boundaries when shuffling; 0 = shard order only")
      .key("max_length", &DataConfig::max_length, between(3, 8192),
           "text: tokens per text including [CLS] and [SEP] (at most the model's max positions); longer "
           "texts are cut at the end and counted in the log")
      .key("length_buckets", &DataConfig::length_buckets, ge(0),
           "text: training batches of similar length (less padding): windows of this many batches of the "
           "shuffled order are sorted by length, then the batches are shuffled; 0 = off")
      .key("cache_ram_gb", &DataConfig::cache_ram_gb, ge(0),
           "shards: node-local RAM cache (LRU) of shard bytes in GiB; 0 = off")
      .key("cache_dir", &DataConfig::cache_dir, any(),
           "shards: node-local folder (local SSD) that keeps a verified copy of each shard read; "
           "empty = off")
      .key("language", &DataConfig::language, any(),
           "speech: language code of the dictation (en, de, ...) for multilingual Whisper models: the "
           "prompt gets <|en|><|transcribe|>; empty for English-only (.en) models")
      .key("freq_masks", &DataConfig::freq_masks, between(0, 16),
           "speech, with data.augment: SpecAugment frequency masks per clip")
      .key("freq_mask_width", &DataConfig::freq_mask_width, between(0, 128),
           "speech: widest frequency mask in mel bins (width drawn uniformly from 0..this)")
      .key("time_masks", &DataConfig::time_masks, between(0, 64),
           "speech, with data.augment: SpecAugment time masks per clip")
      .key("time_mask_width", &DataConfig::time_mask_width, between(0, 3000),
           "speech: widest time mask in 10-ms frames (width drawn uniformly from 0..this)");
}

void add_model_optim(Tables& t) {
  Section<ModelConfig>(t.sections, t.keys, "model", &Config::model, "The network")
      .key("name", &ModelConfig::name, non_empty(),
           "architecture from the model zoo (`medtrain models` lists them)")
      .key("task", &ModelConfig::task,
           one_of({"auto", "multiclass", "multilabel", "segmentation", "text_classification",
                   "token_classification", "asr"}),
           "head and loss: multiclass (softmax + cross-entropy), multilabel (sigmoid + binary "
           "cross-entropy per label), segmentation (Dice + cross-entropy per pixel); auto = "
           "segmentation for U-Nets, else multiclass. Text (model.name bert): text_classification "
           "(multilabel findings), multiclass, or token_classification (BIO tags of the spans' "
           "entity types, data.label_names). Speech (model.name whisper, data.dataset speech): asr "
           "(teacher-forced cross-entropy on the transcript's tokens)")
      .key("num_classes", &ModelConfig::num_classes, ge(1),
           "outputs of the head: classes, labels (multilabel), or mask classes including "
           "background (segmentation)")
      .key("in_channels", &ModelConfig::in_channels, ge(1), "input image channels")
      .key("channels_last", &ModelConfig::channels_last, any(),
           "NHWC memory format (faster convolutions on tensor cores)")
      .key("sync_bn", &ModelConfig::sync_bn, any(),
           "batch-norm statistics over all ranks (for small per-GPU batches)")
      .key("pretrained", &ModelConfig::pretrained, any(),
           "weights to start from: PyTorch .pth/.pt state dict, safetensors, or a medtrain "
           "checkpoint folder; empty = random init")
      .key("pretrained_skip", &ModelConfig::pretrained_skip, any(),
           "parameter-name prefixes not taken from `pretrained` (e.g. [fc] for a new head)")
      .key("freeze_encoder", &ModelConfig::freeze_encoder, any(),
           "asr: keep the Whisper encoder's weights as loaded and train the decoder only (no "
           "encoder backward: faster, and less forgetting on small data)");
  Section<OptimConfig>(t.sections, t.keys, "optim", &Config::optim, "Optimizer and batch size")
      .key("name", &OptimConfig::name, one_of({"adamw", "sgd"}), "optimizer")
      .key("lr", &OptimConfig::lr, gt(0), "peak learning rate (after warmup)")
      .key("weight_decay", &OptimConfig::weight_decay, ge(0),
           "weight decay: decoupled for adamw, an L2 penalty for sgd")
      .key("beta1", &OptimConfig::beta1, ge(0).lt(1), "adamw: first-moment decay")
      .key("beta2", &OptimConfig::beta2, ge(0).lt(1), "adamw: second-moment decay")
      .key("eps", &OptimConfig::eps, gt(0), "adamw: denominator epsilon")
      .key("momentum", &OptimConfig::momentum, ge(0).lt(1), "sgd: momentum; 0 = plain sgd")
      .key("nesterov", &OptimConfig::nesterov, any(), "sgd: Nesterov momentum (needs momentum > 0)")
      .key("batch_size", &OptimConfig::batch_size, ge(1), "samples per rank per micro-step")
      .key("grad_accum_steps", &OptimConfig::grad_accum_steps, ge(1),
           "micro-steps per optimizer step")
      .key("grad_clip_norm", &OptimConfig::grad_clip_norm, ge(0),
           "clip the global gradient L2 norm to this; 0 = off")
      .key("no_decay", &OptimConfig::no_decay, any(),
           "parameter-name endings that get no weight decay (transformers' recipe: [bias, "
           "LayerNorm.weight]); empty = decay on every parameter")
      .key("label_smoothing", &OptimConfig::label_smoothing, ge(0).lt(1),
           "asr: label smoothing of the token cross-entropy (0.1 is common for Whisper fine-tuning)");
}

void add_schedule_dist(Tables& t) {
  Section<ScheduleConfig>(t.sections, t.keys, "schedule", &Config::schedule,
                          "Learning-rate schedule, counted in optimizer steps")
      .key("name", &ScheduleConfig::name, one_of({"constant", "cosine", "linear", "step"}),
           "shape after warmup (linear: straight down to min_lr at the last step, as transformers' "
           "get_linear_schedule_with_warmup with min_lr 0)")
      .key("warmup_steps", &ScheduleConfig::warmup_steps, ge(0), "linear warmup from 0 to optim.lr")
      .key("min_lr", &ScheduleConfig::min_lr, ge(0), "cosine and linear: floor reached at the last step")
      .key("step_size", &ScheduleConfig::step_size, ge(1),
           "step: multiply by gamma every step_size steps")
      .key("gamma", &ScheduleConfig::gamma, gt(0).le(1), "step: decay factor");
  Section<DistConfig>(t.sections, t.keys, "dist", &Config::dist, "Multi-rank training")
      .key("backend", &DistConfig::backend, one_of({"auto", "nccl", "mpi"}),
           "gradient all-reduce; auto = nccl on cuda, mpi on cpu")
      .key("bucket_mb", &DistConfig::bucket_mb, gt(0),
           "gradient bucket size in MiB (all-reduced as soon as full)")
      .key("first_bucket_mb", &DistConfig::first_bucket_mb, gt(0),
           "size of the first bucket, smaller so communication starts early in backward")
      .key("timeout_s", &DistConfig::timeout_s, gt(0),
           "a collective waiting longer than this ends the job")
      .key("find_unused_parameters", &DistConfig::find_unused_parameters, any(),
           "false: a trainable parameter that gets no gradient in a step's backward (not used in forward) "
           "ends the run naming it; true: it is reduced as zeros and named once in the log (as DDP's "
           "find_unused_parameters)");
}

void add_checkpoint_log(Tables& t) {
  Section<CheckpointConfig>(t.sections, t.keys, "checkpoint", &Config::checkpoint,
                            "Checkpoints, under `<output_dir>/<name>/ckpt`")
      .key("every_steps", &CheckpointConfig::every_steps, ge(0),
           "save every N optimizer steps; 0 = at the end of every epoch")
      .key("keep_last", &CheckpointConfig::keep_last, ge(1),
           "keep this many most recent checkpoints")
      .key("keep_best", &CheckpointConfig::keep_best, any(),
           "also keep the best checkpoint by best_metric")
      .key("best_metric", &CheckpointConfig::best_metric, non_empty(),
           "validation metric that ranks checkpoints")
      .key("best_mode", &CheckpointConfig::best_mode, one_of({"max", "min"}),
           "whether a larger or a smaller best_metric is better")
      .key("max_failed_saves", &CheckpointConfig::max_failed_saves, ge(1),
           "a checkpoint that cannot be written (full disk, I/O error) is a warning and training goes on; "
           "this many failures in a row, or a failed final checkpoint, stop the run (exit 1) naming the last "
           "intact checkpoint");
  Section<LogConfig>(t.sections, t.keys, "log", &Config::log, "Progress and metrics output")
      .key("every_steps", &LogConfig::every_steps, ge(1),
           "log training metrics every N optimizer steps")
      .key("tensorboard", &LogConfig::tensorboard, any(),
           "write TensorBoard event files beside metrics.jsonl")
      .key("progress", &LogConfig::progress, one_of({"auto", "bar", "plain", "none"}),
           "console progress; auto = bar on a terminal, plain otherwise")
      .key("trace_steps", &LogConfig::trace_steps, ge(0),
           "record this many steps per rank as a Chrome trace (timeline-rank<N>.json); 0 = off")
      .key("images_every_steps", &LogConfig::images_every_steps, ge(0),
           "TensorBoard images of what the model sees (docs/training.md): the training batch at the run's "
           "first step and every N steps, de-normalised; validation samples with prediction and target at "
           "each evaluation (text tasks: text summaries); 0 = off")
      .key("images_count", &LogConfig::images_count, between(1, 64),
           "samples shown per image summary (fewer when the batch or the val split is smaller)");
  Section<KernelsConfig>(t.sections, t.keys, "kernels", &Config::kernels, "Fused CUDA kernels (docs/kernels.md)")
      .key("fused", &KernelsConfig::fused, any(),
           "on CUDA: fused multi-tensor AdamW/SGD, AMP unscale, cross-entropy, image preprocessing, "
           "bucket epilogue, layer norm and bias+GELU; on the CPU the LibTorch ops (said once in the log); "
           "false = the LibTorch ops everywhere");
}

const Tables& tables() {
  static const Tables kTables = [] {
    Tables t;
    add_run_data(t);
    add_model_optim(t);
    add_schedule_dist(t);
    add_checkpoint_log(t);
    return t;
  }();
  return kTables;
}

}  // namespace

const std::vector<SectionSpec>& section_table() { return tables().sections; }
const std::vector<KeySpec>& key_table() { return tables().keys; }

const KeySpec* find_key(std::string_view path) {
  for (const KeySpec& spec : key_table()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

bool is_section(std::string_view name) {
  for (const SectionSpec& section : section_table()) {
    if (section.name == name) return true;
  }
  return false;
}

}  // namespace medtrain::config::detail
