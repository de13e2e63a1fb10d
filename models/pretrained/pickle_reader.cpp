#include "models/pretrained/pickle_reader.h"

#include <cstring>
#include <sstream>
#include <unordered_map>

#include "models/model_error.h"

namespace medtrain::models::pretrained {
namespace {

using Kind = PickleValue::Kind;

PickleRef scalar(Kind kind, int64_t value) {
  auto v = PickleValue::make(kind);
  v->integer = value;
  return v;
}

PickleRef text_value(Kind kind, std::string text) {
  auto v = PickleValue::make(kind);
  v->text = std::move(text);
  return v;
}

// One run over one pickle. The opcode meanings are Python's (Lib/pickle.py,
// Lib/pickletools.py); only opcodes that describe data are implemented.
class Machine {
 public:
  Machine(const char* data, size_t size, const PickleHooks& hooks, const std::string& origin)
      : data_(data), size_(size), hooks_(hooks), origin_(origin) {}

  PickleRef run() {
    while (true) {
      op_pos_ = pos_;
      const uint8_t op = u8();
      if (op == '.') return pop();  // STOP
      step(op);
    }
  }

 size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw ModelError(origin_ + ": pickle byte " + std::to_string(op_pos_) + ": " + problem +
                     " (not a state dict written by torch.save?)");
  }

  const char* take(uint64_t n) {
    if (n > size_ - pos_) fail("truncated: needs " + std::to_string(n) + " more bytes, " +
                               std::to_string(size_ - pos_) + " left");
    const char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t little(int n) {
    const auto* p = reinterpret_cast<const unsigned char*>(take(n));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(little(1)); }
  std::string bytes(uint64_t n) { return std::string(take(n), n); }
  std::string line() {
    const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
    if (nl == nullptr) fail("truncated: text argument without a newline");
    const size_t n = static_cast<const char*>(nl) - (data_ + pos_);
    std::string out = bytes(n);
    pos_ += 1;
    return out;
  }

  void push(PickleRef v) { stack_.push_back(std::move(v)); }
  PickleRef pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
    PickleRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PickleRef& top() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
    return stack_.back();
  }
  std::vector<PickleRef> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    std::vector<PickleRef> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  PickleRef memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo index " + std::to_string(index) + " was never stored");
    return it->second;
  }

  PickleRef sequence(Kind kind, std::vector<PickleRef> items) {
    auto v = PickleValue::make(kind);
    v->items = std::move(items);
    return v;
  }
  void set_items(const std::vector<PickleRef>& kv) {
    if (kv.size() % 2 != 0) fail("SETITEMS with an odd number of values");
    PickleRef& target = top();
    if (target->kind == Kind::kOpaque) return;  // an object we do not model: its items do not matter
    if (target->kind != Kind::kDict) fail("SETITEM on a non-dict");
    for (size_t i = 0; i < kv.size(); i += 2) target->entries.emplace_back(kv[i], kv[i + 1]);
  }
  void append_items(const std::vector<PickleRef>& items) {
    PickleRef& target = top();
    if (target->kind == Kind::kOpaque) return;
    if (target->kind != Kind::kList) fail("APPEND on a non-list");
    target->items.insert(target->items.end(), items.begin(), items.end());
  }
  PickleRef long_int(uint64_t n) {
    if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit 64 bits");
    uint64_t v = n == 0 ? 0 : little(static_cast<int>(n));
    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return scalar(Kind::kInt, static_cast<int64_t>(v));
  }
  PickleRef global(const std::string& module, const std::string& name) {
    return text_value(Kind::kGlobal, module + "." + name);
  }
  PickleRef reduce(const PickleRef& callable, const PickleRef& args) {
    if (callable->kind == Kind::kGlobal) {
      if (callable->text == "collections.OrderedDict") return PickleValue::make(Kind::kDict);
      if (hooks_.reduce) {
        if (auto v = hooks_.reduce(callable->text, args)) return v;
      }
      return text_value(Kind::kOpaque, "result of " + callable->text + "(...)");
    }
    return text_value(Kind::kOpaque, "result of a call");
  }

  void step(uint8_t op);
  void step_more(uint8_t op);

  const char* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  const PickleHooks& hooks_;
  const std::string& origin_;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleRef> memo_;
};

void Machine::step(uint8_t op) {
  switch (op) {
    case 0x80: u8(); return;                      // PROTO
    case 0x95: little(8); return;                 // FRAME
    case 'N': push(PickleValue::make(Kind::kNone)); return;
    case 0x88: push(scalar(Kind::kBool, 1)); return;  // NEWTRUE
    case 0x89: push(scalar(Kind::kBool, 0)); return;  // NEWFALSE
    case 'K': push(scalar(Kind::kInt, u8())); return;                                   // BININT1
    case 'M': push(scalar(Kind::kInt, static_cast<int64_t>(little(2)))); return;        // BININT2
    case 'J': push(scalar(Kind::kInt, static_cast<int32_t>(little(4)))); return;        // BININT
    case 0x8a: push(long_int(u8())); return;                                            // LONG1
    case 0x8b: push(long_int(little(4))); return;                                       // LONG4
    case 'G': {                                                                         // BINFLOAT
      uint64_t bits = 0;
      for (char c : bytes(8)) bits = (bits << 8) | static_cast<unsigned char>(c);  // big-endian
      auto v = PickleValue::make(Kind::kFloat);
      std::memcpy(&v->real, &bits, sizeof bits);
      push(v);
      return;
    }
    case 'X': push(text_value(Kind::kString, bytes(little(4)))); return;    // BINUNICODE
    case 0x8c: push(text_value(Kind::kString, bytes(u8()))); return;        // SHORT_BINUNICODE
    case 0x8d: push(text_value(Kind::kString, bytes(little(8)))); return;   // BINUNICODE8
    case 'T': push(text_value(Kind::kString, bytes(little(4)))); return;    // BINSTRING
    case 'U': push(text_value(Kind::kString, bytes(u8()))); return;         // SHORT_BINSTRING
    case 'B': push(text_value(Kind::kBytes, bytes(little(4)))); return;     // BINBYTES
    case 'C': push(text_value(Kind::kBytes, bytes(u8()))); return;          // SHORT_BINBYTES
    case 0x8e: push(text_value(Kind::kBytes, bytes(little(8)))); return;    // BINBYTES8
    case '(': marks_.push_back(stack_.size()); return;                      // MARK
    case ')': push(sequence(Kind::kTuple, {})); return;                     // EMPTY_TUPLE
    case 't': push(sequence(Kind::kTuple, pop_mark())); return;             // TUPLE
    case 0x85: { auto a = pop(); push(sequence(Kind::kTuple, {a})); return; }  // TUPLE1
    case 0x86: { auto b = pop(), a = pop(); push(sequence(Kind::kTuple, {a, b})); return; }
    case 0x87: { auto c = pop(), b = pop(), a = pop(); push(sequence(Kind::kTuple, {a, b, c})); return; }
    default: step_more(op);
  }
}

void Machine::step_more(uint8_t op) {
  switch (op) {
    case ']': push(sequence(Kind::kList, {})); return;          // EMPTY_LIST
    case 'l': push(sequence(Kind::kList, pop_mark())); return;  // LIST
    case 0x8f: push(sequence(Kind::kList, {})); return;         // EMPTY_SET (kept as a list)
    case 0x91: push(sequence(Kind::kList, pop_mark())); return; // FROZENSET
    case 'a': { auto v = pop(); append_items({v}); return; }    // APPEND
    case 'e': case 0x90: append_items(pop_mark()); return;      // APPENDS, ADDITEMS
    case '}': push(PickleValue::make(Kind::kDict)); return;     // EMPTY_DICT
    case 'd': { auto kv = pop_mark(); push(PickleValue::make(Kind::kDict)); set_items(kv); return; }
    case 's': { auto v = pop(), k = pop(); set_items({k, v}); return; }  // SETITEM
    case 'u': set_items(pop_mark()); return;                    // SETITEMS
    case 'q': memo_[u8()] = top(); return;                      // BINPUT
    case 'r': memo_[little(4)] = top(); return;                 // LONG_BINPUT
    case 0x94: memo_[memo_.size()] = top(); return;             // MEMOIZE
    case 'h': push(memo_get(u8())); return;                     // BINGET
    case 'j': push(memo_get(little(4))); return;                // LONG_BINGET
    case 'c': { auto module = line(); push(global(module, line())); return; }  // GLOBAL
    case 0x93: {                                                // STACK_GLOBAL
      auto name = pop(), module = pop();
      if (name->kind != Kind::kString || module->kind != Kind::kString) fail("STACK_GLOBAL without two strings");
      push(global(module->text, name->text));
      return;
    }
    case 'R': { auto args = pop(), callable = pop(); push(reduce(callable, args)); return; }  // REDUCE
    case 0x81: {                                                // NEWOBJ: cls.__new__(cls, *args)
      auto args = pop(), cls = pop();
      push(cls->kind == Kind::kGlobal && cls->text == "collections.OrderedDict"
               ? PickleValue::make(Kind::kDict)
               : text_value(Kind::kOpaque, "object of " + cls->text));
      return;
    }
    case 'b': pop(); top(); return;  // BUILD: the state of an object we do not model (e.g. OrderedDict._metadata)
    case 'Q': {                      // BINPERSID
      auto pid = pop();
      if (!hooks_.persistent_load) fail("persistent id without a loader");
      push(hooks_.persistent_load(pid));
      return;
    }
    default: {
      std::ostringstream s;
      s << "unsupported pickle opcode 0x" << std::hex << static_cast<int>(op);
      fail(s.str());
    }
  }
}

}  // namespace

PickleRef read_pickle(const char* data, size_t size, const PickleHooks& hooks, const std::string& origin,
                      size_t* consumed) {
  Machine machine(data, size, hooks, origin);
  PickleRef out = machine.run();
  if (consumed != nullptr) *consumed = machine.position();
  return out;
}

}  // namespace medtrain::models::pretrained
