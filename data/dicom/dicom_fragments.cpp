#include "data/dicom/dicom_fragments.h"

#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <cstring>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace medtrain::data {
namespace {

struct Fragment {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(io::display_path(path) + ": encapsulated pixel data: " + what);
}

bool starts_frame(const Fragment& f) {
  static const uint8_t kJp2[4] = {0, 0, 0, 0x0c};
  return f.size >= 4 && ((f.data[0] == 0xff && f.data[1] == 0x4f && f.data[2] == 0xff && f.data[3] == 0x51) ||
                         std::memcmp(f.data, kJp2, 4) == 0);
}

std::vector<uint8_t> concat(const std::vector<Fragment>& fragments, size_t begin, size_t end) {
  std::vector<uint8_t> out;
  for (size_t i = begin; i < end; ++i) out.insert(out.end(), fragments[i].data, fragments[i].data + fragments[i].size);
  return out;
}

// Frame start fragment indices from the Basic Offset Table: offsets count bytes
// from the first fragment's item tag, 8 bytes of item header per fragment.
std::vector<size_t> starts_from_offsets(const std::vector<uint32_t>& offsets, const std::vector<Fragment>& fragments) {
  std::vector<size_t> starts;
  uint64_t pos = 0;
  size_t next = 0;
  for (size_t i = 0; i < fragments.size() && next < offsets.size(); ++i) {
    if (pos == offsets[next]) {
      starts.push_back(i);
      ++next;
    } else if (pos > offsets[next]) {
      return {};  // an offset inside a fragment: the table is wrong
    }
    pos += fragments[i].size + 8;
  }
  return next == offsets.size() ? starts : std::vector<size_t>{};
}

}  // namespace

std::vector<std::vector<uint8_t>> split_encapsulated_frames(DcmElement* pixel_data, E_TransferSyntax xfer,
                                                             int64_t frames, const std::string& path) {
  auto* pixels = dynamic_cast<DcmPixelData*>(pixel_data);
  DcmPixelSequence* seq = nullptr;
  if (pixels == nullptr || pixels->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || seq == nullptr) {
    fail(path, "no fragment sequence");
  }
  std::vector<uint32_t> offsets;
  std::vector<Fragment> fragments;
  for (unsigned long i = 0; i < seq->card(); ++i) {
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (seq->getItem(item, i).bad() || item == nullptr) fail(path, "unreadable item " + std::to_string(i));
    const size_t size = item->getLength();
    if (size > 0 && (item->getUint8Array(data).bad() || data == nullptr)) {
      fail(path, "unreadable item " + std::to_string(i));
    }
    if (i == 0) {  // the Basic Offset Table, little endian uint32
      for (size_t k = 0; k + 4 <= size; k += 4) {
        offsets.push_back(data[k] | (data[k + 1] << 8) | (data[k + 2] << 16) | (uint32_t{data[k + 3]} << 24));
      }
    } else {
      fragments.push_back({data, size});
    }
  }
  if (fragments.empty()) fail(path, "no fragments");
  std::vector<std::vector<uint8_t>> out;
  if (frames == 1) {
    out.push_back(concat(fragments, 0, fragments.size()));
    return out;
  }
  std::vector<size_t> starts;
  if (static_cast<int64_t>(fragments.size()) == frames) {
    for (size_t i = 0; i < fragments.size(); ++i) starts.push_back(i);
  } else if (static_cast<int64_t>(offsets.size()) == frames) {
    starts = starts_from_offsets(offsets, fragments);
  }
  if (starts.empty()) {
    for (size_t i = 0; i < fragments.size(); ++i) {
      if (starts_frame(fragments[i])) starts.push_back(i);
    }
  }
  if (static_cast<int64_t>(starts.size()) != frames || starts[0] != 0) {
    fail(path, std::to_string(fragments.size()) + " fragments, " + std::to_string(offsets.size()) +
                   " offset table entries: cannot tell which fragments form each of the " + std::to_string(frames) +
                   " frames");
  }
  starts.push_back(fragments.size());
  for (int64_t f = 0; f < frames; ++f) out.push_back(concat(fragments, starts[f], starts[f + 1]));
  return out;
}

}  // namespace medtrain::data
