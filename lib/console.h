/*
 * The serial console between the broker and the UART process.
 *
 * Output: the UART writes one record per transmitted byte to a pipe the
 * broker reads. Records carry the byte's sequence number, so a byte a
 * restarted UART transmits again (it died after the write, before its
 * commit) is recognised and dropped by the broker: nothing lost, nothing
 * doubled.
 *
 * Input: the broker copies its stdin into a byte ring in shared memory and
 * kicks the UART's doorbell. The UART's read position is part of its
 * committed state, so input taken by a UART that died before committing is
 * taken again by the next one. tail_hint tells the broker how much room
 * there is; it lags the committed position, never leads it.
 *
 * out_seq is the next output sequence number the broker expects: a UART
 * that had to reset its state (found corrupt) continues from there rather
 * than from 0, whose bytes the broker would drop as repeats.
 */
#ifndef CELLVM_CONSOLE_H
#define CELLVM_CONSOLE_H

#include <stdatomic.h>
#include <stdint.h>

#define CONSOLE_IN_SIZE 4096u /* a power of two */

struct console_in {
	_Atomic uint32_t head;	    /* bytes the broker has written */
	_Atomic uint32_t tail_hint; /* bytes the UART has committed taking */
	_Atomic uint32_t out_seq;   /* next output record the broker expects */
	uint32_t pad[13];
	uint8_t buf[CONSOLE_IN_SIZE];
};

struct console_rec {
	uint32_t seq; /* the byte's number in the output stream (mod 2^32) */
	uint8_t byte;
	uint8_t pad[3];
};

#endif
