package main

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

// Server serves the files under one root directory.
type Server struct {
	root   *os.Root
	cache  *fileCache
	copier zerocopy.Copier

	// Methods counts responses by the zerocopy method that sent the body.
	methods [8]atomic.Int64
}

// New serves dir; files of at least directIO bytes (if > 0) are read with
// O_DIRECT.
func New(dir string, directIO int64) (*Server, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	s := &Server{root: root, cache: newFileCache(root, 1024, time.Second)}
	s.copier = zerocopy.Copier{DirectIOThreshold: directIO, Observe: func(r zerocopy.Report) {
		if int(r.Method) < len(s.methods) {
			s.methods[r.Method].Add(1)
		}
	}}
	return s, nil
}

// Close closes the cached files and the root.
func (s *Server) Close() error {
	s.cache.close()
	return s.root.Close()
}

// Sent returns how many bodies were sent by method m.
func (s *Server) Sent(m zerocopy.Method) int64 { return s.methods[m].Load() }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/") {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	// path.Clean removes every ".." that would climb above "/"; os.Root
	// refuses whatever could still leave the root (symlinks included).
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" {
		name = "."
	}
	e, err := s.cache.get(name)
	if err == nil && e.fi.IsDir() {
		s.cache.release(e)
		e, err = s.cache.get(path.Join(name, "index.html"))
	}
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.NotFound(w, r) // missing, or outside the root: say nothing more
		return
	}
	defer s.cache.release(e)
	s.serve(w, r, e)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, e *entry) {
	size, mod := e.fi.Size(), e.fi.ModTime()
	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	h.Set("Last-Modified", mod.UTC().Format(http.TimeFormat))
	if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !mod.Truncate(time.Second).After(ims) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	ctype := mime.TypeByExtension(filepath.Ext(e.name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)

	status, off, n := http.StatusOK, int64(0), size
	if rh := r.Header.Get("Range"); rh != "" && r.Header.Get("If-Range") == "" {
		start, length, ok, err := parseRange(rh, size)
		switch {
		case err != nil:
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			http.Error(w, err.Error(), http.StatusRequestedRangeNotSatisfiable)
			return
		case ok:
			status, off, n = http.StatusPartialContent, start, length
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, size))
		}
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead || n == 0 {
		return
	}
	// Send the header now, so net/http hands the body straight to the
	// connection's ReadFrom (no sniffing copy), which calls our WriteTo
	// with the TCP connection itself.
	_ = http.NewResponseController(w).Flush()
	body := &section{f: e.f, off: off, n: n, c: &s.copier}
	if rf, ok := w.(io.ReaderFrom); ok {
		_, _ = rf.ReadFrom(body)
	} else {
		_, _ = io.Copy(w, body)
	}
}

// section is n bytes of a shared file from off. WriteTo sends them with
// zerocopy.SendFile at explicit offsets (the file's own offset is never
// used); Read is the pread fallback for writers that must see the bytes
// (TLS, HTTP/2).
type section struct {
	f      *os.File
	off, n int64
	c      *zerocopy.Copier
}

func (s *section) Read(p []byte) (int, error) {
	if s.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.n {
		p = p[:s.n]
	}
	k, err := s.f.ReadAt(p, s.off)
	s.off += int64(k)
	s.n -= int64(k)
	if err == io.EOF && k > 0 {
		err = nil
	}
	return k, err
}

// WriteTo receives net/http's connection wrapper, which embeds the
// *net.TCPConn: SendFile reaches its descriptor through SyscallConn.
func (s *section) WriteTo(w io.Writer) (int64, error) {
	k, err := s.c.SendFile(w, s.f, s.off, s.n)
	s.off += k
	s.n -= k
	return k, err
}

// parseRange reads a single "bytes=" range. ok is false when the header
// is to be ignored (malformed, or several ranges: RFC 9110 lets a server
// send the whole file instead); err means unsatisfiable (416).
func parseRange(h string, size int64) (start, length int64, ok bool, err error) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, nil
	}
	if first == "" { // suffix: the last N bytes
		n, e := strconv.ParseInt(last, 10, 64)
		if e != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, errors.New("unsatisfiable range")
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	a, e := strconv.ParseInt(first, 10, 64)
	if e != nil || a < 0 {
		return 0, 0, false, nil
	}
	b := size - 1
	if last != "" {
		if b, e = strconv.ParseInt(last, 10, 64); e != nil || b < a {
			return 0, 0, false, nil
		}
		b = min(b, size-1)
	}
	if a >= size {
		return 0, 0, false, errors.New("unsatisfiable range")
	}
	return a, b - a + 1, true, nil
}

// fileCache keeps files open across requests. An entry is revalidated
// (stat by name: same file, size and time) once per ttl; a replaced or
// changed file is reopened, and the old *os.File closed when its last
// request ends.
type fileCache struct {
	root *os.Root
	max  int
	ttl  time.Duration
	mu   sync.Mutex
	m    map[string]*entry
}

type entry struct {
	name    string
	f       *os.File
	fi      os.FileInfo
	checked time.Time
	refs    int
	stale   bool
}

func newFileCache(root *os.Root, max int, ttl time.Duration) *fileCache {
	return &fileCache{root: root, max: max, ttl: ttl, m: map[string]*entry{}}
}

func (c *fileCache) get(name string) (*entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[name]; ok {
		if time.Since(e.checked) < c.ttl {
			e.refs++
			return e, nil
		}
		if fi, err := c.root.Stat(name); err == nil && os.SameFile(fi, e.fi) && fi.Size() == e.fi.Size() && fi.ModTime().Equal(e.fi.ModTime()) {
			e.checked = time.Now()
			e.refs++
			return e, nil
		}
		c.evict(e)
	}
	f, err := c.root.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		f.Close()
		return nil, os.ErrNotExist
	}
	if len(c.m) >= c.max {
		for _, old := range c.m { // any entry: a cache, not an LRU
			c.evict(old)
			break
		}
	}
	e := &entry{name: name, f: f, fi: fi, checked: time.Now(), refs: 1}
	c.m[name] = e
	return e, nil
}

func (c *fileCache) evict(e *entry) {
	delete(c.m, e.name)
	e.stale = true
	if e.refs == 0 {
		e.f.Close()
	}
}

func (c *fileCache) release(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.refs--
	if e.stale && e.refs == 0 {
		e.f.Close()
	}
}

func (c *fileCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.m {
		c.evict(e)
	}
}
