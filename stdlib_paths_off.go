//go:build linux || purego

package zerocopy

// useStdlibPaths: Linux has its own kernel paths; purego takes none.
const useStdlibPaths = false
