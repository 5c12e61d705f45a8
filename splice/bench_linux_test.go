//go:build linux && !purego

package splice_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

// BenchmarkProxy moves 64 MiB per connection per op from a feeder socket
// through the contender into a sink socket, with 1 and 64 connections at
// once: Splice, io.Copy (which splices TCP->TCP in the stdlib too) and a
// plain 32 KiB copy. It reports allocations per op; CPU per GiB of the
// proxy alone is measured out of process (see the issue note).
func BenchmarkProxy(b *testing.B) {
	const perConn = 64 << 20
	f, err := os.CreateTemp(b.TempDir(), "src")
	if err != nil {
		b.Fatal(err)
	}
	chunk := testutil.Data(9, 4<<20)
	for range perConn / len(chunk) {
		_, _ = f.Write(chunk)
	}
	b.Cleanup(func() { _ = f.Close() })
	for _, conns := range []int{1, 64} {
		for _, c := range []struct {
			name string
			copy func(dst io.Writer, src io.Reader) (int64, error)
		}{
			{"Splice", func(d io.Writer, s io.Reader) (int64, error) { return splice.Splice(d, s, perConn) }},
			{"io.Copy", func(d io.Writer, s io.Reader) (int64, error) { return io.CopyN(d, s, perConn) }},
			{"plain-32KiB", func(d io.Writer, s io.Reader) (int64, error) {
				return io.CopyBuffer(testutil.OnlyWriter{W: d}, io.LimitReader(testutil.OnlyReader{R: s}, perConn), make([]byte, 32<<10))
			}},
		} {
			b.Run(fmt.Sprintf("%s/conns=%d", c.name, conns), func(b *testing.B) {
				type lane struct{ feed, in, out *net.TCPConn }
				lanes := make([]lane, conns)
				for i := range lanes {
					fc, in := testutil.TCPPair(b)
					out, sinkEnd := testutil.TCPPair(b)
					null, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
					go func() { _, _ = io.Copy(null, sinkEnd); _ = null.Close() }()
					lanes[i] = lane{fc, in, out}
				}
				b.SetBytes(int64(perConn * conns))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					var wg sync.WaitGroup
					for _, l := range lanes {
						wg.Add(2)
						go func() { defer wg.Done(); _, _ = io.Copy(l.feed, io.NewSectionReader(f, 0, perConn)) }()
						go func() {
							defer wg.Done()
							if n, err := c.copy(l.out, l.in); err != nil || n != perConn {
								b.Errorf("%d, %v", n, err)
							}
						}()
					}
					wg.Wait()
				}
			})
		}
	}
}
