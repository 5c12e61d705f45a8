package splice

import (
	"errors"
	"io"
	"os"
	"strconv"
)

// Splice moves up to n bytes (n < 0: until EOF) from src to dst through the
// kernel, without copying them into user memory, and returns the bytes that
// reached dst.
//
// Either side may be any value implementing syscall.Conn whose descriptor
// is a stream socket, a pipe or a regular file (dst may also be a character
// device such as /dev/null), or a *Pipe: Splice reads from a Pipe's read
// end and writes into its write end. When one side is a pipe, Splice
// splices directly; otherwise it goes through a pooled pipe. A regular file
// is read and written at its own offset, which Splice advances.
//
// If the pair cannot be spliced, Splice returns 0 and an error wrapping
// errors.ErrUnsupported, having consumed nothing. If the kernel refuses part-way
// (EINVAL, ...), every byte taken from src has still reached dst (what was
// in the pipe is written with dst.Write) and the error wraps errors.ErrUnsupported
// too, so the caller can finish with a plain copy. Any other error is
// final, and the count is still exact; bytes already taken from src into
// the pooled pipe are then lost with the pipe, which is closed, never
// reused. With n >= 0, a src that ends early gives io.EOF, as io.CopyN.
//
// Splice does not close dst at EOF: for a TCP or Unix conn, call CloseWrite
// to pass the end on (see examples/proxy).
func Splice(dst io.Writer, src io.Reader, n int64) (int64, error) {
	if dst == nil || src == nil {
		return 0, errors.New("splice: Splice: nil reader or writer")
	}
	if n == 0 {
		return 0, nil
	}
	moved, done, err := splice(dst, src, n)
	if err == nil && done && n > 0 && moved < n {
		err = io.EOF
	}
	return moved, err
}

// Tee moves up to n bytes (n < 0: until EOF) from src to both dst and side,
// reading src once: tee(2) duplicates the pipe's page references, so no
// byte is copied in user memory. A proxy that records a stream to a file
// is the use. It returns the bytes that reached dst. Errors follow
// Splice's rules; n >= 0 with an early end gives io.EOF. When an error
// leaves side with a different count than dst (side refused bytes, or dst
// failed first), the error is a *SideError that holds side's count.
func Tee(dst, side io.Writer, src io.Reader, n int64) (int64, error) {
	if dst == nil || side == nil || src == nil {
		return 0, errors.New("splice: Tee: nil reader or writer")
	}
	if n == 0 {
		return 0, nil
	}
	moved, done, err := tee(dst, side, src, n)
	if err == nil && done && n > 0 && moved < n {
		err = io.EOF
	}
	return moved, err
}

// SideError is Tee's error when side and dst got different counts: the
// count Tee returns is dst's, Side is side's.
type SideError struct {
	Side int64 // bytes that reached side
	Err  error
}

func (e *SideError) Error() string {
	return "splice: Tee: " + e.Err.Error() + " (side got " + strconv.FormatInt(e.Side, 10) + " bytes)"
}

func (e *SideError) Unwrap() error { return e.Err }

// closeWriteEnd closes w; one already closed by CloseWrite is not an error
// (a second Close still reports the read end's ErrClosed).
func closeWriteEnd(w *os.File) error {
	if err := w.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}
