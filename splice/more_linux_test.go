//go:build linux && !purego

package splice_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

func TestTee(t *testing.T) {
	testutil.NoLeaks(t)
	for _, size := range []int{0, 1, 65537, 3<<20 + 5} {
		for _, lim := range limits(size) {
			t.Run(fmt.Sprintf("%d/n=%d", size, lim), func(t *testing.T) {
				data := testutil.Data(uint64(size)+7, size)
				c, s := testutil.TCPPair(t)
				feed := testutil.Feed(c, data)
				d1, d2 := testutil.TCPPair(t)
				got := testutil.Collect(t, d2)
				rec := testutil.File(t, t.TempDir(), "record", nil)
				n, err := splice.Tee(d1, rec, s, lim)
				want := int64(size)
				if lim >= 0 && lim < want {
					want = lim
				}
				require.Equal(t, want, n)
				if lim > int64(size) {
					require.ErrorIs(t, err, io.EOF)
				} else {
					require.NoError(t, err)
				}
				require.NoError(t, d1.CloseWrite())
				testutil.RequireBytes(t, data[:n], got(), "dst")
				testutil.RequireBytes(t, data[:n], testutil.ReadFile(t, rec.Name()), "side")
				require.NoError(t, feed())
				rest, err := io.ReadAll(s)
				require.NoError(t, err)
				testutil.RequireBytes(t, data[n:], rest, "the rest stays in the source")
			})
		}
	}
}

func TestVmspliceRoundTrip(t *testing.T) {
	testutil.NoLeaks(t)
	p, err := splice.NewPipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	require.Greater(t, p.Cap(), 0)
	a, b := testutil.Data(40, 5000), testutil.Data(41, 70000)
	want := append(append([]byte{}, a...), b...)

	// Into a socket by reference, with a concurrent reader making room
	// (70 KB may exceed the pipe when F_SETPIPE_SZ was refused).
	c, s := testutil.TCPPair(t)
	got := testutil.Collect(t, s)
	var wg sync.WaitGroup
	wg.Add(1)
	var moved int64
	var serr error
	go func() {
		defer wg.Done()
		moved, serr = splice.Splice(c, p, int64(len(want)))
	}()
	n, err := p.Vmsplice(a, nil, b)
	require.NoError(t, err)
	require.Equal(t, len(want), n)
	wg.Wait()
	require.NoError(t, serr)
	require.Equal(t, int64(len(want)), moved)
	require.Zero(t, p.Len())
	require.NoError(t, c.CloseWrite())
	testutil.RequireBytes(t, want, got())

	// And back out with Read.
	n, err = p.Vmsplice(a)
	require.NoError(t, err)
	require.Equal(t, len(a), n)
	require.Equal(t, len(a), p.Len())
	buf := make([]byte, len(a))
	_, err = io.ReadFull(p, buf)
	require.NoError(t, err)
	testutil.RequireBytes(t, a, buf)
}

// TestPoolNeverLeaksBytes: a transfer fails with bytes stranded in its pipe;
// that pipe must be closed, not pooled, or the next transfer would deliver
// another connection's bytes. Every later transfer must carry only its own.
func TestPoolNeverLeaksBytes(t *testing.T) {
	testutil.NoLeaks(t)
	splicer.Drop()
	_, closedBefore, _ := splicer.Stats()
	secret := bytes.Repeat([]byte("SECRET-"), 100000)

	// Fill a pipe from the source, then fail the drain into the destination.
	testutil.InjectSplice(t, testutil.Fault{Call: 2, Errno: syscall.ECONNRESET})
	c, s := testutil.TCPPair(t)
	feed := testutil.Feed(c, secret)
	d1, d2 := testutil.TCPPair(t)
	_ = testutil.Collect(t, d2)
	n, err := splice.Splice(d1, s, -1)
	require.ErrorIs(t, err, syscall.ECONNRESET)
	require.Zero(t, n)
	_, closedAfter, _ := splicer.Stats()
	require.Greater(t, closedAfter, closedBefore, "the pipe holding bytes was closed")
	_ = d1.Close()
	_ = s.Close()
	_ = feed()

	// Many transfers afterwards: no foreign byte, ever.
	for i := range 20 {
		data := testutil.Data(uint64(100+i), 50000+i)
		c, s := testutil.TCPPair(t)
		feed := testutil.Feed(c, data)
		d1, d2 := testutil.TCPPair(t)
		got := testutil.Collect(t, d2)
		n, err := splice.Splice(d1, s, -1)
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		require.NoError(t, d1.CloseWrite())
		arrived := got()
		require.False(t, bytes.Contains(arrived, []byte("SECRET")), "foreign bytes from a failed transfer")
		testutil.RequireBytes(t, data, arrived)
		require.NoError(t, feed())
	}
}

// TestSpliceFaults injects errno values and short splices through the seam.
func TestSpliceFaults(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(42, 1<<20+7)
	for _, tc := range []struct {
		name     string
		fault    testutil.Fault
		fatal    bool
		fallback bool
	}{
		{"EINTR@1", testutil.Fault{Call: 1, Errno: syscall.EINTR}, false, false},
		{"EINTR@4", testutil.Fault{Call: 4, Errno: syscall.EINTR}, false, false},
		{"short1@2", testutil.Fault{Call: 2, Short: 1}, false, false},
		{"short1@3", testutil.Fault{Call: 3, Short: 1}, false, false},
		{"EINVAL@1", testutil.Fault{Call: 1, Errno: syscall.EINVAL}, false, true},
		{"EINVAL@4", testutil.Fault{Call: 4, Errno: syscall.EINVAL}, false, true},
		{"ENOSYS@1", testutil.Fault{Call: 1, Errno: syscall.ENOSYS}, false, true},
		{"EPIPE@2", testutil.Fault{Call: 2, Errno: syscall.EPIPE}, true, false},
		{"EIO@5", testutil.Fault{Call: 5, Errno: syscall.EIO}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.InjectSplice(t, tc.fault, testutil.Fault{Short: 64 << 10})
			c, s := testutil.TCPPair(t)
			feed := testutil.Feed(c, data)
			d1, d2 := testutil.TCPPair(t)
			got := testutil.Collect(t, d2)
			n, err := splice.Splice(d1, s, -1)
			require.NoError(t, d1.CloseWrite())
			arrived := got()
			require.Equal(t, n, int64(len(arrived)), "the count is what arrived")
			testutil.RequireBytes(t, data[:n], arrived)
			switch {
			case tc.fatal:
				require.ErrorIs(t, err, tc.fault.Errno)
				require.ErrorContains(t, err, "splice")
				_ = s.Close()
			case tc.fallback:
				// Everything taken from the source reached the destination:
				// a plain copy of the rest completes the stream.
				require.ErrorIs(t, err, splice.ErrUnsupported)
				require.ErrorIs(t, err, tc.fault.Errno)
				rest, rerr := io.ReadAll(s)
				require.NoError(t, rerr)
				testutil.RequireBytes(t, data[n:], rest, "the source resumes at the exact next byte")
			default:
				require.NoError(t, err)
				require.Equal(t, int64(len(data)), n)
			}
			_ = feed()
		})
	}
}

func TestDeadlines(t *testing.T) {
	testutil.NoLeaks(t)
	t.Run("source read deadline", func(t *testing.T) {
		c, s := testutil.TCPPair(t)
		d1, d2 := testutil.TCPPair(t)
		got := testutil.Collect(t, d2)
		_, err := c.Write([]byte("hello"))
		require.NoError(t, err)
		require.NoError(t, s.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
		n, err := splice.Splice(d1, s, -1) // the peer never closes
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.Equal(t, int64(5), n)
		require.NoError(t, d1.CloseWrite())
		require.Equal(t, "hello", string(got()))
	})
	t.Run("destination write deadline, expired before", func(t *testing.T) {
		c, s := testutil.TCPPair(t)
		d1, _ := testutil.TCPPair(t)
		_, err := c.Write([]byte("hello"))
		require.NoError(t, err)
		require.NoError(t, d1.SetWriteDeadline(time.Now().Add(-time.Second)))
		n, err := splice.Splice(d1, s, 5)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.Zero(t, n)
	})
	t.Run("destination write deadline, mid-transfer", func(t *testing.T) {
		data := testutil.Data(43, 32<<20)
		c, s := testutil.TCPPair(t)
		feed := testutil.Feed(c, data)
		d1, d2 := testutil.TCPPair(t)
		require.NoError(t, d1.SetWriteBuffer(16<<10))
		require.NoError(t, d2.SetReadBuffer(16<<10))
		require.NoError(t, d1.SetWriteDeadline(time.Now().Add(200*time.Millisecond)))
		n, err := splice.Splice(d1, s, -1) // nobody reads d2 until it returns
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.Greater(t, n, int64(0))
		require.NoError(t, d1.Close())
		arrived, rerr := io.ReadAll(d2)
		require.NoError(t, rerr)
		require.Equal(t, n, int64(len(arrived)))
		testutil.RequireBytes(t, data[:n], arrived)
		_ = s.Close()
		_ = feed()
	})
}

// TestCloseWhileBlocked: Close from another goroutine, of either side,
// ends a blocked Splice with an error (golang/go#25985).
func TestCloseWhileBlocked(t *testing.T) {
	testutil.NoLeaks(t)
	for _, side := range []string{"source", "destination"} {
		t.Run(side, func(t *testing.T) {
			c, s := testutil.TCPPair(t)
			d1, d2 := testutil.TCPPair(t)
			require.NoError(t, d1.SetWriteBuffer(16<<10))
			require.NoError(t, d2.SetReadBuffer(16<<10))
			victim := s
			if side == "destination" {
				victim = d1
				// Keep the source busy so Splice blocks on the destination.
				go func() { _, _ = c.Write(testutil.Data(44, 16<<20)) }()
			}
			errc := make(chan error, 1)
			go func() { _, err := splice.Splice(d1, s, -1); errc <- err }()
			time.Sleep(150 * time.Millisecond)
			require.NoError(t, victim.Close())
			select {
			case err := <-errc:
				require.ErrorIs(t, err, net.ErrClosed)
			case <-time.After(5 * time.Second):
				t.Fatal("Splice still blocked 5s after Close")
			}
			_ = c.Close()
			_ = d1.Close()
		})
	}
}

// TestConcurrentProxies runs 64 bidirectional-style streams at once, each
// its own Splice, and checks every byte (run it with -race).
func TestConcurrentProxies(t *testing.T) {
	testutil.NoLeaks(t)
	const streams = 64
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := range streams {
		c, s := testutil.TCPPair(t)
		d1, d2 := testutil.TCPPair(t)
		data := testutil.Data(uint64(1000+i), 256<<10+i)
		feed := testutil.Feed(c, data)
		got := testutil.Collect(t, d2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := splice.Splice(d1, s, -1)
			_ = d1.CloseWrite()
			if err != nil || n != int64(len(data)) {
				errs <- fmt.Errorf("stream %d: %d, %v", i, n, err)
				return
			}
			if err := feed(); err != nil {
				errs <- err
			}
			arrived := got()
			if !bytes.Equal(arrived, data) {
				errs <- fmt.Errorf("stream %d: bytes differ", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// TestSmallPipes: with F_SETPIPE_SZ refused (as past pipe-user-pages-soft)
// the pipes keep the kernel's default size and everything still works.
func TestSmallPipes(t *testing.T) {
	testutil.NoLeaks(t)
	splicer.Drop()
	testutil.InjectPipeSizeRefused(t)
	t.Cleanup(splicer.Drop)
	p, err := splice.NewPipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	require.Less(t, p.Cap(), 1<<20)
	checkSplice(t, sources[0], dests[0], testutil.Data(45, 3<<20+1), -1)
	checkSplice(t, sources[2], dests[5], testutil.Data(46, 3<<20+1), -1)
}

const childEnv = "ZEROCOPY_SPLICE_CHILD"

// TestUnprivileged reruns the integrity tests as user nobody, where raising
// a pipe past pipe-max-size is refused and the per-user pipe budget applies.
func TestUnprivileged(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("already the child")
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: the other tests already run unprivileged")
	}
	dir, err := os.MkdirTemp("", "zerocopy-splice-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	bin := filepath.Join(dir, "splice.test")
	in, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, in, 0o755))
	cmd := exec.Command(bin, "-test.run=^(TestSpliceMatrix|TestTee|TestVmspliceRoundTrip)$", "-test.short", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	for _, name := range []string{"TestSpliceMatrix", "TestTee", "TestVmspliceRoundTrip"} {
		require.Contains(t, string(out), "--- PASS: "+name+" ", "ran as nobody")
	}
}

// TestSmallSegments: 100-byte TCP segments each take a whole pipe slot, so
// a 16-slot pipe fills holding 1600 bytes while more wait in the socket
// (../shared/RELIABILITY.md). Splice must drain and go on, neither hanging
// nor spinning.
func TestSmallSegments(t *testing.T) {
	testutil.NoLeaks(t)
	splicer.Drop()
	testutil.InjectPipeSizeRefused(t) // keep the kernel's 16-slot default
	t.Cleanup(splicer.Drop)
	c, s := testutil.TCPPair(t)
	require.NoError(t, c.SetNoDelay(true))
	data := testutil.Data(47, 400*100)
	go func() {
		for i := 0; i < len(data); i += 100 {
			_, _ = c.Write(data[i : i+100])
		}
		_ = c.CloseWrite()
	}()
	time.Sleep(50 * time.Millisecond) // let segments queue up in s
	d1, d2 := testutil.TCPPair(t)
	got := testutil.Collect(t, d2)
	n, err := splice.Splice(d1, s, -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.NoError(t, d1.CloseWrite())
	testutil.RequireBytes(t, data, got())
}

// TestFdsPerTransfer measures the descriptors a transfer holds beyond its
// own source and destination. Waiting for its source it holds none: the
// pipe goes back to the pool before the wait. Blocked on a destination
// that does not read, bytes sit in its pipe: two descriptors.
func TestFdsPerTransfer(t *testing.T) {
	testutil.NoLeaks(t)
	splicer.Drop()
	const streams = 16
	count := func() int {
		d, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(d)
	}
	held := func() int64 { _, _, h := splicer.Stats(); return h }
	type pair struct{ c, s, d1, d2 *net.TCPConn }
	pairs := make([]pair, streams)
	for i := range pairs {
		c, s := testutil.TCPPair(t)
		d1, d2 := testutil.TCPPair(t)
		pairs[i] = pair{c, s, d1, d2}
	}
	before := count()
	var wg sync.WaitGroup
	counts := make([]int64, streams)
	for i, p := range pairs {
		wg.Add(1)
		go func() { defer wg.Done(); counts[i], _ = splice.Splice(p.d1, p.s, -1) }()
		_, err := p.c.Write([]byte("x")) // each transfer moves a byte, then waits for more
		require.NoError(t, err)
	}
	for _, p := range pairs {
		b := make([]byte, 1)
		_, err := io.ReadFull(p.d2, b)
		require.NoError(t, err)
		require.Equal(t, "x", string(b))
	}
	require.Eventually(t, func() bool { return held() == 0 }, 5*time.Second, 5*time.Millisecond)
	splicer.Drop() // the pool's idle pipes are the process's, not the transfers'
	extra := count() - before
	t.Logf("%d transfers waiting for their source hold %d extra descriptors", streams, extra)
	require.Zero(t, extra, "an idle transfer holds no pipe")

	// Now fill each destination until it stops reading: bytes wait in the
	// transfer's pipe.
	for _, p := range pairs {
		require.NoError(t, p.d2.SetReadBuffer(4096))
		go func() { _, _ = p.c.Write(make([]byte, 16<<20)) }()
	}
	require.Eventually(t, func() bool { return held() == streams }, 10*time.Second, 10*time.Millisecond)
	extra = count() - before
	t.Logf("%d transfers blocked on their destination hold %d extra descriptors", streams, extra)
	require.Equal(t, 2*streams, extra, "one pipe (two descriptors) per transfer with bytes in flight")
	for _, p := range pairs {
		_ = p.c.Close()
		_ = p.d2.Close()
	}
	wg.Wait()
	for i := range counts {
		require.GreaterOrEqual(t, counts[i], int64(1))
	}
}
