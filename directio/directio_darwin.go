//go:build darwin && !purego

package directio

import (
	"fmt"
	"os"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// OpenFile opens name and turns the page cache off for it with
// fcntl(F_NOCACHE, 1), darwin's counterpart of O_DIRECT: no alignment is
// required, so Readers and Writers on it run their buffered mode
// (Direct() is false) while the kernel keeps the data out of the cache.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = sys.NoCache(int(fd), true) }); err != nil {
		ferr = err
	}
	if ferr != nil {
		f.Close()
		return nil, fmt.Errorf("directio: OpenFile %s: fcntl F_NOCACHE: %w", name, os.NewSyscallError("fcntl", ferr))
	}
	return f, nil
}
