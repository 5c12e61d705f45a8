package splicer

import (
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

const flags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK // never SPLICE_F_MORE: it corks TCP

// End is one side of a transfer.
type End struct {
	RC   syscall.RawConn
	Pipe bool // the descriptor is a pipe or FIFO: splice to or from it directly
	File bool // a regular file: never EAGAIN
	// W is the destination as an io.Writer: bytes already spliced into the
	// intermediate pipe when the drain hits a fallback errno are written
	// through it, so no consumed byte is lost.
	W io.Writer
}

// Kind classifies a descriptor for splicing.
type Kind uint8

const (
	NotSpliceable Kind = iota
	Stream             // a SOCK_STREAM socket
	FIFO               // a pipe
	File               // a regular file
	Char               // a character device (destination only: /dev/null)
)

// Classify tells how the descriptor behind rc can be spliced. dst asks about
// it as a destination (an O_APPEND file is refused: splice says EINVAL).
func Classify(rc syscall.RawConn, dst bool) Kind {
	st, err := sys.Inspect(rc, dst)
	if err != nil {
		return NotSpliceable
	}
	switch {
	case st.StreamSocket():
		return Stream
	case st.Mode == unix.S_IFIFO:
		return FIFO
	case st.Regular():
		if dst && st.Append() {
			return NotSpliceable
		}
		return File
	case st.Mode == unix.S_IFCHR && dst:
		return Char
	}
	return NotSpliceable
}

// Result is what a transfer did.
type Result struct {
	N        int64 // bytes that reached the destination
	Done     bool  // the source hit EOF or the limit: nothing is left to move
	Fallback error // why splicing stopped early (with Done false and a nil error); the pipe was emptied into the destination first
	Rescued  int64 // of N, bytes written with plain writes out of the pipe after a fallback errno
}

// Transfer moves up to limit bytes (limit < 0: to EOF) from src to dst.
// A non-nil error is final and Result.N is exact. A nil error with Done
// false asks the caller to continue with a plain copy from the next byte.
func Transfer(dst, src End, limit int64) (Result, error) {
	if limit == 0 {
		return Result{Done: true}, nil
	}
	// Direct splicing needs one side to be a pipe and an EAGAIN that says
	// which side is blocked. From a pipe, or from a file into a pipe, it
	// does. A socket into a pipe does not (the pipe may refuse a socket's
	// buffer while poll calls it writable, and a pipe that is not full sends
	// no wake-up when read): that goes through a pipe of ours, where EAGAIN
	// is unambiguous.
	if src.Pipe || (dst.Pipe && src.File) {
		return direct(dst, src, limit)
	}
	p, err := Get()
	if err != nil {
		return Result{}, err
	}
	t := &twoPhase{p: p, src: src, dst: dst, remain: limit}
	res, err := t.run()
	if t.inPipe == 0 {
		Put(p) // Put checks FIONREAD again and closes a pipe that is not empty
	} else {
		p.Close() // bytes are stranded in it: never reuse
	}
	return res, err
}

type twoPhase struct {
	p        *Pipe
	src, dst End
	remain   int64 // bytes still to take from src; -1: to EOF
	inPipe   int
	eof      bool
	res      Result
	stop     error // a final error
	fallback error // a fallback errno met
}

func (t *twoPhase) run() (Result, error) {
	fill := sys.Waiter{Op: t.fill}
	drain := sys.Waiter{Op: t.drain}
	for {
		if t.inPipe == 0 {
			if t.eof || t.remain == 0 {
				t.res.Done = true
				return t.res, nil
			}
			if err := fill.Read(t.src.RC); err != nil {
				return t.res, err // netpoller error: the pipe is empty here
			}
			if t.stop != nil {
				return t.res, t.stop
			}
			if t.fallback != nil && t.inPipe == 0 {
				t.res.Fallback = t.fallback
				return t.res, nil
			}
		}
		if t.inPipe > 0 {
			if err := drain.Write(t.dst.RC); err != nil {
				return t.res, err
			}
			if t.stop != nil {
				return t.res, t.stop
			}
			if t.fallback != nil {
				// The destination refuses splice: move what is in the pipe
				// with plain writes, then hand over.
				if err := t.rescue(); err != nil {
					return t.res, err
				}
				t.res.Fallback = t.fallback
				return t.res, nil
			}
		}
	}
}

// fill splices from the source into the pipe once (up to the pipe's size
// or the limit), noting EOF. EAGAIN with bytes in the pipe means drain them
// first; with an empty pipe, wait for the source.
func (t *twoPhase) fill(sfd int) bool {
	for {
		want := t.p.Size - t.inPipe
		if t.remain >= 0 && int64(want) > t.remain {
			want = int(t.remain)
		}
		if want <= 0 {
			return true
		}
		k, err := sys.Splice(sfd, nil, t.p.W, nil, want, flags)
		switch {
		case err == nil && k == 0:
			t.eof = true
			return true
		case err == nil:
			t.inPipe += int(k)
			if t.remain >= 0 {
				t.remain -= k
			}
			// Drain now: one splice in, one out, as a C loop does. (Filling
			// on until EAGAIN measured no cheaper, and each round would end
			// in a failed call.)
			return true
		}
		errno, _ := err.(syscall.Errno)
		switch sys.Classify(errno, t.res.N > 0 || t.inPipe > 0) {
		case sys.Retry:
			continue
		case sys.Wait:
			return t.inPipe > 0 // bytes in the pipe: drain; none: wait for the source
		case sys.Fallback:
			t.fallback = os.NewSyscallError("splice", err)
		default:
			t.stop = os.NewSyscallError("splice", err)
		}
		return true
	}
}

// drain splices the pipe's bytes into the destination.
func (t *twoPhase) drain(dfd int) bool {
	for t.inPipe > 0 {
		k, err := sys.Splice(t.p.R, nil, dfd, nil, t.inPipe, flags)
		switch {
		case err == nil && k == 0:
			t.fallback = errZeroDrain
			return true
		case err == nil:
			t.inPipe -= int(k)
			t.res.N += k
			continue
		}
		errno, _ := err.(syscall.Errno)
		switch sys.Classify(errno, true) {
		case sys.Retry:
			continue
		case sys.Wait:
			return false // the destination is full (the pipe is not empty)
		case sys.Fallback:
			t.fallback = os.NewSyscallError("splice", err)
		default:
			t.stop = os.NewSyscallError("splice", err)
		}
		return true
	}
	return true
}

var errZeroDrain = errors.New("splice: the destination took 0 bytes from a non-empty pipe")

// rescue reads what is left in the pipe and writes it to the destination
// with its own Write, so the count stays exact and nothing consumed is lost.
func (t *twoPhase) rescue() error {
	if t.dst.W == nil {
		return t.fallback
	}
	buf := make([]byte, min(t.inPipe, 64<<10))
	for t.inPipe > 0 {
		k, err := sys.ReadRaw(t.p.R, buf[:min(len(buf), t.inPipe)])
		if err == unix.EINTR {
			continue
		}
		if err != nil || k <= 0 {
			return errors.Join(t.fallback, os.NewSyscallError("read", err))
		}
		t.inPipe -= k
		w, werr := t.dst.W.Write(buf[:k])
		t.res.N += int64(w)
		t.res.Rescued += int64(w)
		if werr != nil {
			return werr
		}
	}
	return nil
}

// direct splices between src and dst with no intermediate pipe: one of
// them is a pipe. On EAGAIN a zero-timeout poll(2) tells which side is
// blocked; the transfer then waits on that side, re-trying the splice inside
// its callback first, so the wait always follows that side's own EAGAIN.
func direct(dst, src End, limit int64) (Result, error) {
	d := &directT{src: src, dst: dst, remain: limit}
	srcW := sys.Waiter{Op: d.onSrc}
	dstW := sys.Waiter{Op: d.onDst}
	for !d.done && d.stop == nil && d.fallback == nil {
		var err error
		if d.waitDst {
			err = dstW.Write(dst.RC)
		} else {
			err = srcW.Read(src.RC)
		}
		if err != nil {
			return d.res, err
		}
	}
	d.res.Done = d.done
	d.res.Fallback = d.fallback
	return d.res, d.stop
}

type directT struct {
	src, dst End
	remain   int64
	res      Result
	done     bool
	waitDst  bool // which side the next phase waits on
	stop     error
	fallback error
	sfd, dfd int
	spins    int
	outcome  step
	ctlDst   func(uintptr)
	ctlSrc   func(uintptr)
}

type step uint8

const (
	stepDone step = iota
	stepAgain
	stepBlockedSrc
	stepBlockedDst
	stepBothReady
)

// splice moves bytes until EAGAIN, the end, or an error, with both
// descriptors known.
func (d *directT) splice() step {
	for {
		if d.remain == 0 {
			d.done = true
			return stepDone
		}
		want := sys.MaxChunk
		if d.remain > 0 && d.remain < int64(want) {
			want = int(d.remain)
		}
		k, err := sys.Splice(d.sfd, nil, d.dfd, nil, want, flags)
		switch {
		case err == nil && k == 0:
			d.done = true // EOF: the source pipe's writers are gone, or the socket's peer shut down
			return stepDone
		case err == nil:
			d.res.N += k
			if d.remain > 0 {
				d.remain -= k
			}
			continue
		}
		errno, _ := err.(syscall.Errno)
		switch sys.Classify(errno, d.res.N > 0) {
		case sys.Retry:
			continue
		case sys.Wait:
			b := d.blocked()
			if b != stepBothReady {
				d.spins = 0
				return b
			}
			// Both sides ready after an EAGAIN: the state changed between
			// the two calls, so try again. Should it persist (no kernel
			// here does it), slow down instead of spinning: never wait on
			// an edge that may not come.
			if d.spins++; d.spins > 8 {
				fds := [2]unix.PollFd{{Fd: int32(d.sfd), Events: unix.POLLIN}, {Fd: int32(d.dfd), Events: unix.POLLOUT}}
				_, _ = sys.Poll(fds[:], 10)
				d.spins = 0
			}
			continue
		case sys.Fallback:
			d.fallback = os.NewSyscallError("splice", err)
		default:
			d.stop = os.NewSyscallError("splice", err)
		}
		return stepDone
	}
}

// blocked asks poll(2), without waiting, which side made splice say EAGAIN.
func (d *directT) blocked() step {
	fds := [2]unix.PollFd{{Fd: int32(d.sfd), Events: unix.POLLIN}, {Fd: int32(d.dfd), Events: unix.POLLOUT}}
	if _, err := sys.Poll(fds[:], 0); err != nil {
		return stepBlockedSrc
	}
	if fds[0].Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) == 0 {
		return stepBlockedSrc
	}
	if fds[1].Revents&(unix.POLLOUT|unix.POLLERR|unix.POLLHUP) == 0 {
		return stepBlockedDst
	}
	return stepBothReady
}

func (d *directT) withDst(dfd uintptr) { d.dfd = int(dfd); d.outcome = d.splice() }
func (d *directT) withSrc(sfd uintptr) { d.sfd = int(sfd); d.outcome = d.splice() }

// onSrc runs under the source's read lock; the destination is only
// referenced (Control) for the syscall.
func (d *directT) onSrc(sfd int) bool {
	d.sfd = sfd
	if d.ctlDst == nil {
		d.ctlDst = d.withDst
	}
	if err := d.dst.RC.Control(d.ctlDst); err != nil {
		d.stop = err
		return true
	}
	switch d.outcome {
	case stepBlockedSrc:
		return false
	case stepBlockedDst:
		d.waitDst = true // re-try under the destination's lock, then wait there
	}
	return true
}

// onDst runs under the destination's write lock.
func (d *directT) onDst(dfd int) bool {
	d.dfd = dfd
	if d.ctlSrc == nil {
		d.ctlSrc = d.withSrc
	}
	if err := d.src.RC.Control(d.ctlSrc); err != nil {
		d.stop = err
		return true
	}
	switch d.outcome {
	case stepBlockedDst:
		return false
	case stepBlockedSrc:
		d.waitDst = false
	}
	return true
}
