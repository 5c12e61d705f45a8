package testutil

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// emulation tells a user-mode emulator from the kernel's own records,
// which the emulator does not rewrite, against what it shows the guest:
//
//   - qemu-user answers readlink("/proc/self/exe") (and /proc/PID/exe)
//     with the guest binary, but the kernel's link for the same process
//     under /proc/PID/task/PID/exe still names the emulator (qemu 7.2; the
//     same under binfmt_misc, where the kernel runs the interpreter);
//   - qemu-user answers uname(2) with the guest's machine (s390x,
//     aarch64), where the kernel's own sysctl kernel.arch
//     (/proc/sys/kernel/arch) names the host's (x86_64).
//
// Either difference is emulation. Natively both agree.
func emulation() (emulator string, emulated bool) {
	pid := strconv.Itoa(os.Getpid())
	self, err := os.Readlink("/proc/self/exe")
	task, terr := os.Readlink("/proc/" + pid + "/task/" + pid + "/exe")
	if err == nil && terr == nil && self != task {
		return task, true
	}
	var u unix.Utsname
	arch, aerr := os.ReadFile("/proc/sys/kernel/arch")
	if aerr == nil && unix.Uname(&u) == nil {
		if machine := unix.ByteSliceToString(u.Machine[:]); machine != strings.TrimSpace(string(arch)) {
			return "", true
		}
	}
	return "", false
}

// faultAddresses probes, once, whether a SIGBUS from a shared mapping past
// its file's end reaches Go with its address (the panic value of
// debug.SetPanicOnFault has an Addr method). It maps two pages of a
// temporary file, shrinks the file to one and reads the second.
var faultAddresses = sync.OnceValue(func() bool {
	f, err := os.CreateTemp("", "zerocopy-fault-probe-")
	if err != nil {
		return true // cannot tell: let the tests run
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := os.Getpagesize()
	if f.Truncate(int64(2*page)) != nil {
		return true
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return true
	}
	var m []byte
	if rc.Control(func(fd uintptr) { m, err = unix.Mmap(int(fd), 0, 2*page, unix.PROT_READ, unix.MAP_SHARED) }) != nil || err != nil {
		return true
	}
	defer unix.Munmap(m)
	if f.Truncate(int64(page)) != nil {
		return true
	}
	return probeFault(m[page:])
})

// probeFault reads b[0], which must fault, and reports whether the fault
// came with its address.
func probeFault(b []byte) (addr bool) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		_, addr = recover().(interface{ Addr() uintptr })
	}()
	faultSink = b[0] // faults; a store to a package variable is never elided
	return false
}

//lint:ignore U1000 written only, so that the compiler keeps probeFault's load
var faultSink byte
