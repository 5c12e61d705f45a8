//go:build linux && !purego

package zerocopy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// What the kernel offers, probed once per process. A call that a seccomp
// filter refuses answers the probe's invalid descriptors with EPERM or
// ENOSYS before the kernel looks at them; a call that exists says EBADF.
// Later, only ENOSYS disables a call for the process: EPERM from a real
// call is a per-file answer (sys.Table).
var (
	probeOnce sync.Once
	refusedBy [numMethods]error       // why the probe refused a method; nil: available
	missing   [numMethods]atomic.Bool // a real call said ENOSYS
)

func available(m Method) bool { return unavailable(m) == nil }

// unavailable says why m cannot run in this process, or nil.
func unavailable(m Method) error {
	probeOnce.Do(probe)
	if err := refusedBy[m]; err != nil {
		return err
	}
	if missing[m].Load() {
		return fmt.Errorf("zerocopy: %v: the kernel answered ENOSYS: %w", m, ErrUnsupported)
	}
	return nil
}

func probe() {
	refuse := func(m Method, name string, err error) {
		if err != sys.EBADF {
			refusedBy[m] = fmt.Errorf("zerocopy: %v refused by the kernel or a seccomp profile (probe: %w): %w",
				m, os.NewSyscallError(name, err), ErrUnsupported)
		}
	}
	_, err := sys.CopyFileRange(-1, nil, -1, nil, 1, 0)
	refuse(MethodCopyFileRange, "copy_file_range", err)
	if refusedBy[MethodCopyFileRange] == nil && !sys.KernelAtLeast(5, 3) {
		// Before 5.3 cross-filesystem copies always failed and some
		// pseudo-files copied as empty.
		refusedBy[MethodCopyFileRange] = fmt.Errorf("zerocopy: copy_file_range needs Linux 5.3: %w", ErrUnsupported)
	}
	_, err = sys.Sendfile(-1, -1, nil, 1)
	refuse(MethodSendfile, "sendfile", err)
	_, err = sys.Splice(-1, nil, -1, nil, 1, 0)
	refuse(MethodSplice, "splice", err)
	// MethodDirectIO: O_DIRECT is per filesystem; a refusal falls back per call.
}

// noteMissing remembers ENOSYS from a real call of m.
func noteMissing(m Method, err error) {
	var errno syscall.Errno
	if errors.As(err, &errno) && errno == sys.ENOSYS {
		missing[m].Store(true)
	}
}

var (
	errAppend       = fmt.Errorf("zerocopy: copy_file_range and sendfile cannot write to an O_APPEND file: %w", ErrUnsupported)
	errAppendSplice = fmt.Errorf("zerocopy: splice cannot write to an O_APPEND file: %w", ErrUnsupported)
	errSameOffset   = fmt.Errorf("zerocopy: source and destination are one file at one offset: %w", ErrUnsupported)
)

// fastCopy moves up to remain bytes (remain < 0: to EOF) from the file,
// pipe or stream socket held by src to dst inside the kernel. off is the
// source offset, or -1 to use (and advance) src's own file offset.
//
// It returns the bytes moved, whether the range is finished (remain bytes
// moved, or EOF: nothing is left for the fallback) and an error. A non-nil
// error is final and is returned with the exact count. A nil error with
// done false means the caller continues with the buffered path at the exact
// next byte: the reason, if any, is in t.fallback.
func fastCopy(dst io.Writer, src any, off, remain int64, t *tally) (n int64, done bool, err error) {
	if remain == 0 {
		return 0, true, nil
	}
	srcRC, ok := sys.RawConn(src)
	if !ok {
		return 0, false, nil
	}
	drc, ok := sys.RawConn(dst)
	if !ok {
		return 0, false, nil
	}
	var sst sys.Stat
	if off < 0 {
		// A source read at its own offset may be anything (socket, pipe,
		// tty): only page-cache files feed sendfile and copy_file_range. A
		// file that reports size 0 may be a pseudo-file (/proc) that copies
		// as empty. Sources read at explicit offsets (SendFile, SectionReader)
		// skip this fstat: the kernel refuses a non-file source itself, and
		// a 0 return is checked against fstat before it is taken as EOF.
		if sst, err = sys.Inspect(srcRC, true); err != nil {
			return 0, false, nil
		}
		switch {
		case sst.Kind == sys.KindStream, sst.Kind == sys.KindPipe:
			return spliceCopy(dst, drc, srcRC, sst, remain, t)
		case sst.Kind != sys.KindFile, sst.Size == 0:
			return 0, false, nil
		}
	}
	var methods []Method
	if _, ok := dst.(*net.TCPConn); ok {
		methods = fileToStream // always a stream socket: no need to ask
	} else {
		dst, err := sys.Inspect(drc, true)
		switch {
		case err != nil:
			return 0, false, nil
		case dst.Kind == sys.KindFile:
			if dst.Append {
				t.note(errAppend)
				return 0, false, nil
			}
			if off < 0 && dst.SameFile(sst) && sameOffset(srcRC, drc) {
				// Copy(f, f), or two descriptors sharing one offset:
				// sendfile would write each byte where it read it. io.Copy
				// reads first and writes after; so does the buffered path.
				t.note(errSameOffset)
				return 0, false, nil
			}
			methods = fileToFile
		case dst.Kind == sys.KindStream, dst.Kind == sys.KindPipe, dst.Kind == sys.KindChar:
			methods = fileToStream
		default:
			// Datagram sockets keep message boundaries; directories and
			// block devices are not destinations for these calls.
			return 0, false, nil
		}
	}

	tr := transfers.Get().(*transfer)
	tr.drc, tr.methods, tr.off, tr.remain, tr.prog = drc, methods, off, remain, t.prog
	cerr := srcRC.Control(tr.control)
	r := tr.out
	tr.reset()
	transfers.Put(tr)

	for m, b := range r.bytes {
		t.bytes[m] += b
	}
	if r.done {
		t.finished, t.ran = r.method, true
	}
	t.zero = t.zero || r.zero
	t.note(r.fallback)
	if cerr != nil && r.err == nil && r.n == 0 {
		return 0, false, nil // src closed under us: the plain path reports it
	}
	return r.n, r.done, r.err
}

// sameOffset reports whether two descriptors of one file stand at the
// same offset: the same descriptor, a dup, or two that happen to agree.
// In every case reading and writing in turn, as io.Copy does, is the only
// way to get io.Copy's bytes.
func sameOffset(a, b syscall.RawConn) bool {
	var oa, ob int64 = -1, -2
	_ = a.Control(func(fd uintptr) { oa, _ = sys.Seek(int(fd), 0, io.SeekCurrent) })
	_ = b.Control(func(fd uintptr) { ob, _ = sys.Seek(int(fd), 0, io.SeekCurrent) })
	return oa == ob
}

var (
	fileToFile   = []Method{MethodCopyFileRange, MethodSendfile}
	fileToStream = []Method{MethodSendfile}
)

// transfer is the state of one file-source transfer: copy_file_range or
// sendfile, from the source descriptor (held by RawConn.Control for the
// whole transfer) to the destination (through a sys.Loop per call). It is
// pooled and its callbacks are bound once, so a transfer allocates nothing.
//
// Invariant: off is the offset of the next source byte; every byte before
// it has reached the destination (the kernel advances it with each call).
type transfer struct {
	drc     syscall.RawConn
	methods []Method
	off     int64 // next source offset; -1 until control reads the file's own
	remain  int64 // bytes wanted; -1: to EOF
	sfd     int
	chunk   int
	prog    *progress  // nil: one call moves up to sys.MaxChunk
	out     fileResult // control's result (Control's callback returns nothing)
	control func(uintptr)
	loops   [2]sys.Loop // copy_file_range, sendfile
}

// fileResult is what a transfer did.
type fileResult struct {
	n        int64
	done     bool
	err      error
	bytes    [numMethods]int64
	method   Method // the method that finished the range, when done
	zero     bool   // stopped on a 0 return before the file's end
	fallback error
}

var transfers = sync.Pool{New: func() any {
	tr := new(transfer)
	tr.control = func(fd uintptr) { tr.out = tr.run(int(fd)) }
	tr.loops[0] = sys.Loop{Name: "copy_file_range", Table: sys.CopyFileRangeErrors, Call: tr.copyFileRange}
	tr.loops[1] = sys.Loop{Name: "sendfile", Table: sys.SendfileErrors, Call: tr.sendfile}
	return tr
}}

func (tr *transfer) reset() {
	tr.drc, tr.methods, tr.out, tr.prog = nil, nil, fileResult{}, nil
}

func (tr *transfer) copyFileRange(dfd int) (int, error) {
	return sys.CopyFileRange(tr.sfd, &tr.off, dfd, nil, tr.chunk, 0)
}

func (tr *transfer) sendfile(dfd int) (int, error) {
	return sys.Sendfile(dfd, tr.sfd, &tr.off, tr.chunk)
}

// run moves the range with the source descriptor held open.
func (tr *transfer) run(sfd int) (r fileResult) {
	tr.sfd = sfd
	implicit := tr.off < 0
	if implicit {
		off, err := sys.Seek(sfd, 0, io.SeekCurrent)
		if err != nil {
			return r // not seekable: the plain path decides
		}
		tr.off = off
	}
	r = tr.methodsInTurn()
	if implicit && r.n > 0 {
		// Leave the file offset after the last byte moved, so io.Copy's
		// semantics hold and the fallback resumes at the next byte.
		if _, err := sys.Seek(sfd, tr.off, io.SeekStart); err != nil && r.err == nil {
			r.err = os.NewSyscallError("lseek", err)
		}
	}
	return r
}

// methodsInTurn tries each method until one finishes the range or fails
// for good; a method that falls back hands over at the exact next byte.
func (tr *transfer) methodsInTurn() (r fileResult) {
	for _, m := range tr.methods {
		if why := unavailable(m); why != nil {
			r.fallback = joinErr(r.fallback, why)
			continue
		}
		k, stop, err := tr.pump(m, r.n > 0)
		r.n += k
		r.bytes[m] += k
		switch stop {
		case sys.Done: // the range moved, or 0 at the file's end
			r.done, r.method = true, m
			return r
		case sys.Retry: // 0 before the file's end: hand over to the buffered path
			r.zero = true
			return r
		case sys.Fallback:
			noteMissing(m, err)
			r.fallback = joinErr(r.fallback, err)
		default:
			r.err = err
			return r
		}
	}
	return r
}

// pump runs m until the range ends (Done), the kernel returns 0 before
// the file's end (Retry: the caller hands over), or an error stops it
// (Fallback, Fatal).
func (tr *transfer) pump(m Method, moved bool) (n int64, stop sys.Action, err error) {
	loop := &tr.loops[1]
	if m == MethodCopyFileRange {
		loop = &tr.loops[0]
	}
	most := sys.MaxChunk
	if tr.prog != nil {
		most = progressChunk // bounded calls: progress and cancellation between them
		if err := tr.prog.check(); err != nil {
			return n, sys.Fatal, err
		}
	}
	for tr.remain < 0 || n < tr.remain {
		tr.chunk = most
		if tr.remain >= 0 && tr.remain-n < int64(tr.chunk) {
			tr.chunk = int(tr.remain - n)
		}
		k, act, err := loop.Write(tr.drc, moved || n > 0)
		switch {
		case act == sys.Done && k > 0:
			n += int64(k)
			if err := tr.prog.add(int64(k)); err != nil {
				return n, sys.Fatal, err
			}
		case act == sys.Done:
			// 0 means EOF only where fstat agrees; pseudo-files used to
			// return 0 while holding data (Linux 5.3-5.18).
			if st, err := sys.Fstat(tr.sfd); err == nil && st.Size > 0 && tr.off >= st.Size {
				return n, sys.Done, nil
			}
			return n, sys.Retry, nil
		default:
			return n, act, err
		}
	}
	return n, sys.Done, nil
}

func joinErr(a, b error) error {
	if a == nil {
		return b
	}
	return errors.Join(a, b)
}

// spliceCopy moves bytes from a stream socket or pipe to dst with splice(2)
// (internal/splicer). Bytes the kernel took into the pipe before a
// fallback errno have been written to dst with its Write: the buffered path
// resumes at the exact next byte of src.
func spliceCopy(dst io.Writer, drc, src syscall.RawConn, sst sys.Stat, remain int64, t *tally) (int64, bool, error) {
	if why := unavailable(MethodSplice); why != nil {
		t.note(why)
		return 0, false, nil
	}
	d := splicer.End{RC: drc, W: dst, Kind: sys.KindStream, Nonblock: true} // net's conns are non-blocking
	if t.prog != nil {
		d.Moved = t.prog.add
	}
	if _, ok := dst.(*net.TCPConn); !ok {
		st, err := sys.Inspect(drc, true)
		if err != nil {
			return 0, false, nil
		}
		if !splicer.Spliceable(st, true) {
			if st.Kind == sys.KindFile && st.Append {
				t.note(errAppendSplice)
			}
			return 0, false, nil
		}
		d.Kind, d.Nonblock = st.Kind, st.Nonblock
	}
	res, err := splicer.Transfer(d, splicer.End{RC: src, Kind: sst.Kind, Nonblock: sst.Nonblock}, remain)
	t.noteSplice(res, err)
	return res.N, res.Done, err
}

// noteSplice adds what a splice transfer did to the tally.
func (t *tally) noteSplice(res splicer.Result, err error) {
	t.bytes[MethodSplice] += res.N
	if res.Done && err == nil {
		t.finished, t.ran = MethodSplice, true
	}
	if res.Fallback != nil {
		noteMissing(MethodSplice, res.Fallback)
		t.note(res.Fallback)
	}
}
