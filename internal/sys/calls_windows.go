package sys

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Windows calls of the mmap and directio packages and of SendFile's
// TransmitFile path. Like the Linux calls they are package variables that
// tests replace to inject faults; production code never reassigns them.
// Handles are syscall.Handle, so that no other package needs
// golang.org/x/sys.
var (
	// CreateFileMapping makes a section of file h with page protection
	// prot (PAGE_*), as large as the file (maximum size 0).
	CreateFileMapping = func(h syscall.Handle, prot uint32) (syscall.Handle, error) {
		s, err := windows.CreateFileMapping(windows.Handle(h), nil, prot, 0, 0, nil)
		return syscall.Handle(s), err
	}
	// MapViewOfFile maps length bytes of section s from off (a multiple
	// of AllocationGranularity) with access FILE_MAP_*.
	MapViewOfFile = func(s syscall.Handle, access uint32, off int64, length int) ([]byte, error) {
		addr, err := windows.MapViewOfFile(windows.Handle(s), access, uint32(uint64(off)>>32), uint32(off), uintptr(length))
		if err != nil {
			return nil, err
		}
		return viewBytes(addr, length), nil
	}
	// UnmapViewOfFile unmaps a view that MapViewOfFile returned.
	UnmapViewOfFile = func(b []byte) error { return windows.UnmapViewOfFile(addrOf(b)) }
	// FlushViewOfFile starts writing the view's dirty pages to the file.
	FlushViewOfFile = func(b []byte) error { return windows.FlushViewOfFile(addrOf(b), uintptr(len(b))) }
	// FlushFileBuffers waits until the file's data is on the disk.
	FlushFileBuffers = func(h syscall.Handle) error { return windows.FlushFileBuffers(windows.Handle(h)) }
	// VirtualLock keeps the pages in the working set; VirtualUnlock lets
	// them go (and, on pages not locked, trims them from it:
	// ERROR_NOT_LOCKED).
	VirtualLock   = func(b []byte) error { return windows.VirtualLock(addrOf(b), uintptr(len(b))) }
	VirtualUnlock = func(b []byte) error { return windows.VirtualUnlock(addrOf(b), uintptr(len(b))) }
	CloseHandle   = func(h syscall.Handle) error { return windows.CloseHandle(windows.Handle(h)) }
	// PrefetchVirtualMemory asks Windows (8 and later) to read the pages
	// of b in now. An error wrapping ErrUnsupported
	// means the call is missing.
	PrefetchVirtualMemory = func(b []byte) error {
		if err := procPrefetchVirtualMemory.Find(); err != nil {
			return errors.Join(ErrUnsupported, err)
		}
		e := struct{ va, n uintptr }{addrOf(b), uintptr(len(b))} // WIN32_MEMORY_RANGE_ENTRY
		r, _, err := procPrefetchVirtualMemory.Call(uintptr(windows.CurrentProcess()), 1, uintptr(unsafe.Pointer(&e)), 0)
		if r == 0 {
			return err
		}
		return nil
	}
	// ReOpenFile opens the file of handle h again: a new file object with
	// its own access, sharing and flags (FILE_FLAG_*), and its own file
	// position. The caller owns the new handle.
	ReOpenFile = func(h syscall.Handle, access, share, flags uint32) (syscall.Handle, error) {
		if err := procReOpenFile.Find(); err != nil {
			return syscall.InvalidHandle, errors.Join(ErrUnsupported, err)
		}
		r, _, err := procReOpenFile.Call(uintptr(h), uintptr(access), uintptr(share), uintptr(flags))
		if syscall.Handle(r) == syscall.InvalidHandle {
			return syscall.InvalidHandle, err
		}
		return syscall.Handle(r), nil
	}
	// FileMode is NtQueryInformationFile(FileModeInformation): the
	// handle's FILE_* mode flags (FILE_NO_INTERMEDIATE_BUFFERING,
	// FILE_WRITE_THROUGH, FILE_SYNCHRONOUS_IO_*).
	FileMode = func(h syscall.Handle) (uint32, error) {
		var mode uint32
		var iosb windows.IO_STATUS_BLOCK
		err := ntQueryInformationFile(windows.Handle(h), &iosb, unsafe.Pointer(&mode), 4, fileModeInformation)
		return mode, ntError(err)
	}
	// FileAccess is NtQueryInformationFile(FileAccessInformation): the
	// access the handle was granted.
	FileAccess = func(h syscall.Handle) (uint32, error) {
		var access uint32
		var iosb windows.IO_STATUS_BLOCK
		err := ntQueryInformationFile(windows.Handle(h), &iosb, unsafe.Pointer(&access), 4, fileAccessInformation)
		return access, ntError(err)
	}
	// StorageInfo is GetFileInformationByHandleEx(FileStorageInfo)
	// (Windows 8 and later): the logical sector size and the physical one
	// that performs best.
	StorageInfo = func(h syscall.Handle) (logical, physical uint32, err error) {
		var si fileStorageInfo
		err = windows.GetFileInformationByHandleEx(windows.Handle(h), windows.FileStorageInfo, (*byte)(unsafe.Pointer(&si)), uint32(unsafe.Sizeof(si)))
		return si.LogicalBytesPerSector, si.PhysicalBytesPerSectorForPerformance, err
	}
	// SectorSize is GetDiskFreeSpace's bytes per sector for the volume
	// that holds h's file (found with GetFinalPathNameByHandle and
	// GetVolumePathName).
	SectorSize = func(h syscall.Handle) (uint32, error) {
		path := make([]uint16, 260)
		for {
			n, err := windows.GetFinalPathNameByHandle(windows.Handle(h), &path[0], uint32(len(path)), 0)
			if err != nil {
				return 0, os.NewSyscallError("GetFinalPathNameByHandle", err)
			}
			if int(n) < len(path) {
				path = path[:n+1]
				break
			}
			if int(n) >= windows.MAX_LONG_PATH {
				return 0, errors.New("GetFinalPathNameByHandle: path too long")
			}
			path = make([]uint16, n+1) // n: the size needed, the NUL included
		}
		vol := make([]uint16, len(path)+1)
		if err := windows.GetVolumePathName(&path[0], &vol[0], uint32(len(vol))); err != nil {
			return 0, os.NewSyscallError("GetVolumePathName", err)
		}
		var spc, bps, free, total uint32
		r, _, err := procGetDiskFreeSpaceW.Call(uintptr(unsafe.Pointer(&vol[0])), uintptr(unsafe.Pointer(&spc)),
			uintptr(unsafe.Pointer(&bps)), uintptr(unsafe.Pointer(&free)), uintptr(unsafe.Pointer(&total)))
		if r == 0 {
			return 0, os.NewSyscallError("GetDiskFreeSpace", err)
		}
		return bps, nil
	}
	// ReadAt reads into b at off with one ReadFile (an OVERLAPPED offset)
	// on a synchronous handle. It moves the handle's file position (use a
	// handle of its own). At or past the end of the file it returns 0, nil.
	ReadAt = func(h syscall.Handle, b []byte, off int64) (int, error) {
		var done uint32
		ov := windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(uint64(off) >> 32)}
		err := windows.ReadFile(windows.Handle(h), b, &done, &ov)
		if err == windows.ERROR_HANDLE_EOF {
			err = nil
		}
		return int(done), err
	}
	// WriteAt writes b at off with one WriteFile (an OVERLAPPED offset) on
	// a synchronous handle, which moves its file position. A negative off
	// writes at the end of the file (Offset and OffsetHigh 0xFFFFFFFF).
	WriteAt = func(h syscall.Handle, b []byte, off int64) (int, error) {
		var done uint32
		if off < 0 {
			off = -1
		}
		ov := windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(uint64(off) >> 32)}
		err := windows.WriteFile(windows.Handle(h), b, &done, &ov)
		return int(done), err
	}
)

var (
	kernel32                  = windows.NewLazySystemDLL("kernel32.dll")
	procPrefetchVirtualMemory = kernel32.NewProc("PrefetchVirtualMemory")
	procReOpenFile            = kernel32.NewProc("ReOpenFile")
	procGetDiskFreeSpaceW     = kernel32.NewProc("GetDiskFreeSpaceW")
	procGetSystemInfo         = kernel32.NewProc("GetSystemInfo")
)

// NtQueryInformationFile classes (FILE_INFORMATION_CLASS).
const (
	fileAccessInformation = 8
	fileModeInformation   = 16
)

// fileStorageInfo is FILE_STORAGE_INFO.
type fileStorageInfo struct {
	LogicalBytesPerSector                                 uint32
	PhysicalBytesPerSectorForAtomicity                    uint32
	PhysicalBytesPerSectorForPerformance                  uint32
	FileSystemEffectivePhysicalBytesPerSectorForAtomicity uint32
	Flags                                                 uint32
	ByteOffsetForSectorAlignment                          uint32
	ByteOffsetForPartitionAlignment                       uint32
}

// ntError turns an NTSTATUS error into the Win32 error it stands for, as
// the rest of the module sees errors (syscall.Errno).
// procNtQueryInformationFile is ntdll's NtQueryInformationFile, loaded
// here: golang.org/x/sys has it only from v0.45.0, which needs Go 1.25, and
// the module supports Go 1.22.
var procNtQueryInformationFile = windows.NewLazySystemDLL("ntdll.dll").NewProc("NtQueryInformationFile")

func ntQueryInformationFile(h windows.Handle, iosb *windows.IO_STATUS_BLOCK, info unsafe.Pointer, n uint32, class uint32) error {
	r, _, _ := procNtQueryInformationFile.Call(uintptr(h), uintptr(unsafe.Pointer(iosb)), uintptr(info), uintptr(n), uintptr(class))
	if r != 0 {
		return windows.NTStatus(r)
	}
	return nil
}

func ntError(err error) error {
	if st, ok := err.(windows.NTStatus); ok {
		return syscall.Errno(st.Errno())
	}
	return err
}

// AllocationGranularity is the alignment of a view's file offset and
// address: 64 KiB, not the 4 KiB page.
var AllocationGranularity = sync.OnceValue(func() int {
	var si struct { // SYSTEM_INFO
		arch                    uint16
		reserved                uint16
		pageSize                uint32
		minAddr, maxAddr        uintptr
		activeMask              uintptr
		numProcs, procType      uint32
		allocationGranularity   uint32
		procLevel, procRevision uint16
	}
	procGetSystemInfo.Call(uintptr(unsafe.Pointer(&si)))
	if g := int(si.allocationGranularity); g > 0 && g&(g-1) == 0 {
		return g
	}
	return 64 << 10
})

// Re-exported for packages that do not import golang.org/x/sys.
const (
	PAGE_READONLY  = windows.PAGE_READONLY
	PAGE_READWRITE = windows.PAGE_READWRITE
	PAGE_WRITECOPY = windows.PAGE_WRITECOPY
	FILE_MAP_READ  = windows.FILE_MAP_READ
	FILE_MAP_WRITE = windows.FILE_MAP_WRITE
	FILE_MAP_COPY  = windows.FILE_MAP_COPY

	GENERIC_READ      = windows.GENERIC_READ
	GENERIC_WRITE     = windows.GENERIC_WRITE
	FILE_WRITE_DATA   = windows.FILE_WRITE_DATA
	FILE_APPEND_DATA  = windows.FILE_APPEND_DATA
	FILE_SHARE_READ   = windows.FILE_SHARE_READ
	FILE_SHARE_WRITE  = windows.FILE_SHARE_WRITE
	FILE_SHARE_DELETE = windows.FILE_SHARE_DELETE

	FILE_FLAG_NO_BUFFERING    = windows.FILE_FLAG_NO_BUFFERING
	FILE_FLAG_WRITE_THROUGH   = windows.FILE_FLAG_WRITE_THROUGH
	FILE_FLAG_OVERLAPPED      = windows.FILE_FLAG_OVERLAPPED
	FILE_FLAG_SEQUENTIAL_SCAN = windows.FILE_FLAG_SEQUENTIAL_SCAN
	// FILE_NO_INTERMEDIATE_BUFFERING is FileMode's bit for a handle opened
	// with FILE_FLAG_NO_BUFFERING.
	FILE_NO_INTERMEDIATE_BUFFERING = windows.FILE_NO_INTERMEDIATE_BUFFERING

	ERROR_ACCESS_DENIED     = windows.ERROR_ACCESS_DENIED
	ERROR_INVALID_PARAMETER = windows.ERROR_INVALID_PARAMETER
	ERROR_NOT_LOCKED        = windows.ERROR_NOT_LOCKED
	ERROR_WORKING_SET_QUOTA = windows.ERROR_WORKING_SET_QUOTA
	ERROR_USER_MAPPED_FILE  = windows.ERROR_USER_MAPPED_FILE
	ERROR_MAPPED_ALIGNMENT  = windows.ERROR_MAPPED_ALIGNMENT
	ERROR_NOT_SUPPORTED     = windows.ERROR_NOT_SUPPORTED
	ERROR_SHARING_VIOLATION = windows.ERROR_SHARING_VIOLATION
	WSAEOPNOTSUPP           = windows.WSAEOPNOTSUPP
	WSAENOTSOCK             = windows.WSAENOTSOCK
	WSAEINVAL               = windows.WSAEINVAL
	WSAECONNRESET           = windows.WSAECONNRESET
)

// Handle returns the handle behind f through its RawConn (never Fd), for
// the duration of fn: f cannot be closed under it.
func Handle(f interface {
	SyscallConn() (syscall.RawConn, error)
}, fn func(h syscall.Handle)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { fn(syscall.Handle(fd)) })
}

// Dup returns a new *os.File for a duplicate of f's handle
// (DuplicateHandle, same access, not inheritable). The duplicate shares
// f's file object (and so its file position). The caller owns and closes
// the result; f stays the caller's.
func Dup(f *os.File) (*os.File, error) {
	var nh windows.Handle
	var derr error
	if err := Handle(f, func(h syscall.Handle) {
		p := windows.CurrentProcess()
		derr = windows.DuplicateHandle(p, windows.Handle(h), p, &nh, 0, false, windows.DUPLICATE_SAME_ACCESS)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("DuplicateHandle", derr)
	}
	return os.NewFile(uintptr(nh), f.Name()), nil
}

// Reopen opens f's file again through ReOpenFile (a file object of its
// own: its position and flags are not f's) and returns it as an *os.File
// carrying f's name. The caller owns and closes the result.
func Reopen(f *os.File, access, share, flags uint32) (*os.File, error) {
	var nh syscall.Handle
	var rerr error
	if err := Handle(f, func(h syscall.Handle) { nh, rerr = ReOpenFile(h, access, share, flags) }); err != nil {
		return nil, err
	}
	if rerr != nil {
		if errors.Is(rerr, ErrUnsupported) {
			return nil, rerr
		}
		return nil, os.NewSyscallError("ReOpenFile", rerr)
	}
	return os.NewFile(uintptr(nh), f.Name()), nil
}
