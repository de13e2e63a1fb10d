#include "data/deid/deidentifier.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "data/data_error.h"
#include "data/deid/date_shift.h"
#include "data/deid/text_scrub.h"
#include "data/deid/vr_fit.h"

namespace medtrain::data::deid {
namespace {

constexpr MethodCode kOptionCodes[kOptionCount] = {
    {"113107", "Retain Longitudinal Temporal Information Modified Dates Option"},
    {"113108", "Retain Patient Characteristics Option"},
    {"113109", "Retain Device Identity Option"},
    {"113105", "Clean Descriptors Option"},
};

std::string get_string(DcmElement* el) {
  OFString s;
  if (el->getOFStringArray(s).bad()) return {};
  return s.c_str();
}

std::string get_top(DcmItem& item, const DcmTagKey& key) {
  OFString s;
  if (item.findAndGetOFStringArray(key, s).bad()) return {};
  return s.c_str();
}

bool is_binary(DcmEVR vr) {
  switch (vr) {
    case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV: case EVR_UN:
      return true;
    default:
      return false;
  }
}

// A valid non-empty stand-in for the VR (Annex E "D"). Empty when the VR has none
// (binary): the caller then records Z.
std::string dummy_for(DcmEVR vr) {
  switch (vr) {
    case EVR_DA: return "19000101";
    case EVR_TM: return "000000";
    case EVR_DT: return "19000101000000";
    case EVR_AS: return "000D";
    case EVR_IS: case EVR_DS: case EVR_US: case EVR_SS: case EVR_UL: case EVR_SL: case EVR_FL: case EVR_FD:
    case EVR_SV: case EVR_UV:
      return "0";
    default:
      return is_binary(vr) ? "" : "ANONYMIZED";
  }
}

class Walker {
 public:
  Walker(const Profile& profile, const Pseudonymizer& keyed, const DeidSettings& settings, const TextScrubber& scrub,
         DeidResult& result)
      : profile_(profile), keyed_(keyed), settings_(settings), scrub_(scrub), result_(result) {}

  void walk(DcmItem& item, int depth) {
    // Backwards, so that removing element i leaves the indices still to visit intact.
    for (long i = static_cast<long>(item.card()) - 1; i >= 0; --i) {
      DcmElement* el = item.getElement(static_cast<unsigned long>(i));
      const uint16_t g = el->getGTag(), e = el->getETag();
      if (e == 0x0000) continue;  // group lengths: recomputed on write
      if (g & 1) {
        if (!keep_private(g, e)) {
          delete item.remove(static_cast<unsigned long>(i));
          ++result_.private_removed;
          note(g, e, 'X');
        } else if (el->ident() == EVR_SQ) {
          walk_sequence(el, depth);
        }
        continue;
      }
      if (depth == 0 && g == 0x0010 && (e == 0x0010 || e == 0x0020)) {
        el->putString(result_.pseudonym.c_str());
        note(g, e, 'P');
        continue;
      }
      const ProfileRow* row = profile_.find(g, e);
      if (row == nullptr) {
        if (el->ident() == EVR_SQ) walk_sequence(el, depth);  // nested items may hold listed tags
        continue;
      }
      apply(resolve_action(*row, settings_.options), item, static_cast<unsigned long>(i), el, depth);
    }
  }

 private:
  bool keep_private(uint16_t g, uint16_t e) const {
    const uint32_t tag = (static_cast<uint32_t>(g) << 16) | e;
    if (settings_.keep_private.count(tag)) return true;
    if (e >= 0x0010 && e <= 0x00FF) {  // a private creator: keep it if any element of its block is kept
      const uint32_t first = (static_cast<uint32_t>(g) << 16) | (static_cast<uint32_t>(e) << 8);
      auto it = settings_.keep_private.lower_bound(first);
      return it != settings_.keep_private.end() && *it <= (first | 0xFF);
    }
    return false;
  }

  void walk_sequence(DcmElement* el, int depth) {
    auto* seq = static_cast<DcmSequenceOfItems*>(el);
    for (unsigned long k = 0; k < seq->card(); ++k) walk(*seq->getItem(k), depth + 1);
  }

  void note(uint16_t g, uint16_t e, char action) {
    std::string& s = result_.actions[tag_string(g, e)];
    if (s.find(action) == std::string::npos) s.push_back(action);
  }

  // `el` is item's element `index`; X deletes it.
  void apply(Action action, DcmItem& item, unsigned long index, DcmElement* el, int depth) {
    const uint16_t g = el->getGTag(), e = el->getETag();
    const DcmEVR vr = el->ident();
    if (action == Action::kRemove) {
      delete item.remove(index);
      note(g, e, 'X');
      return;
    }
    if (vr == EVR_SQ) {
      if (action == Action::kZero) {
        static_cast<DcmSequenceOfItems*>(el)->clear();
        note(g, e, 'Z');
      } else {
        walk_sequence(el, depth);  // D, K, C, U on a sequence: keep it, clean its items
        note(g, e, static_cast<char>(action));
      }
      return;
    }
    switch (action) {
      case Action::kZero: el->clear(); note(g, e, 'Z'); break;
      case Action::kKeep: note(g, e, 'K'); break;
      case Action::kUid:
      case Action::kDummy:
        if (vr == EVR_UI) {
          remap_uids(el);
          note(g, e, 'U');
        } else {
          put_dummy(el, vr);
        }
        break;
      case Action::kClean: clean(el, vr); break;
      case Action::kRemove: break;
    }
  }

  void put_dummy(DcmElement* el, DcmEVR vr) {
    const std::string dummy = dummy_for(vr);
    if (dummy.empty()) {
      // Binary: zeros of the original length (8 bytes if it was empty), through
      // whichever typed setter this element class implements.
      const size_t bytes = std::max<size_t>(8, (el->getLength() + 7) / 8 * 8);
      std::vector<uint8_t> zeros(bytes, 0);
      const bool ok = el->putUint8Array(zeros.data(), static_cast<unsigned long>(bytes)).good() ||
                      el->putUint16Array(reinterpret_cast<Uint16*>(zeros.data()), bytes / 2).good() ||
                      el->putFloat32Array(reinterpret_cast<Float32*>(zeros.data()), bytes / 4).good() ||
                      el->putFloat64Array(reinterpret_cast<Float64*>(zeros.data()), bytes / 8).good();
      if (!ok) el->clear();
      note(el->getGTag(), el->getETag(), ok ? 'D' : 'Z');
    } else {
      el->putString(dummy.c_str());
      note(el->getGTag(), el->getETag(), 'D');
    }
  }

  void remap_uids(DcmElement* el) {
    const std::string value = get_string(el);
    std::string out;
    size_t start = 0;
    while (true) {
      const size_t sep = value.find('\\', start);
      const std::string uid = value.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
      if (!uid.empty()) out += keyed_.remap_uid(uid);
      if (sep == std::string::npos) break;
      out += '\\';
      start = sep + 1;
    }
    el->putOFStringArray(out.c_str());
  }

  void clean(DcmElement* el, DcmEVR vr) {
    const uint16_t g = el->getGTag(), e = el->getETag();
    if (vr == EVR_DA || vr == EVR_DT || vr == EVR_TM) {
      if (!settings_.options.has(ProfileOption::kRetainLongModifiedDates)) {  // nothing says how to clean it
        el->clear();
        note(g, e, 'Z');
        return;
      }
      const auto shifted = shift_temporal(DcmVR(vr).getVRName(), get_string(el), result_.day_offset);
      if (!shifted) {
        el->clear();  // never keep a date we could not shift
        ++result_.bad_dates_removed;
        note(g, e, 'Z');
        return;
      }
      el->putOFStringArray(shifted->c_str());
      result_.dates_shifted = true;
      note(g, e, 'C');
      return;
    }
    if (vr == EVR_UI) {
      remap_uids(el);
      note(g, e, 'U');
      return;
    }
    if (is_binary(vr) || dummy_for(vr) == "0") {  // numbers and bytes carry no names: nothing to clean
      note(g, e, 'K');
      return;
    }
    std::string text = scrub_.scrub(get_string(el));
    if (settings_.text_tagger) text = tag_and_replace(g, e, DcmVR(vr).getVRName(), text);
    el->putOFStringArray(text.c_str());
    note(g, e, 'C');
  }

  // The model's spans become "[LABEL]" or shorter, within the VR (Note
  // [Replacements fit the VR]); the result records where, never what.
  std::string tag_and_replace(uint16_t g, uint16_t e, const std::string& vr, const std::string& text) {
    if (text.find_first_not_of(' ') == std::string::npos) return text;
    std::vector<FoundSpan> kept;
    FittedText out = replace_spans_for_vr(text, settings_.text_tagger(text), vr, kept);
    const std::string tag = tag_string(g, e);
    for (auto& s : kept) result_.text_replacements.push_back({tag, s.start, s.end, std::move(s.label)});
    if (out.fit != VrFit::kAsIs) result_.text_fitted[tag] = vr_fit_name(out.fit);
    return std::move(out.text);
  }

  const Profile& profile_;
  const Pseudonymizer& keyed_;
  const DeidSettings& settings_;
  const TextScrubber& scrub_;
  DeidResult& result_;
};

void set_markers(DcmDataset& ds, const DeidSettings& s) {
  ds.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  std::string methods = std::string(basic_profile_code().meaning);
  for (int i = 0; i < kOptionCount; ++i) {
    if (s.options.enabled[i]) methods += std::string("\\") + kOptionCodes[i].meaning;
  }
  methods += "\\medtrain deid " + s.tool_version;
  ds.putAndInsertOFStringArray(DCM_DeidentificationMethod, methods.c_str());
  ds.findAndDeleteElement(DCM_DeidentificationMethodCodeSequence);
  auto add_code = [&ds](const MethodCode& c) {
    DcmItem* item = nullptr;
    if (ds.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, item, -2).bad() || item == nullptr) {
      throw DataError("cannot add an item to De-identification Method Code Sequence (0012,0064)");
    }
    item->putAndInsertString(DCM_CodeValue, c.value);
    item->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
    item->putAndInsertString(DCM_CodeMeaning, c.meaning);
  };
  add_code(basic_profile_code());
  for (int i = 0; i < kOptionCount; ++i) {
    if (s.options.enabled[i]) add_code(kOptionCodes[i]);
  }
  ds.putAndInsertString(DCM_LongitudinalTemporalInformationModified,
                        s.options.has(ProfileOption::kRetainLongModifiedDates) ? "MODIFIED" : "REMOVED");
}

}  // namespace

MethodCode basic_profile_code() { return {"113100", "Basic Application Confidentiality Profile"}; }
MethodCode option_code(ProfileOption o) { return kOptionCodes[static_cast<int>(o)]; }

DeidResult deidentify(DcmFileFormat& file, const Profile& profile, const Pseudonymizer& keyed,
                      const DeidSettings& settings) {
  DcmDataset& ds = *file.getDataset();
  DeidResult result;
  std::string source = get_top(ds, DCM_PatientID);
  if (source.find_first_not_of(' ') == std::string::npos) source = get_top(ds, DCM_PatientName);
  result.pseudonym = keyed.patient_pseudonym(source);
  result.day_offset = keyed.day_offset(source);
  const TextScrubber scrub = TextScrubber::from_dataset(ds);
  Walker walker(profile, keyed, settings, scrub, result);
  walker.walk(ds, 0);
  walker.walk(*file.getMetaInfo(), 0);  // (0002,0003) Media Storage SOP Instance UID: U
  set_markers(ds, settings);
  result.study_uid = get_top(ds, DCM_StudyInstanceUID);
  result.series_uid = get_top(ds, DCM_SeriesInstanceUID);
  result.sop_instance_uid = get_top(ds, DCM_SOPInstanceUID);
  return result;
}

}  // namespace medtrain::data::deid
