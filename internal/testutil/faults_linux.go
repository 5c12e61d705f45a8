package testutil

import (
	"sync"
	"syscall"
	"testing"

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

// InjectCopyFileRange replaces sys.CopyFileRange with a scripted one until
// the test ends. Tests that inject must not run in parallel.
func InjectCopyFileRange(t testing.TB, faults ...Fault) *Faults {
	f := newFaults(faults)
	orig := sys.CopyFileRange
	sys.CopyFileRange = func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
		return f.apply(n, func(n int) (int, error) { return orig(rfd, roff, wfd, woff, n, flags) })
	}
	t.Cleanup(func() { sys.CopyFileRange = orig })
	return f
}

// InjectSendfile replaces sys.Sendfile with a scripted one until the test
// ends. Tests that inject must not run in parallel.
func InjectSendfile(t testing.TB, faults ...Fault) *Faults {
	f := newFaults(faults)
	orig := sys.Sendfile
	sys.Sendfile = func(out, in int, off *int64, n int) (int, error) {
		return f.apply(n, func(n int) (int, error) { return orig(out, in, off, n) })
	}
	t.Cleanup(func() { sys.Sendfile = orig })
	return f
}

// InjectSplice replaces sys.Splice with a scripted one until the test
// ends. Tests that inject must not run in parallel.
func InjectSplice(t testing.TB, faults ...Fault) *Faults {
	f := newFaults(faults)
	orig := sys.Splice
	sys.Splice = func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
		return f.apply(n, func(n int) (int, error) { return orig(rfd, roff, wfd, woff, n, flags) })
	}
	t.Cleanup(func() { sys.Splice = orig })
	return f
}

// InjectPipeSizeRefused makes every new pipe refuse F_SETPIPE_SZ, as the
// kernel does past pipe-user-pages-soft, until the test ends.
func InjectPipeSizeRefused(t testing.TB) {
	orig := sys.FcntlInt
	sys.FcntlInt = func(fd uintptr, cmd, arg int) (int, error) {
		if cmd == 1031 { // F_SETPIPE_SZ
			return 0, syscall.EPERM
		}
		return orig(fd, cmd, arg)
	}
	t.Cleanup(func() { sys.FcntlInt = orig })
}

// InjectSpliceOn is InjectSplice for the calls that touch descriptor fd
// only (as source or destination), so that a script stays deterministic
// while other transfers splice at the same time. Calls on other
// descriptors run unchanged and are not counted.
func InjectSpliceOn(t testing.TB, fd int, faults ...Fault) *Faults {
	f := newFaults(faults)
	orig := sys.Splice
	sys.Splice = func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
		if rfd != fd && wfd != fd {
			return orig(rfd, roff, wfd, woff, n, flags)
		}
		return f.apply(n, func(n int) (int, error) { return orig(rfd, roff, wfd, woff, n, flags) })
	}
	t.Cleanup(func() { sys.Splice = orig })
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

// InjectPipe2 replaces sys.Pipe2 with a scripted one until the test ends
// (Errno: pipe2 fails, as with EMFILE under a descriptor limit or EPERM
// under seccomp). It drops the splice pools first and when the test ends,
// so that a transfer has to make a pipe. Tests that inject must not run in
// parallel.
func InjectPipe2(t testing.TB, faults ...Fault) *Faults {
	f := newFaults(faults)
	dropPools()
	orig := sys.Pipe2
	sys.Pipe2 = func(p []int, flags int) error {
		_, err := f.apply(0, func(int) (int, error) { return 0, orig(p, flags) })
		return err
	}
	t.Cleanup(func() { sys.Pipe2 = orig; dropPools() })
	return f
}

// InjectTee replaces sys.Tee with a scripted one until the test ends.
// Tests that inject must not run in parallel.
func InjectTee(t testing.TB, faults ...Fault) *Faults {
	f := newFaults(faults)
	orig := sys.Tee
	sys.Tee = func(rfd, wfd, n, flags int) (int, error) {
		return f.apply(n, func(n int) (int, error) { return orig(rfd, wfd, n, flags) })
	}
	t.Cleanup(func() { sys.Tee = orig })
	return f
}
