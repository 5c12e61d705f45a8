package testutil

import (
	"os/exec"
	"sync"
	"testing"
)

// Emulation says whether this test binary runs under a user-mode emulator
// (qemu-user, started directly or through binfmt_misc; for example
// GOARCH=s390x go test -exec qemu-s390x-static), and which: emulator is
// its path, or "" where the emulation shows but the emulator's path does
// not. Natively it returns ("", false). See emulation_linux.go for how it
// is told, and why not by timing.
var Emulation = sync.OnceValues(emulation)

// Command is exec.Command for a test that runs a test binary again (bin:
// os.Args[0] or a copy of it) in a child process. Under a user-mode
// emulator the child is started through the emulator: the kernel cannot
// run a foreign binary by itself unless binfmt_misc has a handler for it.
// Where the emulator is not known, the test is skipped with the reason.
func Command(t testing.TB, bin string, args ...string) *exec.Cmd {
	t.Helper()
	emulator, emulated := Emulation()
	switch {
	case !emulated:
		return exec.Command(bin, args...)
	case emulator == "":
		t.Skip("under user-mode emulation with the emulator's path unknown: a child test binary cannot be started")
	}
	return exec.Command(emulator, append([]string{bin}, args...)...)
}

// SkipIfEmulated skips t under a user-mode emulator, for a behaviour the
// emulator does not reproduce; why names it (the call or the behaviour,
// and what the emulator does instead).
func SkipIfEmulated(t testing.TB, why string) {
	t.Helper()
	if emulator, emulated := Emulation(); emulated {
		if emulator == "" {
			emulator = "a user-mode emulator"
		}
		t.Skipf("under %s: %s", emulator, why)
	}
}

// SkipUnlessFaultAddresses skips t under a user-mode emulator that
// delivers a memory fault without its address. mmap turns the SIGBUS of a
// page past a shrunk file's end into ErrTruncated through the address the
// Go runtime reports (debug.SetPanicOnFault); qemu-aarch64 7.2 delivers
// that SIGBUS with si_addr 0, which the runtime reports as a nil
// dereference, address-less, so the panic is not the mapping's. A kernel
// always gives the address; natively nothing is skipped.
func SkipUnlessFaultAddresses(t testing.TB) {
	t.Helper()
	if _, emulated := Emulation(); emulated && !faultAddresses() {
		SkipIfEmulated(t, "a SIGBUS from a mapping past the file's end arrives with si_addr 0 (checked with a probe), which the Go runtime reports as a nil dereference without the fault address")
	}
}
