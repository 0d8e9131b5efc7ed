/* hello: the smallest guest. Prints a greeting and the hart id it was started with (a0),
 * then powers off with exit code 0. */
#include "runtime.h"

int main(unsigned long hartid, unsigned long dtb) {
  (void)dtb; /* board-dependent address: not printed */
  kprintf("Hello from ferry guest\n");
  kprintf("hart id: %lu\n", hartid);
  kprintf("hello: PASS\n");
  return 0;
}
