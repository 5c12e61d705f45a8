//go:build !linux || purego

package directio

const DirectBuild = false
