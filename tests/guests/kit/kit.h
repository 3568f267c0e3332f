/*
 * Guest kit: the tiny runtime of the freestanding test guests.
 *
 * A guest is one C file with int main(const char *cmdline). start.S enters
 * through the PVH entry note, switches to 64-bit mode with 0-4 GiB identity
 * mapped, and calls kit_main(), which brings up COM1, runs main() and exits
 * through the test-exit port with main's return value.
 *
 * The devices every guest may rely on are the ones cellvm and QEMU both
 * have: a 16550A at 0x3f8 and the test-exit port at 0xf4 (QEMU:
 * -device isa-debug-exit,iobase=0xf4,iosize=4). The interrupt controllers,
 * timers, ACPI tables and APs are touched only by guests that ask for them
 * (kit_intr.h, kit_clock.h, kit_acpi.h, kit_smp.h): nothing here does at
 * start-up. Output is exactly the bytes printed: "\n" is not turned into
 * "\r\n", so expected.txt files compare byte for byte.
 *
 * Built with -mgeneral-regs-only and without a libc: no floating point, no
 * SSE, and nothing that the software KVM of the development machines cannot
 * emulate (no INT3, XSAVE/XRSTOR or CMPXCHG16B; no __builtin_trap).
 */
#ifndef CELLVM_GUEST_KIT_H
#define CELLVM_GUEST_KIT_H

/* The constants are shared with start.S; the rest is C only. */
#ifndef __ASSEMBLER__
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#define KIT_COM1 0x3f8
#define KIT_EXIT_PORT 0xf4

/* Exit status after an unexpected CPU exception (kit_exception()). */
#define KIT_EXIT_EXCEPTION 112
/* Exit status when CPUID does not offer long mode (start.S). */
#define KIT_EXIT_NO_LONG_MODE 113
/* Exit status after an interrupt on a vector with no handler (kit_intr.h). */
#define KIT_EXIT_UNEXPECTED_IRQ 114

/*
 * CPUs the kit can run: APIC IDs 0 .. KIT_MAX_CPUS - 1, each AP on a stack
 * of 1 << KIT_AP_STACK_SHIFT bytes (start.S, kit_smp.h).
 */
#define KIT_MAX_CPUS 16
#define KIT_AP_STACK_SHIFT 13

/* 16550A registers, offsets from the base port (16550D datasheet). */
#define UART_RBR 0 /* read, DLAB = 0 */
#define UART_THR 0 /* write, DLAB = 0 */
#define UART_DLL 0 /* DLAB = 1 */
#define UART_IER 1 /* DLAB = 0 */
#define UART_DLM 1 /* DLAB = 1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IIR_NO_INT 0x01
#define UART_IIR_ID 0x0f
#define UART_IIR_FIFO_ON 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04

#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

/* struct hvm_start_info, xen/include/public/arch-x86/hvm/start_info.h. */
#define HVM_START_MAGIC 0x336ec578

#ifndef __ASSEMBLER__

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr; /* NUL-terminated, 0 if none */
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

/*
 * Large buffers that start-up need not zero (guest.ld puts them next to
 * the stack, outside .bss): their contents are undefined at entry.
 */
#define KIT_NOINIT __attribute__((section(".kit_noinit"), aligned(16)))

/*
 * Port I/O. The "memory" clobber keeps the compiler from moving memory
 * accesses across a device access; it adds no instructions.
 */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/*
 * COM1 at 115200 8N1 (divisor 1), FIFOs on, interrupts off: we poll. A byte
 * received before the FIFOs are on is kept for kit_getc().
 */
void kit_serial_init(void);
/* Write one byte once LSR.THRE says the holding register is free. */
void kit_putc(char c);
/* Write s as it is (unlike libc puts, no newline is added). */
void kit_puts(const char *s);
/* Whether COM1 has a received byte waiting (LSR.DR). */
bool kit_rx_ready(void);
/*
 * Wait for the next byte received on COM1 and return it: polls LSR.DR, one
 * port exit per look, then reads RBR. A serial line has no end of input:
 * with nothing more coming this waits for ever.
 */
char kit_getc(void);
/*
 * printf subset: %s %c %d %u %x %p %%, the l and ll modifiers, a field
 * width and the 0 flag for numbers ("%05u", "%08lx"). One call's output is
 * one piece: it holds kit_print_lock with interrupts off, so several CPUs
 * may print (their lines do not mix), and handlers may print too.
 */
void kit_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Stop the VM with this status: cellvm exits with status; QEMU's
 * isa-debug-exit exits with (status << 1) | 1, so keep it below 128 there.
 * Waits for LSR.TEMT first so that no output is cut off.
 */
void kit_exit(uint32_t status) __attribute__((noreturn));

/*
 * A test-and-set spin lock: XCHG only (implicitly locked, emulated
 * everywhere; no CMPXCHG16B). Not recursive. Take it with interrupts off
 * if a handler on the same CPU may take it too.
 */
struct kit_spinlock {
	volatile uint32_t locked;
};

static inline void kit_spin_lock(struct kit_spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			__asm__ volatile("pause");
}

static inline void kit_spin_unlock(struct kit_spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline uint64_t kit_rflags(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0" : "=r"(flags) : : "memory");
	return flags;
}

/* RFLAGS.IF: save it and disable interrupts; put it back. */
static inline uint64_t kit_irq_save(void)
{
	uint64_t flags = kit_rflags();

	__asm__ volatile("cli" : : : "memory");
	return flags;
}

static inline void kit_irq_restore(uint64_t flags)
{
	if (flags & (1u << 9))
		__asm__ volatile("sti" : : : "memory");
}

/*
 * One line per check, as uart-regs prints them: "ok   " or "FAIL ", then
 * the kit_printf() format, then a newline. Returns ok, so that a caller
 * can print details of a failure. Counts for kit_check_summary().
 */
bool kit_check(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "name: N passed, M failed"; returns the exit status: 0 if none failed. */
int kit_check_summary(const char *name);

/* Sort a[0..n) ascending, in place (heapsort: no recursion, O(n log n)). */
void kit_sort_u64(uint64_t *a, size_t n);
/*
 * Whether n ascending time stamps of a periodic interrupt show the period
 * want_ns within pct percent, by either of two measures: the span, n - 1
 * periods (kept by a VMM that re-injects late ticks, as KVM's in-kernel
 * PIT does), or the median difference (kept by one that drops them, as
 * QEMU's device timers do when the host is busy). A wrong rate fails
 * both. Overwrites stamps; *span_ns and *median_ns say what was seen.
 */
bool kit_periodic_ok(uint64_t *stamps, size_t n, uint64_t want_ns, unsigned pct,
		     uint64_t *span_ns, uint64_t *median_ns);

/* The start_info the VMM handed over (EBX at entry). */
const struct hvm_start_info *kit_start_info(void);
/*
 * Entry i of start_info's memory map (PVH ABI, start_info version 1:
 * struct hvm_memmap_table_entry, E820 types); false past its end or if
 * there is no map.
 */
#define KIT_MEMMAP_RAM 1
#define KIT_MEMMAP_RESERVED 2
bool kit_memmap(unsigned i, uint64_t *addr, uint64_t *size, uint32_t *type);
/* The kernel command line; "" if there is none or start_info is bad. */
const char *kit_cmdline(void);
/*
 * Value of the last "name=N" word of cmdline (N decimal or 0x-hex), or dflt
 * if there is none or N is not a number.
 */
unsigned long kit_param(const char *cmdline, const char *name,
			unsigned long dflt);

/* The guest's own code: its return value becomes the exit status. */
int main(const char *cmdline);

/* Called from start.S only. */
void kit_main(const struct hvm_start_info *si) __attribute__((noreturn));
void kit_exception(uint64_t vector, uint64_t error, uint64_t rip)
	__attribute__((noreturn));
void kit_irq_dispatch(uint64_t vector);
void kit_ap_main(uint32_t apic_id) __attribute__((noreturn));

/* GCC may emit calls to these even in freestanding code. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif /* __ASSEMBLER__ */
#endif
