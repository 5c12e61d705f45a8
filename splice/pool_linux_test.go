//go:build linux && !purego

package splice_test

import (
	"bytes"
	"io"
	"net"
	"os"
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

// TestPoolNeverLeaksBytes: a transfer fails with bytes stranded in its pipe;
// that pipe must be closed, not pooled, or the next transfer would deliver
// another connection's bytes. Every later transfer must carry only its own.
func TestPoolNeverLeaksBytes(t *testing.T) {
	testutil.NoLeaks(t)
	splicer.Drop()
	closedBefore, _ := splicer.Stats()
	secret := bytes.Repeat([]byte("SECRET-"), 100000)

	// Fill a pipe from the source, then fail the drain into the destination.
	testutil.Inject(t, testutil.Splice, testutil.Fault{Call: 2, Errno: syscall.ECONNRESET})
	c, s := testutil.TCPPair(t)
	feed := testutil.Feed(c, secret)
	d1, d2 := testutil.TCPPair(t)
	testutil.Queued(t, s, 1) // call 1 fills the pipe: it must not find the socket empty
	_ = testutil.Collect(t, d2)
	n, err := splice.Splice(d1, s, -1)
	require.ErrorIs(t, err, syscall.ECONNRESET)
	require.Zero(t, n)
	closedAfter, _ := splicer.Stats()
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

// TestSmallPipes: with F_SETPIPE_SZ refused (as past pipe-user-pages-soft)
// the pipes keep the kernel's default size and everything still works.
func TestSmallPipes(t *testing.T) {
	testutil.NoLeaks(t)
	splicer.Drop()
	testutil.Inject(t, testutil.SetPipeSize, testutil.Fault{Errno: syscall.EPERM})
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
	cmd := testutil.Command(t, bin, "-test.run=^(TestSpliceMatrix|TestTee|TestVmspliceRoundTrip)$", "-test.short", "-test.v")
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
// (docs/RELIABILITY.md). Splice must drain and go on, neither hanging
// nor spinning.
func TestSmallSegments(t *testing.T) {
	testutil.NoLeaks(t)
	splicer.Drop()
	testutil.Inject(t, testutil.SetPipeSize, testutil.Fault{Errno: syscall.EPERM}) // keep the kernel's 16-slot default
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
	held := func() int64 { _, h := splicer.Stats(); return h }
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
	// Filling 16 destinations' socket buffers moves tens of MiB: 7-10 s
	// under -race on a loaded 2-core machine. The bound only stops a hang.
	require.Eventually(t, func() bool { return held() == streams }, time.Minute, 10*time.Millisecond)
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
