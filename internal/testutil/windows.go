//go:build windows

package testutil

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// Wine reports whether the program runs under Wine (ntdll exports
// wine_get_version), where some Windows facts do not hold: see README.md's
// Platforms section.
func Wine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// Memory is what GetProcessMemoryInfo says of this process.
type Memory struct {
	WorkingSet int64 // bytes of the process's pages in RAM, shared file pages included
	Commit     int64 // the commit charge (PagefileUsage): private memory; a file view is not charged
}

var (
	kernel32             = windows.NewLazySystemDLL("kernel32.dll")
	procGetProcessMemory = kernel32.NewProc("K32GetProcessMemoryInfo")
	procHandleCount      = kernel32.NewProc("GetProcessHandleCount")
	procGetHandleInfo    = kernel32.NewProc("GetHandleInformation")
)

// ProcessMemory returns this process's working set and commit charge.
func ProcessMemory(t testing.TB) Memory {
	t.Helper()
	var c struct { // PROCESS_MEMORY_COUNTERS
		cb                                        uint32
		pageFaultCount                            uint32
		peakWorkingSetSize, workingSetSize        uintptr
		quotaPeakPagedPoolUsage, quotaPagedPool   uintptr
		quotaPeakNonPagedPoolUsage, quotaNonPaged uintptr
		pagefileUsage, peakPagefileUsage          uintptr
	}
	c.cb = uint32(unsafe.Sizeof(c))
	r, _, err := procGetProcessMemory.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&c)), uintptr(c.cb))
	require.NotZero(t, r, "GetProcessMemoryInfo: %v", err)
	return Memory{WorkingSet: int64(c.workingSetSize), Commit: int64(c.pagefileUsage)}
}

// MemoryType returns VirtualQuery's Type for the region holding b[0]:
// MEM_MAPPED (0x40000) for a view of a file, MEM_PRIVATE (0x20000) for
// the Go heap.
func MemoryType(t testing.TB, b []byte) uint32 {
	t.Helper()
	var mbi windows.MemoryBasicInformation
	require.NoError(t, windows.VirtualQuery(uintptr(unsafe.Pointer(&b[0])), &mbi, unsafe.Sizeof(mbi)))
	return mbi.Type
}

// MEM_MAPPED and MEM_PRIVATE are MemoryType's answers.
const (
	MEM_MAPPED  = 0x40000
	MEM_PRIVATE = 0x20000
)

// Descriptors returns the number of handles this process holds: on
// Windows what /dev/fd counts elsewhere. GetProcessHandleCount, or where
// that says 0 (Wine 8's stub) the process's entries in
// NtQuerySystemInformation(SystemHandleInformation).
func Descriptors() (int, error) {
	var n uint32
	r, _, err := procHandleCount.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&n)))
	if r == 0 {
		return 0, os.NewSyscallError("GetProcessHandleCount", err)
	}
	if n > 0 {
		return int(n), nil
	}
	const systemHandleInformation = 16
	type entry struct { // SYSTEM_HANDLE_TABLE_ENTRY_INFO
		pid    uint32
		typ    uint8
		flags  uint8
		handle uint16
		object uintptr
		access uint32
	}
	for size := 1 << 20; size <= 1<<28; size *= 4 {
		buf := make([]byte, size)
		var ret uint32
		err := windows.NtQuerySystemInformation(systemHandleInformation, unsafe.Pointer(&buf[0]), uint32(len(buf)), &ret)
		if err == windows.STATUS_INFO_LENGTH_MISMATCH {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("NtQuerySystemInformation", err)
		}
		count := *(*uint32)(unsafe.Pointer(&buf[0]))
		entries := unsafe.Slice((*entry)(unsafe.Pointer(&buf[unsafe.Sizeof(uintptr(0))])), count)
		pid, mine := uint32(os.Getpid()), 0
		for _, e := range entries {
			if e.pid == pid {
				mine++
			}
		}
		return mine, nil
	}
	return 0, errors.New("NtQuerySystemInformation: the handle table does not fit in 256 MiB")
}

// IsReset reports whether err is a connection reset as Windows reports
// it: WSAECONNRESET (10054), which is not syscall.ECONNRESET there.
func IsReset(err error) bool { return errors.Is(err, syscall.Errno(windows.WSAECONNRESET)) }

// HandleOpen reports whether h is an open handle of this process
// (GetHandleInformation succeeds). Check right after the close in
// question: a closed handle's value may be given to a new handle later.
func HandleOpen(h syscall.Handle) bool {
	var flags uint32
	r, _, _ := procGetHandleInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&flags)))
	return r != 0
}

// WindowsServer reports a server edition of Windows (RtlGetVersion's
// product type is not VER_NT_WORKSTATION). Wine reports a workstation.
func WindowsServer() bool { return windows.RtlGetVersion().ProductType != 1 }
