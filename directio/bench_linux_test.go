//go:build linux && !purego

package directio_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

var coldSize = flag.Int("dio.size", 1<<30, "bytes in BenchmarkColdRead's file")

// BenchmarkColdRead reads a file whose pages were dropped from the cache
// before every op (fsync + POSIX_FADV_DONTNEED): the direct Reader at
// several block sizes and depths against os.File.Read with a 1 MiB buffer,
// in the same run. It reports MB/s and the process's CPU per GiB.
func BenchmarkColdRead(b *testing.B) {
	size := *coldSize
	path := filepath.Join(b.TempDir(), "cold")
	testutil.WriteSized(b, path, int64(size))
	type contender struct {
		name string
		read func() (int64, error)
	}
	buf := make([]byte, 1<<20)
	cs := []contender{{"os.File.Read-1MiB", func() (int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return io.CopyBuffer(io.Discard, testutil.OnlyReader{R: f}, buf)
	}}}
	for _, o := range []directio.ReaderOptions{{BlockSize: 1 << 20, Depth: 1}, {BlockSize: 1 << 20, Depth: 4}, {BlockSize: 4 << 20, Depth: 4}, {BlockSize: 256 << 10, Depth: 8}} {
		cs = append(cs, contender{fmt.Sprintf("direct-%dKiB-depth%d", o.BlockSize>>10, o.Depth), func() (int64, error) {
			f, err := directio.OpenFile(path, os.O_RDONLY, 0)
			if err != nil {
				return 0, err
			}
			defer f.Close()
			r, err := directio.NewReader(f, &o)
			if err != nil {
				return 0, err
			}
			defer r.Close()
			return r.WriteTo(io.Discard)
		}})
	}
	for _, c := range cs {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var cpu time.Duration
			for range b.N {
				b.StopTimer()
				testutil.Evict(b, path)
				b.StartTimer()
				c0 := testutil.ProcessCPU()
				if n, err := c.read(); err != nil || n != int64(size) {
					b.Fatal(n, err)
				}
				cpu += testutil.ProcessCPU() - c0
			}
			b.ReportMetric(cpu.Seconds()/(float64(b.N)*float64(size)/(1<<30)), "cpu-s/GiB")
		})
	}
}
