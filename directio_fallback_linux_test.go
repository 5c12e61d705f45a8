//go:build linux && !purego

package zerocopy_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestDirectIOReadFallback: when the O_DIRECT reopen succeeds but the
// direct reads fail (FUSE, some overlay and network filesystems), the
// Copier runs the usual path from the same byte as long as nothing has
// moved, and records why in Report.Fallback, naming the caller's file (not
// /proc/self/fd/N). After bytes have moved, the error is final and the
// count exact.
func TestDirectIOReadFallback(t *testing.T) {
	const start = 7
	size, mid := 4<<20+321, int64(2<<20)
	if testing.Short() {
		size, mid = 2<<20+321, 1<<20 // still past DirectIOThreshold, failing after 1 MiB
	}
	data := testutil.Data(72, size)
	for _, errno := range []syscall.Errno{syscall.EINVAL, syscall.EOPNOTSUPP, syscall.EIO} {
		for _, failAt := range []int64{0, mid} { // the first read, or after 2 MiB (1 MiB) have moved
			for _, api := range []string{"Copy", "SendFile"} {
				for _, dstName := range []string{"tcp", "file", "buffer"} {
					name := fmt.Sprintf("%v/failAt=%d/%s/%s", errno, failAt, api, dstName)
					t.Run(name, func(t *testing.T) {
						testutil.NoLeaks(t)
						src := testutil.File(t, t.TempDir(), "src", data)
						_, err := src.Seek(start, io.SeekStart)
						require.NoError(t, err)
						var dst io.Writer
						var got func() []byte
						usual := zerocopy.MethodSendfile
						switch dstName {
						case "tcp":
							c, s := testutil.TCPPair(t)
							collect := testutil.Collect(t, s)
							dst, got = c, func() []byte { testutil.CloseWrite(t, c); return collect() }
						case "file":
							out := testutil.File(t, t.TempDir(), "dst", nil)
							dst, got = out, func() []byte { return testutil.ReadFile(t, out.Name()) }
							usual = zerocopy.MethodCopyFileRange
						case "buffer":
							var b bytes.Buffer
							dst, got = &b, b.Bytes
							usual = zerocopy.MethodBuffered
						}
						reads := failPread(t, failAt, errno)

						var rep zerocopy.Report
						c := zerocopy.Copier{DirectIOThreshold: 1 << 20, Observe: func(r zerocopy.Report) { rep = r }}
						var n int64
						if api == "Copy" {
							n, err = c.Copy(bg, dst, src)
						} else {
							n, err = c.SendFile(bg, dst, src, start, -1)
						}
						arrived := got()
						require.Positive(t, reads(), "the direct path read")
						if failAt == 0 {
							require.NoError(t, err)
							require.Equal(t, int64(size-start), n)
							require.Equal(t, sha256.Sum256(data[start:]), sha256.Sum256(arrived))
							require.Equal(t, usual.String(), rep.Method.String(), "fallback: %v", rep.Fallback)
							require.Equal(t, int64(size-start), rep.Bytes)
							require.ErrorIs(t, rep.Fallback, errno)
							require.ErrorContains(t, rep.Fallback, src.Name())
							require.NotContains(t, rep.Fallback.Error(), "/proc/self/fd")
						} else {
							require.ErrorIs(t, err, errno, "after bytes moved the error is final")
							require.ErrorContains(t, err, src.Name())
							require.NotContains(t, err.Error(), "/proc/self/fd")
							require.Equal(t, failAt-start, n)
							require.Equal(t, sha256.Sum256(data[start:failAt]), sha256.Sum256(arrived))
							require.Equal(t, zerocopy.MethodDirectIO.String(), rep.Method.String())
						}
						want := int64(size) // Copy leaves the file's offset after the bytes moved
						if failAt > 0 {
							want = failAt
						}
						if api == "SendFile" {
							want = start // SendFile never moves it
						}
						require.Equal(t, want, testutil.Offset(t, src))
					})
				}
			}
		}
	}
}

// failPread makes every sys.Pread (directio's reads; the root package's
// own paths do not use it) at or past failAt fail with errno. It returns
// the number of Pread calls made.
func failPread(t *testing.T, failAt int64, errno syscall.Errno) func() int {
	orig := sys.Pread
	t.Cleanup(func() { sys.Pread = orig })
	var mu sync.Mutex
	calls := 0
	sys.Pread = func(fd int, p []byte, off int64) (int, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		if off >= failAt {
			return 0, errno
		}
		if end := off + int64(len(p)); end > failAt {
			p = p[:failAt-off] // a read that ends at failAt
		}
		return orig(fd, p, off)
	}
	return func() int { mu.Lock(); defer mu.Unlock(); return calls }
}
