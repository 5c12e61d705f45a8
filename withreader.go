package zerocopy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// WithReader returns a conn whose reads first return the bytes r holds,
// then read c: the bytes a parser already took from c (a SOCKS or HTTP
// handshake read through a *bufio.Reader, a peeked TLS ClientHello) put
// back in front of the rest of the stream.
//
//   - If r is a *bufio.Reader reading from c, its buffered bytes are the
//     prefix (r.Buffered() of them, taken once), and the rest comes from c
//     itself, never through r.
//   - Any other reader (bytes.NewReader(peeked), say) is read to EOF, then
//     c.
//
// Relay and Copy recognise the conn: they send the prefix first, exactly
// once, then move the rest from c on the kernel path (splice, sendfile) as
// they would for c itself, and their counts include the prefix. io.Copy
// gets the same through the conn's WriteTo and ReadFrom methods.
// Everything but reading goes to c: Write, Close, CloseWrite (c's own, or
// that of the conn its NetConn method returns), deadlines, addresses. The
// conn does not expose c's descriptor (it is not a syscall.Conn): a reader
// of it must see the prefix. Closing it closes c. A nil r returns c.
func WithReader(c net.Conn, r io.Reader) net.Conn {
	if r == nil {
		return c
	}
	return &readerConn{Conn: c, r: r}
}

// readerConn is WithReader's conn: r's bytes, then Conn's.
type readerConn struct {
	net.Conn
	mu      sync.Mutex // guards r
	r       io.Reader  // nil once its bytes are read
	drained atomic.Bool
}

// Read returns the prefix's bytes while it has some, then c's.
func (rc *readerConn) Read(p []byte) (int, error) {
	if !rc.drained.Load() && len(p) > 0 {
		rc.mu.Lock()
		n, err := rc.readPrefix(p)
		rc.mu.Unlock()
		if n > 0 || err != nil {
			return n, err
		}
	}
	return rc.Conn.Read(p)
}

// readPrefix reads from the prefix into p. (0, nil) means it is empty.
func (rc *readerConn) readPrefix(p []byte) (int, error) {
	for rc.r != nil {
		if br, ok := rc.r.(*bufio.Reader); ok {
			if k := br.Buffered(); k > 0 {
				return br.Read(p[:min(len(p), k)]) // buffered bytes only: never reads c
			}
		} else {
			n, err := rc.r.Read(p)
			if err == nil || (n > 0 && err == io.EOF) {
				if n > 0 {
					return n, nil
				}
				continue // (0, nil): ask again
			}
			if err != io.EOF {
				return n, prefixError(err)
			}
		}
		rc.r = nil
		rc.drained.Store(true)
	}
	return 0, nil
}

func prefixError(err error) error {
	return fmt.Errorf("zerocopy: the reader given to WithReader: %w", err)
}

// takePrefix returns the prefix reader and marks it taken: its bytes are
// the caller's to deliver, exactly once.
func (rc *readerConn) takePrefix() io.Reader {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	r := rc.r
	rc.r = nil
	rc.drained.Store(true)
	return r
}

// WriteTo writes the prefix to w, then copies c to w with Copy: the kernel
// path where w and c allow it (io.Copy and Copy take this route).
func (rc *readerConn) WriteTo(w io.Writer) (int64, error) {
	c, prefix := splitPrefix(rc)
	var n int64
	for _, r := range prefix {
		k, err := drainPrefix(w, r)
		n += k
		if err != nil {
			return n, err
		}
	}
	k, err := Copy(w, c)
	return n + k, err
}

// ReadFrom copies r to c with Copy: writes go to c, and so does the
// kernel path.
func (rc *readerConn) ReadFrom(r io.Reader) (int64, error) {
	c, _ := splitConn(rc)
	return Copy(c, r)
}

// CloseWrite shuts down c's write side: c's own CloseWrite, or that of the
// conn its NetConn method returns.
func (rc *readerConn) CloseWrite() error {
	c, _ := splitConn(rc)
	for c != nil {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			return cw.CloseWrite()
		}
		nc, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = nc.NetConn()
	}
	return fmt.Errorf("zerocopy: CloseWrite: %T has no CloseWrite: %w", rc.Conn, ErrUnsupported)
}

// splitConn returns the conn beneath any WithReader layers.
func splitConn(c net.Conn) (net.Conn, bool) {
	layered := false
	for {
		rc, ok := c.(*readerConn)
		if !ok {
			return c, layered
		}
		c, layered = rc.Conn, true
	}
}

// splitPrefix takes the prefixes of c's WithReader layers (outermost
// first: its bytes come first) and returns the conn beneath them.
func splitPrefix(c net.Conn) (net.Conn, []io.Reader) {
	var prefix []io.Reader
	for {
		rc, ok := c.(*readerConn)
		if !ok {
			return c, prefix
		}
		if r := rc.takePrefix(); r != nil {
			prefix = append(prefix, r)
		}
		c = rc.Conn
	}
}

// drainPrefix writes r's bytes to w: a *bufio.Reader's buffered bytes
// (without reading further), or any other reader's until EOF. A write
// error comes back as it is; a read error names WithReader's reader.
func drainPrefix(w io.Writer, r io.Reader) (written int64, err error) {
	if br, ok := r.(*bufio.Reader); ok {
		for br.Buffered() > 0 {
			p, _ := br.Peek(br.Buffered()) // never fails for what is buffered
			n, err := writePrefix(w, p)
			_, _ = br.Discard(n)
			written += int64(n)
			if err != nil {
				return written, err
			}
		}
		return written, nil
	}
	buf := make([]byte, 8<<10)
	for {
		nr, er := r.Read(buf)
		if nr > 0 {
			nw, ew := writePrefix(w, buf[:nr])
			written += int64(nw)
			if ew != nil {
				return written, ew
			}
		}
		if er == io.EOF {
			return written, nil
		}
		if er != nil {
			return written, prefixError(er)
		}
	}
}

// writePrefix writes p to w as io.Copy checks a write: an impossible
// count is errInvalidWrite, a short one without an error io.ErrShortWrite.
func writePrefix(w io.Writer, p []byte) (int, error) {
	n, err := w.Write(p)
	if n < 0 || n > len(p) {
		return 0, errInvalidWrite
	}
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}
