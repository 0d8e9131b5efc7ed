// The human monitor's migration helpers (monitor/migration_hmp.h): argument
// parsing and QEMU-style formatting. The commands themselves need a VM and
// are covered end to end by tests/system/test_migration.py.
#include "monitor/migration_hmp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry {
namespace {

TEST(ParseSize, PlainNumbersUseTheDefaultUnit) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("100", 'M'), 100u << 20);  // QEMU: max-bandwidth 100 = 100 MiB/s
  EXPECT_EQ(parse_size("3", 'K'), 3072u);
}

TEST(ParseSize, Suffixes) {
  EXPECT_EQ(parse_size("100M"), 100u << 20);
  EXPECT_EQ(parse_size("100m"), 100u << 20);
  EXPECT_EQ(parse_size("1K", 'M'), 1024u);
  EXPECT_EQ(parse_size("2G"), uint64_t{2} << 30);
  EXPECT_EQ(parse_size("1T"), uint64_t{1} << 40);
  EXPECT_EQ(parse_size("1P"), uint64_t{1} << 50);
  EXPECT_EQ(parse_size("1E"), uint64_t{1} << 60);
  EXPECT_EQ(parse_size("512B", 'M'), 512u);
  EXPECT_EQ(parse_size("512b", 'M'), 512u);
}

TEST(ParseSize, Fractions) {
  EXPECT_EQ(parse_size("1.5k"), 1536u);
  EXPECT_EQ(parse_size("0.5M"), 512u << 10);
  EXPECT_EQ(parse_size("1.5", 'M'), 3u << 19);
  // A fraction of a byte is refused, as by QEMU.
  EXPECT_EQ(parse_size("1.5"), std::nullopt);
  EXPECT_EQ(parse_size("1.5B", 'M'), std::nullopt);
  EXPECT_EQ(parse_size("1."), std::nullopt);
  EXPECT_EQ(parse_size(".5M"), std::nullopt);
}

TEST(ParseSize, RejectsGarbage) {
  for (const char* bad : {"", "x", "12x", "-1", "+1", " 1", "1 ", "1MB", "1Q", "M", "0x10"}) {
    EXPECT_EQ(parse_size(bad), std::nullopt) << bad;
  }
}

TEST(ParseSize, RejectsOverflow) {
  EXPECT_EQ(parse_size("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_size("16E"), std::nullopt);
  EXPECT_EQ(parse_size("17179869184G"), std::nullopt);
}

TEST(ParseOnOff, OnlyOnAndOff) {
  EXPECT_EQ(parse_on_off("on"), true);
  EXPECT_EQ(parse_on_off("off"), false);
  EXPECT_EQ(parse_on_off("yes"), std::nullopt);
  EXPECT_EQ(parse_on_off("ON"), std::nullopt);
  EXPECT_EQ(parse_on_off(""), std::nullopt);
}

TEST(HmpMigrateArgs, FlagsAndUri) {
  HmpMigrateArgs a;
  std::string error;
  ASSERT_TRUE(parse_hmp_migrate_args({"tcp:h:1"}, &a, &error)) << error;
  EXPECT_FALSE(a.detach);
  EXPECT_EQ(a.uri, "tcp:h:1");

  ASSERT_TRUE(parse_hmp_migrate_args({"-d", "unix:/tmp/s"}, &a, &error)) << error;
  EXPECT_TRUE(a.detach);
  EXPECT_FALSE(a.blk);
  EXPECT_EQ(a.uri, "unix:/tmp/s");

  ASSERT_TRUE(parse_hmp_migrate_args({"-d", "-b", "-i", "-r", "fd:mig"}, &a, &error)) << error;
  EXPECT_TRUE(a.detach && a.blk && a.inc && a.resume);
  EXPECT_EQ(a.uri, "fd:mig");

  ASSERT_TRUE(parse_hmp_migrate_args({"-db", "exec:cat > /tmp/x"}, &a, &error)) << error;
  EXPECT_TRUE(a.detach && a.blk);
  EXPECT_EQ(a.uri, "exec:cat > /tmp/x");
}

TEST(HmpMigrateArgs, Errors) {
  HmpMigrateArgs a;
  std::string error;
  EXPECT_FALSE(parse_hmp_migrate_args({}, &a, &error));
  EXPECT_EQ(error, "migrate: string expected");
  EXPECT_FALSE(parse_hmp_migrate_args({"-d"}, &a, &error));
  EXPECT_EQ(error, "migrate: string expected");
  EXPECT_FALSE(parse_hmp_migrate_args({"-x", "tcp:h:1"}, &a, &error));
  EXPECT_EQ(error, "migrate: unsupported option -x");
  EXPECT_FALSE(parse_hmp_migrate_args({"tcp:h:1", "more"}, &a, &error));
  EXPECT_EQ(error, "migrate: extraneous characters at the end of line");
}

QmpJson sample_parameters() {
  return QmpJson::parse(R"({"cpu-throttle-initial": 20, "downtime-limit": 300,
                            "max-bandwidth": 0, "tls-creds": "", "cpu-throttle-tailslow": false})");
}

TEST(HmpParameterValue, MaxBandwidthDefaultsToMiB) {
  std::string error;
  QmpJson params = sample_parameters();
  EXPECT_EQ(hmp_parameter_value("max-bandwidth", "100", params, &error), QmpJson(100u << 20));
  EXPECT_EQ(hmp_parameter_value("max-bandwidth", "100M", params, &error), QmpJson(100u << 20));
  EXPECT_EQ(hmp_parameter_value("max-bandwidth", "20000000B", params, &error),
            QmpJson(20000000u));
  EXPECT_EQ(hmp_parameter_value("max-bandwidth", "1.5k", params, &error), QmpJson(1536u));
  EXPECT_EQ(hmp_parameter_value("max-bandwidth", "12x", params, &error), std::nullopt);
  EXPECT_EQ(error, "Invalid size 12x");
  EXPECT_EQ(hmp_parameter_value("max-bandwidth", "8E", params, &error), std::nullopt);
}

TEST(HmpParameterValue, DowntimeLimitInMilliseconds) {
  std::string error;
  QmpJson params = sample_parameters();
  EXPECT_EQ(hmp_parameter_value("downtime-limit", "500", params, &error), QmpJson(500u));
  EXPECT_EQ(hmp_parameter_value("downtime-limit", "1K", params, &error), QmpJson(1024u));
  EXPECT_EQ(hmp_parameter_value("downtime-limit", "soon", params, &error), std::nullopt);
  EXPECT_EQ(error, "Parameter 'downtime-limit' expects a size value");
}

TEST(HmpParameterValue, OtherTypes) {
  std::string error;
  QmpJson params = sample_parameters();
  EXPECT_EQ(hmp_parameter_value("cpu-throttle-initial", "30", params, &error), QmpJson(30u));
  EXPECT_EQ(hmp_parameter_value("cpu-throttle-initial", "3K", params, &error), std::nullopt);
  EXPECT_EQ(error, "Parameter 'cpu-throttle-initial' expects an integer");
  EXPECT_EQ(hmp_parameter_value("cpu-throttle-tailslow", "on", params, &error), QmpJson(true));
  EXPECT_EQ(hmp_parameter_value("cpu-throttle-tailslow", "off", params, &error), QmpJson(false));
  EXPECT_EQ(hmp_parameter_value("cpu-throttle-tailslow", "2", params, &error), std::nullopt);
  EXPECT_EQ(hmp_parameter_value("tls-creds", "x", params, &error), QmpJson("x"));
}

TEST(HmpParameterValue, UnknownNameLikeQemu) {
  std::string error;
  EXPECT_EQ(hmp_parameter_value("foo", "1", sample_parameters(), &error), std::nullopt);
  EXPECT_EQ(error, "invalid parameter value: foo");
}

TEST(FormatInfoMigrate, NothingBeforeTheFirstMigration) {
  EXPECT_EQ(format_info_migrate(QmpJson::object(), QmpJson::array()), "");
  EXPECT_EQ(format_info_migrate(QmpJson::parse(R"({"status": "none"})"), QmpJson::array()), "");
}

TEST(FormatInfoMigrate, ActiveLikeQemu) {
  QmpJson info = QmpJson::parse(R"({
    "status": "active", "total-time": 1811, "expected-downtime": 300, "setup-time": 0,
    "ram": {"transferred": 37820416, "remaining": 296828928, "total": 335605760,
            "duplicate": 252, "skipped": 0, "normal": 9215, "normal-bytes": 37744640,
            "dirty-pages-rate": 0, "mbps": 161.64, "dirty-sync-count": 1,
            "page-size": 4096, "pages-per-second": 4923}})");
  QmpJson caps = QmpJson::parse(R"([{"capability": "auto-converge", "state": false},
                                    {"capability": "events", "state": true}])");
  EXPECT_EQ(format_info_migrate(info, caps),
            "capabilities: auto-converge: off events: on \n"
            "Migration status: active\n"
            "total time: 1811 ms\n"
            "expected downtime: 300 ms\n"
            "setup: 0 ms\n"
            "transferred ram: 36934 kbytes\n"
            "throughput: 161.64 mbps\n"
            "remaining ram: 289872 kbytes\n"
            "total ram: 327740 kbytes\n"
            "duplicate: 252 pages\n"
            "skipped: 0 pages\n"
            "normal: 9215 pages\n"
            "normal bytes: 36860 kbytes\n"
            "dirty sync count: 1\n"
            "page size: 4 kbytes\n"
            "pages-per-second: 4923\n");
}

TEST(FormatInfoMigrate, CompletedWithDirtyRate) {
  QmpJson info = QmpJson::parse(R"({
    "status": "completed", "total-time": 4062, "downtime": 41, "setup-time": 2,
    "ram": {"transferred": 2048, "remaining": 0, "total": 4096, "duplicate": 1,
            "normal": 2, "normal-bytes": 8192, "dirty-pages-rate": 120, "mbps": 314.414,
            "dirty-sync-count": 4}})");
  std::string out = format_info_migrate(info, QmpJson::array());
  EXPECT_EQ(out.find("capabilities"), std::string::npos);
  EXPECT_NE(out.find("Migration status: completed\ntotal time: 4062 ms\ndowntime: 41 ms\n"
                     "setup: 2 ms\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("expected downtime"), std::string::npos);
  EXPECT_NE(out.find("throughput: 314.41 mbps\n"), std::string::npos);
  EXPECT_NE(out.find("dirty pages rate: 120 pages\n"), std::string::npos);
  EXPECT_NE(out.find("normal bytes: 8 kbytes\n"), std::string::npos);
}

TEST(FormatInfoMigrate, ShowsTheStepsOfThePause) {
  QmpJson info = QmpJson::parse(R"({
    "status": "completed", "total-time": 40, "downtime": 1, "setup-time": 2,
    "ferry-downtime-steps": [{"step": "stop-requested", "ms": 0, "at": 5.0},
                             {"step": "go-sent", "ms": 0.8125, "at": 5.8125}]})");
  const std::string out = format_info_migrate(info, QmpJson::array());
  EXPECT_NE(out.find("downtime steps: stop-requested +0.000 ms go-sent +0.812 ms\n"),
            std::string::npos) << out;
}

TEST(FormatInfoMigrate, FailedShowsTheReason) {
  QmpJson info = QmpJson::parse(
      R"({"status": "failed", "error-desc": "Connection refused", "total-time": 0})");
  EXPECT_EQ(format_info_migrate(info, QmpJson::array()),
            "Migration status: failed (Connection refused)\ntotal time: 0 ms\n");
}

TEST(FormatMigrateParameters, UnitsLikeQemu) {
  QmpJson params = QmpJson::parse(R"({"max-bandwidth": 134217728, "downtime-limit": 300,
                                      "cpu-throttle-initial": 20, "tls-creds": "",
                                      "block-incremental": false})");
  EXPECT_EQ(format_migrate_parameters(params),
            "max-bandwidth: 134217728 bytes/second\n"
            "downtime-limit: 300 ms\n"
            "cpu-throttle-initial: 20\n"
            "tls-creds: ''\n"
            "block-incremental: off\n");
}

TEST(FormatMigrateCapabilities, OnePerLine) {
  QmpJson caps = QmpJson::parse(R"([{"capability": "auto-converge", "state": false},
                                    {"capability": "events", "state": true}])");
  EXPECT_EQ(format_migrate_capabilities(caps), "auto-converge: off\nevents: on\n");
  EXPECT_EQ(format_migrate_capabilities(QmpJson::array()), "");
}

TEST(FormatMigrateProgress, MebibytesAndThroughput) {
  QmpJson info = QmpJson::parse(R"({"status": "active",
      "ram": {"transferred": 12582912, "remaining": 104857600, "mbps": 151.234}})");
  EXPECT_EQ(format_migrate_progress(info),
            "transferred 12 MiB / remaining 100 MiB (151.23 mbps)\n");
  EXPECT_EQ(format_migrate_progress(QmpJson::parse(R"({"status": "setup"})")),
            "migration setup\n");
}

}  // namespace
}  // namespace ferry
