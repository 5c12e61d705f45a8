package zerocopy

import (
	"io"
	"net"
	"os"
	"runtime"
)

// The standard library's own fast paths off Linux. io.Copy reaches them
// only for its concrete types, through (*net.TCPConn).ReadFrom and
// (*os.File).ReadFrom (Go 1.25 and 1.26):
//
//	platform  *os.File -> *net.TCPConn    *os.File -> *os.File
//	darwin    sendfile                    -
//	freebsd   sendfile                    copy_file_range
//	windows   TransmitFile                -
//
// Where this build has no kernel path of its own (every platform but
// Linux; never under the purego tag, which stays buffered-only), Copy and
// CopyN hand such a pair to that ReadFrom and report MethodStdlib. Both
// sides are the stdlib's concrete types, so no user method runs and
// nothing can recurse.

// stdKind is a stdlib concrete type with a fast path somewhere.
type stdKind uint8

const (
	stdOther stdKind = iota
	stdFile          // *os.File
	stdTCP           // *net.TCPConn
)

// stdPair is a source kind and a destination kind.
type stdPair struct{ src, dst stdKind }

// pathTable lists the pairs a platform's stdlib has a fast path for.
type pathTable map[stdPair]bool

// platformPaths is the table for each platform without paths of our own.
var platformPaths = map[string]pathTable{
	"darwin":  {{stdFile, stdTCP}: true},
	"freebsd": {{stdFile, stdTCP}: true, {stdFile, stdFile}: true},
	"windows": {{stdFile, stdTCP}: true},
}

// stdlibPaths is this build's table: nil on Linux and under purego.
var stdlibPaths = func() pathTable {
	if !useStdlibPaths {
		return nil
	}
	return platformPaths[runtime.GOOS]
}()

// stdlibPair returns the destination's ReaderFrom and the file source
// (with the LimitedReader around it, if any) when table lists the pair.
func stdlibPair(table pathTable, dst io.Writer, src io.Reader) (rf io.ReaderFrom, f *os.File, lr *io.LimitedReader, ok bool) {
	if len(table) == 0 {
		return nil, nil, nil, false
	}
	lr, _ = src.(*io.LimitedReader)
	if lr != nil {
		src = lr.R
	}
	f, isFile := src.(*os.File)
	if !isFile || f == nil {
		return nil, nil, nil, false
	}
	var k stdKind
	switch d := dst.(type) {
	case *net.TCPConn:
		k, rf = stdTCP, d
	case *os.File:
		k, rf = stdFile, d
	}
	if k == stdOther || !table[stdPair{stdFile, k}] {
		return nil, nil, nil, false
	}
	return rf, f, lr, true
}

// stdlib runs a pair the platform's stdlib has a fast path for through its
// concrete ReadFrom. ok is false when the pair is not one.
func (c *Copier) stdlib(dst io.Writer, src io.Reader, limit int64, t *tally) (n int64, err error, ok bool) {
	rf, f, lr, ok := stdlibPair(stdlibPaths, dst, src)
	if !ok {
		return 0, nil, false
	}
	if t.prog != nil {
		return 0, nil, false // bounded chunks: the buffered path
	}
	n0 := int64(-1)
	if lr != nil {
		n0 = max(lr.N, 0)
	}
	want := minLimit(limit, n0)
	if n0 < 0 {
		want = limit
	}
	var r io.Reader = f
	if want >= 0 {
		r = &io.LimitedReader{R: f, N: want}
	}
	n, err = rf.ReadFrom(r)
	if lr != nil {
		lr.N -= n
	}
	t.bytes[MethodStdlib] += n
	if err == nil {
		t.finished, t.ran = MethodStdlib, true
	}
	return n, err, true
}
