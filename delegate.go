package zerocopy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
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
// buffer, and WriteTo (or ReadFrom) that continues this same call with
// whatever the wrapper found underneath, usually a value with a
// descriptor. A stand-in passed back into Copy, CopyN or CopyBuffer (a
// ReadFrom that calls Copy on its own receiver, a WriteTo that calls
// Copy(w, itself)) is unwrapped and continues the same call.
//
// Recursion is bounded three ways: each side is asked at most once per
// call (call.dstAsked, call.srcAsked), a stand-in is never asked, and a
// value already being asked on any goroutine is not asked again (inflight:
// a ReadFrom that wraps the stand-in in a reader of its own and calls Copy
// on its receiver gets the plain path).
//
// A stand-in holds its own copy of the call (and of the source), on the
// heap, for the nested transfers it continues; the call that asked copies
// it back when the wrapper returns. So a call that delegates nothing
// allocates nothing for it.

// inflight holds the values being asked right now.
var inflight sync.Map // any (a pointer, or a comparable value) -> struct{}

// enter marks v as being asked. Pointers and comparable values (a struct of
// pointers with value receivers, as io.Copy would ask) are tracked; a value
// that cannot be a map key (it holds a slice, map or func) is not asked.
// Two equal values are one wrapper here: at worst a concurrent copy
// through an equal value is not asked and runs buffered.
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

// inMemory reports the stdlib's in-memory readers and writers, which reach
// no descriptor: asking their WriteTo or ReadFrom would only cost, and no
// kernel path is missed for them.
func inMemory(v any) bool {
	switch v.(type) {
	case *bytes.Reader, *bytes.Buffer, *strings.Reader:
		return true
	}
	return false
}

// delegate hands the transfer to the source's WriteTo or the destination's
// ReadFrom when that is how a descriptor can be reached: the value has
// none of its own, and the other side has one or can be asked in turn.
// handled is false, with nothing moved, when neither applies.
func (k *call) delegate(dst io.Writer, s *source) (n int64, handled bool, err error) {
	if wt, ok := k.askableSource(dst, s); ok {
		defer leave(s.holder)
		n, err = k.delegateSrc(wt, dst, s)
		return n, true, err
	}
	if rf, ok := k.askableDst(dst, s); ok {
		defer leave(dst)
		n, err = k.delegateDst(rf, dst, s)
		return n, true, err
	}
	return 0, false, nil
}

// askableSource returns the source's WriteTo when it may be asked, and
// marks it in flight. A WriteTo reads until EOF: with a limit, only a
// *bufio.Reader is known to keep the bytes a short write refused.
func (k *call) askableSource(dst io.Writer, s *source) (io.WriterTo, bool) {
	if k.srcAsked || s.at || hasFD(s.holder) || isStandIn(s.holder) || inMemory(s.holder) {
		return nil, false
	}
	wt, ok := s.holder.(io.WriterTo)
	if !ok {
		return nil, false
	}
	if _, rf := dst.(io.ReaderFrom); !rf && !hasFD(dst) {
		return nil, false
	}
	if _, isBufio := s.holder.(*bufio.Reader); s.remain != noLimit && !isBufio {
		return nil, false
	}
	return wt, enter(s.holder)
}

// askableDst returns the destination's ReadFrom when it may be asked (the
// source has a descriptor, the destination none), and marks it in flight.
func (k *call) askableDst(dst io.Writer, s *source) (io.ReaderFrom, bool) {
	if k.dstAsked || !hasFD(s.holder) || hasFD(dst) || isStandIn(dst) || inMemory(dst) {
		return nil, false
	}
	rf, ok := dst.(io.ReaderFrom)
	if !ok {
		return nil, false
	}
	return rf, enter(dst)
}

// delegateDst asks the destination's ReadFrom to copy from a stand-in for
// the source.
func (k *call) delegateDst(rf io.ReaderFrom, dst io.Writer, s *source) (int64, error) {
	in := &srcStandIn{k: *k, s: *s}
	in.k.dstAsked = true
	before := in.k.t
	n, err := rf.ReadFrom(in)
	*k, *s = in.k, in.s
	k.wrapperMoved(&before, n, "dst", dst)
	return n, err
}

// delegateSrc asks the source's WriteTo to copy into a stand-in for the
// destination.
func (k *call) delegateSrc(wt io.WriterTo, dst io.Writer, s *source) (int64, error) {
	out := &dstStandIn{k: *k, dst: dst, left: s.remain}
	out.k.srcAsked = true
	before := out.k.t
	n, err := wt.WriteTo(out)
	if err == errLimit && out.left == 0 {
		err = nil
	}
	*k = out.k
	s.skip(n) // the holder was read directly: move its LimitedReader on
	if hasFD(dst) {
		k.wrapperMoved(&before, n, "src", s.holder)
	} else {
		k.wrapperMoved(&before, n, "", nil)
	}
	return n, err
}

// wrapperMoved accounts for a wrapper that returned n: bytes it moved
// through its own buffer (the stand-in's Read or Write) count as buffered,
// and a wrapper whose bytes all went that way, with a descriptor on the
// other side, is named in the Report (side "": not named).
func (k *call) wrapperMoved(before *tally, n int64, side string, v any) {
	if moved := k.t.total() - before.total(); n > moved {
		k.t.add(MethodBuffered, n-moved)
	}
	if side != "" && n > 0 && k.t.kernel() == before.kernel() {
		k.t.note(noDescriptor(side, v))
	}
}

func noDescriptor(side string, v any) error {
	if _, ok := v.(http.ResponseWriter); ok && side == "dst" {
		return fmt.Errorf("zerocopy: dst %T: %w", v, errHTTPCopied)
	}
	return fmt.Errorf("zerocopy: %s %T: no descriptor: %w", side, v, ErrUnsupported)
}

// errHTTPCopied is why a ResponseWriter that was asked to copy kept every
// byte on the buffered path: net/http's ReadFrom reaches the connection's
// own ReadFrom only for a body with a Content-Length over HTTP/1.x without
// TLS, and only after the first 512 bytes, which it copies itself to sniff
// a Content-Type unless the header was written first.
var errHTTPCopied = fmt.Errorf("net/http copied the body itself (it does for the first 512 bytes unless the header was written or flushed first, for a chunked body without Content-Length, and over TLS or HTTP/2): %w", ErrUnsupported)

// srcStandIn stands in for the source when a destination's ReadFrom is
// asked to copy.
type srcStandIn struct {
	k call
	s source
}

// Read hands the wrapper bytes to copy through its own buffer.
func (in *srcStandIn) Read(p []byte) (int, error) {
	n, err := in.s.Read(p)
	if perr := in.k.prog.add(int64(n)); perr != nil && err == nil {
		err = perr
	}
	return n, err
}

// WriteTo continues the call into w, which the wrapper found beneath
// itself (net/http and bufio hand on the connection or file they hold).
func (in *srcStandIn) WriteTo(w io.Writer) (int64, error) { return in.copyTo(w, noLimit) }

// copyTo continues the call into w with at most n more bytes.
func (in *srcStandIn) copyTo(w io.Writer, n int64) (int64, error) {
	lim := min(in.s.remain, n)
	if lim <= 0 {
		return 0, nil
	}
	in.k.dstAsked = true
	// w is what the wrapper found beneath itself (a conn, a file): the
	// call's context must be able to wake a wait on it, as on the values
	// the call was given.
	defer wake(in.k.prog.context(), w, nil)()
	rest := in.s.remain - lim
	in.s.remain = lim
	moved, err := in.k.copy(w, &in.s)
	in.s.remain += rest
	return moved, err
}

// dstStandIn stands in for the destination when a source's WriteTo is
// asked to copy; left bytes may still be written (noLimit: no limit).
type dstStandIn struct {
	k    call
	dst  io.Writer
	left int64
}

// Write passes the wrapper's own bytes (bufio.Reader's buffer) on.
func (out *dstStandIn) Write(p []byte) (int, error) {
	short := int64(len(p)) > out.left
	if short {
		p = p[:out.left]
	}
	n, err := out.dst.Write(p)
	if n < 0 || n > len(p) {
		return 0, errInvalidWrite
	}
	out.left -= int64(n)
	if perr := out.k.prog.add(int64(n)); perr != nil && err == nil {
		err = perr
	}
	if err == nil && (short || out.left == 0) {
		err = errLimit
	}
	return n, err
}

// ReadFrom continues the call from r, which the wrapper found beneath
// itself.
func (out *dstStandIn) ReadFrom(r io.Reader) (int64, error) { return out.copyFrom(r, noLimit) }

// copyFrom continues the call from r with at most n more bytes.
func (out *dstStandIn) copyFrom(r io.Reader, n int64) (int64, error) {
	lim := min(out.left, n)
	if lim <= 0 {
		return 0, nil
	}
	out.k.srcAsked = true
	s := newSource(r, lim)
	defer wake(out.k.prog.context(), nil, s.holder)() // see srcStandIn.copyTo
	moved, err := out.k.copy(out.dst, &s)
	out.left -= moved
	return moved, err
}
