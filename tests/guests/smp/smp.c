/*
 * smp: "cpus=N" (2): starts the APs with APIC IDs 1 .. N-1 by
 * INIT-SIPI-SIPI (kit_smp.h), each AP enables its local APIC, prints
 * "cpu <apic id> up" and waits in HLT ("hlt=0": in a PAUSE loop with
 * IF = 1 instead; QEMU 7.2 with kernel-irqchip=off on the development
 * machines' KVM spins for ever, holding its global lock, once an AP that
 * it started by SIPI executes HLT). Then the BSP sends each AP a fixed
 * IPI (vector 0x50); the AP's handler answers with a fixed IPI to the BSP
 * on vector 0x60 + its APIC ID, so the BSP knows who answered.
 *
 * Output: "smp: N cpus", one "cpu K up" per AP (printed by the APs under
 * the kit's print lock, so their order may vary: compare sorted), then
 * the BSP's "ok"/"FAIL" lines: the MADT lists N local APICs with IDs
 * 0 .. N-1; per AP, it started once (the second SIPI reached a running
 * CPU and must be ignored) and answered; then "smp: P passed, F failed".
 * Exit status 0 only if all pass.
 */
#include "kit.h"
#include "kit_acpi.h"
#include "kit_clock.h"
#include "kit_intr.h"
#include "kit_smp.h"

#define VEC_PING 0x50
#define VEC_PONG 0x60 /* + APIC ID */
#define TIMEOUT (1000 * NSEC_PER_MSEC)

static bool ap_hlt;
static volatile uint32_t ap_ready[KIT_MAX_CPUS];
static volatile uint32_t answered[KIT_MAX_CPUS];

/* On an AP: answer the BSP (APIC ID 0). */
static void ping_handler(unsigned vector)
{
	uint32_t id = kit_lapic_id();

	kit_lapic_eoi();
	kit_lapic_ipi(0, ICR_FIXED | (VEC_PONG + id));
}

/* On the BSP. */
static void pong_handler(unsigned vector)
{
	answered[vector - VEC_PONG]++;
	kit_lapic_eoi();
}

static void ap_main(uint32_t apic_id)
{
	kit_lapic_enable(false);
	kit_printf("cpu %u up\n", apic_id);
	ap_ready[apic_id] = 1;
	kit_sti();
	for (;;)
		if (ap_hlt)
			kit_sti_hlt();
		else
			__asm__ volatile("pause");
}

static bool wait_flag(const volatile uint32_t *flag, uint64_t timeout)
{
	uint64_t end = kit_clock_ns() + timeout;

	while (!*flag && kit_clock_ns() < end)
		;
	return *flag;
}

static void check_madt(unsigned n)
{
	struct kit_madt m;
	bool ok = kit_acpi_madt(&m) && m.n_lapic == n;
	unsigned i;

	for (i = 0; ok && i < n; i++)
		ok = m.lapic_id[i] == i;
	kit_check(ok, "MADT: one enabled local APIC per CPU, IDs 0 .. N-1");
}

int main(const char *cmdline)
{
	unsigned n = kit_param(cmdline, "cpus", 2), id;

	if (n < 1 || n > KIT_MAX_CPUS) {
		kit_printf("smp: cpus=%u is not in 1..%u\n", n, KIT_MAX_CPUS);
		return 2;
	}
	ap_hlt = kit_param(cmdline, "hlt", 1);
	if (!kit_clock_init())
		return 1;
	kit_intr_init();
	kit_irq_set(VEC_PING, ping_handler);
	for (id = 0; id < n; id++)
		kit_irq_set(VEC_PONG + id, pong_handler);
	kit_printf("smp: %u cpus\n", n);
	/* Every CPU says its APIC ID, read from its own APIC: the BSP first. */
	kit_printf("cpu %u up\n", kit_lapic_id());
	for (id = 1; id < n; id++)
		if (kit_smp_start_ap(id, ap_main, 1000))
			wait_flag(&ap_ready[id], TIMEOUT);
	kit_sti();
	for (id = 1; id < n; id++)
		if (ap_ready[id])
			kit_lapic_ipi(id, ICR_FIXED | VEC_PING);
	for (id = 1; id < n; id++)
		wait_flag(&answered[id], TIMEOUT);
	/* Any second start or answer would come within this. */
	kit_delay_ns(10 * NSEC_PER_MSEC);

	check_madt(n);
	for (id = 1; id < n; id++) {
		kit_check(kit_ap_entries(id) == 1, "cpu %u started once", id);
		kit_check(answered[id] == 1, "cpu %u answered the IPI", id);
	}
	return kit_check_summary("smp");
}
