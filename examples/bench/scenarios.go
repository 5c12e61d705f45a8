package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/mmap"
)

var scenarios = []scenario{
	{"file-tcp", "a page-cached file to a loopback TCP peer", setupFileTCP},
	{"tcp-tcp", "proxying one TCP stream to another", setupTCPTCP},
	{"relay-1", "a two-way relay carrying one bulk stream (the other way idle)", setupRelay1},
	{"relay-64", "64 two-way relays at once, the bulk split among them", setupRelay64},
	{"file-file", "a page-cached file to a new file on the same filesystem", setupFileFile},
	{"small-ranges", "random 4 KiB ranges of one shared file to a TCP peer", setupRanges},
	{"mmap-random", "random 4 KiB reads of a page-cached file", setupMmap},
	{"cold-read", "sequential read of a file just dropped from the page cache", setupColdRead},
	{"hot-set", "a 200 MiB hot file's residency after streaming 1 GiB in a 512 MiB memory cgroup", setupHotSet},
}

func names() []string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.name)
	}
	return n
}

func find(name string) *scenario {
	for i := range scenarios {
		if scenarios[i].name == name {
			return &scenarios[i]
		}
	}
	return nil
}

// makeFile writes size seeded pseudo-random bytes to a new file in e.dir.
func makeFile(e *env, name string, size int64) (*os.File, error) {
	path := filepath.Join(e.dir, name)
	w, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	chunk := make([]byte, 4<<20)
	fill(rand.NewChaCha8([32]byte{1}), chunk)
	for left := size; left > 0; left -= int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
			w.Close()
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return os.Open(path)
}

func tcpPair() (client, server *net.TCPConn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() { c, err := ln.Accept(); ch <- accepted{c, err} }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close() // ends the Accept
		<-ch
		return nil, nil, err
	}
	a := <-ch
	if a.err != nil {
		c.Close()
		return nil, nil, a.err // out of descriptors (EMFILE), say
	}
	return c.(*net.TCPConn), a.c.(*net.TCPConn), nil
}

// sink is a TCP connection whose peer discards everything into /dev/null
// (a splice in the stdlib): the same cheap receiver for every contender.
func sink() (*net.TCPConn, func(), error) {
	c, s, err := tcpPair()
	if err != nil {
		return nil, nil, err
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(null, s); close(done) }()
	return c, func() { c.Close(); <-done; s.Close(); null.Close() }, nil
}

// plain is the copy a Go programmer writes by hand: no ReadFrom, no WriteTo.
func plain(dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
}

func observed(m *zerocopy.Method) *zerocopy.Copier {
	return &zerocopy.Copier{Observe: func(r zerocopy.Report) { *m = r.Method }}
}

func setupFileTCP(e *env) ([]contender, func(), string, error) {
	f, err := makeFile(e, "stream", e.size)
	if err != nil {
		return nil, nil, "", err
	}
	conn, closeSink, err := sink()
	if err != nil {
		f.Close()
		return nil, nil, "", err
	}
	b32, b1m := make([]byte, 32<<10), make([]byte, 1<<20)
	fromStart := func(fn func() (int64, error), method string) func() (int64, string, error) {
		return func() (int64, string, error) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return 0, "", err
			}
			n, err := fn()
			return n, method, err
		}
	}
	var m zerocopy.Method
	cs := []contender{
		{name: "zerocopy.SendFile", role: "lib", ops: 1, run: func() (int64, string, error) {
			n, err := observed(&m).SendFile(context.Background(), conn, f, 0, e.size)
			return n, m.String(), err
		}},
		{name: "io.Copy", role: "io.Copy", ops: 1, run: fromStart(func() (int64, error) { return io.Copy(conn, f) }, "stdlib")},
		{name: "plain-32KiB", role: "plain", ops: 1, run: fromStart(func() (int64, error) { return plain(conn, f, b32) }, "buffered")},
		{name: "plain-1MiB", role: "plain", ops: 1, run: fromStart(func() (int64, error) { return plain(conn, f, b1m) }, "buffered")},
	}
	return cs, func() { closeSink(); f.Close() }, "", nil
}

func setupTCPTCP(e *env) ([]contender, func(), string, error) {
	f, err := makeFile(e, "proxied", e.size)
	if err != nil {
		return nil, nil, "", err
	}
	feedC, src, err := tcpPair()
	if err != nil {
		return nil, nil, "", err
	}
	dst, closeSink, err := sink()
	if err != nil {
		return nil, nil, "", err
	}
	b32 := make([]byte, 32<<10)
	// Each op: a feeder pushes e.size bytes into src; the contender moves
	// exactly that many from src to dst.
	op := func(fn func() (int64, error), method func() string) func() (int64, string, error) {
		return func() (int64, string, error) {
			fed := make(chan error, 1)
			go func() { _, err := zerocopy.SendFile(feedC, f, 0, e.size); fed <- err }()
			n, err := fn()
			if ferr := <-fed; err == nil {
				err = ferr
			}
			return n, method(), err
		}
	}
	var m zerocopy.Method
	cs := []contender{
		{name: "zerocopy.CopyN", role: "lib", ops: 1, run: op(func() (int64, error) { return observed(&m).CopyN(context.Background(), dst, src, e.size) }, func() string { return m.String() })},
		{name: "io.CopyN", role: "io.Copy", ops: 1, run: op(func() (int64, error) { return io.CopyN(dst, src, e.size) }, func() string { return "stdlib" })},
		{name: "plain-32KiB", role: "plain", ops: 1, run: op(func() (int64, error) { return plain(dst, io.LimitReader(src, e.size), b32) }, func() string { return "buffered" })},
	}
	return cs, func() { closeSink(); feedC.Close(); src.Close(); f.Close() }, "", nil
}

func setupFileFile(e *env) ([]contender, func(), string, error) {
	f, err := makeFile(e, "copysrc", e.size)
	if err != nil {
		return nil, nil, "", err
	}
	out, err := os.Create(filepath.Join(e.dir, "copydst"))
	if err != nil {
		return nil, nil, "", err
	}
	b32, b1m := make([]byte, 32<<10), make([]byte, 1<<20)
	op := func(fn func() (int64, error), method func() string) func() (int64, string, error) {
		return func() (int64, string, error) {
			if err := out.Truncate(0); err != nil {
				return 0, "", err
			}
			if _, err := out.Seek(0, io.SeekStart); err != nil {
				return 0, "", err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return 0, "", err
			}
			n, err := fn()
			return n, method(), err
		}
	}
	var m zerocopy.Method
	cs := []contender{
		{name: "zerocopy.Copy", role: "lib", ops: 1, run: op(func() (int64, error) { return observed(&m).Copy(context.Background(), out, f) }, func() string { return m.String() })},
		{name: "io.Copy", role: "io.Copy", ops: 1, run: op(func() (int64, error) { return io.Copy(out, f) }, func() string { return "stdlib" })},
		{name: "plain-32KiB", role: "plain", ops: 1, run: op(func() (int64, error) { return plain(out, f, b32) }, func() string { return "buffered" })},
		{name: "plain-1MiB", role: "plain", ops: 1, run: op(func() (int64, error) { return plain(out, f, b1m) }, func() string { return "buffered" })},
	}
	return cs, func() { out.Close(); f.Close() }, "", nil
}

func setupRanges(e *env) ([]contender, func(), string, error) {
	const rng = 4096
	size := min(e.size, 64<<20)
	size = max(size, rng)
	f, err := makeFile(e, "ranges", size)
	if err != nil {
		return nil, nil, "", err
	}
	conn, closeSink, err := sink()
	if err != nil {
		return nil, nil, "", err
	}
	ops := 20000
	buf := make([]byte, rng)
	offs := func() func() int64 {
		r := rand.New(rand.NewPCG(1, 2))
		return func() int64 { return r.Int64N(size/rng) * rng }
	}
	o1, o2, o3 := offs(), offs(), offs()
	var m zerocopy.Method
	c := observed(&m)
	cs := []contender{
		{name: "zerocopy.SendFile", role: "lib", ops: ops, run: func() (int64, string, error) {
			n, err := c.SendFile(context.Background(), conn, f, o1(), rng)
			return n, m.String(), err
		}},
		{name: "io.Copy(SectionReader)", role: "io.Copy", ops: ops, run: func() (int64, string, error) {
			n, err := io.Copy(conn, io.NewSectionReader(f, o2(), rng))
			return n, "stdlib", err
		}},
		{name: "pread+write", role: "plain", ops: ops, run: func() (int64, string, error) {
			k, err := f.ReadAt(buf, o3())
			if err != nil {
				return 0, "", err
			}
			w, err := conn.Write(buf[:k])
			return int64(w), "buffered", err
		}},
	}
	return cs, func() { closeSink(); f.Close() }, "", nil
}

func setupMmap(e *env) ([]contender, func(), string, error) {
	const rng = 4096
	size := max(min(e.size, 256<<20), rng)
	f, err := makeFile(e, "mapped", size)
	if err != nil {
		return nil, nil, "", err
	}
	mp, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	if err != nil {
		return nil, nil, "", err
	}
	b1, b2 := make([]byte, rng), make([]byte, rng)
	r1, r2 := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	ops := 200000
	cs := []contender{
		{name: "mmap.ReadAt", role: "lib", ops: ops, run: func() (int64, string, error) {
			n, err := mp.ReadAt(b1, r1.Int64N(size/rng)*rng)
			return int64(n), "mmap", err
		}},
		{name: "os.File.ReadAt", role: "plain", ops: ops, run: func() (int64, string, error) {
			n, err := f.ReadAt(b2, r2.Int64N(size/rng)*rng)
			return int64(n), "pread", err
		}},
	}
	return cs, func() { mp.Close(); f.Close() }, "", nil
}

func setupColdRead(e *env) ([]contender, func(), string, error) {
	if why := canEvict(); why != "" {
		return nil, nil, why, nil
	}
	f, err := makeFile(e, "cold", e.size)
	if err != nil {
		return nil, nil, "", err
	}
	path := f.Name()
	f.Close()
	buf := make([]byte, 1<<20)
	cs := []contender{
		{name: "directio.Reader", role: "lib", ops: 1, run: func() (int64, string, error) {
			if err := evict(path); err != nil {
				return 0, "", err
			}
			g, err := directio.OpenFile(path, os.O_RDONLY, 0)
			if err != nil {
				return 0, "", err
			}
			defer g.Close()
			r, err := directio.NewReader(g, nil)
			if err != nil {
				return 0, "", err
			}
			defer r.Close()
			n, err := r.WriteTo(io.Discard)
			return n, "directio", err
		}},
		{name: "os.File.Read-1MiB", role: "plain", ops: 1, run: func() (int64, string, error) {
			if err := evict(path); err != nil {
				return 0, "", err
			}
			g, err := os.Open(path)
			if err != nil {
				return 0, "", err
			}
			defer g.Close()
			n, err := plain(io.Discard, g, buf)
			return n, "buffered", err
		}},
	}
	return cs, nil, "", nil
}

// fill fills b from c (ChaCha8.Read needs Go 1.23; the module supports 1.22).
func fill(c *rand.ChaCha8, b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := c.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}
