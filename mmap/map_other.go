//go:build !(linux || darwin || freebsd || windows) || purego

package mmap

import (
	"errors"
	"fmt"
	"io"
)

// This platform (or the purego build) has no mmap here: ReadOnly and
// CopyOnWrite read the range into memory at Map and Resize; ReadWrite is
// refused with errors.ErrUnsupported. The file is copied, so it can never be
// "truncated under" the mapping, and writes never reach it.
const supportsReadWrite = false

func (r *region) mapIn(_ Mode, length int) error {
	buf := make([]byte, length)
	n, err := r.file.ReadAt(buf, r.off)
	if n < length {
		if err == nil || err == io.EOF {
			err = fmt.Errorf("file shorter than %d bytes at offset %d: %w", length, r.off, io.ErrUnexpectedEOF)
		}
		return err
	}
	r.mem, r.data = buf, buf
	return nil
}

func (r *region) remap(mode Mode, length int) error {
	old := r.data
	if err := r.mapIn(mode, length); err != nil {
		return err
	}
	// Keep this process's CopyOnWrite changes in the part that stays.
	copy(r.data, old)
	return nil
}

func (r *region) unmap() error        { r.mem, r.data = nil, nil; return nil }
func (r *region) sync() error         { return nil }
func (r *region) advise(Advice) error { return nil }
func (r *region) unlock() error       { return nil }
func (r *region) lock() error         { return fmt.Errorf("mmap: Lock: %w", errors.ErrUnsupported) }

// accessDenied: the in-memory copy refuses ReadWrite before it reads.
func accessDenied(error) bool { return false }
