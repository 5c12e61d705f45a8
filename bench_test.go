package zerocopy_test

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

var (
	benchStream = flag.Int64("zc.stream", 1<<30, "bytes per op in BenchmarkFileToTCP and BenchmarkBufferSize")
	benchFiles  = flag.Int64("zc.file", 256<<20, "bytes per op in BenchmarkFileToFile")
)

var (
	benchDir     string
	benchDirOnce sync.Once
	benchMade    sync.Map // size -> path
)

// benchFile returns a page-cached file of size random bytes, made once per
// process and removed by TestMain when the run ends (it lives in one temp dir).
func benchFile(b *testing.B, size int64) *os.File {
	b.Helper()
	benchDirOnce.Do(func() {
		d, err := os.MkdirTemp("", "zerocopy-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	})
	p, ok := benchMade.Load(size)
	if !ok {
		path := filepath.Join(benchDir, fmt.Sprint(size))
		testutil.WriteSized(b, path, size)
		p, _ = benchMade.LoadOrStore(size, path)
		b.Cleanup(func() {})
	}
	f, err := os.Open(p.(string))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	return f
}

// plainCopy is the baseline a Go programmer writes by hand: Read into a
// buffer, Write it out, no ReadFrom, no WriteTo, no fast path.
func plainCopy(dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	return io.CopyBuffer(testutil.OnlyWriter{W: dst}, testutil.OnlyReader{R: src}, buf)
}

type contender struct {
	name string
	copy func(dst io.Writer, src io.Reader) (int64, error)
}

func contenders() []contender {
	b32 := make([]byte, 32<<10)
	b1m := make([]byte, 1<<20)
	return []contender{
		{"zerocopy", zerocopy.Copy},
		{"io.Copy", io.Copy},
		{"plain-32KiB", func(d io.Writer, s io.Reader) (int64, error) { return plainCopy(d, s, b32) }},
		{"plain-1MiB", func(d io.Writer, s io.Reader) (int64, error) { return plainCopy(d, s, b1m) }},
	}
}

// senderCPU reports the benchmark goroutine's own CPU per GiB.
func senderCPU(b *testing.B) func() { return testutil.SenderCPU(b, bytesPerOp(b)) }

var perOp sync.Map // *testing.B -> int64

func bytesPerOp(b *testing.B) int64 {
	v, _ := perOp.Load(b)
	n, _ := v.(int64)
	return n
}

func setBytes(b *testing.B, n int64) {
	b.SetBytes(n)
	perOp.Store(b, n)
	b.Cleanup(func() { perOp.Delete(b) })
}

// BenchmarkFileToTCP streams a page-cached file to a loopback TCP peer.
func BenchmarkFileToTCP(b *testing.B) {
	size := *benchStream
	for _, c := range contenders() {
		b.Run(c.name, func(b *testing.B) {
			f := benchFile(b, size)
			conn := testutil.Sink(b)
			setBytes(b, size)
			b.ReportAllocs()
			done := senderCPU(b)
			b.ResetTimer()
			for range b.N {
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					b.Fatal(err)
				}
				if n, err := c.copy(conn, f); err != nil || n != size {
					b.Fatalf("%d, %v", n, err)
				}
			}
			b.StopTimer()
			done()
		})
	}
}

// BenchmarkFileToFile copies a page-cached file into a fresh file on the
// same filesystem.
func BenchmarkFileToFile(b *testing.B) {
	size := *benchFiles
	for _, c := range contenders() {
		b.Run(c.name, func(b *testing.B) {
			f := benchFile(b, size)
			out, err := os.Create(filepath.Join(b.TempDir(), "out"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = out.Close() })
			setBytes(b, size)
			b.ReportAllocs()
			done := senderCPU(b)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				_, _ = f.Seek(0, io.SeekStart)
				_ = out.Truncate(0)
				_, _ = out.Seek(0, io.SeekStart)
				b.StartTimer()
				if n, err := c.copy(out, f); err != nil || n != size {
					b.Fatalf("%d, %v", n, err)
				}
			}
			b.StopTimer()
			done()
		})
	}
}

// BenchmarkSendFile4K serves random 4 KiB ranges of one 64 MiB file to a TCP
// peer: the file server's hot path, in ns/op and allocs/op.
func BenchmarkSendFile4K(b *testing.B) {
	const size, rng = 64 << 20, 4096
	buf := make([]byte, rng)
	for _, c := range []struct {
		name string
		send func(dst io.Writer, f *os.File, off int64) (int64, error)
	}{
		{"zerocopy.SendFile", func(d io.Writer, f *os.File, off int64) (int64, error) {
			return zerocopy.SendFile(d, f, off, rng)
		}},
		{"io.Copy-SectionReader", func(d io.Writer, f *os.File, off int64) (int64, error) {
			return io.Copy(d, io.NewSectionReader(f, off, rng))
		}},
		{"plain-pread-write", func(d io.Writer, f *os.File, off int64) (int64, error) {
			n, err := f.ReadAt(buf, off)
			if err != nil {
				return 0, err
			}
			m, err := d.Write(buf[:n])
			return int64(m), err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := benchFile(b, size)
			conn := testutil.Sink(b)
			r := rand.New(rand.NewPCG(1, 2))
			setBytes(b, rng)
			b.ReportAllocs()
			done := senderCPU(b)
			b.ResetTimer()
			for range b.N {
				off := r.Int64N(size/rng) * rng
				if n, err := c.send(conn, f, off); err != nil || n != rng {
					b.Fatalf("%d, %v", n, err)
				}
			}
			b.StopTimer()
			done()
		})
	}
}

// BenchmarkBufferSize measures the buffered fallback alone (the destination
// hides its descriptor) at several buffer sizes, for a file source and for
// a TCP source. It is how Copier's default BufferSize was picked.
func BenchmarkBufferSize(b *testing.B) {
	size := *benchStream
	for _, src := range []string{"file", "tcp"} {
		for _, bs := range []int{32 << 10, 64 << 10, 128 << 10, 256 << 10, 1 << 20, 4 << 20} {
			b.Run(fmt.Sprintf("%s/%dKiB", src, bs>>10), func(b *testing.B) {
				f := benchFile(b, size)
				conn := testutil.Sink(b)
				cp := zerocopy.Copier{BufferSize: bs}
				setBytes(b, size)
				b.ReportAllocs()
				var in io.Reader = f
				var feed *net.TCPConn
				if src == "tcp" {
					var s *net.TCPConn
					feed, s = testutil.TCPPair(b)
					in = s
				}
				done := senderCPU(b)
				b.ResetTimer()
				for range b.N {
					_, _ = f.Seek(0, io.SeekStart)
					r := in
					var wait chan error
					if feed != nil {
						wait = make(chan error, 1)
						go func() {
							_, err := io.Copy(feed, f) // sendfile into the source socket
							wait <- err
						}()
						r = io.LimitReader(in, size)
					}
					if n, err := cp.Copy(bg, testutil.OnlyWriter{W: conn}, r); err != nil || n != size {
						b.Fatalf("%d, %v", n, err)
					}
					if wait != nil {
						if err := <-wait; err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				done()
			})
		}
	}
}
