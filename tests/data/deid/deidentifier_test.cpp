// The walk over one object: actions at depth, private tags, markers, the scrubber,
// and check_deidentified on the result and on planted leftovers. (The full table is
// exercised against pydicom in tests/integration/deid_test.py.)
#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvrlo.h>

#include "data/deid/deidentifier.h"
#include "data/deid/text_scrub.h"
#include "data/deid/verify.h"

namespace medtrain::data::deid {
namespace {

std::string get(DcmItem& item, const DcmTagKey& key) {
  OFString s;
  item.findAndGetOFStringArray(key, s);
  return s.c_str();
}

// Private tags have no dictionary VR: create them as LO explicitly.
void put_private(DcmItem& item, uint16_t element, const char* value) {
  auto* el = new DcmLongString(DcmTag(0x0009, element, EVR_LO));
  el->putString(value);
  ASSERT_TRUE(item.insert(el, true).good());
}

class DeidentifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DcmDataset& ds = *file_.getDataset();
    ds.putAndInsertString(DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
    ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6");
    ds.putAndInsertString(DCM_StudyInstanceUID, "1.2.3.4");
    ds.putAndInsertString(DCM_PatientName, "Zebulon^Quixote");
    ds.putAndInsertString(DCM_PatientID, "MRN-998877");
    ds.putAndInsertString(DCM_PatientBirthDate, "19600102");
    ds.putAndInsertString(DCM_PatientAge, "064Y");
    ds.putAndInsertString(DCM_StudyDate, "20240301");
    ds.putAndInsertString(DCM_StudyDescription, "CT head for quixote MRN-998877 follow-up");
    ds.putAndInsertString(DCM_InstitutionName, "General Hospital");
    ds.putAndInsertString(DCM_Rows, "4");
    DcmItem* ref = nullptr;
    ds.findOrCreateSequenceItem(DCM_ReferencedImageSequence, ref, -2);
    ref->putAndInsertString(DCM_ReferencedSOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
    ref->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.7");
    ref->putAndInsertString(DCM_OperatorsName, "Nested^Operator");
    put_private(ds, 0x0010, "ACME");
    put_private(ds, 0x1001, "private secret");
    put_private(ds, 0x1002, "kept private");
  }
  DcmFileFormat file_;
  Pseudonymizer keyed_{"unit-test-key-0123456789"};
};

TEST_F(DeidentifierTest, AppliesTheTableAtEveryDepth) {
  DeidSettings s;
  s.tool_version = "9.9";
  const DeidResult r = deidentify(file_, Profile::basic(), keyed_, s);
  DcmDataset& ds = *file_.getDataset();
  EXPECT_EQ(get(ds, DCM_PatientName), keyed_.patient_pseudonym("MRN-998877"));
  EXPECT_EQ(get(ds, DCM_PatientID), r.pseudonym);
  EXPECT_EQ(get(ds, DCM_PatientBirthDate), "");                     // Z
  EXPECT_FALSE(ds.tagExists(DCM_PatientAge));                       // X
  EXPECT_FALSE(ds.tagExists(DCM_StudyDescription));                 // X without clean-descriptors
  EXPECT_EQ(get(ds, DCM_StudyDate), "");                            // Z without long-modified-dates
  EXPECT_EQ(get(ds, DCM_SOPInstanceUID), keyed_.remap_uid("1.2.3.4.5.6"));
  EXPECT_EQ(get(ds, DCM_Rows), "4");                                // not listed: kept
  DcmItem* ref = nullptr;
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_ReferencedImageSequence, ref, 0).good());
  EXPECT_EQ(get(*ref, DCM_ReferencedSOPInstanceUID), keyed_.remap_uid("1.2.3.4.5.7"));
  EXPECT_EQ(get(*ref, DCM_ReferencedSOPClassUID), "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_EQ(get(*ref, DCM_OperatorsName), "ANONYMIZED");            // X/Z/D -> D, nested
  EXPECT_FALSE(ds.tagExists(DcmTagKey(0x0009, 0x1001)));
  EXPECT_FALSE(ds.tagExists(DcmTagKey(0x0009, 0x0010)));
  EXPECT_EQ(r.private_removed, 3);
  EXPECT_EQ(get(ds, DCM_PatientIdentityRemoved), "YES");
  EXPECT_EQ(get(ds, DCM_LongitudinalTemporalInformationModified), "REMOVED");
  DcmItem* code = nullptr;
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_DeidentificationMethodCodeSequence, code, 0).good());
  EXPECT_EQ(get(*code, DCM_CodeValue), "113100");
  EXPECT_EQ(r.actions.at("(0010,1010)"), "X");
  EXPECT_EQ(r.actions.at("(0008,1155)"), "U");
  EXPECT_FALSE(check_deidentified(file_).has_value()) << *check_deidentified(file_);
}

TEST_F(DeidentifierTest, OptionsShiftDatesKeepCharacteristicsCleanText) {
  DeidSettings s;
  s.options.set(ProfileOption::kRetainLongModifiedDates);
  s.options.set(ProfileOption::kRetainPatientCharacteristics);
  s.options.set(ProfileOption::kCleanDescriptors);
  s.keep_private.insert(0x00091002);
  const DeidResult r = deidentify(file_, Profile::basic(), keyed_, s);
  DcmDataset& ds = *file_.getDataset();
  EXPECT_TRUE(r.dates_shifted);
  EXPECT_EQ(r.day_offset, keyed_.day_offset("MRN-998877"));
  EXPECT_NE(get(ds, DCM_StudyDate), "20240301");
  EXPECT_EQ(get(ds, DCM_StudyDate).size(), 8u);
  EXPECT_EQ(get(ds, DCM_PatientAge), "064Y");
  EXPECT_EQ(get(ds, DCM_StudyDescription), "CT head for   follow-up");
  EXPECT_EQ(get(ds, DcmTagKey(0x0009, 0x1002)), "kept private");
  EXPECT_EQ(get(ds, DcmTagKey(0x0009, 0x0010)), "ACME");  // its creator stays with it
  EXPECT_FALSE(ds.tagExists(DcmTagKey(0x0009, 0x1001)));
  EXPECT_EQ(get(ds, DCM_LongitudinalTemporalInformationModified), "MODIFIED");
  // The declared options make Age acceptable to the checker; the private tag needs the allow-list.
  EXPECT_TRUE(check_deidentified(file_).has_value());
  VerifyOptions v;
  v.keep_private.insert(0x00091002);
  EXPECT_FALSE(check_deidentified(file_, v).has_value());
}

TEST_F(DeidentifierTest, CheckFindsLeftovers) {
  const auto raw = check_deidentified(file_);
  ASSERT_TRUE(raw.has_value());
  EXPECT_NE(raw->find("(0012,0062)"), std::string::npos);
  deidentify(file_, Profile::basic(), keyed_, DeidSettings{});
  DcmItem* ref = nullptr;
  file_.getDataset()->findAndGetSequenceItem(DCM_ReferencedImageSequence, ref, 0);
  ref->putAndInsertString(DCM_PatientAge, "033Y");  // planted at depth 1
  const auto problem = check_deidentified(file_);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("(0010,1010)"), std::string::npos) << *problem;
  EXPECT_EQ(problem->find("033Y"), std::string::npos) << "values never appear in problems";
}

TEST(DeidTextScrub, RemovesWholeWordsCaseInsensitively) {
  const TextScrubber s({"Doe", "John", "12345", "x"});
  EXPECT_EQ(s.scrub("CT for JOHN doe (12345)"), "CT for   ()");
  EXPECT_EQ(s.scrub("Doest Johnson 123456"), "Doest Johnson 123456");  // not inside other words
  EXPECT_EQ(s.identifiers().size(), 3u);                                // "x" is too short to match safely
}

}  // namespace
}  // namespace medtrain::data::deid
