#include "data/batch_loader.h"

#include <algorithm>
#include <cstdint>
#include <exception>

#include "data/data_error.h"
#include "data/rng.h"

namespace medtrain::data {

uint64_t sample_seed(uint64_t seed, int64_t epoch, size_t index) {
  return mix_seed(mix_seed(seed, static_cast<uint64_t>(epoch)), index);
}

// Note [Loader order]: samples are tasks numbered by their position in
// `indices`; workers claim them in increasing order, but only inside a window of
// prefetch_batches batches past the one the consumer waits for, and write each
// result into its batch's slot. next() takes slots strictly in batch order, so
// the batches do not depend on thread count or timing. A slot is erased only by
// the consumer once all its tasks are done, so workers never lose their slot.
struct BatchLoader::Impl {
  struct Slot {
    std::vector<std::optional<Sample>> samples;
    size_t remaining = 0;
    size_t skipped = 0;
    std::exception_ptr error;  // the first failing sample by position
    size_t error_pos = SIZE_MAX;
  };
  struct Outcome {
    std::optional<Sample> sample;
    std::exception_ptr error;
    bool skipped = false;
  };

  std::shared_ptr<const Dataset> dataset;
  std::vector<size_t> indices;
  LoaderOptions opt;
  size_t num_batches = 0;
  size_t end = 0;  // one past the last task (sample position) served
  size_t skipped_total = 0;
  size_t carried_skips = 0;  // from batches whose samples were all skipped
  std::exception_ptr failed;  // sticky: next() keeps rethrowing it

  std::mutex mu;
  std::condition_variable work_cv, done_cv;
  size_t next_task = 0;
  size_t next_batch = 0;  // the batch the consumer wants next
  bool stop = false;
  std::map<size_t, Slot> slots;
  std::vector<std::thread> threads;

  size_t batch_len(size_t b) const { return std::min(opt.batch_size, end - b * opt.batch_size); }

  Outcome decode(size_t t) const {
    Outcome o;
    try {
      o.sample = dataset->get(indices[t], sample_seed(opt.seed, opt.epoch, indices[t]));
    } catch (const DataError&) {
      if (opt.on_error == OnError::kSkip) {
        o.skipped = true;
      } else {
        o.error = std::current_exception();
      }
    } catch (...) {  // not a data problem (a bug, out of memory): never skipped
      o.error = std::current_exception();
    }
    return o;
  }

  Slot& slot_for(size_t b) {
    auto [it, fresh] = slots.try_emplace(b);
    if (fresh) {
      it->second.samples.resize(batch_len(b));
      it->second.remaining = batch_len(b);
    }
    return it->second;
  }

  static void store(Slot& s, size_t pos, Outcome o) {
    if (o.error && pos < s.error_pos) s.error = o.error, s.error_pos = pos;
    s.skipped += o.skipped ? 1 : 0;
    s.samples[pos] = std::move(o.sample);
    --s.remaining;
  }

  void work() {
    std::unique_lock<std::mutex> lk(mu);
    const size_t window = std::max<size_t>(opt.prefetch_batches, 1);
    for (;;) {
      work_cv.wait(lk, [&] {
        return stop || (next_task < end && next_task / opt.batch_size < next_batch + window);
      });
      if (stop) return;
      const size_t t = next_task++, b = t / opt.batch_size;
      slot_for(b);
      lk.unlock();
      Outcome o = decode(t);
      lk.lock();
      Slot& s = slots.at(b);
      store(s, t - b * opt.batch_size, std::move(o));
      if (s.remaining == 0) done_cv.notify_all();
    }
  }

  Slot take(size_t b) {
    if (threads.empty()) {  // workers == 0: decode here, in order
      Slot s;
      s.samples.resize(batch_len(b));
      s.remaining = batch_len(b);
      for (size_t i = 0; i < s.samples.size(); ++i) store(s, i, decode(b * opt.batch_size + i));
      ++next_batch;
      return s;
    }
    std::unique_lock<std::mutex> lk(mu);
    done_cv.wait(lk, [&] {
      auto it = slots.find(b);
      return it != slots.end() && it->second.remaining == 0;
    });
    Slot s = std::move(slots.at(b));
    slots.erase(b);
    ++next_batch;
    work_cv.notify_all();
    return s;
  }

  Batch assemble(Slot& s) const {
    std::vector<torch::Tensor> images, targets;
    for (std::optional<Sample>& x : s.samples) {
      if (!x) continue;
      if (!images.empty() && x->image.sizes() != images.front().sizes()) {
        throw DataError("batch: samples have different image shapes " + c10::str(images.front().sizes()) +
                        " and " + c10::str(x->image.sizes()) + "; resize them to one size");
      }
      if (!targets.empty() && x->target.sizes() != targets.front().sizes()) {
        throw DataError("batch: samples have different target shapes " + c10::str(targets.front().sizes()) +
                        " and " + c10::str(x->target.sizes()));
      }
      images.push_back(std::move(x->image));
      targets.push_back(std::move(x->target));
    }
    Batch batch;
    batch.images = stack(images);
    batch.targets = stack(targets);
    return batch;
  }

  torch::Tensor stack(const std::vector<torch::Tensor>& parts) const {
    if (!opt.pin_memory) return torch::stack(parts);
    auto sizes = parts.front().sizes().vec();
    sizes.insert(sizes.begin(), static_cast<int64_t>(parts.size()));
    auto out = at::empty(sizes, parts.front().options().pinned_memory(true));
    return at::stack_out(out, parts);
  }
};

BatchLoader::BatchLoader(std::shared_ptr<const Dataset> dataset, std::vector<size_t> indices,
                         LoaderOptions options, size_t first_batch)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (!dataset) throw DataError("loader: no dataset");
  if (options.batch_size < 1) throw DataError("loader: batch_size must be >= 1 (got 0)");
  for (size_t i : indices) {
    if (i >= dataset->size()) {
      throw DataError("loader: index " + std::to_string(i) + " is outside the dataset of " +
                      std::to_string(dataset->size()) + " samples");
    }
  }
  const size_t n = indices.size(), b = options.batch_size;
  m.num_batches = options.drop_last ? n / b : (n + b - 1) / b;
  m.end = options.drop_last ? m.num_batches * b : n;
  if (first_batch > m.num_batches) {
    throw DataError("loader: resume at batch " + std::to_string(first_batch) + " but the epoch has only " +
                    std::to_string(m.num_batches) + " batches");
  }
  m.dataset = std::move(dataset);
  m.indices = std::move(indices);
  m.opt = options;
  m.next_batch = first_batch;
  m.next_task = first_batch * b;
  for (size_t w = 0; w < options.workers && m.next_task < m.end; ++w) m.threads.emplace_back([&m] { m.work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stop = true;
  }
  impl_->work_cv.notify_all();
  for (std::thread& t : impl_->threads) t.join();  // each finishes at most its current sample
}

std::optional<Batch> BatchLoader::next() {
  Impl& m = *impl_;
  if (m.failed) std::rethrow_exception(m.failed);
  while (m.next_batch < m.num_batches) {
    Impl::Slot s = m.take(m.next_batch);
    if (s.error) {
      m.failed = s.error;
      std::rethrow_exception(s.error);
    }
    m.skipped_total += s.skipped;
    if (s.skipped == s.samples.size()) {  // nothing left of this batch: report its skips with the next
      m.carried_skips += s.skipped;
      continue;
    }
    Batch batch = m.assemble(s);
    batch.skipped = s.skipped + m.carried_skips;
    m.carried_skips = 0;
    return batch;
  }
  return std::nullopt;
}

size_t BatchLoader::num_batches() const { return impl_->num_batches; }

size_t BatchLoader::skipped_total() const { return impl_->skipped_total; }

}  // namespace medtrain::data
