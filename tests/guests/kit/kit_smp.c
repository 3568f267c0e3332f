/*
 * Guest kit: AP start-up by INIT-SIPI-SIPI. See kit_smp.h.
 */
#include "kit_smp.h"
#include "kit_clock.h"
#include "kit_intr.h"

extern const char kit_trampoline[];

/* Written by the BSP before it sends the SIPIs, read by the AP. */
static volatile kit_ap_fn kit_ap_function;
/* Each AP counts its own entries: one writer per slot. */
static volatile uint32_t kit_ap_entered[KIT_MAX_CPUS];

void kit_ap_main(uint32_t apic_id)
{
	kit_ap_fn fn = kit_ap_function;

	kit_ap_entered[apic_id]++;
	if (fn)
		fn(apic_id);
	for (;;)
		__asm__ volatile("cli; hlt");
}

unsigned kit_ap_entries(uint32_t apic_id)
{
	return apic_id < KIT_MAX_CPUS ? kit_ap_entered[apic_id] : 0;
}

static bool wait_entered(uint32_t apic_id, unsigned before, uint64_t ns)
{
	uint64_t end = kit_clock_ns() + ns;

	do {
		if (kit_ap_entered[apic_id] != before)
			return true;
	} while (kit_clock_ns() < end);
	return false;
}

bool kit_smp_start_ap(uint32_t apic_id, kit_ap_fn fn, unsigned timeout_ms)
{
	uint32_t vector = (uint32_t)((uintptr_t)kit_trampoline >> 12);
	unsigned before;

	if (apic_id >= KIT_MAX_CPUS)
		return false;
	before = kit_ap_entered[apic_id];
	kit_ap_function = fn;
	kit_lapic_ipi(apic_id, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
	/* De-assert: the 82489DX needed it; later APICs ignore it. */
	kit_lapic_ipi(apic_id, ICR_INIT | ICR_LEVEL);
	kit_delay_ns(10 * NSEC_PER_MSEC);
	kit_lapic_ipi(apic_id, ICR_STARTUP | vector);
	kit_delay_ns(200 * NSEC_PER_USEC);
	/*
	 * Always the second SIPI, as Linux and the MP spec do: an AP that
	 * already runs must ignore it (it left the wait-for-SIPI state).
	 */
	kit_lapic_ipi(apic_id, ICR_STARTUP | vector);
	return wait_entered(apic_id, before, timeout_ms * NSEC_PER_MSEC);
}
