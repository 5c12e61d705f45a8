//go:build linux && !purego

package zerocopy_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// BenchmarkChunk measures what bounded calls (Copier.Progress set, so
// copy_file_range and sendfile move at most the chunk per call) cost
// against single calls of up to 2 GiB, side by side with io.Copy and a
// plain 1 MiB buffered copy: 256 MiB per op.
//
//	go test -run XXX -bench Chunk -count 5 -benchtime 4x | benchstat -col /how -
func BenchmarkChunk(b *testing.B) {
	const size = 256 << 20
	b1m := make([]byte, 1<<20)
	noop := func(int64) {}
	type how struct {
		name  string
		chunk int
		copy  func(io.Writer, io.Reader) (int64, error)
	}
	withProgress := func(d io.Writer, s io.Reader) (int64, error) {
		return (&zerocopy.Copier{Progress: noop}).Copy(bg, d, s)
	}
	hows := []how{
		{"single", 0, zerocopy.Copy},
		{"chunk=1MiB", 1 << 20, withProgress},
		{"chunk=8MiB", 8 << 20, withProgress},
		{"chunk=32MiB", 32 << 20, withProgress},
		{"io.Copy", 0, io.Copy},
		{"plain-1MiB", 0, func(d io.Writer, s io.Reader) (int64, error) { return plainCopy(d, s, b1m) }},
	}
	for _, path := range []string{"file-file", "file-tcp"} {
		for _, h := range hows {
			b.Run("path="+path+"/how="+h.name, func(b *testing.B) {
				if h.chunk > 0 {
					defer zerocopy.SetProgressChunk(h.chunk)()
				}
				f := benchFile(b, size)
				var out io.Writer
				var reset func()
				if path == "file-file" {
					o, err := os.Create(filepath.Join(b.TempDir(), "out"))
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = o.Close() })
					out, reset = o, func() { _ = o.Truncate(0); _, _ = o.Seek(0, io.SeekStart) }
				} else {
					out, reset = testutil.Sink(b), func() {}
				}
				b.SetBytes(size)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					_, _ = f.Seek(0, io.SeekStart)
					reset()
					b.StartTimer()
					if n, err := h.copy(out, f); err != nil || n != size {
						b.Fatalf("%d, %v", n, err)
					}
				}
			})
		}
	}
}
