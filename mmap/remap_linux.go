//go:build linux && !purego

package mmap

import (
	"os"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// remap resizes the mapping with mremap(MREMAP_MAYMOVE): no unmap window,
// and the pages already in memory stay.
func (r *region) remap(_ Mode, length int) error {
	mem, err := sys.Mremap(r.mem, r.delta+length, sys.MREMAP_MAYMOVE)
	if err != nil {
		return os.NewSyscallError("mremap", err)
	}
	r.mem, r.data = mem, mem[r.delta:r.delta+length]
	return nil
}
