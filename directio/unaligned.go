//go:build !(linux || windows) || purego

package directio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Unaligned I/O: what every build without O_DIRECT shares (darwin, whose
// F_NOCACHE needs no alignment, included). Plain reads and writes at any
// offset and length; nothing to reopen, drop or flush behind.

// ReopenDirect returns an error wrapping errors.ErrUnsupported on this build.
func ReopenDirect(f *os.File, flag int) (*os.File, error) {
	return nil, fmt.Errorf("directio: ReopenDirect: %w", errors.ErrUnsupported)
}

// AlignmentOf reports a safe 4096/4096: nothing is required here, and it
// is a good block size.
func AlignmentOf(f *os.File) (Alignment, error) { return safeAlignment, nil }

func isDirect(*os.File) bool             { return false }
func isAppend(*os.File) bool             { return false }
func dropBehind(*os.File, int64, int64)  {}
func flushBehind(*os.File, int64, int64) {}

// No file is direct here: the Writer writes with f.Write.
func writeDirect(f *os.File, b []byte, _ int64) (int, error)    { return f.Write(b) }
func writeUnaligned(f *os.File, b []byte, _ int64) (int, error) { return f.Write(b) }

func pread(f *os.File, b []byte, off int64) (int, error) {
	n, err := f.ReadAt(b, off)
	if err == io.EOF {
		err = nil
	}
	return n, err
}
