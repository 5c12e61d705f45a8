//go:build linux && !purego

package splice_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

// TestClosedEnds: a closed conn or file on any side gives the closed
// error a Read or Write would give, having moved nothing.
func TestClosedEnds(t *testing.T) {
	type endMaker func(t *testing.T) (v any, closedErr error)
	closedTCP := func(t *testing.T) (any, error) {
		c, _ := testutil.TCPPair(t)
		require.NoError(t, c.Close())
		return c, net.ErrClosed
	}
	closedFile := func(t *testing.T) (any, error) {
		f := testutil.File(t, t.TempDir(), "f", []byte("data"))
		require.NoError(t, f.Close())
		return f, os.ErrClosed
	}
	liveSrc := func(t *testing.T) io.Reader {
		c, s := testutil.TCPPair(t)
		_ = testutil.Feed(c, []byte("payload"))
		return s
	}
	liveDst := func(t *testing.T) io.Writer {
		a, b := testutil.TCPPair(t)
		_ = testutil.Collect(t, b)
		return a
	}
	for _, mk := range []struct {
		name string
		make endMaker
	}{{"TCP", closedTCP}, {"file", closedFile}} {
		for _, tc := range []struct {
			name string
			run  func(t *testing.T, v any) (int64, error)
		}{
			{"Splice src", func(t *testing.T, v any) (int64, error) { return splice.Splice(liveDst(t), v.(io.Reader), -1) }},
			{"Splice dst", func(t *testing.T, v any) (int64, error) { return splice.Splice(v.(io.Writer), liveSrc(t), -1) }},
			{"Tee src", func(t *testing.T, v any) (int64, error) { return splice.Tee(liveDst(t), liveDst(t), v.(io.Reader), -1) }},
			{"Tee dst", func(t *testing.T, v any) (int64, error) { return splice.Tee(v.(io.Writer), liveDst(t), liveSrc(t), -1) }},
			{"Tee side", func(t *testing.T, v any) (int64, error) { return splice.Tee(liveDst(t), v.(io.Writer), liveSrc(t), -1) }},
		} {
			t.Run(mk.name+"/"+tc.name, func(t *testing.T) {
				v, want := mk.make(t)
				n, err := tc.run(t, v)
				require.ErrorIs(t, err, want)
				require.NotErrorIs(t, err, splice.ErrUnsupported)
				require.Zero(t, n)
			})
		}
	}
}

// TestPipe2Refused: when no pipe can be made, Splice and Tee return an
// error wrapping ErrUnsupported having consumed nothing: every byte is
// still in the source for a plain copy.
func TestPipe2Refused(t *testing.T) {
	data := testutil.Data(31, 200<<10+1)
	for _, op := range []string{"Splice", "Tee"} {
		for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.EPERM} {
			t.Run(op+"/"+errno.Error(), func(t *testing.T) {
				c, s := testutil.TCPPair(t)
				wait := testutil.Feed(c, data)
				dst := testutil.File(t, t.TempDir(), "dst", nil)
				testutil.InjectPipe2(t, testutil.Fault{Errno: errno})
				var n int64
				var err error
				if op == "Splice" {
					n, err = splice.Splice(dst, s, -1)
				} else {
					n, err = splice.Tee(dst, testutil.File(t, t.TempDir(), "side", nil), s, -1)
				}
				require.ErrorIs(t, err, splice.ErrUnsupported)
				require.ErrorIs(t, err, errors.ErrUnsupported)
				require.ErrorIs(t, err, errno)
				require.Zero(t, n)
				rest, rerr := io.ReadAll(s)
				require.NoError(t, rerr)
				require.NoError(t, wait())
				testutil.RequireBytes(t, data, rest, "nothing consumed")
			})
		}
	}
}

// TestTeeEAGAINErrno: tee(2) answering EAGAIN is reported as EAGAIN, not
// as an unrelated errno.
func TestTeeEAGAINErrno(t *testing.T) {
	c, s := testutil.TCPPair(t)
	_ = testutil.Feed(c, testutil.Data(32, 100<<10))
	testutil.InjectTee(t, testutil.Fault{Errno: syscall.EAGAIN})
	dst := testutil.File(t, t.TempDir(), "dst", nil)
	side := testutil.File(t, t.TempDir(), "side", nil)
	_, err := splice.Tee(dst, side, s, -1)
	require.ErrorIs(t, err, syscall.EAGAIN)
	require.NotErrorIs(t, err, syscall.EIO)
	require.ErrorContains(t, err, "tee")
}

// TestTeeFailureLosesNothing: tee(2) refusing (seccomp's EPERM, ENOSYS,
// EINVAL) after the source's bytes are in the first pipe: they still reach
// dst and side, Tee says ErrUnsupported with dst's count, and a plain copy
// to both finishes the stream with every byte once.
func TestTeeFailureLosesNothing(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.ENOSYS, syscall.EINVAL} {
		for _, call := range []int{1, 3} {
			t.Run(fmt.Sprintf("%v@%d", errno, call), func(t *testing.T) {
				testutil.NoLeaks(t)
				data := testutil.Data(uint64(call)+uint64(errno), 3<<20+5)
				c, s := testutil.TCPPair(t)
				wait := testutil.Feed(c, data)
				testutil.InjectTee(t, testutil.Fault{Call: call, Errno: errno}, testutil.Fault{Short: 200 << 10})
				dst := testutil.File(t, t.TempDir(), "dst", nil)
				side := testutil.File(t, t.TempDir(), "side", nil)
				n, err := splice.Tee(dst, side, s, -1)
				require.ErrorIs(t, err, splice.ErrUnsupported)
				require.ErrorIs(t, err, errno)
				require.Positive(t, n, "the chunk in the pipe was delivered")
				testutil.RequireBytes(t, data[:n], testutil.ReadFile(t, dst.Name()), "dst so far")
				testutil.RequireBytes(t, data[:n], testutil.ReadFile(t, side.Name()), "side so far")
				m, err := io.Copy(io.MultiWriter(dst, side), s)
				require.NoError(t, err)
				require.NoError(t, wait())
				require.Equal(t, int64(len(data)), n+m)
				testutil.RequireBytes(t, data, testutil.ReadFile(t, dst.Name()), "dst")
				testutil.RequireBytes(t, data, testutil.ReadFile(t, side.Name()), "side")
			})
		}
	}
}

// TestTeeSideError: when side fails, Tee returns the bytes that reached
// dst (all of them, as dst's reader sees) and a *SideError with side's
// count.
func TestTeeSideError(t *testing.T) {
	data := testutil.Data(33, 4<<20+1)
	c, s := testutil.TCPPair(t)
	wait := testutil.Feed(c, data)
	a, b := testutil.TCPPair(t)
	got := testutil.Collect(t, b)
	pr, pw := testutil.Pipe(t)
	require.NoError(t, pr.Close()) // side's reader is gone: EPIPE
	n, err := splice.Tee(a, pw, s, -1)
	var se *splice.SideError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, syscall.EPIPE)
	require.Zero(t, se.Side, "nothing reached side")
	require.NoError(t, a.CloseWrite())
	arrived := got()
	require.Equal(t, int64(len(arrived)), n, "the count is what reached dst")
	require.Positive(t, n)
	testutil.RequireBytes(t, data[:n], arrived)
	_ = c.Close()
	_ = wait()
}

// TestVmspliceConcurrentRead: Vmsplice and Read on one Pipe at once, with
// the GC forced and the buffers dropped by the writer as soon as Vmsplice
// returns: every byte read is the byte vmspliced (a buffer unpinned while
// still in the pipe would be reused and arrive changed). Run under -race.
func TestVmspliceConcurrentRead(t *testing.T) {
	p, err := splice.NewPipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	const rounds = 3000
	gen := func(i int) []byte {
		b := make([]byte, 1000+i%3000)
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		return b
	}
	total := 0
	for i := range rounds {
		total += 1000 + i%3000
	}
	errc := make(chan error, 1)
	go func() {
		defer p.CloseWrite()
		var junk [][]byte
		for i := range rounds {
			if _, err := p.Vmsplice(gen(i)); err != nil {
				errc <- err
				return
			}
			// Churn the heap so a wrongly unpinned buffer is reused.
			junk = append(junk, make([]byte, 1000+i%3000))
			if i%50 == 0 {
				junk = nil
				runtime.GC()
			}
		}
		runtime.KeepAlive(junk)
		errc <- nil
	}()
	buf := make([]byte, 7000)
	var want []byte
	next, read := 0, 0
	for read < total {
		k, err := p.Read(buf)
		for len(want) < k {
			want = append(want, gen(next)...)
			next++
		}
		require.Equal(t, want[:k], buf[:k], "bytes %d..%d", read, read+k)
		want = want[k:]
		read += k
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	require.NoError(t, <-errc)
	require.Equal(t, total, read)
}
