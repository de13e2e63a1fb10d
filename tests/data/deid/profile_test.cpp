// The profile table: the compiled-in copy is the reviewed file, its rows resolve as
// docs/deid.md says, and a broken table is an error naming file:line.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "data/data_error.h"
#include "data/deid/profile.h"

namespace medtrain::data::deid {
namespace {

std::string read_source_tsv() {
  std::ifstream in(std::string(MEDTRAIN_SOURCE_DIR) + "/data/deid/basic_profile.tsv");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_error(const std::string& text, const std::string& needle) {
  try {
    Profile::parse(text, "t.tsv");
    FAIL() << "no error for: " << text;
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

const char* kHeader = "tag\tname\tbasic\trtn_long_modif_dates\trtn_pat_chars\trtn_dev_id\tclean_desc\n";

TEST(DeidProfile, CompiledTableIsTheSourceFile) {
  const Profile from_file = Profile::parse(read_source_tsv(), "basic_profile.tsv");
  const Profile& compiled = Profile::basic();
  ASSERT_EQ(from_file.rows().size(), compiled.rows().size());
  // Count data lines of the file independently of the parser: tab-separated, starting with "(".
  std::stringstream ss(read_source_tsv());
  std::string line;
  size_t data_lines = 0;
  while (std::getline(ss, line)) data_lines += !line.empty() && line[0] == '(' && line.find('\t') != std::string::npos;
  EXPECT_EQ(compiled.rows().size(), data_lines);
  EXPECT_GT(data_lines, 500u);  // Table E.1-1 lists over 600 attributes
  for (size_t i = 0; i < compiled.rows().size(); ++i) {
    EXPECT_EQ(compiled.rows()[i].tag, from_file.rows()[i].tag);
    EXPECT_EQ(compiled.rows()[i].basic, from_file.rows()[i].basic);
    EXPECT_EQ(compiled.rows()[i].option, from_file.rows()[i].option);
  }
}

TEST(DeidProfile, KnownRowsResolve) {
  const Profile& p = Profile::basic();
  ProfileOptions none;
  const ProfileRow* name = p.find(0x0010, 0x0010);
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->name, "Patient's Name");
  EXPECT_EQ(resolve_action(*name, none), Action::kZero);
  EXPECT_EQ(resolve_action(*p.find(0x0008, 0x0018), none), Action::kUid);          // SOP Instance UID
  EXPECT_EQ(resolve_action(*p.find(0x0010, 0x0030), none), Action::kZero);         // Birth Date
  EXPECT_EQ(resolve_action(*p.find(0x0018, 0x1000), none), Action::kDummy);        // Device Serial: X/Z/D -> D
  EXPECT_EQ(resolve_action(*p.find(0x0008, 0x1140), none), Action::kUid);          // Referenced Image Seq: X/Z/U*
  EXPECT_EQ(resolve_action(*p.find(0x0010, 0x1010), none), Action::kRemove);       // Age
  EXPECT_EQ(p.find(0x0028, 0x0010), nullptr);                                       // Rows: not listed
  // Repeating groups: overlay data in any 60xx group.
  ASSERT_NE(p.find(0x6002, 0x3000), nullptr);
  EXPECT_EQ(resolve_action(*p.find(0x6002, 0x3000), none), Action::kRemove);
}

TEST(DeidProfile, OptionsOverrideTheBasicAction) {
  const Profile& p = Profile::basic();
  ProfileOptions o;
  o.set(ProfileOption::kRetainPatientCharacteristics);
  EXPECT_EQ(resolve_action(*p.find(0x0010, 0x1010), o), Action::kKeep);   // Age
  EXPECT_EQ(resolve_action(*p.find(0x0010, 0x0030), o), Action::kZero);   // Birth Date unaffected
  o.set(ProfileOption::kRetainLongModifiedDates);
  EXPECT_EQ(resolve_action(*p.find(0x0008, 0x0020), o), Action::kClean);  // Study Date: shifted
  ProfileOptions dev;
  dev.set(ProfileOption::kRetainDeviceIdentity);
  EXPECT_EQ(resolve_action(*p.find(0x0018, 0x1000), dev), Action::kKeep);
  ProfileOptions desc;
  desc.set(ProfileOption::kCleanDescriptors);
  EXPECT_EQ(resolve_action(*p.find(0x0008, 0x1030), desc), Action::kClean);  // Study Description
  // Allergies: C under both options; with patient characteristics too it stays C.
  desc.set(ProfileOption::kRetainPatientCharacteristics);
  EXPECT_EQ(resolve_action(*p.find(0x0010, 0x2110), desc), Action::kClean);
}

TEST(DeidProfile, OptionNamesParseBothSpellings) {
  EXPECT_EQ(parse_option("long-modified-dates"), ProfileOption::kRetainLongModifiedDates);
  EXPECT_EQ(parse_option("rtn_dev_id"), ProfileOption::kRetainDeviceIdentity);
  try {
    parse_option("full-dates");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("full-dates"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("clean-descriptors"), std::string::npos);
  }
}

TEST(DeidProfile, BadTablesNameFileAndLine) {
  expect_error("tag\tname\n", "t.tsv:1");
  expect_error(std::string(kHeader) + "(0010,001G)\tX\tX\t\t\t\t\n", "t.tsv:2: bad tag");
  expect_error(std::string(kHeader) + "(0010,0010)\tName\tQ\t\t\t\t\n", "bad basic action \"Q\"");
  expect_error(std::string(kHeader) + "(0010,0010)\tName\tX\t\t\t\n", "t.tsv:2: expected 7");
  expect_error(std::string(kHeader) + "(0010,0010)\tA\tX\t\t\t\t\n(0010,0010)\tB\tX\t\t\t\t\n", "t.tsv:3: tag (0010,0010) is listed twice");
  expect_error(std::string(kHeader) + "(0010,0010)\tA\tX\tK/\t\t\t\n", "bad rtn_long_modif_dates action");
  expect_error("# only comments\n", "no header");
}

}  // namespace
}  // namespace medtrain::data::deid
