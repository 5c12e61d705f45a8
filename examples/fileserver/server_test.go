package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

type fixture struct {
	s      *Server
	root   string
	url    string
	addr   string
	data   []byte
	client *http.Client

	inflight atomic.Int64 // handlers running
	closed   chan net.Conn
	symlinks bool // the system made the root's symlinks (see symlink)
}

type options struct {
	directIO      int64
	idle          time.Duration
	writeProgress time.Duration
}

// setup runs the real server (newHTTPServer and serve, as main does) on a
// loopback port, over a root holding a few files.
func setup(t *testing.T, o options) *fixture {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	check(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	check(t, os.MkdirAll(filepath.Join(root, "noindex"), 0o755))
	d := data(1, 3<<20+17)
	check(t, os.WriteFile(filepath.Join(root, "big.bin"), d, 0o644))
	check(t, os.WriteFile(filepath.Join(root, "sub", "index.html"), []byte("<p>hi</p>"), 0o644))
	check(t, os.WriteFile(filepath.Join(root, "empty.txt"), nil, 0o644))
	check(t, os.WriteFile(filepath.Join(dir, "secret"), []byte("TOP SECRET"), 0o644))
	links := symlink(t, filepath.Join(dir, "secret"), filepath.Join(root, "escape"))
	links = links && symlink(t, "big.bin", filepath.Join(root, "inside"))
	s, err := New(root, o.directIO)
	check(t, err)
	fx := &fixture{s: s, root: root, data: d, closed: make(chan net.Conn, 1024), symlinks: links}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fx.inflight.Add(1)
		defer fx.inflight.Add(-1)
		s.ServeHTTP(w, r)
	})
	if o.idle == 0 {
		o.idle = time.Minute
	}
	srv := newHTTPServer(h, o.idle)
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateClosed || st == http.StateHijacked {
			fx.closed <- c
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	done := make(chan error, 1)
	go func() { done <- serve(srv, ln, o.writeProgress) }()
	fx.client = &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}
	t.Cleanup(func() {
		fx.client.CloseIdleConnections()
		check(t, srv.Close())
		equal(t, http.ErrServerClosed, <-done)
		check(t, s.Close())
	})
	fx.addr = ln.Addr().String()
	fx.url = "http://" + fx.addr
	return fx
}

func (fx *fixture) get(t *testing.T, path string, hdr map[string]string) (*http.Response, []byte) {
	return fx.do(t, http.MethodGet, path, hdr)
}

// do sends a request and reads the whole answer; it returns once the
// server's handler has returned too (so what the handler counts is final).
func (fx *fixture) do(t *testing.T, method, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, fx.url+path, nil)
	check(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := fx.client.Do(req)
	check(t, err, method, path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(t, err, method, path)
	fx.idle(t)
	return resp, b
}

// idle waits until no handler is running.
func (fx *fixture) idle(t *testing.T) {
	t.Helper()
	eventually(t, 5*time.Second, func() bool { return fx.inflight.Load() == 0 }, "handlers still running")
}

func TestServe(t *testing.T) {
	noLeaks(t)
	fx := setup(t, options{})
	resp, body := fx.get(t, "/big.bin", nil)
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, sum(fx.data), sum(body))
	equal(t, fmt.Sprint(len(fx.data)), resp.Header.Get("Content-Length"))
	equal(t, "bytes", resp.Header.Get("Accept-Ranges"))
	want := zerocopy.MethodBuffered
	switch {
	case zerocopy.MethodSendfile.Available():
		want = zerocopy.MethodSendfile
	case zerocopy.MethodTransmitFile.Available():
		want = zerocopy.MethodTransmitFile // Windows server editions
	}
	equal(t, int64(1), fx.s.Sent(want), "bodies sent by", want)

	resp, body = fx.get(t, "/sub/", nil)
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, "<p>hi</p>", string(body))
	equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))

	resp, body = fx.get(t, "/empty.txt", nil)
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, 0, len(body))

	resp, body = fx.do(t, http.MethodHead, "/big.bin", nil)
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, 0, len(body))
	equal(t, fmt.Sprint(len(fx.data)), resp.Header.Get("Content-Length"))

	resp, _ = fx.do(t, http.MethodPost, "/big.bin", nil)
	equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, _ = fx.get(t, "/missing", nil)
	equal(t, http.StatusNotFound, resp.StatusCode)
	// big.bin; index.html (9 bytes) goes with its header, on the buffered
	// path, so it counts only where that is the path of big.bin too.
	sent := int64(1)
	if want == zerocopy.MethodBuffered {
		sent++
	}
	equal(t, sent, fx.s.Sent(want), "bodies sent by", want)

	if !fx.symlinks {
		t.Skip("no symlinks on this system (Windows without the privilege; Wine 8 makes none): /inside not tested")
	}
	resp, body = fx.get(t, "/inside", nil) // a symlink within the root is fine
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, sum(fx.data), sum(body))
	equal(t, sent+1, fx.s.Sent(want), "bodies sent by", want) // and big.bin again
}

func TestRanges(t *testing.T) {
	fx := setup(t, options{})
	size := len(fx.data)
	for _, tc := range []struct {
		header     string
		status     int
		start, end int // want fx.data[start:end]
	}{
		{"bytes=0-0", 206, 0, 1},
		{"bytes=100-4195", 206, 100, 4196},
		{"bytes=4096-", 206, 4096, size},
		{"bytes=-500", 206, size - 500, size},
		{"bytes=-999999999", 206, 0, size},
		{fmt.Sprintf("bytes=%d-%d", size-10, size+1000), 206, size - 10, size},
		{"bytes=0-,0-", 200, 0, size}, // more bytes than the file: ignored
		{"items=0-5", 416, 0, 0},      // malformed (net/http's answer)
		{fmt.Sprintf("bytes=%d-", size), 416, 0, 0},
	} {
		t.Run(tc.header, func(t *testing.T) {
			resp, body := fx.get(t, "/big.bin", map[string]string{"Range": tc.header})
			equal(t, tc.status, resp.StatusCode)
			switch tc.status {
			case 206:
				equal(t, sum(fx.data[tc.start:tc.end]), sum(body))
				equal(t, fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end-1, size), resp.Header.Get("Content-Range"))
			case 200:
				equal(t, sum(fx.data), sum(body))
			case 416:
				if strings.HasPrefix(tc.header, "bytes=") {
					equal(t, fmt.Sprintf("bytes */%d", size), resp.Header.Get("Content-Range"))
				}
			}
		})
	}
}

// TestMultiRange: several ranges come as multipart/byteranges, each part
// with its Content-Range and the file's bytes, all sent by sendfile.
func TestMultiRange(t *testing.T) {
	fx := setup(t, options{})
	size := len(fx.data)
	resp, body := fx.get(t, "/big.bin", map[string]string{"Range": "bytes=0-1,5000-5999,-10"})
	if runtime.GOOS == "linux" && zerocopy.MethodSendfile.Available() {
		equal(t, int64(2+1000+10), fx.s.SentBytes(zerocopy.MethodSendfile), "bytes sent by sendfile")
		equal(t, int64(0), fx.s.SentBytes(zerocopy.MethodBuffered), "bytes sent buffered")
	}
	equal(t, http.StatusPartialContent, resp.StatusCode)
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for _, want := range [][2]int{{0, 2}, {5000, 6000}, {size - 10, size}} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, fmt.Sprintf("bytes %d-%d/%d", want[0], want[1]-1, size), p.Header.Get("Content-Range"))
		equal(t, sum(fx.data[want[0]:want[1]]), sum(got))
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("after the last part: %v", err)
	}
}

// TestIfRange: a resumed download gets the rest of the file only if the
// validator it holds is still the current one (RFC 9110 13.1.5).
func TestIfRange(t *testing.T) {
	fx := setup(t, options{})
	resp, _ := fx.do(t, http.MethodHead, "/big.bin", nil)
	tag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if len(tag) < 3 || tag[0] != '"' || lm == "" {
		t.Fatalf("ETag %q, Last-Modified %q: want a strong ETag and a date", tag, lm)
	}
	lmTime, err := http.ParseTime(lm)
	check(t, err)
	stale := lmTime.Add(-time.Second).Format(http.TimeFormat)
	const from = 1000
	for _, tc := range []struct {
		name, ifRange string
		partial       bool
	}{
		{"matching etag", tag, true},
		{"matching date", lm, true},
		{"stale etag", `"0-0"`, false},
		{"weak etag", "W/" + tag, false}, // weak tags never match in If-Range
		{"stale date", stale, false},
		{"garbage", "yesterday", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fx.get(t, "/big.bin", map[string]string{"Range": fmt.Sprintf("bytes=%d-", from), "If-Range": tc.ifRange})
			if tc.partial {
				equal(t, http.StatusPartialContent, resp.StatusCode)
				equal(t, sum(fx.data[from:]), sum(body))
				equal(t, fmt.Sprintf("bytes %d-%d/%d", from, len(fx.data)-1, len(fx.data)), resp.Header.Get("Content-Range"))
			} else {
				equal(t, http.StatusOK, resp.StatusCode)
				equal(t, sum(fx.data), sum(body))
				equal(t, "", resp.Header.Get("Content-Range"))
			}
		})
	}
	// The tag changes with the file.
	check(t, os.Chtimes(filepath.Join(fx.root, "big.bin"), time.Now(), lmTime.Add(-time.Hour)))
	eventually(t, 5*time.Second, func() bool {
		resp, _ := fx.do(t, http.MethodHead, "/big.bin", nil)
		return resp.Header.Get("ETag") != tag
	}, "the ETag did not change with the modification time")
	resp, body := fx.get(t, "/big.bin", map[string]string{"Range": "bytes=10-", "If-Range": tag})
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, sum(fx.data), sum(body))
}

func TestConditional(t *testing.T) {
	fx := setup(t, options{})
	resp, _ := fx.get(t, "/big.bin", nil)
	lm, tag := resp.Header.Get("Last-Modified"), resp.Header.Get("ETag")
	if lm == "" || tag == "" {
		t.Fatal("no Last-Modified or ETag")
	}
	resp, body := fx.get(t, "/big.bin", map[string]string{"If-Modified-Since": lm})
	equal(t, http.StatusNotModified, resp.StatusCode)
	equal(t, 0, len(body))
	old := time.Now().Add(-48 * time.Hour).UTC().Format(http.TimeFormat)
	resp, body = fx.get(t, "/big.bin", map[string]string{"If-Modified-Since": old})
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, sum(fx.data), sum(body))
	resp, body = fx.get(t, "/big.bin", map[string]string{"If-None-Match": `"x", W/` + tag})
	equal(t, http.StatusNotModified, resp.StatusCode)
	equal(t, 0, len(body))
	resp, body = fx.get(t, "/big.bin", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": lm})
	equal(t, http.StatusOK, resp.StatusCode) // If-None-Match decides
	equal(t, sum(fx.data), sum(body))
}

// TestRedirect: a directory without its trailing slash redirects to it,
// as http.FileServer does, so relative links in its index.html work.
func TestRedirect(t *testing.T) {
	fx := setup(t, options{})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer noFollow.CloseIdleConnections()
	// A file asked for as a directory ("/big.bin/") redirects to the file,
	// as http.FileServer does: served there, the relative links of an HTML
	// page would resolve against "/big.bin/" (found from outside: a
	// differential run against -std served the file at "/big.bin/").
	for path, want := range map[string]string{
		"/sub": "sub/", "/sub?x=1": "sub/?x=1",
		"/big.bin/": "../big.bin", "/big.bin/?x=1": "../big.bin?x=1", "/sub/index.html/": "../index.html",
	} {
		resp, err := noFollow.Get(fx.url + path)
		check(t, err)
		resp.Body.Close()
		equal(t, http.StatusMovedPermanently, resp.StatusCode, path)
		equal(t, want, resp.Header.Get("Location"), path)
	}
	resp, body := fx.get(t, "/sub", nil) // followed
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, "/sub/", resp.Request.URL.Path)
	equal(t, "<p>hi</p>", string(body))
	// "//sub" stays on this server: the target is relative, never "//sub/".
	conn, err := net.Dial("tcp", fx.addr)
	check(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "GET //sub HTTP/1.1\r\nHost: x\r\n\r\n")
	check(t, err)
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	check(t, err)
	resp.Body.Close()
	equal(t, http.StatusMovedPermanently, resp.StatusCode)
	equal(t, "sub/", resp.Header.Get("Location"))
}

// TestIdleTimeout: an idle keep-alive connection is closed by the server.
func TestIdleTimeout(t *testing.T) {
	fx := setup(t, options{idle: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", fx.addr)
	check(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "GET /sub/ HTTP/1.1\r\nHost: x\r\n\r\n")
	check(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	check(t, err)
	body, err := io.ReadAll(resp.Body)
	check(t, err)
	equal(t, "<p>hi</p>", string(body))
	start := time.Now()
	select {
	case <-fx.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("idle connection still open after 5 s")
	}
	check(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = br.ReadByte()
	equal(t, io.EOF, err)
	t.Logf("closed %v after the response", time.Since(start))
}

// TestTraversal: nothing outside the root is ever served.
func TestTraversal(t *testing.T) {
	fx := setup(t, options{})
	for _, p := range []string{
		"/../secret", "/sub/../../secret", "/%2e%2e/secret", "/%2E%2E%2Fsecret",
		"/..%2fsecret", "/escape", "//etc/passwd", "/sub/%2e%2e/%2e%2e/secret",
	} {
		t.Run(p, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, fx.url+"/", nil)
			check(t, err)
			req.URL.Opaque = p // send the path exactly as written
			resp, err := fx.client.Do(req)
			check(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if bytes.Contains(body, []byte("TOP SECRET")) {
				t.Fatalf("%s served the secret", p)
			}
			if !slices.Contains([]int{http.StatusNotFound, http.StatusBadRequest, http.StatusForbidden}, resp.StatusCode) {
				t.Fatalf("status %d for %s", resp.StatusCode, p)
			}
		})
	}
	// A raw request line with an absolute path and dot segments.
	conn, err := net.Dial("tcp", fx.addr)
	check(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET /../../secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
	check(t, err)
	raw, _ := io.ReadAll(conn)
	if bytes.Contains(raw, []byte("TOP SECRET")) {
		t.Fatal("served the secret")
	}
}

// TestConcurrentRanges: many clients read ranges of one cached file at
// once; SendFile never moves the shared offset, so every range is right.
func TestConcurrentRanges(t *testing.T) {
	fx := setup(t, options{writeProgress: 30 * time.Second})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := (i * 40961) % (len(fx.data) - 70000)
			req, _ := http.NewRequest(http.MethodGet, fx.url+"/big.bin", nil)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, start+65536+i))
			resp, err := fx.client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(body, fx.data[start:start+65537+i]) {
				errs <- fmt.Errorf("range %d: %d bytes, %v", i, len(body), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		check(t, err)
	}
}

// TestKeepAlive: bodies sent by SendFile are counted by net/http, so the
// connection is reused; also through the write-progress wrapper.
func TestKeepAlive(t *testing.T) {
	for _, progress := range []time.Duration{0, 30 * time.Second} {
		fx := setup(t, options{writeProgress: progress})
		conn, err := net.Dial("tcp", fx.addr)
		check(t, err)
		defer conn.Close()
		br := bufio.NewReader(conn)
		for i := range 3 {
			_, err := fmt.Fprintf(conn, "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=%d-%d\r\n\r\n", i, i+99999)
			check(t, err)
			resp, err := http.ReadResponse(br, nil)
			check(t, err)
			body, err := io.ReadAll(resp.Body)
			check(t, err)
			equal(t, 206, resp.StatusCode)
			equal(t, sum(fx.data[i:i+100000]), sum(body), "request", i, "on the same connection")
		}
		fx.idle(t)
		want := zerocopy.MethodBuffered
		if zerocopy.MethodSendfile.Available() {
			want = zerocopy.MethodSendfile
		}
		equal(t, int64(3), fx.s.Sent(want), "bodies sent by", want, "with write progress", progress)
	}
}

func TestDirectIO(t *testing.T) {
	fx := setup(t, options{directIO: 1 << 20, writeProgress: 30 * time.Second})
	resp, body := fx.get(t, "/big.bin", map[string]string{"Range": "bytes=7-"})
	equal(t, 206, resp.StatusCode)
	equal(t, sum(fx.data[7:]), sum(body))
	if zerocopy.MethodSendfile.Available() {
		equal(t, int64(1), fx.s.Sent(zerocopy.MethodDirectIO))
	}
	_, body = fx.get(t, "/sub/", nil) // small: not direct
	equal(t, "<p>hi</p>", string(body))
}

func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	fx := setup(t, options{writeProgress: 30 * time.Second})
	out := filepath.Join(t.TempDir(), "out")
	b, err := exec.Command(curl, "-sS", "--fail", "-o", out, fx.url+"/big.bin").CombinedOutput()
	check(t, err, string(b))
	equal(t, sum(fx.data), sum(readFile(t, out)))
	b, err = exec.Command(curl, "-sS", "--fail", "-r", "1000-2999", "-o", out, fx.url+"/big.bin").CombinedOutput()
	check(t, err, string(b))
	equal(t, sum(fx.data[1000:3000]), sum(readFile(t, out)))
	b, err = exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", fx.url+"/../secret").CombinedOutput()
	check(t, err)
	equal(t, "404", string(b))
	// A resumed download (curl -C -) of a partial file.
	check(t, os.WriteFile(out, fx.data[:12345], 0o644))
	b, err = exec.Command(curl, "-sS", "--fail", "-C", "-", "-o", out, fx.url+"/big.bin").CombinedOutput()
	check(t, err, string(b))
	equal(t, sum(fx.data), sum(readFile(t, out)))
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "512K": 512 << 10, "256M": 256 << 20, "1G": 1 << 30} {
		got, err := parseSize(in)
		check(t, err)
		equal(t, want, got)
	}
	for _, bad := range []string{"-1", "x", ""} {
		if _, err := parseSize(bad); err == nil {
			t.Fatalf("parseSize(%q) accepted", bad)
		}
	}
}

// TestSendfilePath: every body byte of a GET and a Range GET goes out with
// sendfile(2) (a body of 512 bytes or less with the header, in one write),
// as the server's Copier.Observe reports it: zerocopy.SendFile
// straight into the ResponseWriter reaches the connection's descriptor,
// through the write-progress wrapper as well as on the bare *net.TCPConn.
// (strace shows it too: sendfile(sock, file, [1000] => [2000], 1000).)
func TestSendfilePath(t *testing.T) {
	if runtime.GOOS != "linux" || !zerocopy.MethodSendfile.Available() {
		t.Skip("sendfile(2) is the Linux fast path (not under the purego tag)")
	}
	for _, progress := range []time.Duration{0, 30 * time.Second} {
		fx := setup(t, options{writeProgress: progress})
		for _, tc := range []struct {
			path, rng  string
			start, end int // body is fx.data[start:end], or index.html when end is 0
		}{
			{"/big.bin", "", 0, len(fx.data)},
			{"/big.bin", "bytes=1000-1999", 1000, 2000},
			{"/big.bin", "bytes=0-0", 0, 1},
			{"/big.bin", "bytes=-4097", len(fx.data) - 4097, len(fx.data)},
			{"/sub/", "", 0, 0},
		} {
			name := fmt.Sprint("progress=", progress, tc.path, tc.rng)
			sent, buffered := fx.s.SentBytes(zerocopy.MethodSendfile), fx.s.SentBytes(zerocopy.MethodBuffered)
			var hdr map[string]string
			if tc.rng != "" {
				hdr = map[string]string{"Range": tc.rng}
			}
			resp, body := fx.get(t, tc.path, hdr)
			want := fx.data[tc.start:tc.end]
			if tc.end == 0 {
				want = []byte("<p>hi</p>")
			}
			equal(t, tc.rng == "", resp.StatusCode == http.StatusOK, name, resp.Status)
			equal(t, sum(want), sum(body), name)
			// A body of 512 bytes or less goes out with the header in one
			// write (zerocopy.ServeContent): cheaper than a sendfile.
			bySendfile, byWrite := int64(len(want)), int64(0)
			if len(want) <= 512 {
				bySendfile, byWrite = 0, int64(len(want))
			}
			equal(t, bySendfile, fx.s.SentBytes(zerocopy.MethodSendfile)-sent, name, "bytes sent by sendfile")
			equal(t, byWrite, fx.s.SentBytes(zerocopy.MethodBuffered)-buffered, name, "bytes sent buffered")
		}
	}
}
