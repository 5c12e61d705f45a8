package testutil

import (
	"os"
	"strconv"
	"strings"

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
