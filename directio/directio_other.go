//go:build !(linux || darwin || windows) || purego

package directio

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// OpenFile returns an error wrapping errors.ErrUnsupported: this build has no
// direct I/O. Readers and Writers still work on ordinary files.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return nil, fmt.Errorf("directio: OpenFile %s: no direct I/O on %s (or under purego): %w", name, runtime.GOOS, errors.ErrUnsupported)
}
