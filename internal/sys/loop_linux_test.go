package sys

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fakeConn is a RawConn over a raw descriptor whose "netpoller" answers
// every wait with waitErr, as internal/poll does for a descriptor it does
// not watch ("waiting for unsupported file type", "not pollable"), for a
// closed one or after a deadline.
type fakeConn struct {
	fd      int
	waitErr error
	waits   int
}

func (c *fakeConn) Control(f func(uintptr)) error { f(uintptr(c.fd)); return nil }
func (c *fakeConn) Read(f func(uintptr) bool) error {
	if f(uintptr(c.fd)) {
		return nil
	}
	c.waits++
	return c.waitErr
}
func (c *fakeConn) Write(f func(uintptr) bool) error { return c.Read(f) }

func fullPipe(t *testing.T) (r, w int) {
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	t.Cleanup(func() { _ = unix.Close(p[0]); _ = unix.Close(p[1]) })
	buf := make([]byte, 4096)
	for {
		if _, err := unix.Write(p[1], buf); err == unix.EAGAIN {
			return p[0], p[1]
		}
	}
}

func TestLoopNotPollable(t *testing.T) {
	for _, text := range []string{"waiting for unsupported file type", "not pollable", "any other words"} {
		t.Run(text, func(t *testing.T) {
			r, w := fullPipe(t)
			calls := 0
			loop := Loop{Name: "write", Table: SpliceErrors, Call: func(fd int) (int, error) {
				calls++
				return unix.Write(fd, []byte("x"))
			}}
			go func() {
				time.Sleep(100 * time.Millisecond)
				_, _ = unix.Read(r, make([]byte, 8192))
			}()
			c := &fakeConn{fd: w, waitErr: errors.New(text)}
			start := time.Now()
			n, act, err := loop.Write(c, false)
			require.NoError(t, err)
			require.Equal(t, Done, act)
			require.Equal(t, 1, n)
			require.Equal(t, 1, c.waits, "asked the netpoller once, then waited in poll(2)")
			require.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond, "it waited")
			require.LessOrEqual(t, calls, 3, "no busy loop: %d calls", calls)
		})
	}
}

func TestLoopNetpollerErrorsNamed(t *testing.T) {
	for _, werr := range []error{os.ErrDeadlineExceeded, os.ErrClosed, net.ErrClosed,
		&net.OpError{Op: "raw-write", Err: os.ErrDeadlineExceeded}} {
		t.Run(werr.Error(), func(t *testing.T) {
			_, w := fullPipe(t)
			loop := Loop{Name: "write", Table: SpliceErrors, Call: func(fd int) (int, error) { return unix.Write(fd, []byte("x")) }}
			c := &fakeConn{fd: w, waitErr: werr}
			n, act, err := loop.Write(c, false)
			require.Zero(t, n)
			require.Equal(t, Fatal, act)
			var oe *net.OpError
			if errors.As(werr, &oe) {
				// The RawConn method's name gives way to the call's.
				require.ErrorAs(t, err, &oe)
				require.Equal(t, "write", oe.Op)
				require.ErrorIs(t, err, os.ErrDeadlineExceeded)
				require.NotContains(t, err.Error(), "raw-")
			} else {
				require.Equal(t, werr, err)
			}
		})
	}
}

// TestLoopRegularFileEAGAIN: poll(2) calls a regular file always ready, so
// a file that keeps saying EAGAIN (a FUSE server, say) gets EAGAIN as a
// final error after a bounded number of calls, as a plain write does.
func TestLoopRegularFileEAGAIN(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/f")
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	calls := 0
	loop := Loop{Name: "sendfile", Table: SendfileErrors, Call: func(int) (int, error) { calls++; return 0, syscall.EAGAIN }}
	start := time.Now()
	_, act, err := loop.Write(rc, false)
	require.Equal(t, Fatal, act)
	require.ErrorIs(t, err, syscall.EAGAIN)
	require.ErrorContains(t, err, "sendfile")
	require.LessOrEqual(t, calls, staleLimit+2)
	require.Less(t, time.Since(start), time.Second)
}

func TestTryWrapsAndClassifies(t *testing.T) {
	cases := []struct {
		table Table
		errno syscall.Errno
		moved bool
		want  Action
	}{
		{CopyFileRangeErrors, unix.EXDEV, false, Fallback},
		{SendfileErrors, unix.EXDEV, false, Fatal},
		{CopyFileRangeErrors, unix.EIO, false, Fallback},
		{CopyFileRangeErrors, unix.EIO, true, Fatal},
		{SpliceErrors, unix.EPIPE, false, Fatal},
		{SpliceErrors, unix.EINTR, true, Retry},
		{TeeErrors, unix.EAGAIN, true, Wait},
		{Pipe2Errors, unix.EMFILE, false, Fallback},
		{VmspliceErrors, unix.EFAULT, false, Fatal},
	}
	for _, c := range cases {
		act, err := Try("call", c.table, c.moved, c.errno)
		require.Equal(t, c.want, act, "%v moved=%v", c.errno, c.moved)
		if act == Fallback || act == Fatal {
			var se *os.SyscallError
			require.ErrorAs(t, err, &se)
			require.Equal(t, "call", se.Syscall)
			require.ErrorIs(t, err, c.errno)
		} else {
			require.NoError(t, err)
		}
	}
	// Not an errno: passed through, falling back only when it says so.
	act, err := Try("call", SpliceErrors, false, ErrUnsupported)
	require.Equal(t, Fallback, act)
	require.Same(t, ErrUnsupported, err)
	other := errors.New("closed")
	act, err = Try("call", SpliceErrors, false, other)
	require.Equal(t, Fatal, act)
	require.Same(t, other, err)
}
