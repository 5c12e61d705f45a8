package main

import (
	"net"
	"syscall"
)

// tcpNotSentLowat is TCP_NOTSENT_LOWAT (Linux 3.12), which the syscall
// package does not name on every architecture.
const tcpNotSentLowat = 0x19

// limitUnsent caps the bytes queued in c's socket but not yet sent at n.
// The socket then reports itself writable each time the peer has taken
// about n bytes, not only after a third of a send buffer of up to 4 MiB has
// drained: the progress deadline sees a slow reader's progress at that
// granularity. Bytes in flight (sent, not yet acknowledged) are not
// limited, so throughput is not either.
func limitUnsent(c net.Conn, n int) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotSentLowat, n)
	})
}
