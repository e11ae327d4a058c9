//go:build !race

package mallstore_test

const raceOn = false
