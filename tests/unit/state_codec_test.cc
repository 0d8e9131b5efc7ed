// Device state on the wire: tables of structures, optional subsections, and
// what an older or newer build makes of them.
#include "migration/state_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "migration/channel.h"
#include "migration/stream.h"
#include "test_devices.h"

namespace ferry {
namespace {

using test_util::CounterDevice;

std::vector<uint8_t> save(StateOwner& owner) {
  MemorySink sink;
  StreamWriter w(sink);
  save_state_fields(owner, owner.state_version(), w);
  w.flush();
  EXPECT_TRUE(w.ok()) << w.error();
  return sink.data;
}

// "" on success, else the loader's message.
std::string load(StateOwner& owner, std::vector<uint8_t> bytes) {
  StreamReader r(std::move(bytes), "the test state");
  if (load_state_fields(owner, owner.state_version(), r) && r.at_eof()) return "";
  return r.ok() ? "bytes left over" : r.error();
}

TEST(StateCodecTest, TablesOfStructuresRoundTrip) {
  CounterDevice a, b;
  a.value = 42;
  a.entries = {{0x1000, 16}, {0x2000, 32}, {0x3000, 64}};
  b.entries = {{9, 9}};  // replaced, not appended to
  ASSERT_EQ(load(b, save(a)), "");
  EXPECT_EQ(b.value, 42u);
  EXPECT_EQ(b.entries, a.entries);
  EXPECT_EQ(b.post_loads, 1);
}

TEST(StateCodecTest, ATableLargerThanItsBoundIsRefusedBeforeAllocating) {
  CounterDevice a, b;
  a.entries.assign(3, {1, 2});
  std::vector<uint8_t> bytes = save(a);
  // The count follows the table's tag and name; claim a million entries.
  const std::string name = "entries";
  auto at = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(at, bytes.end());
  const size_t count_at = static_cast<size_t>(at - bytes.begin()) + name.size();
  bytes[count_at] = 0x40;
  bytes[count_at + 1] = 0x42;
  bytes[count_at + 2] = 0x0f;
  const std::string err = load(b, bytes);
  EXPECT_NE(err.find("'entries'"), std::string::npos) << err;
  EXPECT_NE(err.find("at most 8"), std::string::npos) << err;
  // Saving more than the bound is an error too.
  a.entries.assign(9, {});
  MemorySink sink;
  StreamWriter w(sink);
  save_state_fields(a, 1, w);
  EXPECT_FALSE(w.ok());
}

// A byte string whose bound is far above any state's size (as a back end's
// opaque state), and a field after it.
class BlobDevice : public StateOwner {
 public:
  std::string_view state_name() const override { return "test-blob"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor& v) override {
    v.bytes("blob", blob, size_t{1} << 30);
    v.field("after", after);
  }
  std::vector<uint8_t> blob;
  uint32_t after = 0;
};

TEST(StateCodecTest, AByteStringLongerThanTheStateIsRefusedBeforeAllocating) {
  BlobDevice a, b;
  a.blob = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  a.after = 7;
  std::vector<uint8_t> bytes = save(a);
  ASSERT_EQ(load(b, bytes), "");
  EXPECT_EQ(b.blob, a.blob);
  EXPECT_EQ(b.after, 7u);

  // The length follows the field's tag and name: claim 512 MiB, within the
  // field's bound but far past the end of the state.
  const std::string name = "blob";
  auto at = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(at, bytes.end());
  const size_t len_at = static_cast<size_t>(at - bytes.begin()) + name.size();
  bytes[len_at] = 0, bytes[len_at + 1] = 0, bytes[len_at + 2] = 0, bytes[len_at + 3] = 0x20;
  BlobDevice c;
  const std::string err = load(c, bytes);
  EXPECT_NE(err.find("section 'test-blob'.blob: length 536870912 runs past the end of the state"),
            std::string::npos)
      << err;
  EXPECT_LT(c.blob.capacity(), size_t{1} << 20);  // nothing of the claimed size was made
  // One byte more than there is: refused too; exactly what is left loads
  // (the field after it is then missing, which the loader reports).
  const size_t left = bytes.size() - (len_at + 4);
  for (size_t claim : {left + 1, left}) {
    bytes[len_at] = static_cast<uint8_t>(claim), bytes[len_at + 1] = static_cast<uint8_t>(claim >> 8);
    bytes[len_at + 2] = 0, bytes[len_at + 3] = 0;
    BlobDevice d;
    const std::string e = load(d, bytes);
    EXPECT_EQ(e.find("runs past the end") != std::string::npos, claim > left) << e;
    EXPECT_NE(e, "");
  }
}

TEST(StateCodecTest, ASubsectionTravelsOnlyWhenNeeded) {
  CounterDevice a, b;
  const size_t without = save(a).size();
  a.extra = 7;
  const std::vector<uint8_t> with = save(a);
  EXPECT_GT(with.size(), without);
  ASSERT_EQ(load(b, with), "");
  EXPECT_EQ(b.extra, 7u);
}

TEST(StateCodecTest, AStreamWithoutANewerSubsectionLoads) {
  CounterDevice older(false), newer(true);
  older.value = 5;
  newer.extra = 99;  // stays: the older build never sent it
  ASSERT_EQ(load(newer, save(older)), "");
  EXPECT_EQ(newer.value, 5u);
  EXPECT_EQ(newer.extra, 99u);
}

TEST(StateCodecTest, AnUnknownSubsectionIsRefusedByName) {
  CounterDevice newer(true), older(false);
  newer.extra = 1;
  const std::string err = load(older, save(newer));
  EXPECT_NE(err.find("section 'test-counter'"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown subsection 'extra'"), std::string::npos) << err;
  EXPECT_EQ(older.post_loads, 0);
  // Not needed, not sent: the older build loads it.
  newer.extra = 0;
  EXPECT_EQ(load(older, save(newer)), "");
}

TEST(StateCodecTest, PrintingShowsTablesAndSubsections) {
  CounterDevice a;
  a.entries = {{0xabc, 3}};
  a.extra = 1;
  StreamReader r(save(a), "state");
  std::ostringstream out;
  ASSERT_TRUE(print_state_fields(r, out)) << r.error();
  EXPECT_NE(out.str().find("entries = 1 elements"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("addr = 0x0000000000000abc"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("extra = (subsection)"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace ferry
