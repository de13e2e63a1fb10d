#pragma once
// DCMTK parsing under a stack budget: the last line of defence against deeply
// nested sequences.
//
// Note [Stack budget]: DCMTK 3.6.7 reads each sequence level with a chain of
// recursive calls and has no depth limit of its own (3.6.9+ does). The byte scan
// of data/dicom/dicom_depth_check.h refuses deep nesting with a clear message first,
// but it models DCMTK's reading rules by hand, and a fuzzer found an encoding
// (a non-standard VR of undefined length) that the model had wrong: DCMTK nested
// thousands of levels and overflowed the stack. These functions hand DCMTK a
// stream whose status() -- which DCMTK asks at the start of every item and every
// sequence -- turns bad once the parse has used more than its share of this
// thread's stack, so DCMTK unwinds with an error instead of overflowing, whatever
// the encoding. The share is half of the stack left when parsing starts, at most
// 1 MiB: real files use a few kilobytes.
#include <dcmtk/dcmdata/dcfilefo.h>

#include <cstddef>
#include <string>

namespace medtrain::data {

// The condition DCMTK returns when the budget ran out; its text() reads
// "sequences nested too deeply for the parser's stack budget (malformed or hostile file)".
extern const OFConditionConst kNestingBudgetExceeded;

// DcmFileFormat::loadFile with the same defaults (ERM_autoDetect, values over 4 KiB
// loaded on demand), through the guarded stream.
OFCondition load_dicom_guarded(DcmFileFormat& file, const std::string& path,
                               E_FileReadMode mode = ERM_autoDetect,
                               Uint32 max_read_length = DCM_MaxReadLength);

// The same for a whole file held in memory (`data` must outlive the call only).
OFCondition read_dicom_guarded(DcmFileFormat& file, const char* data, size_t size,
                               Uint32 max_read_length = DCM_MaxReadLength);

}  // namespace medtrain::data
