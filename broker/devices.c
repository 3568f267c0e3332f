/*
 * The devices of the machine. Ports and lines are those of the PC: COM1 at
 * 0x3f8 on IRQ 4; the test-exit port at 0xf4, where kvm-unit-tests and many
 * QEMU setups put isa-debug-exit.
 */
#include "broker.h"

const struct dev_desc dev_table[] = {
	{ "uart", CELLVM__REGION__SPACE__PIO, 0x3f8, 8, 4, true },
	{ "testexit", CELLVM__REGION__SPACE__PIO, 0xf4, 4, -1, false },
};

const unsigned dev_table_len = sizeof(dev_table) / sizeof(dev_table[0]);
