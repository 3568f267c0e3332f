/*
 * The CPUID the vCPUs see: what KVM supports, less what cellvm's APIC does
 * not emulate. The local APICs are xAPICs in a separate process, so no
 * x2APIC and no TSC-deadline timer, and no KVM paravirtual feature that
 * works only with an in-kernel APIC (PV EOI, PV unhalt, PV IPIs, async page
 * faults); kvmclock and steal time stay, and the hypervisor bit says
 * they are there.
 */
#include <linux/kvm_para.h>
#include <string.h>

#include "runner.h"

#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_EDX_APIC (1u << 9)

/* KVM_CPUID_FEATURES bits kept: clocks and steal time. */
#define KVM_KEEP_FEATURES                                                     \
	((1u << KVM_FEATURE_CLOCKSOURCE) | (1u << KVM_FEATURE_NOP_IO_DELAY) | \
	 (1u << KVM_FEATURE_CLOCKSOURCE2) | (1u << KVM_FEATURE_STEAL_TIME) |  \
	 (1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT))

static bool cpuid_is_kvm_base(const struct kvm_cpuid_entry2 *e)
{
	/* "KVMKVMKVM\0\0\0" in ebx, ecx, edx */
	return e->ebx == 0x4b4d564b && e->ecx == 0x564b4d56 &&
	       e->edx == 0x0000004d;
}

void cpuid_filter(struct kvm_cpuid2 *c)
{
	uint32_t kvm_base = 0;
	unsigned i;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if ((e->function & 0xffff00ff) == 0x40000000 &&
		    cpuid_is_kvm_base(e))
			kvm_base = e->function;
	}
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			e->ecx &=
				~(CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE);
			/* KVM leaves this to the VMM: without it a guest never
			 * looks at the KVM leaves (no kvmclock, and no TSC
			 * frequency without calibration). */
			e->ecx |= CPUID1_ECX_HYPERVISOR;
			e->edx |= CPUID1_EDX_APIC;
		}
		if (kvm_base && e->function == kvm_base + 1)
			e->eax &= KVM_KEEP_FEATURES;
	}
}

/* This vCPU's APIC ID where CPUID reports it (SDM vol. 2, CPUID 1, 0xb). */
void cpuid_for_vcpu(struct kvm_cpuid2 *c, unsigned id)
{
	unsigned i;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (id << 24);
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = id;
	}
}
