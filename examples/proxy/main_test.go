package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

// start runs a proxy to upstream on a loopback port; it stops with the test.
func start(t *testing.T, upstream, record string) (addr string, logs *syncBuffer) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	return startOn(t, ln, upstream, record)
}

// startOn runs a proxy on ln; it stops with the test.
func startOn(t *testing.T, ln net.Listener, upstream, record string) (addr string, logs *syncBuffer) {
	return startProxy(t, ln, &Proxy{Upstream: upstream, Record: record})
}

// startProxy runs p on ln with a log of its own; it stops with the test.
func startProxy(t *testing.T, ln net.Listener, p *Proxy) (addr string, logs *syncBuffer) {
	logs = &syncBuffer{}
	p.Log = log.New(logs, "", 0)
	done := make(chan error, 1)
	go func() { done <- p.Serve(ln) }()
	t.Cleanup(func() { _ = ln.Close(); check(t, <-done) })
	return ln.Addr().String(), logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func upstreamHTTP(t *testing.T, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write(body)
		case "/echo":
			_, _ = io.Copy(w, r.Body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPThroughProxy(t *testing.T) {
	noLeaks(t)
	body := data(1, 5<<20+3)
	srv := upstreamHTTP(t, body)
	record := filepath.Join(t.TempDir(), "rec")
	addr, logs := start(t, srv.Listener.Addr().String(), record)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get("http://" + addr + "/big")
	check(t, err)
	got, err := io.ReadAll(resp.Body)
	check(t, err)
	check(t, resp.Body.Close())
	equal(t, sum(body), sum(got))

	upload := data(2, 3<<20+1)
	resp, err = client.Post("http://"+addr+"/echo", "application/octet-stream", bytes.NewReader(upload))
	check(t, err)
	got, err = io.ReadAll(resp.Body)
	check(t, err)
	check(t, resp.Body.Close())
	equal(t, sum(upload), sum(got))

	// The recording of connection 2 holds the request and its body, as sent.
	eventually(t, testTimeout, func() bool { return strings.Count(logs.String(), "conn ") == 2 }, "two connections logged")
	rec := readFile(t, record+".2")
	if !bytes.HasPrefix(rec, []byte("POST /echo HTTP/1.1\r\n")) {
		t.Fatalf("recording starts %q", rec[:min(len(rec), 40)])
	}
	sameBytes(t, upload, rec[len(rec)-len(upload):], "the recorded body")

	want := zerocopy.MethodBuffered.String()
	if zerocopy.MethodSplice.Available() {
		want = zerocopy.MethodSplice.String()
	}
	if !regexp.MustCompile(`conn 1: client->upstream \d+ bytes by (splice\+tee|buffered), upstream->client \d+ bytes by ` + want).MatchString(logs.String()) {
		t.Fatalf("log: %s", logs.String())
	}
}

// TestHalfClose: the client sends and shuts down its write side; the
// upstream reads to EOF (which only arrives if the proxy passed the
// half-close on), then answers and closes.
func TestHalfClose(t *testing.T) {
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c) // until the client's half-close arrives
		_, _ = c.Write([]byte(sum(b)))
	}()
	addr, logs := start(t, ln.Addr().String(), "")
	c, err := net.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	data := data(3, 2<<20+9)
	_, err = c.Write(data)
	check(t, err)
	check(t, c.(*net.TCPConn).CloseWrite())
	reply, err := io.ReadAll(c)
	check(t, err)
	equal(t, sum(data), string(reply))
	eventually(t, testTimeout, func() bool { return strings.Contains(logs.String(), "conn 1:") }, "connection logged")
	mustContain(t, logs.String(), "client->upstream 2097161 bytes")
}

// TestCurl drives the proxy with curl, a client that is not Go.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	noLeaks(t)
	body := data(4, 1<<20+11)
	srv := upstreamHTTP(t, body)
	addr, _ := start(t, srv.Listener.Addr().String(), "")
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(curl, "-sS", "--fail", "-o", out, "http://"+addr+"/big")
	b, err := cmd.CombinedOutput()
	check(t, err, string(b))
	got, err := os.ReadFile(out)
	check(t, err)
	equal(t, sum(body), sum(got))
}

// limitListener is a wrapping listener like golang.org/x/net/netutil's
// LimitListener: at most n connections at once; its conns are its own
// type, embedding net.Conn (so neither *net.TCPConn nor SyscallConn).
type limitListener struct {
	net.Listener
	sem chan struct{}
}

type limitConn struct {
	net.Conn
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	var once sync.Once
	return &limitConn{Conn: c, release: func() { once.Do(func() { <-l.sem }) }}, nil
}

// TestWrappedListener: the proxy takes any net.Listener and any net.Conn.
func TestWrappedListener(t *testing.T) {
	noLeaks(t)
	body := data(6, 2<<20+5)
	srv := upstreamHTTP(t, body)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	addr, logs := startOn(t, &limitListener{Listener: inner, sem: make(chan struct{}, 2)}, srv.Listener.Addr().String(), "")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(client.CloseIdleConnections)
	for i := range 3 {
		resp, err := client.Get("http://" + addr + "/big")
		check(t, err, "request", i)
		got, err := io.ReadAll(resp.Body)
		check(t, err)
		check(t, resp.Body.Close())
		equal(t, sum(body), sum(got), "request", i)
	}
	eventually(t, testTimeout, func() bool { return strings.Count(logs.String(), "conn ") == 3 }, "three connections logged")
	if !regexp.MustCompile(fmt.Sprintf(`conn 1: client->upstream \d+ bytes by \S+, upstream->client \d{%d,} bytes by `, len(fmt.Sprint(len(body))))).MatchString(logs.String()) {
		t.Fatalf("log: %s", logs.String())
	}
}

// TestNothingMoved: a direction that moved nothing names no method.
func TestNothingMoved(t *testing.T) {
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write([]byte("hello"))
	}()
	addr, logs := start(t, ln.Addr().String(), "")
	c, err := net.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	check(t, c.(*net.TCPConn).CloseWrite()) // sends nothing
	reply, err := io.ReadAll(c)
	check(t, err)
	equal(t, "hello", string(reply))
	eventually(t, testTimeout, func() bool { return strings.Contains(logs.String(), "conn 1:") }, "connection logged")
	mustContain(t, logs.String(), "conn 1: client->upstream 0 bytes, upstream->client 5 bytes by ")
}

// TestUsage: -record's help says it writes FILE.N.
func TestUsage(t *testing.T) {
	out, _ := runMain(t, "-h")
	mustContain(t, string(out), "FILE.N")
	mustContain(t, string(out), "FILE.1")
}

// TestIdle: -idle ends a connection on which nothing moves, and says so.
func TestIdle(t *testing.T) {
	noLeaks(t)
	up, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	defer up.Close()
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(io.Discard, c)
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	addr, logs := startProxy(t, ln, &Proxy{Upstream: up.Addr().String(), Idle: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	_, err = c.Write([]byte("hi"))
	check(t, err)
	start := time.Now()
	requireReset(t, c, "client") // the proxy cuts the idle connection
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("closed after %v, want about 200ms", d)
	}
	eventually(t, testTimeout, func() bool { return strings.Contains(logs.String(), "conn 1:") }, "connection logged")
	mustContain(t, logs.String(), "conn 1: client->upstream 2 bytes by ")
	mustContain(t, logs.String(), "no byte in either direction for 200ms")
}

// emfileListener fails its first Accepts the way accept4 does when the
// process is out of descriptors.
type emfileListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestAcceptEMFILE: out of descriptors at accept, the proxy waits and
// accepts again instead of exiting.
func TestAcceptEMFILE(t *testing.T) {
	noLeaks(t)
	body := data(7, 1<<20+3)
	srv := upstreamHTTP(t, body)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	ln := &emfileListener{Listener: inner}
	ln.fails.Store(3)
	addr, logs := startOn(t, ln, srv.Listener.Addr().String(), "")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get("http://" + addr + "/big")
	check(t, err)
	got, err := io.ReadAll(resp.Body)
	check(t, err)
	check(t, resp.Body.Close())
	equal(t, sum(body), sum(got))
	mustContain(t, logs.String(), "too many open files; retrying in 5ms")
	mustContain(t, logs.String(), "retrying in 20ms")
}
