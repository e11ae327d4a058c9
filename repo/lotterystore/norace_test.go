//go:build !race

package lotterystore_test

// raceOn: the race detector slows every goroutine about tenfold.
const raceOn = false
