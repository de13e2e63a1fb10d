#include "data/deid/pixel_ocr.h"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "data/data_error.h"

namespace medtrain::data::deid {
namespace {

constexpr int kTileOverlap = 256;  // > the widest overlay word we expect at native scale

struct PixDeleter {
  void operator()(Pix* p) const { pixDestroy(&p); }
};
using PixPtr = std::unique_ptr<Pix, PixDeleter>;

PixPtr to_pix(const GreyImage& img) {
  PixPtr pix(pixCreate(img.width, img.height, 8));
  if (!pix) throw DataError("cannot allocate an image for OCR (out of memory?)");
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < img.height; ++y) {
    l_uint32* line = data + static_cast<size_t>(y) * wpl;
    const uint8_t* src = img.pixels.data() + static_cast<size_t>(y) * img.width;
    for (int x = 0; x < img.width; ++x) SET_DATA_BYTE(line, x, src[x]);
  }
  pixSetResolution(pix.get(), 300, 300);  // no "estimating resolution" guess
  return pix;
}

void collect(tesseract::TessBaseAPI& api, double scale, std::vector<OcrWord>& out) {
  std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (!it) return;
  do {
    if (it->Empty(tesseract::RIL_WORD)) continue;
    std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_WORD));
    int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    if (!text || !it->BoundingBox(tesseract::RIL_WORD, &x1, &y1, &x2, &y2)) continue;
    OcrWord w;
    w.text = text.get();
    w.confidence = it->Confidence(tesseract::RIL_WORD);
    w.x = static_cast<int>(x1 / scale);
    w.y = static_cast<int>(y1 / scale);
    w.w = static_cast<int>((x2 + scale - 1) / scale) - w.x;  // round the far edge out
    w.h = static_cast<int>((y2 + scale - 1) / scale) - w.y;
    out.push_back(std::move(w));
  } while (it->Next(tesseract::RIL_WORD));
}

const char* const kInstallHint =
    "install the Debian packages tesseract-ocr-eng and libtesseract5 (scripts/setup.sh does), set TESSDATA_PREFIX to "
    "the folder holding eng.traineddata, or run with --pixels quarantine";

// Note [Tesseract's OpenMP]: Debian's libtesseract runs its LSTM with OpenMP
// teams of several threads; with one engine per deid worker on 2 cores that
// oversubscribes (a 1200x720 page: 3.7 s instead of 1.05 s). OMP_THREAD_LIMIT=1
// would cap it, but libgomp reads its environment when it is loaded, before
// main(), so setting it here is too late. Instead: max-active-levels 0 makes every
// parallel region run on one thread, set in the libgomp Tesseract uses, found by
// its soname (LibTorch bundles its own libgomp under another name, untouched).
void single_threaded_tesseract() {
  void* gomp = ::dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (gomp == nullptr) return;  // Tesseract built without OpenMP: nothing to cap
  using SetLevels = void (*)(int);
  if (auto set = reinterpret_cast<SetLevels>(::dlsym(gomp, "omp_set_max_active_levels"))) set(0);
  ::dlclose(gomp);
}

}  // namespace

OcrEngine::OcrEngine() : api_(std::make_unique<tesseract::TessBaseAPI>()) {
  static std::once_flag once;
  std::call_once(once, [] {
    single_threaded_tesseract();
    setMsgSeverity(L_SEVERITY_NONE);  // Leptonica would print to stderr
  });
  // debug_file: Tesseract's tprintf chatter goes nowhere instead of stderr.
  std::vector<std::string> names = {"debug_file"}, values = {"/dev/null"};
  if (api_->Init(nullptr, "eng", tesseract::OEM_LSTM_ONLY, nullptr, 0, &names, &values, false) != 0) {
    throw DataError(std::string("Tesseract OCR cannot start with its English data (eng.traineddata), needed by "
                                "--pixels clean: ") + kInstallHint);
  }
  api_->SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
}

OcrEngine::~OcrEngine() {
  if (api_) api_->End();
}

std::vector<OcrWord> OcrEngine::read(const GreyImage& image, int max_scale) {
  std::vector<OcrWord> words;
  if (image.width <= 0 || image.height <= 0) return words;
  const bool tiled = image.width > kOcrTileSide || image.height > kOcrTileSide;
  int scale = 1;
  if (!tiled && image.width < kOcrMinWidth) {
    scale = std::max(1, std::min(max_scale, (kOcrMinWidth + image.width - 1) / image.width));
  }
  PixPtr pix = to_pix(image);
  if (scale > 1) {
    PixPtr big(pixScaleGrayLI(pix.get(), static_cast<float>(scale), static_cast<float>(scale)));
    if (!big) throw DataError("cannot upscale an image for OCR (out of memory?)");
    pix = std::move(big);
  }
  api_->SetImage(pix.get());
  api_->SetSourceResolution(300);
  if (!tiled) {
    if (api_->Recognize(nullptr) != 0) throw DataError("Tesseract could not read the image");
    collect(*api_, scale, words);
  } else {
    const int step = 2048;
    for (int y = 0; y < image.height; y += step) {
      for (int x = 0; x < image.width; x += step) {
        const int w = std::min(step + kTileOverlap, image.width - x), h = std::min(step + kTileOverlap, image.height - y);
        api_->SetRectangle(x, y, w, h);
        if (api_->Recognize(nullptr) != 0) throw DataError("Tesseract could not read an image tile");
        collect(*api_, 1, words);  // boxes come back in whole-image coordinates
      }
    }
  }
  api_->Clear();
  return words;
}

void check_ocr_available() {
  // Tesseract reports a missing language file on stderr itself (four lines)
  // before failing; our one-line error says what to install. This runs at the
  // start of a run, before any worker thread exists, so borrowing fd 2 is safe.
  std::fflush(stderr);
  const int saved = ::dup(2), null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved >= 0 && null >= 0) ::dup2(null, 2);
  auto restore = [&] {
    if (saved >= 0 && null >= 0) ::dup2(saved, 2);
    if (saved >= 0) ::close(saved);
    if (null >= 0) ::close(null);
  };
  try {
    OcrEngine engine;
  } catch (...) {
    restore();
    throw;
  }
  restore();
}

OcrEngine& ocr_engine_for_this_thread() {
  thread_local std::unique_ptr<OcrEngine> engine;
  if (!engine) engine = std::make_unique<OcrEngine>();
  return *engine;
}

}  // namespace medtrain::data::deid
