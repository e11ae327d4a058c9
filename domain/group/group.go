// Package group runs requests that arrive concurrently in groups: a
// committer takes the first waiting request and every other one queued
// behind it (up to Max), and hands them to Run together. Nobody waits for
// a group to fill: under light load a group is one request. Services use
// it to commit many requests in one transaction with multi-row statements
// (group commit), each request still getting its own answer.
package group

import (
	"runtime"
	"sync"
)

// Batcher groups jobs of type J. The zero value is not usable: set
// Committers (how many groups may run at once), Max (jobs per group at
// most) and Run.
type Batcher[J any] struct {
	Committers int
	Max        int
	// Run handles one group. It must answer every job (through whatever
	// channel J carries) before it returns.
	Run func(jobs []J)

	once  sync.Once
	queue chan J
}

// Submit queues j; Run will receive it in some group.
func (b *Batcher[J]) Submit(j J) {
	b.once.Do(func() {
		b.queue = make(chan J, 4096)
		for range max(b.Committers, 1) {
			go b.loop()
		}
	})
	b.queue <- j
}

func (b *Batcher[J]) loop() {
	limit := max(b.Max, 1)
	for first := range b.queue {
		jobs := []J{first}
		// Take what is queued; yield once so callers just woken by the
		// previous group's answers can queue too (no timer: a lone request
		// is never kept waiting for company).
		for yielded := false; len(jobs) < limit; {
			select {
			case j := <-b.queue:
				jobs = append(jobs, j)
				continue
			default:
			}
			if yielded {
				break
			}
			runtime.Gosched()
			yielded = true
		}
		b.Run(jobs)
	}
}
