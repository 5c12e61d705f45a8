//go:build !(linux || darwin) || purego

package directio

import (
	"fmt"
	"io"
	"os"
	"runtime"
)

// OpenFile returns an error wrapping ErrUnsupported: this build has no
// direct I/O. Readers and Writers still work on ordinary files.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return nil, fmt.Errorf("directio: OpenFile %s: no direct I/O on %s (or under purego): %w", name, runtime.GOOS, ErrUnsupported)
}

// ReopenDirect returns an error wrapping ErrUnsupported on this build.
func ReopenDirect(f *os.File) (*os.File, error) {
	return nil, fmt.Errorf("directio: ReopenDirect: %w", ErrUnsupported)
}

// AlignmentOf reports a safe 4096/4096: nothing is required here, and it
// is a good block size.
func AlignmentOf(f *os.File) (Alignment, error) { return safeAlignment, nil }

func isDirect(*os.File) bool             { return false }
func isAppend(*os.File) bool             { return false }
func setDirect(*os.File, bool) error     { return nil }
func dropBehind(*os.File, int64, int64)  {}
func flushBehind(*os.File, int64, int64) {}

func pread(f *os.File, b []byte, off int64) (int, error) {
	n, err := f.ReadAt(b, off)
	if err == io.EOF {
		err = nil
	}
	return n, err
}
