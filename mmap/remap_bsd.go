//go:build (darwin || freebsd) && !purego

package mmap

// remap resizes by unmapping and mapping again: these kernels have no
// mremap.
func (r *region) remap(mode Mode, length int) error {
	if err := r.unmap(); err != nil {
		return err
	}
	return r.mapIn(mode, length)
}
