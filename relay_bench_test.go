package zerocopy_test

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

var relayIdleN = flag.Int("relay.idle", 1000, "idle relays per op in BenchmarkRelayIdle (the BENCHMARKS.md figure uses 10000)")

// relayFunc relays between a and b until both directions end, then closes
// both, as zerocopy.Relay does.
type relayFunc func(ctx context.Context, a, b net.Conn) (aToB, bToA int64, err error)

// relayContenders: zerocopy.Relay; the relay Go proxy authors write by hand
// (two goroutines, io.Copy each way, CloseWrite on EOF: the stdlib splices
// TCP to TCP); and the same with a plain 32 KiB buffer (no ReadFrom, no
// WriteTo, no splice).
func relayContenders() []struct {
	name  string
	relay relayFunc
} {
	return []struct {
		name  string
		relay relayFunc
	}{
		{"Relay", zerocopy.Relay},
		{"io.Copy", func(_ context.Context, a, b net.Conn) (int64, int64, error) {
			return handRelay(a, b, io.Copy)
		}},
		{"plain-32KiB", func(_ context.Context, a, b net.Conn) (int64, int64, error) {
			return handRelay(a, b, func(dst io.Writer, src io.Reader) (int64, error) {
				return plainCopy(dst, src, make([]byte, 32<<10))
			})
		}},
	}
}

// handRelay is the hand-written relay: copy each way on its own goroutine,
// CloseWrite the destination at EOF, close both when both are done.
func handRelay(a, b net.Conn, cp func(io.Writer, io.Reader) (int64, error)) (aToB, bToA int64, err error) {
	var errAB error
	done := make(chan struct{})
	go func() {
		defer close(done)
		aToB, errAB = cp(b, a)
		if cw, ok := b.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	bToA, err = cp(a, b)
	if cw, ok := a.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	<-done
	_ = a.Close()
	_ = b.Close()
	if err == nil {
		err = errAB
	}
	return aToB, bToA, err
}

// relayed is one relay between two loopback TCP connections:
// client <-> a [relay] b <-> server.
type relayed struct {
	client, server net.Conn
	done           chan struct{}
	aToB, bToA     int64
	err            error
}

// dialPair returns both ends of a new loopback connection to ln.
func dialPair(b *testing.B, ln net.Listener) (dialed, accepted net.Conn) {
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	return d, a
}

func startRelayed(relay relayFunc, a, b net.Conn) *relayed {
	r := &relayed{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.aToB, r.bToA, r.err = relay(context.Background(), a, b)
	}()
	return r
}

// end half-closes both peers (closes them, where they cannot half-close)
// and checks that the relay ended cleanly with the counts expected.
func (r *relayed) end(b *testing.B, wantAB, wantBA int64) {
	for _, c := range []net.Conn{r.client, r.server} {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = c.Close()
		}
	}
	<-r.done
	_ = r.client.Close()
	_ = r.server.Close()
	if r.err != nil || r.aToB != wantAB || r.bToA != wantBA {
		b.Fatalf("relay ended with %d, %d, %v; want %d, %d, nil", r.aToB, r.bToA, r.err, wantAB, wantBA)
	}
}

// BenchmarkRelayPingPong: one op is one round trip of one byte, client ->
// relay -> echo server -> relay -> client, on loopback TCP. It reports the
// median, 99th and 99.9th percentiles of the round trips (p50-ns, p99-ns,
// p999-ns) next to the mean (ns/op). The BENCHMARKS.md figures use
// -benchtime 10000x (p999 from 20000x: the 20th-slowest round trip).
// allocs/op counts the whole process (the relay's goroutines included).
func BenchmarkRelayPingPong(b *testing.B) {
	for _, c := range relayContenders() {
		b.Run(c.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			client, a := dialPair(b, ln)
			bb, server := dialPair(b, ln)
			r := startRelayed(c.relay, a, bb)
			r.client, r.server = client, server
			echoed := make(chan error, 1)
			go func() { // echo server: each byte back, plus one
				var buf [1]byte
				for {
					if _, err := io.ReadFull(server, buf[:]); err != nil {
						if err == io.EOF {
							err = nil
						}
						echoed <- err
						return
					}
					buf[0]++
					if _, err := server.Write(buf[:]); err != nil {
						echoed <- err
						return
					}
				}
			}()
			rtt := make([]time.Duration, b.N)
			var out, in [1]byte
			b.SetBytes(2) // one byte each way through the relay
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				out[0] = byte(i)
				t0 := time.Now()
				if _, err := client.Write(out[:]); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(client, in[:]); err != nil {
					b.Fatal(err)
				}
				rtt[i] = time.Since(t0)
				if in[0] != out[0]+1 {
					b.Fatalf("round trip %d: got %d, want %d", i, in[0], out[0]+1)
				}
			}
			b.StopTimer()
			_ = client.(*net.TCPConn).CloseWrite()
			if err := <-echoed; err != nil {
				b.Fatal(err)
			}
			r.end(b, int64(b.N), int64(b.N))
			slices.Sort(rtt)
			b.ReportMetric(float64(rtt[len(rtt)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(rtt[min(len(rtt)-1, len(rtt)*99/100)].Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(rtt[min(len(rtt)-1, len(rtt)*999/1000)].Nanoseconds()), "p999-ns")
		})
	}
}

// BenchmarkRelayIdle: one op sets up -relay.idle relays of one pair kind,
// moves one byte each way through each, and measures what the relays cost
// while they all wait for data, against the same connections before any
// relay started (TLS handshakes done):
//
//   - pair kinds: tcp (client <-> a, b <-> server: loopback TCP), tls (a is
//     a *tls.Conn over TCP: the a side cannot splice), nofd (net.Pipe
//     conns: no descriptor anywhere)
//   - goroutines/relay
//   - extra-fds/relay: descriptors beyond the 4 conns (Linux, /proc/self/fd,
//     after the splice pool's idle pipes, the process's and not any relay's,
//     are dropped)
//   - pipe-fds/relay: of those, pipe descriptors
//   - mem-B/relay: the Go runtime's HeapInuse+StackInuse after a GC, and
//     its two parts, heap-B/relay and stack-B/relay. Kernel memory (pipes,
//     socket buffers) is not in it:
//   - slab-B/relay (Linux): the growth of the kernel's Slab (/proc/meminfo)
//     across the same interval, where pipes and their files live. It is
//     system-wide: whatever else runs on the machine adds noise to it.
//
// Then every relay is ended by half-closes and must report 1 byte each way.
// The BENCHMARKS.md figures: BENCH=RelayIdle ARGS=-relay.idle=2000
// BENCHTIME=1x scripts/relay-bench.sh 5.
func BenchmarkRelayIdle(b *testing.B) {
	n := *relayIdleN
	if n <= 0 {
		b.Fatalf("-relay.idle=%d: want a positive count", n)
	}
	for _, pair := range []string{"tcp", "tls", "nofd"} {
		for _, c := range relayContenders() {
			// Descriptors per relay: 4 conns, and the io.Copy relay's 2 pipes
			// (the stdlib's splice holds one per direction while it waits).
			per := 4
			if c.name == "io.Copy" && pair == "tcp" {
				per = 8
			}
			if pair == "nofd" {
				per = 0
			}
			m := n
			if limit := fdLimit(per*n + 512); per*m+512 > limit {
				m = (limit - 512) / per
				b.Logf("%s: %d relays need %d descriptors; the limit is %d and cannot be raised: measuring %d", c.name, n, per*n+512, limit, m)
			}
			if m <= 0 {
				b.Skipf("%s: too few descriptors for one relay", c.name)
			}
			b.Run(fmt.Sprintf("%s/%s/n=%d", pair, c.name, m), func(b *testing.B) {
				n := m
				b.ReportAllocs()
				var sum idleCostPer
				for range b.N {
					c := idleCost(b, c.relay, pair, n)
					sum.goroutines += c.goroutines
					sum.fds += c.fds
					sum.pipes += c.pipes
					sum.heap += c.heap
					sum.stack += c.stack
					sum.slab += c.slab
				}
				ops := float64(b.N)
				b.ReportMetric(sum.goroutines/ops, "goroutines/relay")
				if sum.fds >= 0 {
					b.ReportMetric(sum.fds/ops, "extra-fds/relay")
					b.ReportMetric(sum.pipes/ops, "pipe-fds/relay")
				}
				b.ReportMetric((sum.heap+sum.stack)/ops, "mem-B/relay")
				b.ReportMetric(sum.heap/ops, "heap-B/relay")
				b.ReportMetric(sum.stack/ops, "stack-B/relay")
				if sum.slab != 0 {
					b.ReportMetric(sum.slab/ops, "slab-B/relay")
				}
			})
		}
	}
}

// warmGoroutines starts and ends n goroutines, so that the runtime's free
// list holds their g structs: the relays measured next reuse them, whichever
// contender runs first (the first would otherwise pay ~440 B per goroutine
// that the others get for free).
func warmGoroutines(n int) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
		}()
	}
	close(release)
	wg.Wait()
}

type idleSample struct {
	goroutines  int
	fds, pipes  int // -1: unknown on this system
	heap, stack uint64
	slab        int64 // 0: unknown
}

func sampleIdle() idleSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, pipes := countFDs()
	return idleSample{runtime.NumGoroutine(), fds, pipes, ms.HeapInuse, ms.StackInuse, kernelSlab()}
}

// idleCostPer is what one idle relay costs (fds < 0: unknown).
type idleCostPer struct {
	goroutines, fds, pipes, heap, stack, slab float64
}

// idleCost returns the per-relay cost of n idle relays of a pair kind.
func idleCost(b *testing.B, relay relayFunc, pair string, n int) idleCostPer {
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer front.Close()
	back, err := net.Listen("tcp", "127.0.0.2:0") // another address: the ephemeral ports go twice as far
	if err != nil {
		if back, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
	}
	defer back.Close()
	var srvTLS, cliTLS *tls.Config
	if pair == "tls" {
		srvTLS, cliTLS = tlsConfigs(b)
	}
	rs := make([]*relayed, n)
	as := make([]net.Conn, n)
	bs := make([]net.Conn, n)
	for i := range rs {
		rs[i] = &relayed{}
		switch pair {
		case "nofd":
			rs[i].client, as[i] = net.Pipe()
			bs[i], rs[i].server = net.Pipe()
			continue
		case "tls":
			c, a := dialPair(b, front)
			tc, ta := tls.Client(c, cliTLS), tls.Server(a, srvTLS)
			hs := make(chan error, 1)
			go func() { hs <- ta.Handshake() }()
			if err := tc.Handshake(); err != nil {
				b.Fatal(err)
			}
			if err := <-hs; err != nil {
				b.Fatal(err)
			}
			rs[i].client, as[i] = tc, ta
		default:
			rs[i].client, as[i] = dialPair(b, front)
		}
		bs[i], rs[i].server = dialPair(b, back)
	}
	warmGoroutines(2 * n)
	before := sampleIdle()
	for i, r := range rs {
		s := startRelayed(relay, as[i], bs[i])
		s.client, s.server = r.client, r.server
		rs[i] = s
	}
	var buf [1]byte
	for _, r := range rs {
		if _, err := r.client.Write([]byte{'x'}); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r.server, buf[:]); err != nil || buf[0] != 'x' {
			b.Fatalf("server read %q, %v", buf[0], err)
		}
		if _, err := r.server.Write([]byte{'y'}); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r.client, buf[:]); err != nil || buf[0] != 'y' {
			b.Fatalf("client read %q, %v", buf[0], err)
		}
	}
	time.Sleep(50 * time.Millisecond) // let every relay get back to waiting
	after := sampleIdle()
	held := pipesHeld()
	for _, r := range rs {
		r.end(b, 1, 1)
	}
	per := func(x, y float64) float64 { return (y - x) / float64(n) }
	c := idleCostPer{
		goroutines: per(float64(before.goroutines), float64(after.goroutines)),
		fds:        -1,
		heap:       per(float64(before.heap), float64(after.heap)),
		stack:      per(float64(before.stack), float64(after.stack)),
	}
	if before.fds >= 0 && after.fds >= 0 {
		c.fds, c.pipes = per(float64(before.fds), float64(after.fds)), per(float64(before.pipes), float64(after.pipes))
	}
	if before.slab > 0 && after.slab > 0 {
		c.slab = per(float64(before.slab), float64(after.slab))
	}
	if held > 0 {
		b.Logf("%d pipes of the zerocopy pool held by %d idle relays", held, n)
	}
	return c
}

// BenchmarkRelayBuffered: one op streams 32 MiB one way through a relay
// direction that cannot splice, for choosing Relayer.BufferSize's default
// (BENCHMARKS.md, "Relay: idle memory"): into a *tls.Conn (tcp-to-tls: the
// relay reads TCP and writes TLS records), out of one (tls-to-tcp), and
// between net.Pipe conns (nofd). Contenders: Relay with BufferSize 16, 32,
// 64 and 256 KiB, and the io.Copy relay (its 32 KiB buffer). MB/s is the
// stream's rate.
func BenchmarkRelayBuffered(b *testing.B) {
	const size = 32 << 20
	data := make([]byte, 1<<20)
	for _, pair := range []string{"tcp-to-tls", "tls-to-tcp", "nofd"} {
		contenders := []struct {
			name  string
			relay relayFunc
		}{
			{"io.Copy", func(_ context.Context, a, b net.Conn) (int64, int64, error) { return handRelay(a, b, io.Copy) }},
		}
		for _, kb := range []int{16, 32, 64, 256} {
			r := zerocopy.Relayer{BufferSize: kb << 10}
			contenders = append(contenders, struct {
				name  string
				relay relayFunc
			}{fmt.Sprintf("Relay-%dKiB", kb), r.Relay})
		}
		for _, c := range contenders {
			b.Run(pair+"/"+c.name, func(b *testing.B) {
				b.SetBytes(size)
				for range b.N {
					b.StopTimer()
					client, a, bb, server := bufferedPair(b, pair)
					r := startRelayed(c.relay, a, bb)
					r.client, r.server = client, server
					src, dst := client, server // tcp-to-tls: server is the TLS end
					got := make(chan int64, 1)
					go func() {
						// Exactly size bytes: a net.Pipe cannot pass an EOF on.
						n, _ := io.CopyN(io.Discard, dst, size)
						got <- n
					}()
					b.StartTimer()
					for sent := 0; sent < size; sent += len(data) {
						if _, err := src.Write(data); err != nil {
							b.Fatal(err)
						}
					}
					if n := <-got; n != size {
						b.Fatalf("got %d bytes, want %d", n, size)
					}
					b.StopTimer()
					_ = client.Close()
					_ = server.Close()
					<-r.done
				}
			})
		}
	}
}

// bufferedPair returns client <-> a and b <-> server for a pair kind of
// BenchmarkRelayBuffered, TLS handshakes done.
func bufferedPair(b *testing.B, pair string) (client, a, bb, server net.Conn) {
	if pair == "nofd" {
		client, a = net.Pipe()
		bb, server = net.Pipe()
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	client, a = dialPair(b, ln)
	bb, server = dialPair(b, ln)
	srvTLS, cliTLS := tlsConfigs(b)
	var tc, ts *tls.Conn
	if pair == "tls-to-tcp" {
		tc, ts = tls.Client(client, cliTLS), tls.Server(a, srvTLS)
		client, a = tc, ts
	} else { // tcp-to-tls: b is the TLS side
		tc, ts = tls.Client(bb, cliTLS), tls.Server(server, srvTLS)
		bb, server = tc, ts
	}
	hs := make(chan error, 1)
	go func() { hs <- ts.Handshake() }()
	if err := tc.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-hs; err != nil {
		b.Fatal(err)
	}
	return client, a, bb, server
}
