/*
 * uart-irq: leaves the UART's interrupt pending when the VM stops, so a
 * test can see the UART drive its line (GSI 4) on the IRQ-line page.
 *
 * It enables the THRE interrupt (IER.ETBEI) with the transmitter empty,
 * which latches it (16550D datasheet, 8.11), and never reads IIR. On a PC
 * the UART's interrupt reaches the ISA bus only through MCR.OUT2, so with
 * "out2=0" on the command line the line must stay low.
 */
#include "kit.h"

#define COM1 0x3f8
#define UART_IER 1
#define UART_MCR 4
#define UART_IER_ETBEI 0x02
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT2 0x08

int main(const char *cmdline)
{
	unsigned long out2 = kit_param(cmdline, "out2", 1);

	kit_printf("uart-irq: THRE interrupt on, OUT2 %s\n",
		   out2 ? "on" : "off");
	outb(COM1 + UART_MCR,
	     UART_MCR_DTR | UART_MCR_RTS | (out2 ? UART_MCR_OUT2 : 0));
	outb(COM1 + UART_IER, UART_IER_ETBEI);
	return 0;
}
