package sys

import (
	"fmt"
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestBufferedCount: FIONREAD's count, read the same on every byte order
// and word size. Reading the kernel's 32-bit int into a 64-bit Go int
// passes on little-endian machines and gives 5000<<32 on big-endian ones
// (s390x): .ci/run runs this under qemu-s390x.
func TestBufferedCount(t *testing.T) {
	for _, n := range []int{0, 1, 5000, 65536} {
		t.Run(fmt.Sprintf("pipe/%d", n), func(t *testing.T) {
			var p [2]int
			require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK))
			t.Cleanup(func() { _ = unix.Close(p[0]); _ = unix.Close(p[1]) })
			if n > 0 {
				SetPipeSize(p[1], 1<<20)
				w, err := unix.Write(p[1], make([]byte, n))
				require.NoError(t, err)
				require.Equal(t, n, w)
			}
			require.Equal(t, n, Buffered(p[0]))
		})
		t.Run(fmt.Sprintf("tcp/%d", n), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			t.Cleanup(func() { _ = ln.Close() })
			c, err := net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			s, err := ln.Accept()
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			_, err = c.Write(make([]byte, n))
			require.NoError(t, err)
			rc, err := s.(*net.TCPConn).SyscallConn()
			require.NoError(t, err)
			got := -1
			// Loopback delivers in the sender's write, but give the stack a
			// moment under emulation.
			require.Eventually(t, func() bool {
				require.NoError(t, rc.Control(func(fd uintptr) { got = Buffered(int(fd)) }))
				return got == n
			}, 5*time.Second, time.Millisecond, "FIONREAD on the socket: got %d", got)
		})
	}
	t.Run("bad descriptor", func(t *testing.T) { require.Equal(t, -1, Buffered(-1)) })
}

// TestFIONREADWritesCInt: the assumption behind Buffered, checked against
// the kernel. FIONREAD writes 4 bytes: the word after them keeps its
// sentinel.
func TestFIONREADWritesCInt(t *testing.T) {
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	t.Cleanup(func() { _ = unix.Close(p[0]); _ = unix.Close(p[1]) })
	_, err := unix.Write(p[1], make([]byte, 5000))
	require.NoError(t, err)
	buf := [2]uint32{0xdeadbeef, 0xdeadbeef}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(p[0]), unix.TIOCINQ, uintptr(unsafe.Pointer(&buf[0])))
	require.Zero(t, e)
	require.Equal(t, [2]uint32{5000, 0xdeadbeef}, buf)
}
