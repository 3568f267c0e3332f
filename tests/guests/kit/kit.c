/*
 * Guest kit runtime: COM1, printf subset, command line, exit, exceptions.
 * See kit.h for the contract.
 */
#include "kit.h"

static struct kit_spinlock kit_print_lock;
static const struct hvm_start_info *kit_si;
static const char *kit_cmd = "";
/* The byte kit_serial_init() found in RBR, for kit_getc(); -1: none. */
static int kit_rx_early = -1;

void kit_serial_init(void)
{
	/*
	 * 16550D datasheet, LCR bit 7: the divisor latch is reached with
	 * LCR.DLAB set; divisor 1 is 115200 baud from the 1.8432 MHz clock.
	 * FCR bit 0 enables both FIFOs, bits 1-2 clear them. MCR.OUT2 stays
	 * off: on the PC it gates the interrupt line, and the kit polls.
	 *
	 * Input that came before us: after reset the UART is in 16450 mode,
	 * where RBR holds one received byte, and turning the FIFOs on clears
	 * it (FCR bit 0). Keep that byte for kit_getc(). MCR.LOOP disconnects
	 * the serial input first, so that cellvm delivers no further byte
	 * before the FIFOs are on; QEMU delivers in loopback too, but only
	 * once RBR is read, which leaves it the one exit before the FCR write.
	 */
	outb(KIT_COM1 + UART_MCR, UART_MCR_LOOP);
	outb(KIT_COM1 + UART_IER, 0);
	outb(KIT_COM1 + UART_LCR, UART_LCR_DLAB);
	outb(KIT_COM1 + UART_DLL, 1);
	outb(KIT_COM1 + UART_DLM, 0);
	outb(KIT_COM1 + UART_LCR, UART_LCR_8N1);
	if (inb(KIT_COM1 + UART_LSR) & UART_LSR_DR)
		kit_rx_early = inb(KIT_COM1 + UART_RBR);
	outb(KIT_COM1 + UART_FCR,
	     UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
	outb(KIT_COM1 + UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
}

void kit_putc(char c)
{
	while (!(inb(KIT_COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(KIT_COM1 + UART_THR, (uint8_t)c);
}

void kit_puts(const char *s)
{
	while (*s)
		kit_putc(*s++);
}

bool kit_rx_ready(void)
{
	return kit_rx_early >= 0 || (inb(KIT_COM1 + UART_LSR) & UART_LSR_DR);
}

char kit_getc(void)
{
	int c = kit_rx_early;

	if (c >= 0) {
		kit_rx_early = -1;
		return (char)c;
	}
	while (!(inb(KIT_COM1 + UART_LSR) & UART_LSR_DR))
		;
	return (char)inb(KIT_COM1 + UART_RBR);
}

static void put_padded(const char *digits, int n, int width, char pad, bool neg)
{
	int len = n + neg;

	if (neg && pad == '0')
		kit_putc('-');
	for (; width > len; width--)
		kit_putc(pad);
	if (neg && pad != '0')
		kit_putc('-');
	while (n > 0)
		kit_putc(digits[--n]);
}

static void put_number(uint64_t v, unsigned base, int width, char pad, bool neg)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	put_padded(buf, n, width, pad, neg);
}

/* A conversion's flags: the 0 flag, the field width, the l/ll count. */
struct conv {
	char pad;
	int width;
	int size; /* 0: int, 1: long, 2: long long */
};

/* Parse the flags after a '%'; returns the conversion character. */
static const char *parse_conv(const char *fmt, struct conv *c)
{
	c->pad = ' ';
	c->width = 0;
	c->size = 0;
	if (*fmt == '0') {
		c->pad = '0';
		fmt++;
	}
	for (; *fmt >= '0' && *fmt <= '9'; fmt++)
		c->width = c->width * 10 + (*fmt - '0');
	for (; *fmt == 'l' && c->size < 2; fmt++)
		c->size++;
	return fmt;
}

static void put_signed(int64_t v, const struct conv *c)
{
	/* Negate as unsigned: -INT64_MIN overflows int64_t. */
	put_number(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, c->width, c->pad,
		   v < 0);
}

/*
 * The va_arg calls stay in this one function: the argument's type follows
 * from the l modifiers (C11 7.16.1.1: it must match the promoted type).
 * Callers hold kit_print_lock.
 */
static void vprint(const char *fmt, va_list ap)
{
	struct conv c;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			kit_putc(*fmt);
			continue;
		}
		fmt = parse_conv(fmt + 1, &c);
		switch (*fmt) {
		case 'd':
			if (c.size == 0)
				put_signed(va_arg(ap, int), &c);
			else if (c.size == 1)
				put_signed(va_arg(ap, long), &c);
			else
				put_signed(va_arg(ap, long long), &c);
			break;
		case 'u':
		case 'x': {
			unsigned base = *fmt == 'u' ? 10 : 16;
			uint64_t v;

			if (c.size == 0)
				v = va_arg(ap, unsigned int);
			else if (c.size == 1)
				v = va_arg(ap, unsigned long);
			else
				v = va_arg(ap, unsigned long long);
			put_number(v, base, c.width, c.pad, false);
			break;
		}
		case 'p':
			kit_puts("0x");
			put_number((uintptr_t)va_arg(ap, void *), 16, c.width,
				   c.pad, false);
			break;
		case 'c':
			kit_putc((char)va_arg(ap, int));
			break;
		case 's':
			kit_puts(va_arg(ap, const char *));
			break;
		case '%':
			kit_putc('%');
			break;
		case '\0':
			fmt--; /* a lone '%' ends the string */
			break;
		default:
			kit_putc('%');
			kit_putc(*fmt);
			break;
		}
	}
}

/* One caller's output at a time, on any CPU, handlers included. */
static uint64_t print_lock(void)
{
	uint64_t flags = kit_irq_save();

	kit_spin_lock(&kit_print_lock);
	return flags;
}

static void print_unlock(uint64_t flags)
{
	kit_spin_unlock(&kit_print_lock);
	kit_irq_restore(flags);
}

void kit_printf(const char *fmt, ...)
{
	uint64_t flags = print_lock();
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	print_unlock(flags);
}

static unsigned kit_checks_passed, kit_checks_failed;

bool kit_check(bool ok, const char *fmt, ...)
{
	uint64_t flags = print_lock();
	va_list ap;

	kit_puts(ok ? "ok   " : "FAIL ");
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	kit_putc('\n');
	if (ok)
		kit_checks_passed++;
	else
		kit_checks_failed++;
	print_unlock(flags);
	return ok;
}

int kit_check_summary(const char *name)
{
	kit_printf("%s: %u passed, %u failed\n", name, kit_checks_passed,
		   kit_checks_failed);
	return kit_checks_failed ? 1 : 0;
}

void kit_exit(uint32_t status)
{
	/*
	 * The exit port stops the VM at once. A real 16550 still shifts out
	 * what is in its FIFO; LSR.TEMT says both FIFO and shift register are
	 * empty (16550D datasheet, LSR bit 6).
	 */
	while (!(inb(KIT_COM1 + UART_LSR) & UART_LSR_TEMT))
		;
	outl(KIT_EXIT_PORT, status);
	/* Without an exit device: stop here, interrupts off. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void sift(uint64_t *a, size_t root, size_t n)
{
	size_t child;
	uint64_t t;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && a[child + 1] > a[child])
			child++;
		if (a[root] >= a[child])
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

void kit_sort_u64(uint64_t *a, size_t n)
{
	size_t i;
	uint64_t t;

	for (i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (i = n; i-- > 1;) {
		t = a[0];
		a[0] = a[i];
		a[i] = t;
		sift(a, 0, i);
	}
}

static bool within(uint64_t v, uint64_t want, unsigned pct)
{
	uint64_t slack = want * pct / 100;

	return v >= want - slack && v <= want + slack;
}

bool kit_periodic_ok(uint64_t *stamps, size_t n, uint64_t want_ns, unsigned pct,
		     uint64_t *span_ns, uint64_t *median_ns)
{
	size_t i;

	*span_ns = *median_ns = 0;
	if (n < 2)
		return false;
	*span_ns = stamps[n - 1] - stamps[0];
	for (i = 0; i + 1 < n; i++)
		stamps[i] = stamps[i + 1] - stamps[i];
	kit_sort_u64(stamps, n - 1);
	*median_ns = stamps[(n - 1) / 2];
	return within(*span_ns, (n - 1) * want_ns, pct) ||
	       within(*median_ns, want_ns, pct);
}

const struct hvm_start_info *kit_start_info(void)
{
	return kit_si;
}

/* xen/include/public/arch-x86/hvm/start_info.h. */
struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

bool kit_memmap(unsigned i, uint64_t *addr, uint64_t *size, uint32_t *type)
{
	const struct hvm_memmap_table_entry *e;

	if (!kit_si || kit_si->magic != HVM_START_MAGIC ||
	    kit_si->version < 1 || !kit_si->memmap_paddr ||
	    kit_si->memmap_paddr >= (1ull << 32) || i >= kit_si->memmap_entries)
		return false;
	e = (const struct hvm_memmap_table_entry *)(uintptr_t)
		    kit_si->memmap_paddr;
	*addr = e[i].addr;
	*size = e[i].size;
	*type = e[i].type;
	return true;
}

const char *kit_cmdline(void)
{
	return kit_cmd;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Parse [start, end) as decimal or 0x-hex; false if it is not a number. */
static bool parse_ulong(const char *start, const char *end, unsigned long *out)
{
	unsigned long v = 0, base = 10;

	if (end - start > 2 && start[0] == '0' &&
	    (start[1] == 'x' || start[1] == 'X')) {
		base = 16;
		start += 2;
	}
	if (start == end)
		return false;
	for (; start < end; start++) {
		char c = *start;
		unsigned long d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

unsigned long kit_param(const char *cmdline, const char *name,
			unsigned long dflt)
{
	size_t len = strlen(name);
	const char *p = cmdline;
	unsigned long v, result = dflt;

	/* Like Linux, the last occurrence of a parameter wins. */
	while (*p) {
		const char *word;

		while (is_space(*p))
			p++;
		word = p;
		while (*p && !is_space(*p))
			p++;
		if ((size_t)(p - word) > len && word[len] == '=' &&
		    memcmp(word, name, len) == 0 &&
		    parse_ulong(word + len + 1, p, &v))
			result = v;
	}
	return result;
}

void kit_main(const struct hvm_start_info *si)
{
	kit_si = si;
	kit_serial_init();
	/*
	 * PVH ABI: start_info starts with HVM_START_MAGIC; cmdline_paddr is
	 * a physical address, usable as a pointer below 4 GiB because of the
	 * identity map.
	 */
	if (si->magic != HVM_START_MAGIC)
		kit_printf("kit: bad start_info magic %x\n", si->magic);
	else if (si->cmdline_paddr && si->cmdline_paddr < (1ull << 32))
		kit_cmd = (const char *)(uintptr_t)si->cmdline_paddr;
	kit_exit((uint32_t)main(kit_cmd));
}

static const char *const exception_names[] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "",    "#TS", "#NP", "#SS", "#GP", "#PF", "",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void kit_exception(uint64_t vector, uint64_t error, uint64_t rip)
{
	static bool nested;
	const char *name = "";
	uint64_t cr2;

	/* A fault while reporting a fault: stop rather than recurse. */
	if (nested)
		for (;;)
			__asm__ volatile("cli; hlt");
	nested = true;
	/* The fault may have hit inside kit_printf(): the report wins. */
	kit_spin_unlock(&kit_print_lock);
	if (vector < sizeof(exception_names) / sizeof(exception_names[0]))
		name = exception_names[vector];
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	kit_printf("kit: exception %lu %s error %lx rip %lx cr2 %lx\n", vector,
		   name, error, rip, cr2);
	kit_exit(KIT_EXIT_EXCEPTION);
}

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return p - s;
}
