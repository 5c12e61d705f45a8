package zerocopy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ServeContent replies to r with the contents of f, as
// net/http.ServeContent does, and sends the body with SendFile: sendfile(2)
// from the page cache to the connection where the ResponseWriter leads to
// one, at explicit offsets.
//
// The answers are net/http.ServeContent's for the same request: Range
// (single, suffix and open-ended ranges; several ranges as
// multipart/byteranges), If-Range, If-Match, If-Unmodified-Since,
// If-None-Match (against an ETag the handler set in w's header),
// If-Modified-Since, HEAD, 416 for a range that misses the file, 304 and
// 412, Content-Type from name's extension or else sniffed from the first
// 512 bytes (unless the handler set one), Last-Modified from modtime
// (unless modtime is zero or the Unix epoch), Accept-Ranges and
// Content-Length. f is served whole, from offset 0 to its size at the time
// of the request; name is used only for its extension.
//
// f's own offset is never read or moved (every read is a pread or a
// sendfile at an explicit offset), so one *os.File may be shared by every
// request at once, as a file cache does. The caller keeps ownership of f.
// A multi-range body is, for each range, one small write (the part's
// header) and a SendFile of the range.
//
// The header is flushed before the body: net/http would otherwise copy the
// first 512 bytes of the body through its own buffer (to sniff a
// Content-Type) before it hands the rest to sendfile. A body of 512 bytes
// or less is not worth the extra system call: net/http sends it with the
// header in one write (one pread, no sendfile). A ResponseWriter
// that has no connection underneath (HTTP/2, TLS, a recorder, a wrapper
// without ReadFrom) gets the bytes through pread and Write.
//
// Each body is sent under the request's context: a client that goes away
// ends the send at once, also while it is waiting on a full socket.
//
// If f ends early (it was truncated while being served), the body is cut
// short of its Content-Length, and net/http closes the connection, so the
// client sees an incomplete response, never a complete one with fewer
// bytes. f must be a regular file: anything else gets 500.
func ServeContent(w http.ResponseWriter, r *http.Request, name string, modtime time.Time, f *os.File) {
	defaultCopier.ServeContent(w, r, name, modtime, f)
}

// ServeContent is the package-level ServeContent with this Copier's
// options: its Observe sees one Report for each body part sent, and its
// DirectIOThreshold applies to the file.
func (c *Copier) ServeContent(w http.ResponseWriter, r *http.Request, name string, modtime time.Time, f *os.File) {
	send := func(off, n int64) error {
		_, err := c.SendFile(r.Context(), w, f, off, n)
		return err
	}
	serveContent(w, r, name, modtime, f, send)
}

// sniffLen is net/http's: the bytes it sniffs a Content-Type from.
const sniffLen = 512

// serveContent follows net/http's serveContent (Go 1.26) step for step;
// only the reads differ: ReadAt for sniffing, send for the bodies.
func serveContent(w http.ResponseWriter, r *http.Request, name string, modtime time.Time, f *os.File, send func(off, n int64) error) {
	if f == nil {
		serveError(w, "zerocopy: ServeContent: nil *os.File", http.StatusInternalServerError)
		return
	}
	setLastModified(w, modtime)
	done, rangeReq := checkPreconditions(w, r, modtime)
	if done {
		return
	}
	// The size comes first here (net/http seeks for it after sniffing):
	// a file that is not regular has nothing to sniff.
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		serveError(w, "zerocopy: ServeContent: not a regular file", http.StatusInternalServerError)
		return
	}
	size := fi.Size()
	ctype, err := contentType(w, name, f)
	if err != nil {
		serveError(w, "zerocopy: ServeContent: cannot read the file", http.StatusInternalServerError)
		return
	}
	ranges, ok := satisfiable(w, rangeReq, size)
	if !ok {
		return
	}
	b := newBody(w, ranges, ctype, size)
	if b.writeHeader(w, r) {
		b.send(w, send)
	}
}

// contentType sets Content-Type from name's extension, or else from the
// first 512 bytes of f, unless the handler set one; it returns the type.
func contentType(w http.ResponseWriter, name string, f *os.File) (string, error) {
	if ctypes, haveType := w.Header()["Content-Type"]; haveType {
		if len(ctypes) > 0 {
			return ctypes[0], nil
		}
		return "", nil
	}
	ctype := mime.TypeByExtension(filepath.Ext(name))
	if ctype == "" {
		var buf [sniffLen]byte
		n, err := f.ReadAt(buf[:], 0)
		if err != nil && err != io.EOF {
			return "", err
		}
		ctype = http.DetectContentType(buf[:n])
	}
	w.Header().Set("Content-Type", ctype)
	return ctype, nil
}

// satisfiable parses the Range header against size. ok is false when it
// answered 416 already. A Range on an empty file, or one asking for more
// bytes than the file holds (an attack or a confused client), is ignored
// (nil ranges), as net/http does.
func satisfiable(w http.ResponseWriter, rangeReq string, size int64) (ranges []httpRange, ok bool) {
	ranges, err := parseRange(rangeReq, size)
	switch {
	case err == errNoOverlap && size == 0:
		return nil, true
	case err == errNoOverlap:
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		fallthrough
	case err != nil:
		serveError(w, err.Error(), http.StatusRequestedRangeNotSatisfiable)
		return nil, false
	case sumRangesSize(ranges) > size:
		return nil, true
	}
	return ranges, true
}

// body is what a response sends: the whole file, one range, or several
// as multipart/byteranges.
type body struct {
	code   int
	size   int64 // the file's
	ranges []httpRange
	parts  [][]byte // multipart: each part's header; the last entry closes
	length int64    // Content-Length
}

func newBody(w http.ResponseWriter, ranges []httpRange, ctype string, size int64) *body {
	b := &body{code: http.StatusOK, size: size, ranges: ranges, length: size}
	switch {
	case len(ranges) == 1:
		b.code, b.length = http.StatusPartialContent, ranges[0].length
		w.Header().Set("Content-Range", ranges[0].contentRange(size))
	case len(ranges) > 1:
		// The framing is mime/multipart's, as net/http writes it; each
		// part's header is built here and written before its bytes.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		b.code, b.length = http.StatusPartialContent, 0
		for _, ra := range ranges {
			_, _ = mw.CreatePart(ra.mimeHeader(ctype, size)) // a bytes.Buffer never fails
			b.parts = append(b.parts, bytes.Clone(buf.Bytes()))
			buf.Reset()
			b.length += int64(len(b.parts[len(b.parts)-1])) + ra.length
		}
		_ = mw.Close()
		b.parts = append(b.parts, bytes.Clone(buf.Bytes()))
		b.length += int64(buf.Len())
		w.Header().Set("Content-Type", "multipart/byteranges; boundary="+mw.Boundary())
	}
	return b
}

// writeHeader writes the header and reports whether a body follows.
func (b *body) writeHeader(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Accept-Ranges", "bytes")
	// As net/http: no Content-Length for a whole body when the handler set
	// a Content-Encoding (a compressing wrapper changes the length).
	encoded := w.Header().Get("Content-Encoding") != ""
	if len(b.ranges) > 0 || !encoded {
		w.Header().Set("Content-Length", strconv.FormatInt(b.length, 10))
	}
	w.WriteHeader(b.code)
	if r.Method == http.MethodHead || b.length == 0 {
		return false
	}
	if !encoded && b.length > sniffLen {
		// Without this net/http copies the body's first 512 bytes itself.
		// A body of 512 bytes or less goes out with the header in one
		// write instead: cheaper than a flush and a sendfile.
		_ = http.NewResponseController(w).Flush()
	}
	return true
}

// send writes the body. Errors end it early, as net/http's io.CopyN does:
// the client sees a response shorter than its Content-Length.
func (b *body) send(w http.ResponseWriter, send func(off, n int64) error) {
	if b.parts == nil {
		off, n := int64(0), b.size
		if len(b.ranges) == 1 {
			off, n = b.ranges[0].start, b.ranges[0].length
		}
		_ = send(off, n)
		return
	}
	for i, ra := range b.ranges {
		if _, err := w.Write(b.parts[i]); err != nil {
			return
		}
		if err := send(ra.start, ra.length); err != nil {
			return
		}
	}
	_, _ = w.Write(b.parts[len(b.ranges)])
}

// What follows is net/http's fs.go (Go 1.26, BSD licence), with the
// header lookups its unexported helpers make written out.

// serveError is net/http's: it drops the headers that described the
// content before writing the error. (net/http keeps them under
// GODEBUG=httpservecontentkeepheaders=1; this function does not look.)
func serveError(w http.ResponseWriter, text string, code int) {
	h := w.Header()
	for _, k := range []string{"Cache-Control", "Content-Encoding", "Etag", "Last-Modified"} {
		h.Del(k)
	}
	http.Error(w, text, code)
}

var errNoOverlap = errors.New("invalid range: failed to overlap")

// scanETag returns the entity tag at the start of s and what follows it,
// or "", "".
func scanETag(s string) (etag string, remain string) {
	s = textproto.TrimString(s)
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s[start:]) < 2 || s[start] != '"' {
		return "", ""
	}
	for i := start + 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x21 || c >= 0x23 && c <= 0x7E || c >= 0x80:
		case c == '"':
			return s[:i+1], s[i+1:]
		default:
			return "", ""
		}
	}
	return "", ""
}

func etagStrongMatch(a, b string) bool { return a == b && a != "" && a[0] == '"' }

func etagWeakMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

type condResult int

const (
	condNone condResult = iota
	condTrue
	condFalse
)

// header returns the first value of a header set under its canonical key,
// as net/http's unexported Header.get does.
func header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func checkIfMatch(w http.ResponseWriter, r *http.Request) condResult {
	im := r.Header.Get("If-Match")
	if im == "" {
		return condNone
	}
	for {
		im = textproto.TrimString(im)
		if len(im) == 0 {
			break
		}
		if im[0] == ',' {
			im = im[1:]
			continue
		}
		if im[0] == '*' {
			return condTrue
		}
		etag, remain := scanETag(im)
		if etag == "" {
			break
		}
		if etagStrongMatch(etag, header(w.Header(), "Etag")) {
			return condTrue
		}
		im = remain
	}
	return condFalse
}

func checkIfUnmodifiedSince(r *http.Request, modtime time.Time) condResult {
	ius := r.Header.Get("If-Unmodified-Since")
	if ius == "" || isZeroTime(modtime) {
		return condNone
	}
	t, err := http.ParseTime(ius)
	if err != nil {
		return condNone
	}
	// Last-Modified has no sub-second part: nor may modtime here.
	if modtime.Truncate(time.Second).Compare(t) <= 0 {
		return condTrue
	}
	return condFalse
}

func checkIfNoneMatch(w http.ResponseWriter, r *http.Request) condResult {
	inm := header(r.Header, "If-None-Match")
	if inm == "" {
		return condNone
	}
	buf := inm
	for {
		buf = textproto.TrimString(buf)
		if len(buf) == 0 {
			break
		}
		if buf[0] == ',' {
			buf = buf[1:]
			continue
		}
		if buf[0] == '*' {
			return condFalse
		}
		etag, remain := scanETag(buf)
		if etag == "" {
			break
		}
		if etagWeakMatch(etag, header(w.Header(), "Etag")) {
			return condFalse
		}
		buf = remain
	}
	return condTrue
}

func checkIfModifiedSince(r *http.Request, modtime time.Time) condResult {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return condNone
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || isZeroTime(modtime) {
		return condNone
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return condNone
	}
	if modtime.Truncate(time.Second).Compare(t) <= 0 {
		return condFalse
	}
	return condTrue
}

func checkIfRange(w http.ResponseWriter, r *http.Request, modtime time.Time) condResult {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return condNone
	}
	ir := header(r.Header, "If-Range")
	if ir == "" {
		return condNone
	}
	if etag, _ := scanETag(ir); etag != "" {
		if etagStrongMatch(etag, w.Header().Get("Etag")) {
			return condTrue
		}
		return condFalse
	}
	// The value may be a date instead of an entity tag
	// (golang.org/issue/8367).
	if modtime.IsZero() {
		return condFalse
	}
	t, err := http.ParseTime(ir)
	if err != nil {
		return condFalse
	}
	if t.Unix() == modtime.Unix() {
		return condTrue
	}
	return condFalse
}

var unixEpochTime = time.Unix(0, 0)

func isZeroTime(t time.Time) bool { return t.IsZero() || t.Equal(unixEpochTime) }

func setLastModified(w http.ResponseWriter, modtime time.Time) {
	if !isZeroTime(modtime) {
		w.Header().Set("Last-Modified", modtime.UTC().Format(http.TimeFormat))
	}
}

func writeNotModified(w http.ResponseWriter) {
	h := w.Header()
	delete(h, "Content-Type")
	delete(h, "Content-Length")
	delete(h, "Content-Encoding")
	if h.Get("Etag") != "" {
		delete(h, "Last-Modified")
	}
	w.WriteHeader(http.StatusNotModified)
}

// checkPreconditions evaluates the request's preconditions (RFC 9110
// section 13.2.2) and reports whether it answered 304 or 412 already.
func checkPreconditions(w http.ResponseWriter, r *http.Request, modtime time.Time) (done bool, rangeHeader string) {
	ch := checkIfMatch(w, r)
	if ch == condNone {
		ch = checkIfUnmodifiedSince(r, modtime)
	}
	if ch == condFalse {
		w.WriteHeader(http.StatusPreconditionFailed)
		return true, ""
	}
	switch checkIfNoneMatch(w, r) {
	case condFalse:
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			writeNotModified(w)
			return true, ""
		}
		w.WriteHeader(http.StatusPreconditionFailed)
		return true, ""
	case condNone:
		if checkIfModifiedSince(r, modtime) == condFalse {
			writeNotModified(w)
			return true, ""
		}
	}
	rangeHeader = header(r.Header, "Range")
	if rangeHeader != "" && checkIfRange(w, r, modtime) == condFalse {
		rangeHeader = ""
	}
	return false, rangeHeader
}

type httpRange struct {
	start, length int64
}

func (r httpRange) contentRange(size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", r.start, r.start+r.length-1, size)
}

func (r httpRange) mimeHeader(contentType string, size int64) textproto.MIMEHeader {
	return textproto.MIMEHeader{
		"Content-Range": {r.contentRange(size)},
		"Content-Type":  {contentType},
	}
}

// parseRange parses a Range header (RFC 9110 section 14.2); errNoOverlap
// means no range starts inside the file.
func parseRange(s string, size int64) ([]httpRange, error) {
	if s == "" {
		return nil, nil
	}
	const b = "bytes="
	if !strings.HasPrefix(s, b) {
		return nil, errInvalidRange
	}
	var ranges []httpRange
	noOverlap := false
	for _, ra := range strings.Split(s[len(b):], ",") {
		ra = textproto.TrimString(ra)
		if ra == "" {
			continue
		}
		r, overlaps, err := parseOneRange(ra, size)
		switch {
		case err != nil:
			return nil, err
		case !overlaps:
			noOverlap = true
		default:
			ranges = append(ranges, r)
		}
	}
	if noOverlap && len(ranges) == 0 {
		return nil, errNoOverlap
	}
	return ranges, nil
}

var errInvalidRange = errors.New("invalid range")

// parseOneRange parses one "start-end", "start-" or "-suffix" of a Range
// header; overlaps is false for a range that starts past the file.
func parseOneRange(ra string, size int64) (r httpRange, overlaps bool, err error) {
	start, end, ok := strings.Cut(ra, "-")
	if !ok {
		return r, false, errInvalidRange
	}
	start, end = textproto.TrimString(start), textproto.TrimString(end)
	if start == "" {
		// A suffix: the last end bytes.
		if end == "" || end[0] == '-' {
			return r, false, errInvalidRange
		}
		i, err := strconv.ParseInt(end, 10, 64)
		if i < 0 || err != nil {
			return r, false, errInvalidRange
		}
		r.start = size - min(i, size)
		r.length = size - r.start
		return r, true, nil
	}
	i, err := strconv.ParseInt(start, 10, 64)
	if err != nil || i < 0 {
		return r, false, errInvalidRange
	}
	if i >= size {
		return r, false, nil
	}
	r.start, r.length = i, size-i
	if end != "" {
		i, err := strconv.ParseInt(end, 10, 64)
		if err != nil || r.start > i {
			return r, false, errInvalidRange
		}
		r.length = min(i, size-1) - r.start + 1
	}
	return r, true, nil
}

func sumRangesSize(ranges []httpRange) (size int64) {
	for _, ra := range ranges {
		size += ra.length
	}
	return size
}
