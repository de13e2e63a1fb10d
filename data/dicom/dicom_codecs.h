#pragma once
// DCMTK keeps its codecs in a process-wide registry. Everything in data/ that
// decodes or encodes compressed DICOM calls this first; it is idempotent and
// thread-safe (std::call_once), so callers never race on registration.
namespace medtrain::data {

// Registers the decoders (JPEG baseline/extended/lossless, JPEG-LS, RLE) and the
// lossless encoders we write (JPEG-LS, RLE), and silences DCMTK's own logging
// below FATAL: libraries do not print; failures reach the caller as DataError.
void register_dicom_codecs();

}  // namespace medtrain::data
