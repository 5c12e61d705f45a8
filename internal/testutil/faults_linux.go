package testutil

import (
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Fault is one scripted misbehaviour of a system call.
type Fault struct {
	// Call is the 1-based call number it applies to; 0 applies it to every
	// call that no other fault names.
	Call int
	// Errno, if set, is returned without making the call: nothing moves.
	Errno syscall.Errno
	// Short, if > 0, makes the real call with the length cut to Short.
	Short int
	// Zero returns (0, nil) without making the call: "EOF" before EOF.
	Zero bool
}

// Faults counts the calls of one injected system call.
type Faults struct {
	mu     sync.Mutex
	calls  int
	script map[int]Fault
	every  *Fault
}

// Calls returns how many times the call was made (faulted or not).
func (f *Faults) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func newFaults(faults []Fault) *Faults {
	f := &Faults{script: map[int]Fault{}}
	for _, x := range faults {
		if x.Call == 0 {
			x := x
			f.every = &x
		} else {
			f.script[x.Call] = x
		}
	}
	return f
}

// next returns the fault for the next call, if any.
func (f *Faults) next() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if x, ok := f.script[f.calls]; ok {
		return x, true
	}
	if f.every != nil {
		return *f.every, true
	}
	return Fault{}, false
}

// apply runs one call under the script: real is the call with a length.
func (f *Faults) apply(length int, real func(int) (int, error)) (int, error) {
	x, ok := f.next()
	if !ok {
		return real(length)
	}
	switch {
	case x.Errno != 0:
		return -1, x.Errno
	case x.Zero:
		return 0, nil
	case x.Short > 0 && x.Short < length:
		return real(x.Short)
	}
	return real(length)
}

// Syscall names one raw call of internal/sys that Inject can script.
type Syscall struct {
	name string
	// install replaces the call with one that asks f first, and returns
	// what puts the real call back.
	install func(f *Faults) (restore func())
}

func (c Syscall) String() string { return c.name }

// The calls Inject can script.
var (
	// CopyFileRange is sys.CopyFileRange.
	CopyFileRange = Syscall{"copy_file_range", func(f *Faults) func() {
		orig := sys.CopyFileRange
		sys.CopyFileRange = func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
			return f.apply(n, func(n int) (int, error) { return orig(rfd, roff, wfd, woff, n, flags) })
		}
		return func() { sys.CopyFileRange = orig }
	}}
	// Sendfile is sys.Sendfile.
	Sendfile = Syscall{"sendfile", func(f *Faults) func() {
		orig := sys.Sendfile
		sys.Sendfile = func(out, in int, off *int64, n int) (int, error) {
			return f.apply(n, func(n int) (int, error) { return orig(out, in, off, n) })
		}
		return func() { sys.Sendfile = orig }
	}}
	// Splice is sys.Splice, every call (see SpliceOn for one descriptor's).
	Splice = Syscall{"splice", func(f *Faults) func() {
		orig := sys.Splice
		sys.Splice = func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
			return f.apply(n, func(n int) (int, error) { return orig(rfd, roff, wfd, woff, n, flags) })
		}
		return func() { sys.Splice = orig }
	}}
	// Tee is sys.Tee.
	Tee = Syscall{"tee", func(f *Faults) func() {
		orig := sys.Tee
		sys.Tee = func(rfd, wfd, n, flags int) (int, error) {
			return f.apply(n, func(n int) (int, error) { return orig(rfd, wfd, n, flags) })
		}
		return func() { sys.Tee = orig }
	}}
	// Pipe2 is sys.Pipe2 (Errno: pipe2 fails, as with EMFILE under a
	// descriptor limit or EPERM under seccomp). Inject drops the splice
	// pools first and when the test ends, so that a transfer has to make a
	// pipe.
	Pipe2 = Syscall{"pipe2", func(f *Faults) func() {
		dropPools()
		orig := sys.Pipe2
		sys.Pipe2 = func(p []int, flags int) error {
			_, err := f.apply(0, func(int) (int, error) { return 0, orig(p, flags) })
			return err
		}
		return func() { sys.Pipe2 = orig; dropPools() }
	}}
	// Open is sys.OpenFlags: directio's reopen of a descriptor through
	// /proc/self/fd (Fault{Errno: syscall.EINVAL} is a filesystem that
	// refuses O_DIRECT at open).
	Open = Syscall{"open", func(f *Faults) func() {
		orig := sys.OpenFlags
		sys.OpenFlags = func(path string, flags int, mode uint32) (int, error) {
			return f.apply(0, func(int) (int, error) { return orig(path, flags, mode) })
		}
		return func() { sys.OpenFlags = orig }
	}}
	// SetPipeSize is sys.FcntlInt's F_SETPIPE_SZ calls only (other fcntl
	// commands run unchanged and are not counted). Fault{Errno:
	// syscall.EPERM} makes every new pipe refuse a size, as the kernel does
	// past pipe-user-pages-soft.
	SetPipeSize = Syscall{"fcntl(F_SETPIPE_SZ)", func(f *Faults) func() {
		orig := sys.FcntlInt
		sys.FcntlInt = func(fd uintptr, cmd, arg int) (int, error) {
			if cmd != 1031 { // F_SETPIPE_SZ
				return orig(fd, cmd, arg)
			}
			return f.apply(arg, func(arg int) (int, error) { return orig(fd, cmd, arg) })
		}
		return func() { sys.FcntlInt = orig }
	}}
)

// SpliceOn is Splice for the calls that touch descriptor fd only (as
// source or destination), so that a script stays deterministic while other
// transfers splice at the same time. Calls on other descriptors run
// unchanged and are not counted.
func SpliceOn(fd int) Syscall {
	return Syscall{"splice on fd " + strconv.Itoa(fd), func(f *Faults) func() {
		orig := sys.Splice
		sys.Splice = func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
			if rfd != fd && wfd != fd {
				return orig(rfd, roff, wfd, woff, n, flags)
			}
			return f.apply(n, func(n int) (int, error) { return orig(rfd, roff, wfd, woff, n, flags) })
		}
		return func() { sys.Splice = orig }
	}}
}

// Inject replaces call with one scripted by faults until the test ends,
// and returns its call counter. Without faults the call runs unchanged
// (and is counted). Tests that inject must not run in parallel: the raw
// calls are package variables read without locks.
func Inject(t testing.TB, call Syscall, faults ...Fault) *Faults {
	t.Helper()
	require.NotNil(t, call.install, "testutil.Inject: a zero Syscall")
	f := newFaults(faults)
	t.Cleanup(call.install(f))
	return f
}

// FD returns the descriptor number behind c (for fault filters and
// counting; the descriptor stays c's).
func FD(t testing.TB, c syscall.Conn) int {
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	fd := -1
	require.NoError(t, rc.Control(func(u uintptr) { fd = int(u) }))
	return fd
}

// Queued waits until at least n bytes wait to be read on c (FIONREAD), so
// that a scripted fault numbered by calls meets the call the test means: a
// first splice that found the socket still empty (EAGAIN, the feeding
// goroutine not yet run on a loaded machine) would count as call 1 and
// shift every fault after it.
func Queued(t testing.TB, c syscall.Conn, n int) {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	queued := func() (q int) {
		require.NoError(t, rc.Control(func(fd uintptr) { q = sys.Buffered(int(fd)) }))
		return q
	}
	require.Eventually(t, func() bool { return queued() >= n }, time.Minute, time.Millisecond,
		"waiting for %d bytes to be queued on the source", n)
}
