/*
 * Guest kit: starting application processors.
 *
 * kit_smp_start_ap() sends INIT, INIT de-assert, then two STARTUP IPIs
 * (Intel SDM vol. 3A, 9.4.4.1; MP spec 1.4, B.4: 10 ms after INIT, 200 us
 * between the SIPIs) naming the page of kit_trampoline (guest.ld puts it
 * at 0x90000, below 1 MiB). The AP runs kit_trampoline in real mode,
 * switches to long mode on the kit's GDT and page tables, takes the stack
 * of its APIC ID (start.S) and calls fn(apic_id) with IF = 0 and its local
 * APIC as INIT left it (software-disabled: see kit_lapic_enable()). When
 * fn returns, the AP halts with interrupts off.
 *
 * The delays use kit_clock_ns(): call kit_clock_init() first. Only the BSP
 * starts APs, one at a time.
 */
#ifndef CELLVM_GUEST_SMP_H
#define CELLVM_GUEST_SMP_H

#include "kit.h"

typedef void (*kit_ap_fn)(uint32_t apic_id);

/*
 * Start the AP with this APIC ID running fn; true once it reached
 * kit_ap_main(), false if it did not within timeout_ms.
 */
bool kit_smp_start_ap(uint32_t apic_id, kit_ap_fn fn, unsigned timeout_ms);
/* How many times the CPU with this APIC ID entered kit_ap_main(). */
unsigned kit_ap_entries(uint32_t apic_id);

#endif
