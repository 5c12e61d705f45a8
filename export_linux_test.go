//go:build linux && !purego

package zerocopy

// fastPaths tells the portable tests which methods to expect.
const fastPaths = true

// ResetRefused forgets paths marked missing by an injected ENOSYS.
func ResetRefused() {
	for i := range missing {
		missing[i].Store(false)
	}
}
