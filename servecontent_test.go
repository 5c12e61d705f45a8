package zerocopy_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// serveFixture serves the same shared files twice: under /zc/ with
// zerocopy's ServeContent and under /std/ with net/http's, so that every
// answer of ours can be held against net/http's for the same request.
type serveFixture struct {
	srv     *httptest.Server
	client  *http.Client
	files   map[string]*os.File
	data    map[string][]byte
	modtime time.Time
	// Body bytes zerocopy sent, by method (requests without a
	// Content-Encoding only: see the "enc" query).
	byMethod [8]atomic.Int64
	inflight atomic.Int64 // /zc/ handlers running
}

const sharedOffset = 777 // each shared file's own offset, which must not move

func newServeFixture(t *testing.T) *serveFixture { return newServeFixtureOn(t, false) }

// newServeFixtureOn serves over plain HTTP/1.1, or with h2 over TLS
// (HTTP/2: a ResponseWriter with no conn underneath).
func newServeFixtureOn(t *testing.T, h2 bool) *serveFixture {
	dir := t.TempDir()
	fx := &serveFixture{
		files:   map[string]*os.File{},
		data:    map[string][]byte{},
		modtime: time.Date(2024, 3, 1, 12, 30, 45, 500_000_000, time.UTC),
	}
	text := bytes.Repeat([]byte("plain text, sniffed as such\n"), 40)
	for name, data := range map[string][]byte{
		"big.bin":    testutil.Data(17, 256<<10+12345),
		"small.html": []byte(strings.Repeat("<p>hi</p>", 11) + "\n"), // 100 bytes
		"page":       text,                                           // no extension: sniffed
		"empty.txt":  nil,
	} {
		f := testutil.File(t, dir, name, data)
		_, err := f.Seek(sharedOffset, io.SeekStart)
		require.NoError(t, err)
		fx.files[name], fx.data[name] = f, data
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/zc/{name}", func(w http.ResponseWriter, r *http.Request) {
		fx.inflight.Add(1)
		defer fx.inflight.Add(-1)
		f := fx.prepare(w, r)
		if f == nil {
			return
		}
		c := zerocopy.Copier{Observe: func(rep zerocopy.Report) {
			if r.URL.Query().Get("enc") == "" {
				fx.byMethod[rep.Method].Add(rep.Bytes)
			}
		}}
		c.ServeContent(w, r, r.PathValue("name"), fx.modtime, f)
	})
	mux.HandleFunc("/std/{name}", func(w http.ResponseWriter, r *http.Request) {
		f := fx.prepare(w, r)
		if f == nil {
			return
		}
		fi, err := f.Stat()
		require.NoError(t, err)
		http.ServeContent(w, r, r.PathValue("name"), fx.modtime, io.NewSectionReader(f, 0, fi.Size()))
	})
	if h2 {
		fx.srv = httptest.NewUnstartedServer(mux)
		fx.srv.EnableHTTP2 = true
		fx.srv.StartTLS()
		t.Cleanup(fx.srv.Close)
		fx.client = fx.srv.Client()
		fx.client.Transport.(*http.Transport).DisableCompression = true
		return fx
	}
	fx.srv = httptest.NewServer(mux)
	t.Cleanup(fx.srv.Close)
	// No Accept-Encoding from the client: a body the handler labels gzip
	// arrives as sent.
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	fx.client = &http.Client{Transport: tr}
	return fx
}

// prepare sets the headers a handler may set before ServeContent, from
// the query: etag, ctype, enc.
func (fx *serveFixture) prepare(w http.ResponseWriter, r *http.Request) *os.File {
	f := fx.files[r.PathValue("name")]
	if f == nil {
		http.NotFound(w, r)
		return nil
	}
	q := r.URL.Query()
	if v := q.Get("etag"); v != "" {
		w.Header().Set("ETag", v)
	}
	if v := q.Get("ctype"); v != "" {
		w.Header().Set("Content-Type", v)
	}
	if v := q.Get("enc"); v != "" {
		w.Header().Set("Content-Encoding", v)
	}
	return f
}

type serveCase struct {
	name   string
	method string
	path   string // after /zc/ or /std/
	header map[string]string
}

// answer is what a response said, with a multipart boundary (random per
// response) replaced by a fixed word of the same length.
type answer struct {
	status  int
	header  map[string]string
	chunked bool
	body    string // SHA-256
	size    int
	payload int64 // file bytes in the body (the parts' bytes for multipart)
}

var comparedHeaders = []string{"Content-Type", "Content-Length", "Content-Range", "Accept-Ranges",
	"Last-Modified", "Etag", "Content-Encoding", "Cache-Control"}

func (fx *serveFixture) do(t testing.TB, prefix string, tc serveCase) answer {
	method := tc.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, fx.srv.URL+prefix+tc.path, nil)
	require.NoError(t, err)
	for k, v := range tc.header {
		req.Header.Set(k, v)
	}
	resp, err := fx.client.Do(req)
	require.NoError(t, err, tc.name)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, tc.name)
	require.NoError(t, resp.Body.Close())

	a := answer{status: resp.StatusCode, header: map[string]string{}, chunked: len(resp.TransferEncoding) > 0}
	ctype := resp.Header.Get("Content-Type")
	if mt, params, err := mime.ParseMediaType(ctype); err == nil && mt == "multipart/byteranges" {
		b := params["boundary"]
		fixed := strings.Repeat("B", len(b))
		if method == http.MethodGet {
			a.payload = multipartPayload(t, body, b)
		}
		body = bytes.ReplaceAll(body, []byte(b), []byte(fixed))
		ctype = strings.ReplaceAll(ctype, b, fixed)
	} else if resp.StatusCode/100 == 2 && method == http.MethodGet {
		a.payload = int64(len(body))
	}
	for _, k := range comparedHeaders {
		if v, ok := resp.Header[k]; ok {
			a.header[k] = strings.Join(v, ", ")
		}
	}
	if _, ok := resp.Header["Content-Type"]; ok {
		a.header["Content-Type"] = ctype
	}
	a.body, a.size = testutil.SHA(body), len(body)
	return a
}

// multipartPayload checks each part of a multipart/byteranges body against
// the file and returns the file bytes the parts held.
func multipartPayload(t testing.TB, body []byte, boundary string) (n int64) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return n
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		n += int64(len(b))
	}
}

func serveCases(fx *serveFixture) []serveCase {
	size := len(fx.data["big.bin"])
	lastMod := fx.modtime.UTC().Format(http.TimeFormat)
	earlier := fx.modtime.Add(-time.Hour).UTC().Format(http.TimeFormat)
	h := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	return []serveCase{
		{name: "whole", path: "big.bin"},
		{name: "HEAD", method: http.MethodHead, path: "big.bin"},
		{name: "100-byte range", path: "big.bin", header: h("Range", "bytes=0-99")},
		{name: "open range", path: "big.bin", header: h("Range", "bytes=100-")},
		{name: "suffix", path: "big.bin", header: h("Range", "bytes=-500")},
		{name: "one byte", path: "big.bin", header: h("Range", "bytes=5-5")},
		{name: "end past the file", path: "big.bin", header: h("Range", fmt.Sprintf("bytes=%d-%d", size-10, size+1000))},
		{name: "HEAD range", method: http.MethodHead, path: "big.bin", header: h("Range", "bytes=0-99")},
		{name: "multi", path: "big.bin", header: h("Range", "bytes=0-9, 100-199,-50")},
		{name: "multi overlapping", path: "big.bin", header: h("Range", "bytes=0-99,50-149,70000-")},
		{name: "multi one missing", path: "big.bin", header: h("Range", fmt.Sprintf("bytes=1-2,%d-", size+5))},
		{name: "HEAD multi", method: http.MethodHead, path: "big.bin", header: h("Range", "bytes=0-9,20-29")},
		{name: "malformed range", path: "big.bin", header: h("Range", "bytes=abc")},
		{name: "other unit", path: "big.bin", header: h("Range", "items=0-5")},
		{name: "unsatisfiable", path: "big.bin", header: h("Range", fmt.Sprintf("bytes=%d-", size))},
		{name: "unsatisfiable multi", path: "big.bin", header: h("Range", fmt.Sprintf("bytes=%d-,%d-", size, size+5))},
		{name: "more than the file", path: "big.bin", header: h("Range", "bytes=0-,0-")},
		{name: "range on empty", path: "empty.txt", header: h("Range", "bytes=0-5")},
		{name: "empty", path: "empty.txt"},
		{name: "If-Range etag", path: "big.bin?etag=%22v1%22", header: h("Range", "bytes=10-", "If-Range", `"v1"`)},
		{name: "If-Range other etag", path: "big.bin?etag=%22v1%22", header: h("Range", "bytes=10-", "If-Range", `"v2"`)},
		{name: "If-Range weak etag", path: "big.bin?etag=W/%22v1%22", header: h("Range", "bytes=10-", "If-Range", `W/"v1"`)},
		{name: "If-Range date", path: "big.bin", header: h("Range", "bytes=10-", "If-Range", lastMod)},
		{name: "If-Range older date", path: "big.bin", header: h("Range", "bytes=10-", "If-Range", earlier)},
		{name: "If-None-Match hit", path: "big.bin?etag=%22v1%22", header: h("If-None-Match", `"v0", "v1"`)},
		{name: "If-None-Match weak hit", path: "big.bin?etag=%22v1%22", header: h("If-None-Match", `W/"v1"`)},
		{name: "If-None-Match star", path: "big.bin?etag=%22v1%22", header: h("If-None-Match", "*")},
		{name: "If-None-Match miss", path: "big.bin?etag=%22v1%22", header: h("If-None-Match", `"v2"`, "If-Modified-Since", lastMod)},
		{name: "If-None-Match on POST", method: http.MethodPost, path: "big.bin?etag=%22v1%22", header: h("If-None-Match", `"v1"`)},
		{name: "If-Modified-Since now", path: "big.bin", header: h("If-Modified-Since", lastMod)},
		{name: "If-Modified-Since earlier", path: "big.bin", header: h("If-Modified-Since", earlier, "Range", "bytes=0-9")},
		{name: "If-Match miss", path: "big.bin?etag=%22v1%22", header: h("If-Match", `"v2"`)},
		{name: "If-Match hit", path: "big.bin?etag=%22v1%22", header: h("If-Match", `"v1"`, "Range", "bytes=3-40")},
		{name: "If-Unmodified-Since earlier", path: "big.bin", header: h("If-Unmodified-Since", earlier)},
		{name: "sniffed", path: "page"},
		{name: "sniffed multi", path: "page", header: h("Range", "bytes=0-3,8-12")},
		{name: "handler's Content-Type", path: "big.bin?ctype=text/x-mine", header: h("Range", "bytes=0-3,8-12")},
		{name: "small html", path: "small.html"},
		{name: "encoded whole", path: "big.bin?enc=gzip"},
		{name: "encoded range", path: "big.bin?enc=gzip", header: h("Range", "bytes=1000-300000")},
	}
}

// TestServeContentMatchesNetHTTP asks zerocopy.ServeContent and
// net/http.ServeContent the same requests over the same shared files and
// requires the same answers (status, the headers that describe the
// content, the body's SHA-256), first one by one, then from 32 clients at
// once. Every body byte goes out by sendfile where the platform has it,
// and no file's own offset moves.
func TestServeContentMatchesNetHTTP(t *testing.T) {
	testutil.NoLeaks(t)
	fx := newServeFixture(t)
	cases := serveCases(fx)

	want := make([]answer, len(cases))
	var payload int64 // file bytes the /zc/ bodies hold, outside "enc" cases
	var small int64   // those of bodies of 512 bytes or less: sent with the header
	for i, tc := range cases {
		want[i] = asGo123(fx.do(t, "/std/", tc))
		got := fx.do(t, "/zc/", tc)
		require.Equal(t, want[i], got, tc.name)
		if !strings.Contains(tc.path, "enc=") {
			if got.size <= 512 {
				small += got.payload
			} else {
				payload += got.payload
			}
		}
	}
	require.Positive(t, small, "some bodies are small")
	// Spot checks that net/http's answers are the ones meant (a case that
	// asked nothing would compare nothing).
	byName := map[string]answer{}
	for i, tc := range cases {
		byName[tc.name] = want[i]
	}
	size := len(fx.data["big.bin"])
	for name, status := range map[string]int{"whole": 200, "100-byte range": 206, "multi": 206,
		"unsatisfiable": 416, "malformed range": 416, "range on empty": 200, "more than the file": 200,
		"If-Range etag": 206, "If-Range other etag": 200, "If-Range weak etag": 200, "If-Range date": 206,
		"If-None-Match hit": 304, "If-None-Match star": 304, "If-None-Match miss": 200, "If-None-Match on POST": 412,
		"If-Modified-Since now": 304, "If-Match miss": 412, "If-Match hit": 206, "If-Unmodified-Since earlier": 412} {
		require.Equal(t, status, byName[name].status, name)
	}
	require.Equal(t, fmt.Sprintf("bytes */%d", size), byName["unsatisfiable"].header["Content-Range"])
	require.Equal(t, testutil.SHA(fx.data["big.bin"][:100]), byName["100-byte range"].body)
	require.Equal(t, "text/plain; charset=utf-8", byName["sniffed"].header["Content-Type"])
	require.Contains(t, byName["multi"].header["Content-Type"], "multipart/byteranges")
	require.Equal(t, int64(10+100+50), byName["multi"].payload)
	require.True(t, byName["encoded whole"].chunked)

	// A client can read the last byte before the handler's Observe runs.
	require.Eventually(t, func() bool { return fx.inflight.Load() == 0 }, 5*time.Second, time.Millisecond)
	if zerocopy.FastPaths {
		require.Equal(t, payload, fx.byMethod[zerocopy.MethodSendfile].Load(), "body bytes sent by sendfile")
		require.Equal(t, small, fx.byMethod[zerocopy.MethodBuffered].Load(), "small bodies sent with the header")
		for m := range fx.byMethod {
			if m := zerocopy.Method(m); m != zerocopy.MethodSendfile && m != zerocopy.MethodBuffered {
				require.Zero(t, fx.byMethod[m].Load(), "body bytes sent by %v", zerocopy.Method(m))
			}
		}
	}

	// 32 clients at once, each through 16 cases from its own place in the
	// table (every case is asked by about 13 clients).
	const clients, each = 32, 16
	var wg sync.WaitGroup
	errs := make(chan error, clients*each)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				i := (k*5 + c) % len(cases)
				got := fx.do(t, "/zc/", cases[i])
				if got.status != want[i].status || got.body != want[i].body || fmt.Sprint(got) != fmt.Sprint(want[i]) {
					errs <- fmt.Errorf("client %d, %s: got %+v, want %+v", c, cases[i].name, got, want[i])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for name, f := range fx.files {
		require.Equal(t, int64(sharedOffset), testutil.Offset(t, f), "%s: the shared file's own offset moved", name)
	}
}

// TestServeContentHTTP2: over TLS with HTTP/2 the ResponseWriter has no
// conn beneath it: the bodies go through pread and Write, and the answers
// are still net/http's.
func TestServeContentHTTP2(t *testing.T) {
	testutil.NoLeaks(t)
	fx := newServeFixtureOn(t, true)
	for _, tc := range serveCases(fx) {
		want := asGo123(fx.do(t, "/std/", tc))
		got := fx.do(t, "/zc/", tc)
		require.Equal(t, want, got, tc.name)
	}
	resp, err := fx.client.Get(fx.srv.URL + "/zc/big.bin")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, 2, resp.ProtoMajor, "the test must run over HTTP/2")
	fx.client.CloseIdleConnections()
}

// TestServeContentTruncated: a file that ends before the body does gives
// the client a cut response (an error reading the body), never a complete
// one. The file is emptied after the first part of a multi-range body.
func TestServeContentTruncated(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(3, 256<<10)
	f := testutil.File(t, t.TempDir(), "f.bin", data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := zerocopy.Copier{Observe: func(zerocopy.Report) { _ = f.Truncate(0) }}
		c.ServeContent(w, r, "f.bin", time.Time{}, f)
	}))
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Range", "bytes=0-99,1000-200000")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a cut body must not read as complete")
	n, _ := strconv.Atoi(resp.Header.Get("Content-Length"))
	require.Less(t, len(body), n)
	require.True(t, bytes.Contains(body, data[:100]), "the first part arrived whole")
}

// TestServeContentNotRegular: a pipe (or a nil file) gets 500, not a hang
// or a panic.
func TestServeContentNotRegular(t *testing.T) {
	testutil.NoLeaks(t)
	r, w := testutil.Pipe(t)
	_ = w
	for name, f := range map[string]*os.File{"pipe": r, "nil": nil} {
		rec := httptest.NewRecorder()
		zerocopy.ServeContent(rec, httptest.NewRequest(http.MethodGet, "/x", nil), "x.bin", time.Time{}, f)
		require.Equal(t, http.StatusInternalServerError, rec.Code, name)
		require.Contains(t, rec.Body.String(), "ServeContent", name)
	}
}

// ServeContent into a recorder (no connection underneath): the same
// answer, through pread.
func TestServeContentRecorder(t *testing.T) {
	data := testutil.Data(5, 5000)
	f := testutil.File(t, t.TempDir(), "f.bin", data)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/f.bin", nil)
	req.Header.Set("Range", "bytes=4000-")
	zerocopy.ServeContent(rec, req, filepath.Base(f.Name()), time.Time{}, f)
	require.Equal(t, http.StatusPartialContent, rec.Code)
	require.Equal(t, "bytes 4000-4999/5000", rec.Header().Get("Content-Range"))
	testutil.RequireBytes(t, data[4000:], rec.Body.Bytes())
}

// asGo123 gives an answer of net/http the shape it has from Go 1.23 on,
// which ServeContent follows: an error answered by serveError (416, 5xx;
// not 304 or 412) drops the headers that
// described the content (net/http's serveError). net/http keeps them where
// GODEBUG httpservecontentkeepheaders=1, the default for a main module
// whose go.mod declares a Go before 1.23 (this module declares 1.22).
func asGo123(a answer) answer {
	if a.status == http.StatusRequestedRangeNotSatisfiable || a.status >= 500 {
		for _, k := range []string{"Cache-Control", "Content-Encoding", "Etag", "Last-Modified"} {
			delete(a.header, k)
		}
	}
	return a
}
