package splicer

import (
	"fmt"
	"sync/atomic"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// WantSize is the capacity asked for each pipe: 1 MiB, the default
// /proc/sys/fs/pipe-max-size. The kernel may refuse (EPERM past
// pipe-user-pages-soft, or above pipe-max-size for unprivileged users);
// the pipe then keeps the size it has.
const WantSize = 1 << 20

// MaxIdle bounds the pipes kept for reuse. Each idle pipe holds two
// descriptors and, at 1 MiB, 256 pages of the per-user pipe budget
// (pipe-user-pages-soft, 16384 pages = 64 MiB by default): past that budget
// new pipes get 8 KiB and F_SETPIPE_SZ fails for the whole user. Sixteen
// idle pipes (32 fds, 16 MiB of budget) cover a burst of short transfers on
// a busy server without hoarding the budget other processes share. A
// transfer holds a pipe only while bytes are on their way through it: one
// waiting for its source holds none.
const MaxIdle = 16

// pipe is a kernel pipe owned by this package: both ends non-blocking and
// close-on-exec, reached as raw descriptors (they are never a caller's).
type pipe struct {
	r, w    int
	size    int // capacity in bytes (F_GETPIPE_SZ)
	cleanup sys.Cleanup
}

type fds struct{ r, w int }

func (f fds) close() { _ = sys.Close(f.r); _ = sys.Close(f.w) }

var (
	idle   = make(chan *pipe, MaxIdle)
	closed atomic.Int64 // pipes closed so far (tests: a pipe holding bytes is closed, never pooled)
	inUse  atomic.Int64 // pipes handed out by get and not yet back
)

// Stats reports how many pipes were closed so far, and how many transfers
// hold one right now.
func Stats() (closedPipes, held int64) { return closed.Load(), inUse.Load() }

// newPipe makes a pipe sized to WantSize where the kernel allows. Its
// error wraps sys.ErrUnsupported: nothing has been consumed, so the caller
// can always fall back to a plain copy (EMFILE under a descriptor limit,
// EPERM from seccomp; sys.Pipe2Errors).
func newPipe() (*pipe, error) {
	for {
		r, w, err := sys.OpenPipe()
		if err == nil {
			p := &pipe{r: r, w: w}
			p.size = sys.SetPipeSize(w, WantSize)
			p.cleanup = sys.AddCleanup(p, func(f fds) { f.close(); closed.Add(1) }, fds{r, w})
			return p, nil
		}
		if act, werr := sys.Try("pipe2", sys.Pipe2Errors, false, err); act != sys.Retry {
			return nil, fmt.Errorf("%w: %w", sys.ErrUnsupported, werr)
		}
	}
}

func (p *pipe) close() {
	sys.StopCleanup(p, p.cleanup)
	fds{p.r, p.w}.close()
	p.r, p.w = -1, -1
	closed.Add(1)
}

// get returns an idle pipe or a new one.
func get() (*pipe, error) {
	select {
	case p := <-idle:
		inUse.Add(1)
		return p, nil
	default:
	}
	p, err := newPipe()
	if err == nil {
		inUse.Add(1)
	}
	return p, err
}

// put takes p back. inPipe is what the caller counted in it: a pipe that
// may hold bytes is closed, never pooled, since it would hand one
// transfer's bytes to the next. An empty one is pooled, or closed when the
// pool is full. With verify, FIONREAD must agree that it is empty first:
// callers ask for it at the end of a transfer, which may have ended on an
// error; a fill that just met EAGAIN on a pipe its counts say is empty
// (every count comes from the kernel's own return values) skips that
// system call on the path every idle wake-up takes.
func put(p *pipe, inPipe int, verify bool) {
	if p == nil {
		return
	}
	inUse.Add(-1)
	if inPipe != 0 || (verify && sys.Buffered(p.r) != 0) {
		p.close()
		return
	}
	select {
	case idle <- p:
	default:
		p.close()
	}
}

// Drop empties the idle pool (tests use it to count descriptors).
func Drop() {
	for {
		select {
		case p := <-idle:
			p.close()
		default:
			return
		}
	}
}
