package testutil

import (
	"io"
	"syscall"
)

// Conn is the kind of value the wrapper types wrap: anything with a
// descriptor and Read/Write.
type Conn interface {
	syscall.Conn
	io.ReadWriter
}

// Writer wraps a conn and implements only syscall.Conn and io.Writer: no
// ReadFrom, no concrete stdlib type. The stdlib's fast paths do not see
// through it (golang/go#69097); zerocopy must.
type Writer struct{ C Conn }

func (w Writer) SyscallConn() (syscall.RawConn, error) { return w.C.SyscallConn() }
func (w Writer) Write(p []byte) (int, error)           { return w.C.Write(p) }

// CloseWrite lets Feed and CloseWrite end the stream.
func (w Writer) CloseWrite() error {
	if cw, ok := w.C.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return w.C.(io.Closer).Close()
}

// Reader wraps a conn and implements only syscall.Conn and io.Reader.
type Reader struct{ C Conn }

func (r Reader) SyscallConn() (syscall.RawConn, error) { return r.C.SyscallConn() }
func (r Reader) Read(p []byte) (int, error)            { return r.C.Read(p) }

// OnlyReader hides every method of R but Read (no WriterTo, no Conn).
type OnlyReader struct{ R io.Reader }

func (r OnlyReader) Read(p []byte) (int, error) { return r.R.Read(p) }

// OnlyWriter hides every method of W but Write (no ReaderFrom, no Conn).
type OnlyWriter struct{ W io.Writer }

func (w OnlyWriter) Write(p []byte) (int, error) { return w.W.Write(p) }
