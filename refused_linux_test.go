//go:build linux && !purego

package zerocopy_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestPipe2Refused: a pipe2 that fails (EMFILE under a descriptor limit,
// EPERM under seccomp) before anything moved makes Copy fall back to the
// buffered path: every byte arrives.
func TestPipe2Refused(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.EPERM, syscall.ENFILE} {
		t.Run(errno.Error(), func(t *testing.T) {
			data := testutil.Data(22, 1<<20+5)
			c, s := testutil.TCPPair(t)
			wait := testutil.Feed(c, data)
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			faults := testutil.Inject(t, testutil.Pipe2, testutil.Fault{Errno: errno})
			var rep zerocopy.Report
			cp := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
			n, err := cp.Copy(bg, dst, s)
			require.NoError(t, err)
			require.NoError(t, wait())
			require.Equal(t, int64(len(data)), n)
			testutil.RequireBytes(t, data, testutil.ReadFile(t, dst.Name()))
			require.Positive(t, faults.Calls(), "pipe2 was asked")
			require.Equal(t, zerocopy.MethodBuffered, rep.Method)
			require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported)
			require.ErrorIs(t, rep.Fallback, errno)
		})
	}
}

// TestPipe2UnderRlimit re-runs this test binary in a child whose
// RLIMIT_NOFILE leaves no descriptor free, so pipe2 really fails with
// EMFILE, and copies a TCP stream to a file there. The child prints the
// count and SHA-256; io.Copy's numbers are the reference.
func TestPipe2UnderRlimit(t *testing.T) {
	if os.Getenv("ZC_RLIMIT_CHILD") == "1" {
		rlimitChild()
		return
	}
	bin, err := os.Executable()
	require.NoError(t, err)
	cmd := testutil.Command(t, bin, "-test.run=^TestPipe2UnderRlimit$")
	cmd.Env = append(os.Environ(), "ZC_RLIMIT_CHILD=1", "ZC_OUT="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	data := testutil.Data(23, 3<<20+1)
	sum := sha256.Sum256(data)
	require.Contains(t, string(out), fmt.Sprintf("RESULT n=%d sha=%s method=buffered emfile=true err=<nil>", len(data), hex.EncodeToString(sum[:])))
}

func rlimitChild() {
	data := testutil.Data(23, 3<<20+1)
	fail := func(err error) {
		fmt.Println("CHILD ERROR", err)
		os.Exit(1)
	}
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err == nil && orig.Cur < orig.Max {
		orig.Cur = orig.Max // room for the setup; the tight limit comes after
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)
	}
	lnC, lnS, err := tcpPairNoT()
	if err != nil {
		fail(err)
	}
	dst, err := os.Create(os.Getenv("ZC_OUT") + "/dst")
	if err != nil {
		fail(err)
	}
	// Lowest free descriptor: every one below it is in use. A limit there
	// leaves none for pipe2.
	probe, err := os.Open(os.DevNull)
	if err != nil {
		fail(err)
	}
	rc, _ := probe.SyscallConn()
	var low int
	_ = rc.Control(func(fd uintptr) { low = int(fd) })
	_ = probe.Close()
	lim := syscall.Rlimit{Cur: uint64(low), Max: uint64(low) + 1024}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fail(err)
	}
	var p [2]int
	emfile := syscall.Pipe2(p[:], syscall.O_CLOEXEC) == syscall.EMFILE
	go func() {
		_, _ = lnC.Write(data)
		_ = lnC.CloseWrite()
	}()
	var rep zerocopy.Report
	c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
	n, err := c.Copy(bg, dst, lnS)
	// Read back through the open descriptor: the limit leaves none to open.
	h := sha256.New()
	if _, rerr := io.Copy(h, io.NewSectionReader(dst, 0, 1<<40)); rerr != nil {
		fail(rerr)
	}
	sum := h.Sum(nil)
	fmt.Printf("RESULT n=%d sha=%s method=%v emfile=%v err=%v\n", n, hex.EncodeToString(sum[:]), rep.Method, emfile, err)
	fmt.Println("fallback:", rep.Fallback)
}

// TestProbeRefusedReported: when the one-time probe finds a path refused
// (a seccomp profile: EPERM for the invalid-descriptor probe), every
// transfer that would have used it says so in Report.Fallback.
func TestProbeRefusedReported(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(t *testing.T)
		call   string
		copy   func(t *testing.T, c *zerocopy.Copier) error
		method zerocopy.Method
	}{
		{"copy_file_range", func(t *testing.T) { testutil.Inject(t, testutil.CopyFileRange, testutil.Fault{Errno: syscall.EPERM}) }, "copy_file_range",
			func(t *testing.T, c *zerocopy.Copier) error {
				src := testutil.File(t, t.TempDir(), "src", testutil.Data(24, 100000))
				_, err := c.Copy(bg, testutil.File(t, t.TempDir(), "dst", nil), src)
				return err
			}, zerocopy.MethodSendfile},
		{"sendfile", func(t *testing.T) { testutil.Inject(t, testutil.Sendfile, testutil.Fault{Errno: syscall.ENOSYS}) }, "sendfile",
			func(t *testing.T, c *zerocopy.Copier) error {
				src := testutil.File(t, t.TempDir(), "src", testutil.Data(24, 100000))
				a, b := testutil.TCPPair(t)
				got := testutil.Collect(t, b)
				_, err := c.Copy(bg, a, src)
				require.NoError(t, a.CloseWrite())
				require.Len(t, got(), 100000)
				return err
			}, zerocopy.MethodBuffered},
		{"splice", func(t *testing.T) { testutil.Inject(t, testutil.Splice, testutil.Fault{Errno: syscall.EPERM}) }, "splice",
			func(t *testing.T, c *zerocopy.Copier) error {
				a, b := testutil.TCPPair(t)
				wait := testutil.Feed(a, testutil.Data(24, 100000))
				_, err := c.Copy(bg, testutil.File(t, t.TempDir(), "dst", nil), b)
				require.NoError(t, wait())
				return err
			}, zerocopy.MethodBuffered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Registered first, so it runs after the injection is undone.
			t.Cleanup(zerocopy.RestoreProbe)
			tc.inject(t)
			zerocopy.Reprobe()
			for i := range 2 { // every transfer, not only the first
				var rep zerocopy.Report
				c := &zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
				require.NoError(t, tc.copy(t, c))
				require.Equal(t, tc.method.String(), rep.Method.String(), "transfer %d", i)
				require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported, "transfer %d", i)
				require.ErrorContains(t, rep.Fallback, "probe", "transfer %d", i)
				require.True(t, strings.Contains(rep.Fallback.Error(), tc.call), "transfer %d: %v", i, rep.Fallback)
			}
		})
	}
}

// TestRegularFileEAGAIN: a regular-file destination that keeps answering
// EAGAIN ends the copy with EAGAIN after a bounded number of calls, with
// the count exact, where it used to spin.
func TestRegularFileEAGAIN(t *testing.T) {
	data := testutil.Data(25, 3<<20+1)
	src := testutil.File(t, t.TempDir(), "src", data)
	dst := testutil.File(t, t.TempDir(), "dst", nil)
	cfr := testutil.Inject(t, testutil.CopyFileRange, testutil.Fault{Call: 1, Short: 1 << 20}, testutil.Fault{Errno: syscall.EAGAIN})
	n, err := zerocopy.Copy(dst, src)
	require.ErrorIs(t, err, syscall.EAGAIN)
	require.ErrorContains(t, err, "copy_file_range")
	require.Equal(t, int64(1<<20), n)
	testutil.RequireBytes(t, data[:1<<20], testutil.ReadFile(t, dst.Name()))
	require.Less(t, cfr.Calls(), 100, "bounded: no spin")
	require.Equal(t, int64(1<<20), testutil.Offset(t, src), "the source offset is after the bytes that arrived")
}

// tcpPairNoT is testutil.TCPPair for the child process (no *testing.T).
func tcpPairNoT() (client, server *net.TCPConn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	s := <-ch
	if s == nil {
		return nil, nil, fmt.Errorf("accept failed")
	}
	return c.(*net.TCPConn), s.(*net.TCPConn), nil
}
