#include "data/dicom/dicom_codecs.h"

#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/oflog/oflog.h>

#include <mutex>

namespace medtrain::data {

void register_dicom_codecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK logs warnings about odd files to stderr by default; we report
    // problems as exceptions instead, so keep its logger quiet.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    // JPEG hands back the samples as coded (YCbCr for YBR_FULL/_422, upsampled
    // to YBR_FULL); dicom_pixels converts them in float like pydicom's
    // convert_color_space. IJG's integer conversion differed by 1-2 units.
    DJDecoderRegistration::registerCodecs(EDC_never);
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
  });
}

}  // namespace medtrain::data
