package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

func TestDemo(t *testing.T) {
	noLeaks(t)
	for _, cfg := range []config{
		{records: 5000, size: 300, fetches: 500, interval: 4096},
		{records: 1, size: 2, fetches: 3, interval: 1},
		{records: 300, size: 9000, fetches: 300, interval: 1 << 20}, // one index entry: long scans
	} {
		cfg.dir = t.TempDir()
		var out bytes.Buffer
		check(t, run(cfg, &out))
		if !regexp.MustCompile(`fetched and verified \d+ random records`).MatchString(out.String()) {
			t.Fatalf("output: %s", out.String())
		}
		method := zerocopy.MethodBuffered
		if zerocopy.MethodSendfile.Available() {
			method = zerocopy.MethodSendfile
		}
		mustContain(t, out.String(), fmt.Sprintf("bodies sent by %s %d\n", method, cfg.fetches))
	}
}

func TestLocate(t *testing.T) {
	cfg := config{records: 1000, size: 100, interval: 512, dir: t.TempDir()}
	check(t, writeLog(cfg.dir, cfg))
	lg, err := openLog(cfg.dir)
	check(t, err)
	defer lg.Close()
	buf := make([]byte, 100)
	for _, off := range []uint64{0, 1, 499, 998, 999} {
		pos, n, err := lg.locate(off)
		check(t, err)
		_, err = lg.seg.ReadAt(buf[:n], pos)
		check(t, err)
		sameBytes(t, payload(off, cfg.size), buf[:n], "record", off)
	}
	_, _, err = lg.locate(1000)
	checkIs(t, err, errNotFound)
}

// emfileListener's Accept fails as accept(2) does when the process is out
// of descriptors, while connections still reach its backlog.
type emfileListener struct{ net.Listener }

func (l emfileListener) Accept() (net.Conn, error) {
	return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
}

// TestAcceptEMFILE: out of descriptors at accept (found from outside:
// prlimit --nofile=12 hung forever), the demo ends with the accept error
// instead of leaving its client waiting on a connection nobody accepts.
func TestAcceptEMFILE(t *testing.T) {
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	cfg := config{records: 100, size: 100, fetches: 10, interval: 512, dir: t.TempDir(), ln: emfileListener{ln}}
	done := make(chan error, 1)
	go func() { done <- run(cfg, io.Discard) }()
	select {
	case err := <-done:
		checkIs(t, err, syscall.EMFILE)
		mustContain(t, err.Error(), "accept")
	case <-time.After(3 * fetchTimeout):
		t.Fatal("run hangs when accept fails with EMFILE")
	}
}

func TestBadFlags(t *testing.T) {
	for _, cfg := range []config{{records: 0, size: 10, interval: 1}, {records: 10, size: 1, interval: 1}} {
		if err := run(cfg, &bytes.Buffer{}); err == nil {
			t.Fatalf("%+v accepted", cfg)
		}
	}
}

// BenchmarkFetch measures lookup (mmap'd index) + serve (SendFile) over one
// loopback connection, with the client's verification left out.
func BenchmarkFetch(b *testing.B) {
	cfg := config{records: 100000, size: 1024, interval: 4096, dir: b.TempDir()}
	if err := writeLog(cfg.dir, cfg); err != nil {
		b.Fatal(err)
	}
	lg, err := openLog(cfg.dir)
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &server{log: lg}
	go srv.serve(ln)
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := rand.New(rand.NewPCG(5, 6))
	var req [8]byte
	var resp [4]byte
	buf := make([]byte, cfg.size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		binary.BigEndian.PutUint64(req[:], r.Uint64N(uint64(cfg.records)))
		if _, err := c.Write(req[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, resp[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[:binary.BigEndian.Uint32(resp[:])]); err != nil {
			b.Fatal(err)
		}
	}
}
