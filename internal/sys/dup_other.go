//go:build !(linux || darwin || freebsd || windows)

package sys

import (
	"errors"
	"os"
	"runtime"
)

// Dup reopens f by name where the platform gives no portable way to
// duplicate a descriptor from Go without Fd. It returns an error wrapping
// ErrUnsupported if that fails.
func Dup(f *os.File) (*os.File, error) {
	g, err := os.Open(f.Name())
	if err != nil {
		return nil, errors.Join(ErrUnsupported, errors.New("sys.Dup on "+runtime.GOOS), err)
	}
	return g, nil
}
