//go:build linux

package zerocopy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

func openFDs(t *testing.T) int {
	d, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(d)
}

// pipeFDs counts the pipe descriptors the process has open, after the
// pool's idle pipes (the process's, not any relay's) are dropped.
func pipeFDs(t *testing.T) int {
	splicer.Drop()
	d, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	n := 0
	for _, e := range d {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "pipe:") {
			n++
		}
	}
	return n
}

func requireNoPipesHeld(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { _, held := splicer.Stats(); return held == 0 }, 5*time.Second, 5*time.Millisecond)
}

// TestRelayFaults injects errors into the splice calls of the client ->
// server direction (those touching the server-side conn b) and checks that
// every byte the client sent arrives once, or that the count is exact.
func TestRelayFaults(t *testing.T) {
	if !zerocopy.FastPaths {
		t.Skip("no splice in this build")
	}
	const size = 4<<20 + 7
	cases := []struct {
		name  string
		fault testutil.Fault
		fatal syscall.Errno
	}{
		{"EINVAL@1", testutil.Fault{Call: 1, Errno: syscall.EINVAL}, 0},
		{"EINVAL@3", testutil.Fault{Call: 3, Errno: syscall.EINVAL}, 0},
		{"ENOSYS@2", testutil.Fault{Call: 2, Errno: syscall.ENOSYS}, 0},
		{"short@2", testutil.Fault{Call: 2, Short: 1}, 0},
		{"EINTR@2", testutil.Fault{Call: 2, Errno: syscall.EINTR}, 0},
		{"EPIPE@3", testutil.Fault{Call: 3, Errno: syscall.EPIPE}, syscall.EPIPE},
		{"EIO@3", testutil.Fault{Call: 3, Errno: syscall.EIO}, syscall.EIO},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testutil.NoLeaks(t)
			t.Cleanup(zerocopy.ResetRefused)
			client, a := testutil.TCPPair(t)
			b, server := testutil.TCPPair(t)
			testutil.Inject(t, testutil.SpliceOn(testutil.FD(t, b)), tc.fault, testutil.Fault{Short: 256 << 10})
			data := testutil.Data(9, size)
			r := startRelay(context.Background(), zerocopy.Relayer{}, client, a, b, server)
			got := collectCut(server)
			wrote := make(chan error, 1)
			go func() {
				_, err := client.Write(data)
				_ = client.CloseWrite()
				wrote <- err
			}()
			if tc.fatal == 0 {
				arrived, err := got()
				require.NoError(t, err)
				testutil.RequireBytes(t, data, arrived)
				require.NoError(t, server.CloseWrite())
				r.wait(t)
				require.NoError(t, r.err)
				require.Equal(t, int64(size), r.aToB)
				return
			}
			r.wait(t)
			require.ErrorIs(t, r.err, tc.fatal)
			arrived, err := got()
			require.ErrorIs(t, err, syscall.ECONNRESET, "a cut stream ends in a reset, not EOF")
			require.LessOrEqual(t, int64(len(arrived)), r.aToB, "the count is what b accepted")
			testutil.RequireBytes(t, data[:len(arrived)], arrived)
			// The client's stream was cut too: its write fails with the
			// reset or, if it was done before the reset came, its read.
			if werr := <-wrote; !errors.Is(werr, syscall.ECONNRESET) {
				require.NoError(t, werr)
				requireReset(t, client, "client")
			}
		})
	}
}

// TestRelayPipe2Fails: with no pipe to be had (EMFILE under a descriptor
// limit), the relay runs buffered instead of failing the connection.
func TestRelayPipe2Fails(t *testing.T) {
	if !zerocopy.FastPaths {
		t.Skip("no splice in this build")
	}
	testutil.NoLeaks(t)
	splicer.Drop()
	testutil.Inject(t, testutil.Pipe2, testutil.Fault{Errno: syscall.EMFILE})
	client, a := testutil.TCPPair(t)
	b, server := testutil.TCPPair(t)
	r := startRelay(context.Background(), zerocopy.Relayer{}, client, a, b, server)
	data := testutil.Data(10, 1<<20)
	got := testutil.Collect(t, server)
	_, err := client.Write(data)
	require.NoError(t, err)
	require.NoError(t, client.CloseWrite())
	testutil.RequireBytes(t, data, got())
	require.NoError(t, server.CloseWrite())
	r.wait(t)
	require.NoError(t, r.err)
	require.Equal(t, int64(len(data)), r.aToB)
	for _, rep := range r.reports {
		require.Equal(t, zerocopy.MethodBuffered, rep.Method)
		require.ErrorIs(t, rep.Fallback, syscall.EMFILE)
		require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported)
	}
}

// TestRelayTeeFaults: tee(2) failing with bytes already spliced into the
// first pipe (ENOSYS, EPERM under seccomp, EINVAL, EAGAIN, on the first
// call or later) must not lose them: the chunk reaches b and the
// recording by plain writes, and the relay goes on buffered.
func TestRelayTeeFaults(t *testing.T) {
	if !zerocopy.FastPaths {
		t.Skip("no tee in this build")
	}
	for _, errno := range []syscall.Errno{syscall.ENOSYS, syscall.EPERM, syscall.EINVAL, syscall.EAGAIN, syscall.EIO} {
		for _, call := range []int{1, 2} {
			t.Run(fmt.Sprintf("%v@%d", errno, call), func(t *testing.T) {
				testutil.NoLeaks(t)
				t.Cleanup(zerocopy.ResetRefused)
				testutil.Inject(t, testutil.Tee, testutil.Fault{Call: call, Errno: errno})
				rec := testutil.File(t, t.TempDir(), "rec", nil)
				client, a := testutil.TCPPair(t)
				b, server := testutil.TCPPair(t)
				var mu sync.Mutex
				var reps []zerocopy.RelayReport
				rl := zerocopy.Relayer{TeeAToB: rec, Observe: func(r zerocopy.RelayReport) {
					if r.AToB {
						mu.Lock()
						reps = append(reps, r)
						mu.Unlock()
					}
				}}
				done := make(chan error, 1)
				var aToB int64
				go func() {
					var err error
					aToB, _, err = rl.Relay(context.Background(), a, b)
					done <- err
				}()
				data := testutil.Data(uint64(errno)*10+uint64(call), 3<<20+7)
				got := testutil.Collect(t, server)
				go func() { _, _ = client.Write(data); _ = client.CloseWrite() }()
				testutil.RequireBytes(t, data, got(), "b")
				require.NoError(t, server.CloseWrite())
				require.NoError(t, <-done)
				require.Equal(t, int64(len(data)), aToB)
				testutil.RequireBytes(t, data, testutil.ReadFile(t, rec.Name()), "recording")
				require.Len(t, reps, 1)
				require.ErrorIs(t, reps[0].Fallback, errno, "the tee failure is the fallback's reason")
			})
		}
	}
}
