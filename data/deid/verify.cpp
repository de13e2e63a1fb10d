#include "data/deid/verify.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <fmt/format.h>

#include "data/deid/deidentifier.h"
#include "data/dicom/dicom_codecs.h"
#include "data/deid/dicom_file.h"
#include "data/deid/profile.h"

namespace medtrain::data::deid {
namespace {

// The options a de-identified file says it was made with.
ProfileOptions declared_options(DcmDataset& ds) {
  ProfileOptions options;
  DcmSequenceOfItems* seq = nullptr;
  if (ds.findAndGetSequence(DCM_DeidentificationMethodCodeSequence, seq).bad() || seq == nullptr) return options;
  for (unsigned long k = 0; k < seq->card(); ++k) {
    OFString value;
    seq->getItem(k)->findAndGetOFString(DCM_CodeValue, value);
    for (int i = 0; i < kOptionCount; ++i) {
      if (value == option_code(static_cast<ProfileOption>(i)).value) options.enabled[i] = true;
    }
  }
  return options;
}

std::optional<std::string> scan(DcmItem& item, const ProfileOptions& options, const VerifyOptions& verify) {
  const Profile& profile = Profile::basic();
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* el = item.getElement(i);
    const uint16_t g = el->getGTag(), e = el->getETag();
    if (e == 0x0000) continue;
    const uint32_t tag = (static_cast<uint32_t>(g) << 16) | e;
    if ((g & 1) && !verify.keep_private.count(tag) && !(e >= 0x0010 && e <= 0x00FF)) {
      return fmt::format("private tag {} is present (deid removes private tags unless allow-listed)", tag_string(g, e));
    }
    if (const ProfileRow* row = profile.find(g, e); row && resolve_action(*row, options) == Action::kRemove) {
      return fmt::format("tag {} {} is present; the profile removes it", tag_string(g, e), row->name);
    }
    if (el->ident() == EVR_SQ) {
      auto* seq = static_cast<DcmSequenceOfItems*>(el);
      for (unsigned long k = 0; k < seq->card(); ++k) {
        if (auto problem = scan(*seq->getItem(k), options, verify)) return problem;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_deidentified(DcmFileFormat& file, const VerifyOptions& options) {
  DcmDataset& ds = *file.getDataset();
  OFString removed;
  ds.findAndGetOFString(DCM_PatientIdentityRemoved, removed);
  if (removed != "YES") return std::string("Patient Identity Removed (0012,0062) is not YES");
  return scan(ds, declared_options(ds), options);
}

std::optional<std::string> check_deidentified(const std::string& path, const VerifyOptions& options) {
  register_dicom_codecs();  // keeps DCMTK's logger off stderr
  DcmFileFormat file;
  if (auto problem = load_dicom(path, file)) return *problem;
  return check_deidentified(file, options);
}

}  // namespace medtrain::data::deid
