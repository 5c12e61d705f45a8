//go:build windows && !purego

package mmap

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Windows maps with a section (CreateFileMapping) and a view of it
// (MapViewOfFile): the pages are the file's, shared with the system cache
// and every other mapping of the file; nothing is copied.
const supportsReadWrite = true

// view maps length bytes of r.file from r.off: a section as large as the
// file, and a view of it from the allocation-granularity boundary (64 KiB,
// not the page) at or before r.off. The section handle is closed at once:
// the view keeps the section alive, and the section the file.
func (r *region) view(mode Mode, length int) (mem []byte, delta int, err error) {
	g := int64(sys.AllocationGranularity())
	aligned := r.off &^ (g - 1)
	delta = int(r.off - aligned)
	prot, access := protAccess(mode)
	var merr error
	if err := sys.Handle(r.file, func(h syscall.Handle) {
		s, err := sys.CreateFileMapping(h, prot)
		if err != nil {
			merr = os.NewSyscallError("CreateFileMapping", err)
			return
		}
		mem, err = sys.MapViewOfFile(s, access, aligned, delta+length)
		if err != nil {
			merr = os.NewSyscallError("MapViewOfFile", err)
		}
		_ = sys.CloseHandle(s)
	}); err != nil {
		return nil, 0, err
	}
	return mem, delta, merr
}

// mapIn maps [r.off, r.off+length) of r.file.
func (r *region) mapIn(mode Mode, length int) error {
	mem, delta, err := r.view(mode, length)
	if err != nil {
		return err
	}
	r.mem, r.delta, r.data = mem, delta, mem[delta:delta+length]
	return nil
}

func protAccess(mode Mode) (prot, access uint32) {
	switch mode {
	case ReadWrite:
		return sys.PAGE_READWRITE, sys.FILE_MAP_READ | sys.FILE_MAP_WRITE
	case CopyOnWrite:
		return sys.PAGE_WRITECOPY, sys.FILE_MAP_COPY
	}
	return sys.PAGE_READONLY, sys.FILE_MAP_READ
}

// remap maps the new length before it unmaps the old view, so that a
// CopyOnWrite mapping keeps this process's changes in the part that stays
// (a fresh view would show the file's bytes there).
func (r *region) remap(mode Mode, length int) error {
	mem, delta, err := r.view(mode, length)
	if err != nil {
		return err
	}
	if mode == CopyOnWrite {
		copy(mem[delta:delta+length], r.data)
	}
	old := r.mem
	r.mem, r.delta, r.data = mem, delta, mem[delta:delta+length]
	if err := sys.UnmapViewOfFile(old); err != nil {
		return os.NewSyscallError("UnmapViewOfFile", err)
	}
	return nil
}

func (r *region) unmap() error {
	if r.mem == nil {
		return nil
	}
	err := sys.UnmapViewOfFile(r.mem)
	r.mem, r.data = nil, nil
	if err != nil {
		return os.NewSyscallError("UnmapViewOfFile", err)
	}
	return nil
}

// sync writes the view's dirty pages (FlushViewOfFile, which only starts
// the writes) and waits until the file's data is on the disk
// (FlushFileBuffers): msync(MS_SYNC)'s guarantee.
func (r *region) sync() error {
	if err := sys.FlushViewOfFile(r.mem); err != nil {
		return os.NewSyscallError("FlushViewOfFile", err)
	}
	var ferr error
	if err := sys.Handle(r.file, func(h syscall.Handle) { ferr = sys.FlushFileBuffers(h) }); err != nil {
		return err
	}
	if ferr != nil {
		return os.NewSyscallError("FlushFileBuffers", ferr)
	}
	return nil
}

// advise maps the advice to what Windows has for a view: WillNeed is
// PrefetchVirtualMemory, DontNeed trims the pages from the working set
// (VirtualUnlock on pages that are not locked; it also ends a Lock), and
// Normal is what a view always is. Windows has no access-pattern hint for
// a view: Sequential and Random return an error wrapping errors.ErrUnsupported.
func (r *region) advise(a Advice) error {
	switch a {
	case Normal:
		return nil
	case WillNeed:
		err := sys.PrefetchVirtualMemory(r.mem)
		if err == nil || errors.Is(err, errors.ErrUnsupported) {
			return nil // Windows 7 has no prefetch: advice is only advice
		}
		return os.NewSyscallError("PrefetchVirtualMemory", err)
	case DontNeed:
		err := sys.VirtualUnlock(r.mem)
		if err == nil || errors.Is(err, sys.ERROR_NOT_LOCKED) {
			return nil // ERROR_NOT_LOCKED: the pages were trimmed
		}
		return os.NewSyscallError("VirtualUnlock", err)
	}
	return fmt.Errorf("mmap: Advise: %v: Windows has no access-pattern hint for a mapped view: %w", a, errors.ErrUnsupported)
}

func (r *region) lock() error {
	err := sys.VirtualLock(r.mem)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sys.ERROR_WORKING_SET_QUOTA):
		return fmt.Errorf("mmap: Lock: %d bytes exceed what this process may lock (its minimum working set: SetProcessWorkingSetSize): %w",
			len(r.mem), os.NewSyscallError("VirtualLock", err))
	}
	return os.NewSyscallError("VirtualLock", err)
}

func (r *region) unlock() error {
	err := sys.VirtualUnlock(r.mem)
	if err == nil || errors.Is(err, sys.ERROR_NOT_LOCKED) {
		return nil
	}
	return os.NewSyscallError("VirtualUnlock", err)
}

// accessDenied reports an error that means the file's handle lacks the
// access the mode needs.
func accessDenied(err error) bool { return errors.Is(err, sys.ERROR_ACCESS_DENIED) }
