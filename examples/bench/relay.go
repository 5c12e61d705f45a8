package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

// relayFunc relays a and b both ways until both ends are done, closes
// both, and returns the a -> b count and the method that moved it.
type relayFunc func(a, b net.Conn) (int64, string, error)

func zerocopyRelay(a, b net.Conn) (int64, string, error) {
	var method string
	var mu sync.Mutex
	r := zerocopy.Relayer{Observe: func(rep zerocopy.RelayReport) {
		if rep.AToB {
			mu.Lock()
			method = rep.Method.String()
			mu.Unlock()
		}
	}}
	n, _, err := r.Relay(context.Background(), a, b)
	mu.Lock()
	defer mu.Unlock()
	return n, method, err
}

// handRelay is the relay Go proxies write by hand today: two goroutines,
// a copy each way, CloseWrite on EOF.
func handRelay(copyFn func(dst io.Writer, src io.Reader) (int64, error), method string) relayFunc {
	return func(a, b net.Conn) (int64, string, error) {
		defer a.Close()
		defer b.Close()
		var n int64
		var err error
		done := make(chan struct{})
		go func() {
			n, err = copyFn(b, a)
			_ = b.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		_, _ = copyFn(a, b)
		_ = a.(*net.TCPConn).CloseWrite()
		<-done
		return n, method, err
	}
}

func relayContenders() []struct {
	name, role string
	fn         relayFunc
} {
	return []struct {
		name, role string
		fn         relayFunc
	}{
		{"zerocopy.Relay", "lib", zerocopyRelay},
		{"io.Copy-relay", "io.Copy", handRelay(io.Copy, "stdlib")},
		{"plain-32KiB-relay", "plain", handRelay(func(dst io.Writer, src io.Reader) (int64, error) {
			return plain(dst, src, make([]byte, 32<<10))
		}, "buffered")},
	}
}

func setupRelay1(e *env) ([]contender, func(), string, error)  { return setupRelay(e, 1) }
func setupRelay64(e *env) ([]contender, func(), string, error) { return setupRelay(e, 64) }

// setupRelay: each op relays e.size bytes split over streams connections
// at once, a feeder sending each stream's share with SendFile and a sink
// discarding it; the other direction carries nothing. The Relay row also
// says what an idle relay costs, next to the hand-written io.Copy relay's.
func setupRelay(e *env, streams int) ([]contender, func(), string, error) {
	per := max(e.size/int64(streams), 1)
	f, err := makeFile(e, fmt.Sprintf("relayed-%d", streams), per)
	if err != nil {
		return nil, nil, "", err
	}
	var cs []contender
	for _, c := range relayContenders() {
		idle := ""
		if streams == 1 && c.role != "plain" {
			idle = "; idle relay: " + idleCost(c.fn)
		}
		fn := c.fn
		cs = append(cs, contender{name: c.name, role: c.role, ops: 1, run: func() (int64, string, error) {
			n, method, err := relayStreams(f, per, streams, fn)
			return n, method + idle, err
		}})
	}
	return cs, func() { f.Close() }, "", nil
}

// relayStreams runs streams relays of per bytes each, at once.
func relayStreams(f *os.File, per int64, streams int, fn relayFunc) (int64, string, error) {
	type res struct {
		n      int64
		method string
		err    error
	}
	out := make(chan res, 3*streams)
	for range streams {
		client, a, err := tcpPair()
		if err != nil {
			return 0, "", err
		}
		b, server, err := tcpPair()
		if err != nil {
			return 0, "", err
		}
		go func() {
			n, m, err := fn(a, b)
			out <- res{n, m, err}
		}()
		go func() { // the client sends its share, then half-closes
			_, err := zerocopy.SendFile(client, f, 0, per)
			_ = client.CloseWrite()
			_, _ = io.Copy(io.Discard, client)
			client.Close()
			out <- res{err: err}
		}()
		go func() { // the server sends nothing and drains to /dev/null
			_ = server.CloseWrite()
			n, err := io.Copy(io.Discard, server)
			server.Close()
			if err == nil && n != per {
				err = fmt.Errorf("server got %d of %d bytes", n, per)
			}
			out <- res{err: err}
		}()
	}
	var total int64
	var method string
	var first error
	for range 3 * streams {
		r := <-out
		total += r.n
		if r.method != "" {
			method = r.method
		}
		if r.err != nil && first == nil {
			first = r.err
		}
	}
	return total, method, first
}

// idleCost starts 200 relays, moves one byte each way on each, and reports
// what they hold while idle: goroutines, descriptors beyond their conns,
// and heap plus stack bytes, per relay.
func idleCost(fn relayFunc) string {
	const n = 200
	type quad struct{ client, a, b, server *net.TCPConn }
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g0, fd0 := runtime.NumGoroutine(), openFDs()
	var qs []quad
	done := make(chan struct{}, n)
	for range n {
		client, a, err := tcpPair()
		if err != nil {
			return "?"
		}
		b, server, err := tcpPair()
		if err != nil {
			return "?"
		}
		qs = append(qs, quad{client, a, b, server})
		go func() { _, _, _ = fn(a, b); done <- struct{}{} }()
	}
	one := make([]byte, 1)
	for _, q := range qs {
		_, _ = q.client.Write(one)
		_, _ = io.ReadFull(q.server, one)
		_, _ = q.server.Write(one)
		_, _ = io.ReadFull(q.client, one)
	}
	time.Sleep(50 * time.Millisecond)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	g1, fd1 := runtime.NumGoroutine(), openFDs()
	for _, q := range qs {
		_ = q.client.CloseWrite()
		_ = q.server.CloseWrite()
	}
	for range n {
		<-done
	}
	for _, q := range qs {
		q.client.Close()
		q.server.Close()
	}
	mem := (int64(m1.HeapInuse+m1.StackInuse) - int64(m0.HeapInuse+m0.StackInuse)) / n
	extra := "?"
	if fd0 >= 0 {
		extra = fmt.Sprint(float64(fd1-fd0-4*n) / n)
	}
	return fmt.Sprintf("%.0f goroutines, %s extra fds, %.1f KiB", float64(g1-g0)/n, extra, float64(mem)/1024)
}

// openFDs counts this process's descriptors, or -1 where /proc is missing.
func openFDs() int {
	d, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(d)
}
