package main

import (
	"io"
	"net"
	"syscall"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

// progressListener wraps each accepted connection in a progressConn.
type progressListener struct {
	net.Listener
	d time.Duration
}

func (l progressListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || l.d <= 0 {
		return c, err
	}
	limitUnsent(c, progressPiece)
	return &progressConn{Conn: c, d: l.d}, nil
}

// progressConn closes a connection whose peer stops reading, without
// limiting how long an honest download may take: every write gets a
// deadline of d from the last progress, not from the start of the
// response (which is what http.Server.WriteTimeout would do).
//
// Write sends in pieces of at most progressPiece bytes, each with a fresh
// deadline. The zero-copy path (sendfile through SyscallConn) is covered
// too: the deadline is renewed each time the kernel reports the socket
// writable again, that is each time the peer has taken some of what was
// queued (limitUnsent makes that about every progressPiece bytes on
// Linux). A peer that takes nothing for d gets the deadline error, and
// net/http closes the connection.
type progressConn struct {
	net.Conn
	d time.Duration
}

// progressPiece bounds the bytes a peer must take within d to keep the
// connection: 128 KiB per 30 s is about 4 KiB/s.
const progressPiece = 128 << 10

func (c *progressConn) renew() { _ = c.Conn.SetWriteDeadline(time.Now().Add(c.d)) }

func (c *progressConn) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c.renew()
		k, err := c.Conn.Write(p[n:min(len(p), n+progressPiece)])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ReadFrom is what net/http calls with a response body after the header
// has gone out (without it net/http copies through its own buffer). It
// copies with zerocopy.Copy on its own receiver, which zerocopy allows:
// handed the stand-in of a zerocopy.SendFile into the ResponseWriter, it
// continues that transfer on this connection's descriptor (SyscallConn
// below, deadlines renewed); anything else is copied as zerocopy.Copy
// would, through Write where no kernel path applies.
func (c *progressConn) ReadFrom(r io.Reader) (int64, error) {
	return zerocopy.Copy(c, r)
}

// CloseWrite passes net/http's half-close on, where the conn has one.
func (c *progressConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// SyscallConn exposes the descriptor with the progress deadline applied to
// raw writes.
func (c *progressConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, syscall.EINVAL
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return progressRawConn{RawConn: rc, c: c}, nil
}

type progressRawConn struct {
	syscall.RawConn
	c *progressConn
}

// Write calls f once at the start and then once per writability event
// (after the peer read something): each call renews the deadline. So does
// Write itself, before net checks the deadline on entry: the caller comes
// back after a write that moved bytes, maybe after a pause of its own (a
// slow source, a busy machine), and the pause is not the peer's.
func (rc progressRawConn) Write(f func(fd uintptr) bool) error {
	rc.c.renew()
	return rc.RawConn.Write(func(fd uintptr) bool {
		rc.c.renew()
		return f(fd)
	})
}
