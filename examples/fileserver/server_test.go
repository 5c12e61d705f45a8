package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

type fixture struct {
	s      *Server
	url    string
	data   []byte
	client *http.Client
}

func setup(t *testing.T, directIO int64) *fixture {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	data := testutil.Data(1, 3<<20+17)
	require.NoError(t, os.WriteFile(filepath.Join(root, "big.bin"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sub", "index.html"), []byte("<p>hi</p>"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "empty.txt"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret"), []byte("TOP SECRET"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(dir, "secret"), filepath.Join(root, "escape")))
	require.NoError(t, os.Symlink("big.bin", filepath.Join(root, "inside")))
	s, err := New(root, directIO)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(func() { srv.Close(); require.NoError(t, s.Close()) })
	return &fixture{s: s, url: srv.URL, data: data, client: srv.Client()}
}

func (fx *fixture) get(t *testing.T, path string, hdr map[string]string) (*http.Response, []byte) {
	return fx.do(t, http.MethodGet, path, hdr)
}

func (fx *fixture) do(t *testing.T, method, path string, hdr map[string]string) (*http.Response, []byte) {
	req, err := http.NewRequest(method, fx.url+path, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := fx.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func sum(b []byte) string { h := sha256.Sum256(b); return fmt.Sprintf("%x", h) }

func TestServe(t *testing.T) {
	fx := setup(t, 0)
	resp, body := fx.get(t, "/big.bin", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, sum(fx.data), sum(body))
	require.Equal(t, fmt.Sprint(len(fx.data)), resp.Header.Get("Content-Length"))
	require.Equal(t, "bytes", resp.Header.Get("Accept-Ranges"))
	want := zerocopy.MethodBuffered
	if zerocopy.MethodSendfile.Available() {
		want = zerocopy.MethodSendfile
	}
	require.Equal(t, int64(1), fx.s.Sent(want), "the body went out by %v", want)

	resp, body = fx.get(t, "/sub/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "<p>hi</p>", string(body))
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))

	resp, body = fx.get(t, "/empty.txt", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body)

	resp, body = fx.get(t, "/inside", nil) // a symlink within the root is fine
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, sum(fx.data), sum(body))

	resp, body = fx.do(t, http.MethodHead, "/big.bin", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body)
	require.Equal(t, fmt.Sprint(len(fx.data)), resp.Header.Get("Content-Length"))

	resp, _ = fx.do(t, http.MethodPost, "/big.bin", nil)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, _ = fx.get(t, "/missing", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestRanges(t *testing.T) {
	fx := setup(t, 0)
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
		{"bytes=0-1,5-6", 200, 0, size}, // several ranges: the whole file
		{"bytes=abc", 200, 0, size},     // malformed: ignored
		{fmt.Sprintf("bytes=%d-", size), 416, 0, 0},
		{"bytes=-0", 416, 0, 0},
	} {
		t.Run(tc.header, func(t *testing.T) {
			resp, body := fx.get(t, "/big.bin", map[string]string{"Range": tc.header})
			require.Equal(t, tc.status, resp.StatusCode)
			switch tc.status {
			case 206:
				require.Equal(t, sum(fx.data[tc.start:tc.end]), sum(body))
				require.Equal(t, fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end-1, size), resp.Header.Get("Content-Range"))
			case 200:
				require.Equal(t, sum(fx.data), sum(body))
			case 416:
				require.Equal(t, fmt.Sprintf("bytes */%d", size), resp.Header.Get("Content-Range"))
			}
		})
	}
}

func TestIfModifiedSince(t *testing.T) {
	fx := setup(t, 0)
	resp, _ := fx.get(t, "/big.bin", nil)
	lm := resp.Header.Get("Last-Modified")
	require.NotEmpty(t, lm)
	resp, body := fx.get(t, "/big.bin", map[string]string{"If-Modified-Since": lm})
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	require.Empty(t, body)
	old := time.Now().Add(-48 * time.Hour).UTC().Format(http.TimeFormat)
	resp, body = fx.get(t, "/big.bin", map[string]string{"If-Modified-Since": old})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, sum(fx.data), sum(body))
}

// TestTraversal: nothing outside the root is ever served.
func TestTraversal(t *testing.T) {
	fx := setup(t, 0)
	for _, p := range []string{
		"/../secret", "/sub/../../secret", "/%2e%2e/secret", "/%2E%2E%2Fsecret",
		"/..%2fsecret", "/escape", "//etc/passwd", "/sub/%2e%2e/%2e%2e/secret",
	} {
		t.Run(p, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, fx.url+"/", nil)
			require.NoError(t, err)
			req.URL.Opaque = p // send the path exactly as written
			resp, err := fx.client.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NotContains(t, string(body), "TOP SECRET")
			require.Contains(t, []int{http.StatusNotFound, http.StatusBadRequest, http.StatusForbidden}, resp.StatusCode, "status for %s", p)
		})
	}
	// A raw request line with an absolute path and dot segments.
	conn, err := net.Dial("tcp", fx.url[len("http://"):])
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET /../../secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
	require.NoError(t, err)
	raw, _ := io.ReadAll(conn)
	require.NotContains(t, string(raw), "TOP SECRET")
}

// TestConcurrentRanges: many clients read ranges of one cached file at
// once; SendFile never moves the shared offset, so every range is right.
func TestConcurrentRanges(t *testing.T) {
	fx := setup(t, 0)
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
		require.NoError(t, err)
	}
}

// TestKeepAlive: bodies sent by SendFile are counted by net/http, so the
// connection is reused.
func TestKeepAlive(t *testing.T) {
	fx := setup(t, 0)
	conn, err := net.Dial("tcp", fx.url[len("http://"):])
	require.NoError(t, err)
	defer conn.Close()
	br := bufioReader(conn)
	for i := range 3 {
		_, err := fmt.Fprintf(conn, "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=%d-%d\r\n\r\n", i, i+99999)
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, 206, resp.StatusCode)
		require.Equal(t, sum(fx.data[i:i+100000]), sum(body), "request %d on the same connection", i)
	}
}

func TestDirectIO(t *testing.T) {
	fx := setup(t, 1<<20)
	resp, body := fx.get(t, "/big.bin", map[string]string{"Range": "bytes=7-"})
	require.Equal(t, 206, resp.StatusCode)
	require.Equal(t, sum(fx.data[7:]), sum(body))
	if zerocopy.MethodSendfile.Available() {
		require.Equal(t, int64(1), fx.s.Sent(zerocopy.MethodDirectIO))
	}
	_, body = fx.get(t, "/sub/", nil) // small: not direct
	require.Equal(t, "<p>hi</p>", string(body))
}

func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	fx := setup(t, 0)
	out := filepath.Join(t.TempDir(), "out")
	b, err := exec.Command(curl, "-sS", "--fail", "-o", out, fx.url+"/big.bin").CombinedOutput()
	require.NoError(t, err, string(b))
	require.Equal(t, sum(fx.data), sum(testutil.ReadFile(t, out)))
	b, err = exec.Command(curl, "-sS", "--fail", "-r", "1000-2999", "-o", out, fx.url+"/big.bin").CombinedOutput()
	require.NoError(t, err, string(b))
	require.Equal(t, sum(fx.data[1000:3000]), sum(testutil.ReadFile(t, out)))
	b, err = exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", fx.url+"/../secret").CombinedOutput()
	require.NoError(t, err)
	require.Equal(t, "404", string(b))
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "512K": 512 << 10, "256M": 256 << 20, "1G": 1 << 30} {
		got, err := parseSize(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := parseSize("-1")
	require.Error(t, err)
	_, err = parseSize("x")
	require.Error(t, err)
}
