package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// start runs a proxy to upstream on a loopback port; it stops with the test.
func start(t *testing.T, upstream, record string) (addr string, logs *syncBuffer) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logs = &syncBuffer{}
	p := &Proxy{Upstream: upstream, Record: record, Log: log.New(logs, "", 0)}
	done := make(chan error, 1)
	go func() { done <- p.Serve(ln) }()
	t.Cleanup(func() { _ = ln.Close(); require.NoError(t, <-done) })
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

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

func TestHTTPThroughProxy(t *testing.T) {
	testutil.NoLeaks(t)
	body := testutil.Data(1, 5<<20+3)
	srv := upstreamHTTP(t, body)
	record := filepath.Join(t.TempDir(), "rec")
	addr, logs := start(t, srv.Listener.Addr().String(), record)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get("http://" + addr + "/big")
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, sum(body), sum(got))

	upload := testutil.Data(2, 3<<20+1)
	resp, err = client.Post("http://"+addr+"/echo", "application/octet-stream", bytes.NewReader(upload))
	require.NoError(t, err)
	got, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, sum(upload), sum(got))

	// The recording of connection 2 holds the request and its body, as sent.
	require.Eventually(t, func() bool { return strings.Count(logs.String(), "conn ") == 2 }, testTimeout, tick)
	rec := testutil.ReadFile(t, record+".2")
	require.True(t, bytes.HasPrefix(rec, []byte("POST /echo HTTP/1.1\r\n")), "%q", rec[:min(len(rec), 40)])
	require.True(t, bytes.HasSuffix(rec, upload), "the recorded body is the uploaded one")

	want := zerocopy.MethodBuffered.String()
	if zerocopy.MethodSplice.Available() {
		want = zerocopy.MethodSplice.String()
	}
	require.Regexp(t, `conn 1: client->upstream \d+ bytes by (tee|buffered \(tee unsupported\)), upstream->client \d+ bytes by `+want, logs.String())
}

// TestHalfClose: the client sends and shuts down its write side; the
// upstream reads to EOF (which only arrives if the proxy passed the
// half-close on), then answers and closes.
func TestHalfClose(t *testing.T) {
	testutil.NoLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
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
	require.NoError(t, err)
	defer c.Close()
	data := testutil.Data(3, 2<<20+9)
	_, err = c.Write(data)
	require.NoError(t, err)
	require.NoError(t, c.(*net.TCPConn).CloseWrite())
	reply, err := io.ReadAll(c)
	require.NoError(t, err)
	require.Equal(t, sum(data), string(reply))
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "conn 1:") }, testTimeout, tick)
	require.Contains(t, logs.String(), "client->upstream 2097161 bytes")
}

// TestCurl drives the proxy with curl, a client that is not Go.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	testutil.NoLeaks(t)
	body := testutil.Data(4, 1<<20+11)
	srv := upstreamHTTP(t, body)
	addr, _ := start(t, srv.Listener.Addr().String(), "")
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(curl, "-sS", "--fail", "-o", out, "http://"+addr+"/big")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, sum(body), sum(got))
}
