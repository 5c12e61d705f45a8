package zerocopy

import (
	"net"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// The idle watch reads the kernel's counters under purego too: they move
// no byte, they only tell a slow reader from a silent one.

// activity is what the kernel's counters say about both conns' traffic
// (see sys.Activity): the idle watch compares two samples.
type activity [2]sys.Activity

func sampleActivity(a, b net.Conn) activity {
	return activity{connActivity(a), connActivity(b)}
}

func connActivity(c net.Conn) (act sys.Activity) {
	rc, ok := rawConn(c)
	if !ok {
		return act
	}
	_ = rc.Control(func(fd uintptr) { act = sys.SocketActivity(int(fd)) })
	return act
}

// rawConn returns the raw connection behind c, looking through NetConn (a
// *tls.Conn's TCP conn).
func rawConn(c net.Conn) (syscall.RawConn, bool) {
	for c != nil {
		if rc, ok := sys.RawConn(c); ok {
			return rc, true
		}
		nc, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = nc.NetConn()
	}
	return nil, false
}
