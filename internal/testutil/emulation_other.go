//go:build !linux

package testutil

// emulation: user-mode emulators of another architecture are told apart
// on Linux only; elsewhere a test binary is taken to run natively.
func emulation() (string, bool) { return "", false }

// faultAddresses: nothing is emulated here (see emulation).
func faultAddresses() bool { return true }
