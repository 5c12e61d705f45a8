//go:build linux && !purego

package zerocopy

import (
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// The copy_file_range and sendfile engine: a regular-file source to any
// destination those calls take.

var (
	fileToFile   = []Method{MethodCopyFileRange, MethodSendfile}
	fileToStream = []Method{MethodSendfile}
)

var errSameOffset = fmt.Errorf("zerocopy: source and destination are one file at one offset: %w", ErrUnsupported)

// fromFile moves the regular-file source src (the holder of s) to d:
// copy_file_range, then sendfile, to a regular file; sendfile to a socket,
// pipe or character device.
func (k *call) fromFile(d, src splicer.End, s *source) (int64, bool, error) {
	methods := fileToStream
	if d.Kind == sys.KindFile {
		if !s.at && d.SameFile(src.Stat) && sameOffset(src.RC, d.RC) {
			// Copy(f, f), or two descriptors sharing one offset: sendfile
			// would write each byte where it read it. io.Copy reads first
			// and writes after; so does the buffered path.
			k.t.note(errSameOffset)
			return 0, false, nil
		}
		methods = fileToFile
	}
	tr := transfers.Get().(*transfer)
	tr.drc, tr.methods, tr.at, tr.off, tr.remain, tr.prog = d.RC, methods, s.at, s.off, s.remain, k.prog
	cerr := src.RC.Control(tr.control)
	n, handled, err := tr.n, tr.handled, tr.err
	k.t.merge(&tr.t)
	tr.reset()
	transfers.Put(tr)
	if cerr != nil && err == nil && n == 0 {
		return 0, false, nil // src closed under us: the buffered path reports it
	}
	return n, handled, err
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

// transfer is the state of one file-source transfer: copy_file_range or
// sendfile, from the source descriptor (held by RawConn.Control for the
// whole transfer) to the destination (through a sys.Loop per call). It
// fills a tally of its own, which the call merges. It is pooled and its callbacks are
// bound once, so a transfer allocates nothing.
//
// Invariant: off is the offset of the next source byte; every byte before
// it has reached the destination (the kernel advances it with each call).
type transfer struct {
	drc     syscall.RawConn
	methods []Method
	at      bool  // off is explicit; else the file's own offset is read first
	off     int64 // the next source offset
	remain  int64 // bytes wanted; noLimit: to EOF
	sfd     int
	chunk   int
	prog    *progress // nil: one call moves up to sys.MaxChunk
	t       tally
	control func(uintptr)
	loops   [2]sys.Loop // copy_file_range, sendfile

	// control's result (Control's callback returns nothing)
	n       int64
	handled bool
	err     error
}

var transfers = sync.Pool{New: func() any {
	tr := new(transfer)
	tr.control = func(fd uintptr) { tr.n, tr.handled, tr.err = tr.run(int(fd)) }
	tr.loops[0] = sys.Loop{Name: "copy_file_range", Table: sys.CopyFileRangeErrors, Call: tr.copyFileRange}
	tr.loops[1] = sys.Loop{Name: "sendfile", Table: sys.SendfileErrors, Call: tr.sendfile}
	return tr
}}

func (tr *transfer) reset() {
	tr.drc, tr.methods, tr.prog, tr.t = nil, nil, nil, tally{}
	tr.n, tr.handled, tr.err = 0, false, nil
}

func (tr *transfer) copyFileRange(dfd int) (int, error) {
	return sys.CopyFileRange(tr.sfd, &tr.off, dfd, nil, tr.chunk, 0)
}

func (tr *transfer) sendfile(dfd int) (int, error) {
	return sys.Sendfile(dfd, tr.sfd, &tr.off, tr.chunk)
}

// run moves the range with the source descriptor held open.
func (tr *transfer) run(sfd int) (n int64, handled bool, err error) {
	tr.sfd = sfd
	if !tr.at {
		off, err := sys.Seek(sfd, 0, io.SeekCurrent)
		if err != nil {
			return 0, false, nil // not seekable: the buffered path decides
		}
		tr.off = off
	}
	n, handled, err = tr.methodsInTurn()
	if !tr.at && n > 0 {
		// Leave the file offset after the last byte moved, so io.Copy's
		// semantics hold and the buffered path resumes at the next byte.
		if _, serr := sys.Seek(sfd, tr.off, io.SeekStart); serr != nil && err == nil {
			err, handled = os.NewSyscallError("lseek", serr), true
		}
	}
	return n, handled, err
}

// methodsInTurn tries each method until one finishes the range or fails
// for good; a method that falls back hands over at the exact next byte.
func (tr *transfer) methodsInTurn() (n int64, handled bool, err error) {
	for _, m := range tr.methods {
		if why := unavailable(m); why != nil {
			tr.t.note(why)
			continue
		}
		k, act, err := tr.pump(m, n > 0)
		n += k
		tr.t.add(m, k)
		switch act {
		case sys.Done: // the range moved, or 0 at the file's end
			tr.t.finish(m)
			return n, true, nil
		case sys.Retry: // 0 before the file's end: hand over to the buffered path
			tr.t.zero = true
			return n, false, nil
		case sys.Missing:
			markMissing(m)
			tr.t.note(err)
		case sys.Fallback:
			tr.t.note(err)
		default:
			tr.t.finish(m)
			return n, true, err
		}
	}
	return n, false, nil
}

// pump runs m until the range ends (Done), the kernel returns 0 before
// the file's end (Retry: the caller hands over), or an error stops it
// (Fallback, Missing, Fatal).
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
	for n < tr.remain {
		tr.chunk = int(min(int64(most), tr.remain-n))
		k, act, err := loop.Write(tr.drc, moved || n > 0)
		switch {
		case act == sys.Done && k > 0:
			n += int64(k)
			if err := tr.prog.add(int64(k)); err != nil {
				return n, sys.Fatal, err
			}
		case act == sys.Done:
			return n, tr.atEOF(), nil
		default:
			return n, act, err
		}
	}
	return n, sys.Done, nil
}

// atEOF says what a 0 return means: Done where fstat agrees the source
// ended, Retry (hand over to the buffered path) otherwise: pseudo-files
// used to return 0 while holding data (Linux 5.3-5.18).
func (tr *transfer) atEOF() sys.Action {
	if st, err := sys.Fstat(tr.sfd); err == nil && st.Size > 0 && tr.off >= st.Size {
		return sys.Done
	}
	return sys.Retry
}
