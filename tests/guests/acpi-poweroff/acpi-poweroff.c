/*
 * acpi-poweroff: finds the ACPI tables (RSDP from start_info or the BIOS
 * area, then XSDT/RSDT), prints what the FADT, the DSDT's \_S5 and the
 * MADT say, checks them, and powers off the ACPI way (ACPI 6.5, 16.1.7
 * "Transitioning from the Working to the Soft Off State"): SLP_TYPa from
 * \_S5 and SLP_EN into PM1a_CNT (and SLP_TYPb into PM1b_CNT if there is
 * one). The VMM should then stop with status 0; no test-exit port.
 *
 * Output: "ok"/"FAIL" lines (start_info's rsdp_paddr and a scan of
 * 0xe0000-0xfffff find the same RSDP; FADT, \_S5 and MADT found; the
 * FADT has PM1 blocks, i.e. is not hardware-reduced; the MADT lists the
 * BSP's local APIC; the PM timer runs at 3.579545 MHz +-1% by kvmclock)
 * among the values found:
 *   acpi: FADT PM1a_EVT 0x... PM1a_CNT 0x... PM_TMR 0x...
 *   acpi: \_S5 SLP_TYPa N SLP_TYPb N
 *   acpi: MADT I/O APIC at 0x... GSI base N, ISA IRQ 0 on GSI N
 * then "acpi-poweroff: N passed, M failed", "acpi-poweroff: powering
 * off" and the write. The values are the VMM's: expected.txt has
 * cellvm's (\_S5 = { 5, 5, 0, 0 }); QEMU's q35 has \_S5 = { 0, 0, 0, 0 },
 * so its run compares with expected-q35.txt. If a check failed, or the VM
 * still runs 1 s after the write ("FAIL still running after the PM1a_CNT
 * write"), exit status 1 through the test-exit port instead.
 */
#include "kit.h"
#include "kit_acpi.h"
#include "kit_clock.h"

#define FADT_HW_REDUCED_ACPI (1u << 20)
#define FADT_TMR_VAL_EXT (1u << 8)
#define PM_TIMER_HZ 3579545ull
#define PM1_SLP_EN (1u << 13)
#define PM1_SLP_TYP_SHIFT 10

static void print_madt(void)
{
	struct kit_madt m;
	unsigned i, irq0 = 0;
	bool bsp = false;

	if (!kit_check(kit_acpi_madt(&m) && m.n_ioapic >= 1, "MADT found"))
		return;
	for (i = 0; i < m.n_iso; i++)
		if (m.iso[i].irq == 0)
			irq0 = m.iso[i].gsi;
	kit_printf("acpi: MADT I/O APIC at 0x%x GSI base %u, ISA IRQ 0 on "
		   "GSI %u\n",
		   m.ioapic[0].addr, m.ioapic[0].gsi_base, irq0);
	for (i = 0; i < m.n_lapic; i++)
		if (m.lapic_id[i] == 0)
			bsp = true;
	kit_check(bsp, "MADT: the BSP's local APIC (ID 0) is enabled");
}

/*
 * The PM timer and kvmclock at one moment: kvmclock read on both sides of
 * the port read, retried while the two are more than 100 us apart (the
 * vCPU may be scheduled out in between); returns the midpoint.
 */
static uint32_t pm_timer_at(uint16_t port, uint64_t *ns)
{
	uint64_t before, after;
	uint32_t v;
	unsigned tries = 0;

	do {
		before = kit_clock_ns();
		v = inl(port);
		after = kit_clock_ns();
	} while (after - before > 100 * NSEC_PER_USEC && ++tries < 20);
	*ns = before + (after - before) / 2;
	return v;
}

/* The PM timer's rate over at least 50 ms of kvmclock. */
static void check_pm_timer(const struct kit_fadt *f)
{
	uint32_t mask = (f->flags & FADT_TMR_VAL_EXT) ? 0xffffffff : 0xffffff;
	uint64_t ns0, ns1, hz;
	uint32_t t0, t1;

	t0 = pm_timer_at(f->pm_tmr, &ns0);
	kit_delay_ns(50 * NSEC_PER_MSEC);
	t1 = pm_timer_at(f->pm_tmr, &ns1);
	hz = ((t1 - t0) & mask) * NSEC_PER_SEC / (ns1 - ns0);
	if (!kit_check(hz >= PM_TIMER_HZ - PM_TIMER_HZ / 100 &&
			       hz <= PM_TIMER_HZ + PM_TIMER_HZ / 100,
		       "PM timer: 3.579545 MHz +-1%% by kvmclock"))
		kit_printf("     %lu Hz\n", hz);
}

int main(const char *cmdline)
{
	struct kit_fadt f;
	unsigned typa = 0, typb = 0;
	bool s5;

	const struct hvm_start_info *si = kit_start_info();
	uint64_t scanned = kit_acpi_rsdp_scan();

	if (!kit_clock_init())
		return 1;
	kit_check(si->rsdp_paddr && si->rsdp_paddr == kit_acpi_rsdp(),
		  "RSDP: start_info's rsdp_paddr names a valid one");
	kit_check(scanned && scanned == kit_acpi_rsdp(),
		  "RSDP: a scan of the BIOS area finds the same");
	if (!kit_check(kit_acpi_fadt(&f), "FADT found"))
		return kit_check_summary("acpi-poweroff");
	kit_printf("acpi: FADT PM1a_EVT 0x%x PM1a_CNT 0x%x PM_TMR 0x%x\n",
		   f.pm1a_evt, f.pm1a_cnt, f.pm_tmr);
	s5 = f.dsdt && kit_acpi_s5(f.dsdt, &typa, &typb);
	if (s5)
		kit_printf("acpi: \\_S5 SLP_TYPa %u SLP_TYPb %u\n", typa, typb);
	kit_check(s5, "DSDT: \\_S5 found");
	kit_check(!(f.flags & FADT_HW_REDUCED_ACPI) && f.pm1a_cnt &&
			  f.pm1a_evt && f.pm_tmr,
		  "FADT: PM1a event, control and timer blocks");
	print_madt();
	if (f.pm_tmr)
		check_pm_timer(&f);
	if (kit_check_summary("acpi-poweroff"))
		return 1;
	kit_printf("acpi-poweroff: powering off\n");
	while (!(inb(KIT_COM1 + UART_LSR) & UART_LSR_TEMT))
		;
	outw(f.pm1a_cnt, typa << PM1_SLP_TYP_SHIFT | PM1_SLP_EN);
	if (f.pm1b_cnt)
		outw(f.pm1b_cnt, typb << PM1_SLP_TYP_SHIFT | PM1_SLP_EN);
	kit_delay_ns(NSEC_PER_SEC);
	kit_printf("FAIL still running after the PM1a_CNT write\n");
	return 1;
}
