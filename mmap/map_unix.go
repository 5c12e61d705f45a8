//go:build (linux || darwin || freebsd) && !purego

package mmap

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

const supportsReadWrite = true

// mapIn maps [r.off, r.off+length) of r.file.
func (r *region) mapIn(mode Mode, length int) error {
	aligned := r.off &^ int64(pageSize-1)
	delta := int(r.off - aligned)
	prot, flags := protFlags(mode)
	var mem []byte
	var merr error
	rc, err := r.file.SyscallConn()
	if err != nil {
		return err
	}
	if err := rc.Control(func(fd uintptr) {
		mem, merr = sys.Mmap(int(fd), aligned, delta+length, prot, flags)
	}); err != nil {
		return err
	}
	if merr != nil {
		return os.NewSyscallError("mmap", merr)
	}
	r.mem, r.delta, r.data = mem, delta, mem[delta:delta+length]
	return nil
}

func protFlags(mode Mode) (prot, flags int) {
	switch mode {
	case ReadWrite:
		return sys.PROT_READ | sys.PROT_WRITE, sys.MAP_SHARED
	case CopyOnWrite:
		return sys.PROT_READ | sys.PROT_WRITE, sys.MAP_PRIVATE
	}
	return sys.PROT_READ, sys.MAP_SHARED
}

func (r *region) unmap() error {
	if r.mem == nil {
		return nil
	}
	err := sys.Munmap(r.mem)
	r.mem, r.data = nil, nil
	if err != nil {
		return os.NewSyscallError("munmap", err)
	}
	return nil
}

func (r *region) sync() error {
	if err := sys.Msync(r.mem, sys.MS_SYNC); err != nil {
		return os.NewSyscallError("msync", err)
	}
	return nil
}

var adviceFlags = [...]int{
	Normal:     sys.MADV_NORMAL,
	Sequential: sys.MADV_SEQUENTIAL,
	Random:     sys.MADV_RANDOM,
	WillNeed:   sys.MADV_WILLNEED,
	DontNeed:   sys.MADV_DONTNEED,
}

func (r *region) advise(a Advice) error {
	err := sys.Madvise(r.mem, adviceFlags[a])
	if err == nil || errors.Is(err, syscall.ENOSYS) {
		return nil // a kernel without madvise: advice is only advice
	}
	return os.NewSyscallError("madvise", err)
}

func (r *region) lock() error {
	err := sys.Mlock(r.mem)
	switch {
	case err == nil, errors.Is(err, syscall.ENOSYS):
		return nil
	case errors.Is(err, syscall.ENOMEM), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EAGAIN):
		lim, _ := sys.MemlockLimit()
		return fmt.Errorf("mmap: Lock: %d bytes exceed what this process may lock (RLIMIT_MEMLOCK %d bytes): %w",
			len(r.mem), lim, os.NewSyscallError("mlock", err))
	}
	return os.NewSyscallError("mlock", err)
}

func (r *region) unlock() error {
	err := sys.Munlock(r.mem)
	if err == nil || errors.Is(err, syscall.ENOSYS) {
		return nil
	}
	return os.NewSyscallError("munlock", err)
}

// accessDenied reports an error that means the descriptor lacks the access
// the mode needs.
func accessDenied(err error) bool { return errors.Is(err, syscall.EACCES) }
