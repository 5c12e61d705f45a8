//go:build !linux && !purego

package zerocopy

// useStdlibPaths: this build has no kernel paths of its own, so the
// stdlib's are taken where it has them (stdlib.go).
const useStdlibPaths = true
