package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

// Server serves the files under one root directory.
type Server struct {
	root     root
	cache    *fileCache
	directIO int64

	// methods counts responses by the zerocopy method that sent most of
	// the body.
	methods [8]atomic.Int64
	bytes   [8]atomic.Int64 // body bytes by method
}

// New serves dir; files of at least directIO bytes (if > 0) are read with
// O_DIRECT.
func New(dir string, directIO int64) (*Server, error) {
	root, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Server{root: root, cache: newFileCache(root, 1024, time.Second), directIO: directIO}, nil
}

// Close closes the cached files and the root.
func (s *Server) Close() error {
	s.cache.close()
	return s.root.Close()
}

// Sent returns how many bodies were sent by method m.
func (s *Server) Sent(m zerocopy.Method) int64 { return s.methods[m].Load() }

// SentBytes returns how many body bytes method m sent.
func (s *Server) SentBytes(m zerocopy.Method) int64 { return s.bytes[m].Load() }

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
	switch {
	case errors.Is(err, errIsDir):
		if !strings.HasSuffix(r.URL.Path, "/") {
			// As http.FileServer does: relative links in the directory's
			// index.html resolve against "dir/", not against its parent.
			redirect(w, r, path.Base(r.URL.Path)+"/")
			return
		}
		e, err = s.cache.get(path.Join(name, "index.html"))
	case err == nil && strings.HasSuffix(r.URL.Path, "/"):
		// A file asked for as a directory ("file/"): redirected to the
		// file, as http.FileServer does, so that a page's relative links
		// resolve against its own directory, not against "file/".
		s.cache.release(e)
		redirect(w, r, "../"+path.Base(name))
		return
	}
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
			// Out of descriptors: the file may well exist. Found from
			// outside (prlimit --nofile=10 answered 404).
			log.Printf("%s: %v", name, err)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "out of file descriptors", http.StatusServiceUnavailable)
			return
		}
		// Missing, outside the root, a directory without index.html, or
		// not a regular file (FIFO, socket, device): say nothing more.
		http.NotFound(w, r)
		return
	}
	defer s.cache.release(e)
	s.serve(w, r, e)
}

// redirect answers 301 to target, which is relative ("dir/", "../file"),
// so "//host" paths cannot turn it into a redirect to another site; the
// query is kept.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusMovedPermanently)
}

// etag is a strong validator: it changes whenever the file is replaced or
// its size or modification time (in nanoseconds) changes.
func etag(fi os.FileInfo) string {
	return fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size())
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, e *entry) {
	// The entity tag is the handler's to set; zerocopy.ServeContent
	// answers If-None-Match, If-Match and If-Range against it, and
	// Range, If-Modified-Since, HEAD and Content-Type as net/http does,
	// with every body sent by SendFile at explicit offsets (so the cached
	// *os.File is shared by every request at once).
	w.Header().Set("ETag", etag(e.fi))
	var moved [8]int64
	var sent bool
	c := zerocopy.Copier{DirectIOThreshold: s.directIO, Observe: func(r zerocopy.Report) {
		sent = true
		if int(r.Method) < len(moved) {
			moved[r.Method] += r.Bytes
		}
	}}
	c.ServeContent(w, r, e.name, e.fi.ModTime(), e.f)
	if !sent {
		return // no body: HEAD, 304, 412, 416, an empty file
	}
	best := 0
	for m := range moved {
		s.bytes[m].Add(moved[m])
		if moved[m] > moved[best] {
			best = m
		}
	}
	s.methods[best].Add(1)
}

var (
	errIsDir      = errors.New("is a directory")
	errNotRegular = errors.New("not a regular file")
)

// fileCache keeps regular files open across requests. An entry is
// revalidated (stat by name: same file, size and time) once per ttl; a
// replaced or changed file is reopened, and the old *os.File closed when
// its last request ends.
//
// The lock guards only the map and the counts: stat and open run without
// it, so a path that is slow to open (a hung network mount) delays its own
// request, never the others. Nothing but a regular file is ever opened: a
// FIFO would block open(2) until a writer came, a device could be endless.
type fileCache struct {
	root root
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

func newFileCache(root root, max int, ttl time.Duration) *fileCache {
	return &fileCache{root: root, max: max, ttl: ttl, m: map[string]*entry{}}
}

func sameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// get returns the open file called name, or errIsDir, errNotRegular, or
// the error of stat or open. The caller releases the entry.
func (c *fileCache) get(name string) (*entry, error) {
	c.mu.Lock()
	e, ok := c.m[name]
	if ok && time.Since(e.checked) < c.ttl {
		e.refs++
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()

	fi, err := c.stat(name)
	if err != nil {
		return nil, err
	}
	if ok && sameVersion(fi, e.fi) {
		c.mu.Lock()
		if c.m[name] == e {
			e.checked = time.Now()
			e.refs++
			c.mu.Unlock()
			return e, nil
		}
		c.mu.Unlock()
	}
	f, fi, err := c.open(name)
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.m[name]; ok {
		if sameVersion(cur.fi, fi) { // another request opened it meanwhile
			f.Close()
			cur.checked = time.Now()
			cur.refs++
			return cur, nil
		}
		c.evict(cur)
	}
	if len(c.m) >= c.max {
		for _, old := range c.m { // any entry: a cache, not an LRU
			c.evict(old)
			break
		}
	}
	e = &entry{name: name, f: f, fi: fi, checked: time.Now(), refs: 1}
	c.m[name] = e
	return e, nil
}

// stat returns name's FileInfo, or errIsDir or errNotRegular. It does not
// open: it cannot block on a FIFO.
func (c *fileCache) stat(name string) (fs.FileInfo, error) {
	fi, err := c.root.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, errIsDir
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return fi, nil
}

// open opens name non-blocking, in case the path became a FIFO since the
// stat (on a regular file the flag changes nothing), and checks again
// that it is a regular file.
func (c *fileCache) open(name string) (*os.File, fs.FileInfo, error) {
	f, err := c.root.OpenFile(name, openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = errNotRegular
		}
		return nil, nil, err
	}
	return f, fi, nil
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
