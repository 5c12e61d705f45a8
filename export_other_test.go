//go:build !linux || purego

package zerocopy

const fastPaths = false

func ResetRefused() {}

func Reprobe()      {}
func RestoreProbe() {}
