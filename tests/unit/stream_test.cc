// The migration stream: little-endian encoding, latched errors, bounded
// reads, and device state round trips through the field codec.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include "devices/uart16550.h"
#include "migration/channel.h"
#include "migration/format.h"
#include "migration/state_codec.h"
#include "migration/stream.h"

namespace ferry {
namespace {

// A channel over one end of a socket pair, with the other end kept for the test.
struct Pipe {
  Pipe() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    writer = std::make_unique<FdChannel>(sv[0], true, "test-writer");
    reader = std::make_unique<FdChannel>(sv[1], true, "test-reader");
  }
  void close_writer() { writer.reset(); }
  std::unique_ptr<FdChannel> writer, reader;
};

TEST(StreamTest, IntegersAreLittleEndian) {
  Pipe p;
  StreamWriter w(*p.writer);
  w.u32(0x11223344);
  w.u64(0x0102030405060708ull);
  w.str("abc");
  w.flush();
  uint8_t raw[4 + 8 + 4];
  ASSERT_EQ(read(p.reader->fd(), raw, sizeof raw), static_cast<ssize_t>(sizeof raw));
  EXPECT_EQ(raw[0], 0x44);
  EXPECT_EQ(raw[3], 0x11);
  EXPECT_EQ(raw[4], 0x08);
  EXPECT_EQ(raw[11], 0x01);
  EXPECT_EQ(raw[12], 3);
  EXPECT_EQ(raw[13], 'a');
}

TEST(StreamTest, RoundTripAndTruncationLatchesOneError) {
  Pipe p;
  {
    StreamWriter w(*p.writer);
    w.u64(42);
    w.str("hello");
    w.u8(7);
    w.flush();
    EXPECT_EQ(w.bytes_written(), 8u + 6u + 1u);
  }
  p.close_writer();
  StreamReader r(*p.reader);
  EXPECT_EQ(r.u64(), 42u);
  EXPECT_EQ(r.str(), "hello");
  EXPECT_EQ(r.u8(), 7);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.u32(), 0u);  // past the end
  EXPECT_FALSE(r.ok());
  const std::string first = r.error();
  EXPECT_NE(first.find("ended early"), std::string::npos) << first;
  r.u64();
  r.fail("a later error");
  EXPECT_EQ(r.error(), first);  // the first error wins
}

TEST(StreamTest, WriterLatchesAFailedChannel) {
  Pipe p;
  StreamWriter w(*p.writer);
  p.reader.reset();  // nobody reads: writes fail
  for (int i = 0; i < 100000 && w.ok(); ++i) {
    w.u64(i);
    w.flush();
  }
  EXPECT_FALSE(w.ok());
  const std::string e = w.error();
  w.u64(1);
  w.flush();
  EXPECT_EQ(w.error(), e);
}

TEST(StateCodecTest, UartStateRoundTripsAndPrints) {
  Pipe p;
  Uart16550 a(nullptr, nullptr);
  a.mmio_write(3, 1, 0x80);  // DLAB
  a.mmio_write(0, 1, 0x12);  // DLL
  a.mmio_write(3, 1, 0x03);  // 8N1
  a.mmio_write(7, 1, 0x5a);  // scratch
  a.receive('x');
  StreamWriter w(*p.writer);
  save_state_fields(a, a.state_version(), w);
  save_state_fields(a, a.state_version(), w);
  w.flush();
  p.close_writer();
  StreamReader r(*p.reader);
  Uart16550 b(nullptr, nullptr);
  ASSERT_TRUE(load_state_fields(b, b.state_version(), r)) << r.error();
  EXPECT_EQ(b.mmio_read(7, 1), 0x5au);
  EXPECT_EQ(b.mmio_read(3, 1), 0x03u);
  EXPECT_EQ(b.mmio_read(5, 1) & 1, 1u);  // data ready: the byte travelled
  EXPECT_EQ(b.mmio_read(0, 1), static_cast<uint64_t>('x'));
  std::ostringstream text;
  ASSERT_TRUE(print_state_fields(r, text)) << r.error();
  EXPECT_NE(text.str().find("scr = 0x5a"), std::string::npos) << text.str();
}

TEST(StateCodecTest, MismatchedFieldNamesTheProblem) {
  Pipe p;
  StreamWriter w(*p.writer);
  w.u8(migration_format::kFieldU64);
  w.str("not_a_uart_field");
  w.u64(1);
  w.flush();
  p.close_writer();
  StreamReader r(*p.reader);
  Uart16550 u(nullptr, nullptr);
  EXPECT_FALSE(load_state_fields(u, u.state_version(), r));
  EXPECT_NE(r.error().find("not_a_uart_field"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace ferry
