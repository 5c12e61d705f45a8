package splicer

import (
	"os"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// WantSize is the capacity asked for each pipe: 1 MiB, the default
// /proc/sys/fs/pipe-max-size. The kernel may refuse (EPERM past
// pipe-user-pages-soft, or above pipe-max-size for unprivileged users);
// the pipe then keeps the size it has.
var WantSize = 1 << 20

// MaxIdle bounds the pipes kept for reuse. Each idle pipe holds two
// descriptors and, at 1 MiB, 256 pages of the per-user pipe budget
// (pipe-user-pages-soft, 16384 pages = 64 MiB by default): past that budget
// new pipes get 8 KiB and F_SETPIPE_SZ fails for the whole user. Sixteen
// idle pipes (32 fds, 16 MiB of budget) cover a burst of short transfers on
// a busy server without hoarding the budget other processes share. Pipes in
// use are not bounded: each concurrent transfer holds one.
const MaxIdle = 16

// Pipe is a kernel pipe owned by this package: both ends non-blocking and
// close-on-exec, reached as raw descriptors (they are never a caller's).
type Pipe struct {
	R, W    int
	Size    int // capacity in bytes (F_GETPIPE_SZ)
	cleanup runtime.Cleanup
}

type fds struct{ r, w int }

func (f fds) close() { _ = unix.Close(f.r); _ = unix.Close(f.w) }

var (
	idle    = make(chan *Pipe, MaxIdle)
	created atomic.Int64 // pipes created, for tests and measurements
	closed  atomic.Int64
)

// Stats reports how many pipes were created and closed so far.
func Stats() (created_, closed_ int64) { return created.Load(), closed.Load() }

// NewPipe makes a pipe sized to WantSize where the kernel allows.
func NewPipe() (*Pipe, error) {
	var p [2]int
	if err := sys.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	created.Add(1)
	pp := &Pipe{R: p[0], W: p[1]}
	pp.Size = Resize(p[1], WantSize)
	pp.cleanup = runtime.AddCleanup(pp, func(f fds) { f.close(); closed.Add(1) }, fds{p[0], p[1]})
	return pp, nil
}

// Resize asks for a pipe capacity of want bytes and returns the capacity
// the pipe has afterwards. A refusal is not an error.
func Resize(fd, want int) int {
	if n, err := sys.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, want); err == nil {
		return n
	}
	n, err := sys.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return 64 << 10 // the kernel's default; only a guess for sizing reads
	}
	return n
}

// Close closes both ends.
func (p *Pipe) Close() {
	if p == nil || p.R < 0 {
		return
	}
	p.cleanup.Stop()
	fds{p.R, p.W}.close()
	p.R, p.W = -1, -1
	closed.Add(1)
}

// Buffered returns the bytes in the pipe (FIONREAD), or -1 if unknown.
func Buffered(fd int) int {
	n, err := sys.IoctlGetInt(fd, unix.TIOCINQ) // TIOCINQ is FIONREAD
	if err != nil {
		return -1
	}
	return n
}

// Get returns an idle pipe or a new one.
func Get() (*Pipe, error) {
	select {
	case p := <-idle:
		return p, nil
	default:
		return NewPipe()
	}
}

// Put returns p for reuse if it is provably empty, else closes it. A pipe
// with bytes in it would hand one transfer's bytes to the next.
func Put(p *Pipe) {
	if p == nil {
		return
	}
	if Buffered(p.R) != 0 {
		p.Close()
		return
	}
	select {
	case idle <- p:
	default:
		p.Close()
	}
}

// Drop empties the idle pool (tests use it to count descriptors).
func Drop() {
	for {
		select {
		case p := <-idle:
			p.Close()
		default:
			return
		}
	}
}
