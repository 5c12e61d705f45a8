package mmap_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

var scanSize = flag.Int64("mm.scan", 1<<30, "bytes in the sequential-scan and WriteTo benchmarks")

func benchFile(b *testing.B, size int64) *os.File {
	b.Helper()
	path := filepath.Join(b.TempDir(), "f")
	testutil.WriteSized(b, path, size)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	// Warm the page cache: both contenders read cached pages.
	_, _ = io.Copy(io.Discard, testutil.OnlyReader{R: f})
	return f
}

// BenchmarkRandomRead4K: random 4 KiB reads of a page-cached 256 MiB file,
// through a mapping and with pread.
func BenchmarkRandomRead4K(b *testing.B) {
	const size, rng = 256 << 20, 4096
	f := benchFile(b, size)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	buf := make([]byte, rng)
	for _, c := range []struct {
		name string
		read func(off int64) (int, error)
	}{
		{"mmap.ReadAt", func(off int64) (int, error) { return m.ReadAt(buf, off) }},
		{"os.File.ReadAt", func(off int64) (int, error) { return f.ReadAt(buf, off) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			b.SetBytes(rng)
			b.ReportAllocs()
			for range b.N {
				if n, err := c.read(r.Int64N(size/rng) * rng); err != nil || n != rng {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkSequentialScan reads a whole page-cached file front to back:
// summing bytes straight from the mapping, through ReadAt in 1 MiB steps,
// and with bufio (64 KiB) over the file.
func BenchmarkSequentialScan(b *testing.B) {
	size := *scanSize
	f := benchFile(b, size)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	sum := func(p []byte) (s uint64) {
		for i := 0; i+8 <= len(p); i += 64 { // touch every cache line
			s += uint64(p[i])
		}
		return s
	}
	var sink uint64
	buf := make([]byte, 1<<20)
	for _, c := range []struct {
		name string
		scan func() error
	}{
		{"mmap.Bytes", func() error { sink += sum(m.Bytes()); return nil }},
		{"mmap.ReadAt-1MiB", func() error {
			for off := int64(0); off < size; off += int64(len(buf)) {
				n, err := m.ReadAt(buf, off)
				if err != nil && err != io.EOF {
					return err
				}
				sink += sum(buf[:n])
			}
			return nil
		}},
		{"bufio-64KiB", func() error {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			br := bufio.NewReaderSize(f, 64<<10)
			for {
				n, err := br.Read(buf)
				sink += sum(buf[:n])
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
			}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for range b.N {
				if err := c.scan(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	_ = sink
}

// BenchmarkToSocket sends a whole page-cached file to a loopback TCP peer
// with the mmap+write path (Mapping.WriteTo) and with sendfile
// (zerocopy.SendFile).
func BenchmarkToSocket(b *testing.B) {
	size := *scanSize
	f := benchFile(b, size)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	for _, c := range []struct {
		name string
		send func(w io.Writer) (int64, error)
	}{
		{"mmap.WriteTo", m.WriteTo},
		{"zerocopy.SendFile", func(w io.Writer) (int64, error) { return zerocopy.SendFile(w, f, 0, size) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			conn := testutil.Sink(b)
			b.SetBytes(size)
			b.ReportAllocs()
			done := testutil.SenderCPU(b, size)
			for range b.N {
				if n, err := c.send(conn); err != nil || n != size {
					b.Fatal(n, err)
				}
			}
			done()
		})
	}
}

// BenchmarkSmallRead: random 8-byte reads (an index entry) of a
// page-cached file, 256 MiB (most reads miss the CPU caches) and 64 KiB
// (all hit: the per-call cost shows): the checked ReadAt against a plain
// copy from Bytes (no fault protection), At byte by byte, and pread. The
// mapping's pages are touched once first, so no read pays a page fault.
func BenchmarkSmallRead(b *testing.B) {
	const rng = 8
	for _, size := range []int64{256 << 20, 64 << 10} {
		f := benchFile(b, size)
		m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = m.Close() })
		data := m.Bytes()
		var sink byte
		for i := 0; i < len(data); i += 4096 {
			sink += data[i]
		}
		var buf [rng]byte
		for _, c := range []struct {
			name string
			read func(off int64) (int, error)
		}{
			{"Bytes-copy", func(off int64) (int, error) { return copy(buf[:], data[off:]), nil }},
			{"ReadAt", func(off int64) (int, error) { return m.ReadAt(buf[:], off) }},
			{"At-x8", func(off int64) (int, error) {
				for i := range buf {
					buf[i] = m.At(int(off) + i)
				}
				return rng, nil
			}},
			{"os.File.ReadAt", func(off int64) (int, error) { return f.ReadAt(buf[:], off) }},
		} {
			b.Run(fmt.Sprintf("%dKiB/%s", size>>10, c.name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(3, 4))
				b.ReportAllocs()
				for range b.N {
					if n, err := c.read(r.Int64N(size/rng) * rng); err != nil || n != rng {
						b.Fatal(n, err)
					}
				}
			})
		}
		_ = sink
	}
}
