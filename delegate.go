package zerocopy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"syscall"
)

// Delegation. io.Copy reaches splice and sendfile through the wrappers'
// own methods: bufio.Reader.WriteTo writes its buffered bytes and hands
// the reader underneath on; bufio.Writer.ReadFrom and net/http's
// response.ReadFrom flush and hand the source to the connection's
// ReadFrom, which ends in io.Copy(connWithoutReadFrom, src). A value with
// no descriptor of its own is asked the same way here, with a stand-in of
// this package's own type for the other side (srcStandIn, dstStandIn).
// The stand-in has Read (or Write) for a wrapper that copies through its
// buffer, and WriteTo (or ReadFrom) that continues this same transfer with
// whatever the wrapper found underneath, usually a value with a
// descriptor. A stand-in passed back into Copy, CopyN or CopyBuffer (a
// ReadFrom that calls Copy on its own receiver, a WriteTo that calls
// Copy(w, itself)) is unwrapped and continues the same transfer.
//
// Recursion is bounded three ways: each side is delegated at most once per
// transfer (chain), a stand-in is never delegated to, and a value already
// being delegated to on any goroutine is not delegated to again (inflight:
// a ReadFrom that wraps the stand-in in a reader of its own and calls Copy
// on its receiver gets the plain path).

// chain is what one transfer shares with the stand-ins it hands out.
type chain struct {
	c       *Copier
	t       tally
	dstDone bool // the destination side was delegated
	srcDone bool // the source side was delegated
}

// inflight holds the values being delegated to right now.
var inflight sync.Map // any (a pointer) -> struct{}

// enter marks v as being delegated to. Pointers and comparable values
// (a struct of pointers with value receivers, as io.Copy would ask) are
// tracked; a value that cannot be a map key (it holds a slice, map or
// func) is not delegated to. Two equal values are one wrapper here: at
// worst a concurrent copy through an equal value is not delegated to and
// runs buffered.
func enter(v any) bool {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer && !rv.Comparable() {
		return false
	}
	_, busy := inflight.LoadOrStore(v, struct{}{})
	return !busy
}

func leave(v any) { inflight.Delete(v) }

func isStandIn(v any) bool {
	switch v.(type) {
	case *srcStandIn, *dstStandIn:
		return true
	}
	return false
}

func hasFD(v any) bool {
	_, ok := v.(syscall.Conn)
	return ok
}

// sourceFD reports whether the value holding src's bytes has a descriptor,
// looking through the wrappers Copy itself unwraps.
func sourceFD(src io.Reader) (holder io.Reader, limit int64, fd bool) {
	holder, limit = src, -1
	if lr, ok := src.(*io.LimitedReader); ok {
		holder, limit = lr.R, max(lr.N, 0)
	}
	if sr, ok := holder.(*io.SectionReader); ok {
		ra, _, _ := sr.Outer()
		return holder, limit, hasFD(ra)
	}
	return holder, limit, hasFD(holder)
}

// delegate hands the transfer to the destination's ReadFrom or the
// source's WriteTo when that is how a descriptor can be reached. ok is
// false when it did not apply.
func (c *Copier) delegate(dst io.Writer, src io.Reader, limit int64, t *tally, ch *chain) (n int64, err error, ok bool) {
	dstFD := hasFD(dst)
	holder, lrN, srcFD := sourceFD(src)
	if !srcFD && (ch == nil || !ch.srcDone) && !isStandIn(holder) && !inMemory(holder) {
		lim := minLimit(limit, lrN)
		if lrN < 0 {
			lim = limit
		}
		_, isBufio := holder.(*bufio.Reader)
		_, dstRF := dst.(io.ReaderFrom)
		// A WriterTo reads until EOF: with a limit, only bufio.Reader is
		// known to keep the bytes a short write refused.
		if wt, ok := holder.(io.WriterTo); ok && (dstFD || dstRF) && (lim < 0 || isBufio) && enter(holder) {
			defer leave(holder)
			n, err = c.delegateSrc(wt, holder, dst, src, lim, dstFD, t, ch)
			return n, err, true
		}
	}
	if srcFD {
		if rf, ok := delegableDst(dst, ch); ok && enter(dst) {
			defer leave(dst)
			n, err = c.delegateDst(rf, dst, &srcStandIn{src: src, limit: limit}, t, ch)
			return n, err, true
		}
	}
	return 0, nil, false
}

// inMemory reports the stdlib's in-memory readers, whose WriteTo reaches
// no descriptor: asking them would only cost.
func inMemory(v any) bool {
	switch v.(type) {
	case *bytes.Reader, *bytes.Buffer, *strings.Reader:
		return true
	}
	return false
}

// delegableDst returns dst's ReadFrom when dst may be asked to copy: it
// has no descriptor of its own, is not a stand-in, the transfer has not
// asked its destination yet, and it is not a *bytes.Buffer (whose
// ReadFrom reaches no descriptor: asking it would only cost).
func delegableDst(dst io.Writer, ch *chain) (io.ReaderFrom, bool) {
	if hasFD(dst) || (ch != nil && ch.dstDone) || isStandIn(dst) {
		return nil, false
	}
	if _, ok := dst.(*bytes.Buffer); ok {
		return nil, false
	}
	rf, ok := dst.(io.ReaderFrom)
	return rf, ok
}

// join runs fn in ch (a new chain when the call has none), then adds what
// ch's tally saw to t.
func (c *Copier) join(t *tally, ch *chain, fn func(ch *chain) (int64, error)) (n int64, fast int64, err error) {
	own := ch == nil
	if own {
		ch = &chain{c: c}
		ch.t.prog, ch.t.buf = t.prog, t.buf
	}
	before := ch.t.bytes
	n, err = fn(ch)
	var moved int64
	for m := range ch.t.bytes {
		d := ch.t.bytes[m] - before[m]
		moved += d
		if Method(m) != MethodBuffered {
			fast += d
		}
	}
	if n > moved {
		// Bytes the wrapper moved itself, through the stand-in's Read or
		// Write and its own buffer.
		ch.t.bytes[MethodBuffered] += n - moved
	}
	if own {
		for m, b := range ch.t.bytes {
			t.bytes[m] += b
		}
		if ch.t.ran {
			t.finished, t.ran = ch.t.finished, true
		}
		t.zero = t.zero || ch.t.zero
		t.note(ch.t.fallback)
	}
	return n, fast, err
}

func (c *Copier) delegateDst(rf io.ReaderFrom, dst io.Writer, s *srcStandIn, t *tally, ch *chain) (int64, error) {
	n, _, err := c.join(t, ch, func(ch *chain) (int64, error) {
		ch.dstDone = true
		s.ch = ch
		before := fastBytes(ch.t.bytes)
		n, err := rf.ReadFrom(s)
		if n > 0 && fastBytes(ch.t.bytes) == before {
			ch.t.note(noDescriptor("dst", dst))
		}
		return n, err
	})
	return n, err
}

func (c *Copier) delegateSrc(wt io.WriterTo, holder io.Reader, dst io.Writer, src io.Reader, limit int64, dstFD bool, t *tally, ch *chain) (int64, error) {
	lr, _ := src.(*io.LimitedReader)
	n, _, err := c.join(t, ch, func(ch *chain) (int64, error) {
		ch.srcDone = true
		before := fastBytes(ch.t.bytes)
		d := &dstStandIn{ch: ch, dst: dst, left: limit}
		n, err := wt.WriteTo(d)
		if err == errLimit && d.left == 0 {
			err = nil
		}
		if dstFD && n > 0 && fastBytes(ch.t.bytes) == before {
			ch.t.note(noDescriptor("src", holder))
		}
		return n, err
	})
	if lr != nil {
		lr.N -= n
	}
	return n, err
}

func fastBytes(b [numMethods]int64) (n int64) {
	for m, k := range b {
		if Method(m) != MethodBuffered {
			n += k
		}
	}
	return n
}

func noDescriptor(side string, v any) error {
	return fmt.Errorf("zerocopy: %s %T: no descriptor: %w", side, v, ErrUnsupported)
}

// srcStandIn stands in for the source when a destination's ReadFrom is
// asked to copy. Copy: src with limit bytes left (-1: to EOF). SendFile:
// f from off (src is nil).
type srcStandIn struct {
	ch    *chain
	src   io.Reader
	limit int64
	f     *os.File
	off   int64
}

// Read hands the wrapper bytes to copy through its own buffer.
func (s *srcStandIn) Read(p []byte) (n int, err error) {
	if s.limit == 0 {
		return 0, io.EOF
	}
	if s.limit > 0 && int64(len(p)) > s.limit {
		p = p[:s.limit]
	}
	if s.f != nil {
		n, err = s.f.ReadAt(p, s.off)
		s.off += int64(n)
		if err == io.EOF && n > 0 {
			err = nil
		}
	} else {
		n, err = s.src.Read(p)
	}
	if s.limit > 0 {
		s.limit -= int64(n)
	}
	if perr := s.ch.t.prog.add(int64(n)); perr != nil && err == nil {
		err = perr
	}
	return n, err
}

// WriteTo continues the transfer into w, which the wrapper found beneath
// itself (net/http and bufio hand on the connection or file they hold).
func (s *srcStandIn) WriteTo(w io.Writer) (int64, error) { return s.copyTo(w, -1) }

func (s *srcStandIn) copyTo(w io.Writer, n int64) (k int64, err error) {
	lim := s.limit
	if n >= 0 {
		lim = minLimit(lim, n)
	}
	if lim == 0 {
		return 0, nil
	}
	s.ch.dstDone = true
	// w is what the wrapper found beneath itself (a conn, a file): the
	// call's context must be able to wake a wait on it, as on the values
	// CopyContext was given.
	defer wake(s.ch.t.prog.context(), w, nil)()
	if s.f != nil {
		k, err = s.ch.c.sendFileT(w, s.f, s.off, lim, &s.ch.t, s.ch)
		s.off += k
	} else {
		k, err = s.ch.c.copyT(w, s.src, lim, &s.ch.t, s.ch)
	}
	if s.limit > 0 {
		s.limit -= k
	}
	return k, err
}

// dstStandIn stands in for the destination when a source's WriteTo is
// asked to copy; left bytes may still be written (-1: no limit).
type dstStandIn struct {
	ch   *chain
	dst  io.Writer
	left int64
}

// Write passes the wrapper's own bytes (bufio.Reader's buffer) on.
func (d *dstStandIn) Write(p []byte) (int, error) {
	short := d.left >= 0 && int64(len(p)) > d.left
	if short {
		p = p[:d.left]
	}
	n, err := d.dst.Write(p)
	if n < 0 || n > len(p) {
		return 0, errInvalidWrite
	}
	if d.left >= 0 {
		d.left -= int64(n)
	}
	if perr := d.ch.t.prog.add(int64(n)); perr != nil && err == nil {
		err = perr
	}
	if err == nil && (short || d.left == 0) {
		err = errLimit
	}
	return n, err
}

// ReadFrom continues the transfer from r, which the wrapper found beneath
// itself.
func (d *dstStandIn) ReadFrom(r io.Reader) (int64, error) { return d.copyFrom(r, -1) }

func (d *dstStandIn) copyFrom(r io.Reader, n int64) (int64, error) {
	lim := d.left
	if n >= 0 {
		lim = minLimit(lim, n)
	}
	if lim == 0 {
		return 0, nil
	}
	d.ch.srcDone = true
	defer wake(d.ch.t.prog.context(), nil, r)() // r is what the wrapper holds: see srcStandIn.copyTo
	k, err := d.ch.c.copyT(d.dst, r, lim, &d.ch.t, d.ch)
	if d.left >= 0 {
		d.left -= k
	}
	return k, err
}
