//go:build race

package mallstore_test

// raceOn: the race detector slows every goroutine about tenfold.
const raceOn = true
