package directio_test

import (
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestReaderDroppedUnclosed: Readers that are never closed must not leave
// their read-ahead goroutines behind. Read to EOF they stop at once; dropped
// earlier, the cleanup stops them after the garbage collector runs. Close
// still works after EOF and sets f's offset.
func TestReaderDroppedUnclosed(t *testing.T) {
	const readers = 100
	const size = 3*4096*4 + 123 // more blocks than Depth: workers wait for buffers
	data := testutil.Data(80, size)
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	want := sha256.Sum256(data)

	for _, tc := range []struct {
		name string
		read int  // bytes read before the Reader is dropped; -1: to EOF
		gc   bool // the goroutines are gone only after a GC
	}{
		{"to EOF", -1, false},
		{"part read", 5000, true},
		{"nothing read", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := settledGoroutines()
			func() { // the Readers are unreachable when this returns
				for i := range readers {
					_, err := f.Seek(0, io.SeekStart)
					require.NoError(t, err)
					r, err := directio.NewReader(f, &directio.ReaderOptions{BlockSize: 4096, Depth: 4})
					require.NoError(t, err)
					if tc.read < 0 {
						got, err := io.ReadAll(r)
						require.NoError(t, err)
						require.Equal(t, want, sha256.Sum256(got), "reader %d", i)
						require.Equal(t, int64(size), testutil.Offset(t, f), "f's offset after EOF")
					} else if tc.read > 0 {
						got := make([]byte, tc.read)
						_, err := io.ReadFull(r, got)
						require.NoError(t, err)
						require.Equal(t, data[:tc.read], got)
					}
				}
			}()
			if !tc.gc {
				// Stopped at EOF: no GC needed, only the last reads to return.
				require.True(t, waitGoroutines(base, false), "goroutines after %d Readers read to EOF: %d, before: %d", readers, runtime.NumGoroutine(), base)
			}
			require.True(t, waitGoroutines(base, true), "goroutines after %d dropped Readers and GC: %d, before: %d", readers, runtime.NumGoroutine(), base)
		})
	}
}

// TestReaderCloseAfterEOF: Close after EOF is still correct (f's offset,
// no error), and a Read after Close fails.
func TestReaderCloseAfterEOF(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(81, 10000)
	f := testutil.File(t, t.TempDir(), "f", data)
	_, err := f.Seek(0, io.SeekStart)
	require.NoError(t, err)
	r, err := directio.NewReader(f, &directio.ReaderOptions{BlockSize: 4096, Depth: 2})
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(data), sha256.Sum256(got))
	require.NoError(t, r.Close())
	require.Equal(t, int64(len(data)), testutil.Offset(t, f))
	n, err := r.Read(make([]byte, 1))
	require.Zero(t, n)
	require.Error(t, err)
}

func settledGoroutines() int {
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	return runtime.NumGoroutine()
}

// waitGoroutines waits up to 5 s for the goroutine count to fall to base,
// collecting garbage meanwhile when gc is set.
func waitGoroutines(base int, gc bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if gc {
			runtime.GC()
		}
		if runtime.NumGoroutine() <= base {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
