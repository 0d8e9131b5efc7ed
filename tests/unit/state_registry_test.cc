#include "migration/state_registry.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "test_devices.h"

namespace ferry {
namespace {

using test_util::CounterDevice;

TEST(StateRegistryTest, InstancesOfOneTypeGetTheirOwnIds) {
  StateRegistry r;
  CounterDevice a, b, c;
  EXPECT_EQ(r.add_device(a, state_order::kDevice), 0u);
  EXPECT_EQ(r.add_device(b, state_order::kDevice), 1u);
  EXPECT_EQ(r.add_device(c, state_order::kDevice, 7), 7u);
  EXPECT_EQ(r.find("test-counter", 1)->device, &b);
  EXPECT_EQ(r.find("test-counter", 7)->device, &c);
  EXPECT_EQ(r.find("test-counter", 2), nullptr);
  CounterDevice d;
  EXPECT_THROW(r.add_device(d, state_order::kDevice, 7), std::logic_error);
}

TEST(StateRegistryTest, EntriesAreInOrderThenInRegistration) {
  StateRegistry r;
  CounterDevice cpu_like, a, irq_like, b;
  r.add_device(cpu_like, state_order::kCpu);
  r.add_device(a, state_order::kDevice);
  r.add_device(irq_like, state_order::kInterruptController);
  r.add_device(b, state_order::kDevice);
  ASSERT_EQ(r.entries().size(), 4u);
  EXPECT_EQ(r.entries()[0].device, &irq_like);
  EXPECT_EQ(r.entries()[1].device, &a);
  EXPECT_EQ(r.entries()[2].device, &b);
  EXPECT_EQ(r.entries()[3].device, &cpu_like);
  EXPECT_EQ(r.entries()[0].instance, 2u);  // the third of its name
}

TEST(StateRegistryTest, RunStateChangesReachEveryDevice) {
  StateRegistry r;
  CounterDevice a, b;
  r.add_device(a, state_order::kDevice);
  r.add_device(b, state_order::kDevice);
  r.notify_run_state(false);
  r.notify_run_state(true);
  EXPECT_EQ(a.stops, 1);
  EXPECT_EQ(b.starts, 1);
}

}  // namespace
}  // namespace ferry
