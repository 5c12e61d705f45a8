//go:build linux && !purego

package zerocopy

// fastPaths tells the portable tests which methods to expect.
const fastPaths = true

// ResetRefused forgets paths marked refused by injected ENOSYS or EPERM.
func ResetRefused() {
	for i := range refused {
		refused[i].Store(false)
	}
}
