//go:build linux && !purego

package directio_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

var (
	coldSize  = flag.Int("dio.size", 1<<30, "bytes in BenchmarkColdRead's file")
	coldFile  = flag.String("dio.file", "", "BenchmarkColdRead reads this existing file (only evicted, never written) instead of writing -dio.size bytes to a temporary one")
	coldSweep = flag.Bool("dio.sweep", false, "BenchmarkColdRead runs the direct Reader at every -dio.bs x -dio.depth, not just the default and a few others")
	coldBS    = flag.String("dio.bs", "128K,256K,1M,4M", "BlockSizes for -dio.sweep (K and M suffixes)")
	coldDepth = flag.String("dio.depth", "1,2,4,8,16", "Depths for -dio.sweep")
)

// coldOptions are the Reader configurations BenchmarkColdRead runs: without
// -dio.sweep the zero ReaderOptions (the defaults) and a few others, with it
// the -dio.bs x -dio.depth grid, one row per block size.
func coldOptions(b *testing.B) [][]directio.ReaderOptions {
	if !*coldSweep {
		return [][]directio.ReaderOptions{{{}, {BlockSize: 1 << 20, Depth: 4}, {BlockSize: 256 << 10, Depth: 8}}}
	}
	var rows [][]directio.ReaderOptions
	for _, s := range strings.Split(*coldBS, ",") {
		bs, err := parseSize(s)
		if err != nil {
			b.Fatalf("-dio.bs: %v", err)
		}
		var row []directio.ReaderOptions
		for _, d := range strings.Split(*coldDepth, ",") {
			depth, err := strconv.Atoi(strings.TrimSpace(d))
			if err != nil || depth <= 0 {
				b.Fatalf("-dio.depth: bad depth %q", d)
			}
			row = append(row, directio.ReaderOptions{BlockSize: bs, Depth: depth})
		}
		rows = append(rows, row)
	}
	return rows
}

func parseSize(arg string) (int, error) {
	s := strings.ToUpper(strings.TrimSpace(arg))
	mul := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad block size %q", arg)
	}
	return n * mul, nil
}

// BenchmarkColdRead reads a file whose pages were dropped from the cache
// before every op (fsync + POSIX_FADV_DONTNEED): the direct Reader (WriteTo
// into io.Discard) at several block sizes and depths against os.File.Read
// with a 1 MiB buffer, in the same run; with -dio.sweep the buffered read
// runs again before each block size's row, so drift shows. It reports MB/s
// and the process's CPU per GiB. Run it in rounds (-count 1, repeated) to
// alternate contenders: -count repeats each one in a row.
func BenchmarkColdRead(b *testing.B) {
	path, size := *coldFile, int64(*coldSize)
	if path == "" {
		path = filepath.Join(b.TempDir(), "cold")
		testutil.WriteSized(b, path, size)
	} else {
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
	}
	type contender struct {
		name string
		read func() (int64, error)
	}
	buf := make([]byte, 1<<20)
	buffered := contender{"os.File.Read-1MiB", func() (int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return io.CopyBuffer(io.Discard, testutil.OnlyReader{R: f}, buf)
	}}
	direct := func(o directio.ReaderOptions) contender {
		name := fmt.Sprintf("direct-%dKiB-depth%d", o.BlockSize>>10, o.Depth)
		if o == (directio.ReaderOptions{}) {
			name = "direct-default"
		}
		return contender{name, func() (int64, error) {
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
		}}
	}
	var cs []contender
	for _, row := range coldOptions(b) {
		cs = append(cs, buffered)
		for _, o := range row {
			cs = append(cs, direct(o))
		}
	}
	for _, c := range cs {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			var cpu time.Duration
			for range b.N {
				b.StopTimer()
				testutil.Evict(b, path)
				b.StartTimer()
				c0 := testutil.ProcessCPU()
				if n, err := c.read(); err != nil || n != size {
					b.Fatal(n, err)
				}
				cpu += testutil.ProcessCPU() - c0
			}
			b.ReportMetric(cpu.Seconds()/(float64(b.N)*float64(size)/(1<<30)), "cpu-s/GiB")
		})
	}
}
