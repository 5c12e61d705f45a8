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
	"windows": {{stdFile, stdTCP}: true}, // server editions only: see transmitfile_windows.go
}

// stdlibPaths is this build's table: nil on Linux and under purego.
var stdlibPaths = func() pathTable {
	if !useStdlibPaths {
		return nil
	}
	return platformPaths[runtime.GOOS]
}()

// stdlibPair returns the destination's ReaderFrom and the source file when
// table lists the pair: a file read at its own offset (perhaps behind a
// LimitedReader) into one of the stdlib's concrete types.
func stdlibPair(table pathTable, dst io.Writer, s *source) (io.ReaderFrom, *os.File, bool) {
	f := s.file()
	if len(table) == 0 || f == nil || s.at {
		return nil, nil, false
	}
	var k stdKind
	var rf io.ReaderFrom
	switch d := dst.(type) {
	case *net.TCPConn:
		k, rf = stdTCP, d
	case *os.File:
		k, rf = stdFile, d
	}
	if k == stdOther || !table[stdPair{stdFile, k}] {
		return nil, nil, false
	}
	return rf, f, true
}

// stdlib runs a pair the platform's stdlib has a fast path for through its
// concrete ReadFrom. handled is false, with nothing moved, when the pair is
// not one, or when the call reports progress or has a context (bounded
// steps: the other tries).
func (k *call) stdlib(dst io.Writer, s *source) (int64, bool, error) {
	rf, f, ok := stdlibPair(stdlibPaths, dst, s)
	if !ok || k.prog != nil {
		return 0, false, nil
	}
	var r io.Reader = f
	if s.remain != noLimit {
		r = &io.LimitedReader{R: f, N: s.remain}
	}
	n, err := rf.ReadFrom(r) // moves f's own offset itself
	s.skip(n)
	k.t.add(MethodStdlib, n)
	if err == nil {
		k.t.finish(MethodStdlib)
	}
	return n, true, err
}
